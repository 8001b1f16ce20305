"""Fixtures of the bundle tests: the runtime-spec JSON schema, a tiny rootfs, a fake stat."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
REFERENCE = REPO.parent / "shared" / "reference"
SCHEMA_DIR = REFERENCE / "oci-runtime-spec" / "schema"
MOBY_SECCOMP = REFERENCE / "moby-default-seccomp.json"

PASSWD = """root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
app:x:1000:1000:app:/home/app:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
"""
GROUP = """root:x:0:
wheel:x:10:root,app
audio:x:29:app
www-data:x:33:
app:x:1000:
staff:x:50:
nogroup:x:65534:
"""

IMAGE = {
    "architecture": "amd64",
    "os": "linux",
    "created": "2024-01-01T00:00:00Z",
    "config": {
        "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8"],
        "Cmd": ["sh"],
        "WorkingDir": "/",
        "Labels": {"maintainer": "me"},
    },
    "rootfs": {"type": "layers", "diff_ids": []},
}


@pytest.fixture(scope="session")
def validate_spec() -> Callable[[dict[str, Any]], None]:
    """Validate a config.json document against the runtime-spec schema (its sibling files resolved)."""
    if not SCHEMA_DIR.is_dir():
        pytest.skip("the runtime-spec schema is not in ../shared/reference")
    jsonschema = pytest.importorskip("jsonschema")
    referencing = pytest.importorskip("referencing")
    from referencing.jsonschema import DRAFT4

    resources = [
        (
            path.name,
            referencing.Resource.from_contents(json.loads(path.read_text()), default_specification=DRAFT4),
        )
        for path in SCHEMA_DIR.glob("*.json")
    ]
    registry = referencing.Registry().with_resources(resources)
    schema = json.loads((SCHEMA_DIR / "config-schema.json").read_text())
    validator = jsonschema.Draft4Validator(schema, registry=registry)

    def validate(spec: dict[str, Any]) -> None:
        errors = sorted(validator.iter_errors(spec), key=lambda e: list(e.path))
        assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:10])

    return validate


@pytest.fixture
def rootfs(tmp_path: Path) -> Path:
    """A rootfs with just /etc/passwd and /etc/group."""
    root = tmp_path / "rootfs"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "passwd").write_text(PASSWD)
    (root / "etc" / "group").write_text(GROUP)
    return root


def fake_stat(devices: dict[str, tuple[str, int, int]]) -> Callable[[str], Any]:
    """A stat() over made-up device nodes: path → (type "c"/"b", major, minor); others are files."""

    def _stat(path: str) -> Any:
        if path not in devices:
            if path.startswith("/missing"):
                raise FileNotFoundError(2, os.strerror(2), path)
            return SimpleNamespace(st_mode=stat.S_IFREG | 0o644, st_rdev=0, st_uid=0, st_gid=0)
        kind, major, minor = devices[path]
        mode = (stat.S_IFCHR if kind == "c" else stat.S_IFBLK) | 0o660
        return SimpleNamespace(st_mode=mode, st_rdev=os.makedev(major, minor), st_uid=0, st_gid=6)

    return _stat


@pytest.fixture
def make_stat() -> Callable[[dict[str, tuple[str, int, int]]], Callable[[str], Any]]:
    return fake_stat


@pytest.fixture
def image_config() -> dict[str, Any]:
    return json.loads(json.dumps(IMAGE))


@pytest.fixture
def user_db() -> tuple[str, str]:
    """(/etc/passwd, /etc/group) contents."""
    return PASSWD, GROUP


@pytest.fixture(scope="session")
def moby_profile() -> dict[str, Any]:
    if not MOBY_SECCOMP.is_file():
        pytest.skip("moby-default-seccomp.json is not in ../shared/reference")
    return json.loads(MOBY_SECCOMP.read_text())
