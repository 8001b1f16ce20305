"""Fixtures for jocker-runtime tests: a busybox rootfs, bundles, and runtimes to compare.

- `busybox_rootfs` (session): bin/busybox (the host's static one) plus one symlink per applet,
  the usual skeleton directories and /etc/passwd and /etc/group, shared read-only by bundles.
- `make_bundle(args, **changes)`: a bundle whose config.json is `jocker-runtime spec`'s default
  (terminal off, the given args, root.path pointing at the shared rootfs), edited by a callback.
- `runtime` is parametrized over ["jocker", "runc"] (runc skipped when absent): the same test
  runs against both and asserts the same observable result (differential testing).
- `jocker` is jocker-runtime alone. Both run through `Runtime.run(...)`, with their own `--root`.

jocker-runtime is started through a small launcher (`python -I -S`, repo on sys.path): what the
console script will be, and faster than `python -m` by the site-packages start-up cost.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BUSYBOX = Path("/bin/busybox")
RUNC = shutil.which("runc")
PASSWD = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n"
GROUP = "root:x:0:\ntty:x:5:\nnogroup:x:65534:\n"


def launcher_script(directory: Path) -> Path:
    path = directory / "jocker-runtime"
    path.write_text(
        f"#!{sys.executable} -IS\n"
        "import gc\n"
        "gc.disable()\n"
        "import sys\n"
        f"sys.path.insert(0, {str(REPO)!r})\n"
        "from jockerd.runtime.__main__ import main\n"
        "sys.exit(main())\n"
    )
    path.chmod(0o755)
    return path


@pytest.fixture(scope="session")
def jocker_argv(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    return [str(launcher_script(tmp_path_factory.mktemp("bin")))]


@pytest.fixture(scope="session")
def busybox_rootfs() -> Iterator[Path]:
    """Outside pytest's 0700 temp tree: a user namespace's root must be able to reach it."""
    if not BUSYBOX.exists():
        pytest.skip("busybox-static is not installed")
    top = Path(tempfile.mkdtemp(prefix="jocker-rootfs-"))
    top.chmod(0o755)
    try:
        yield _populate(top / "rootfs")
    finally:
        shutil.rmtree(top, ignore_errors=True)


def _populate(root: Path) -> Path:
    for d in ("bin", "dev", "proc", "sys", "etc", "tmp", "root", "home", "var", "usr/bin", "sbin"):
        (root / d).mkdir(parents=True, exist_ok=True)
    (root / "tmp").chmod(0o1777)
    shutil.copy2(BUSYBOX, root / "bin" / "busybox")
    applets = subprocess.run(
        [str(BUSYBOX), "--list"], capture_output=True, text=True, check=True
    ).stdout.split()
    for applet in applets:
        if applet != "busybox":
            (root / "bin" / applet).symlink_to("busybox")
    (root / "etc" / "passwd").write_text(PASSWD)
    (root / "etc" / "group").write_text(GROUP)
    return root


class Runtime:
    """One OCI runtime binary with its own state root."""

    def __init__(self, name: str, argv: list[str], root: Path) -> None:
        self.name, self.argv, self.root = name, argv, root

    def command(self, *args: str) -> list[str]:
        return [*self.argv, "--root", str(self.root), *args]

    def run(
        self, *args: str, input: str | None = None, timeout: float = 30, cwd: Path | None = None, **kw
    ) -> subprocess.CompletedProcess[str]:
        """Run the runtime; stdout/stderr go to files, not pipes: a created or detached container
        inherits them (as the runtime-tools harness expects) and would hold a pipe open."""
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            proc = subprocess.run(
                self.command(*args),
                input=input.encode() if input is not None else None,
                stdout=out,
                stderr=err,
                timeout=timeout,
                cwd=cwd,
                **kw,
            )
            out.seek(0)
            err.seek(0)
            return subprocess.CompletedProcess(
                proc.args,
                proc.returncode,
                out.read().decode(errors="replace"),
                err.read().decode(errors="replace"),
            )

    def ok(self, *args: str, **kw) -> str:
        result = self.run(*args, **kw)
        assert result.returncode == 0, f"{self.name} {' '.join(args)}: rc={result.returncode} {result.stderr}"
        return result.stdout

    def state(self, container_id: str) -> dict:
        return json.loads(self.ok("state", container_id))

    def cleanup(self) -> None:
        if not self.root.exists():
            return
        for entry in self.root.iterdir():
            self.run("delete", "--force", entry.name)


@pytest.fixture
def jocker(tmp_path: Path, jocker_argv: list[str]) -> Iterator[Runtime]:
    rt = Runtime("jocker", jocker_argv, tmp_path / "jocker-root")
    yield rt
    rt.cleanup()


@pytest.fixture(params=["jocker", "runc"])
def runtime(request: pytest.FixtureRequest, tmp_path: Path, jocker_argv: list[str]) -> Iterator[Runtime]:
    if request.param == "runc":
        if RUNC is None:
            pytest.skip("runc is not installed")
        rt = Runtime("runc", [RUNC], tmp_path / "runc-root")
    else:
        rt = Runtime("jocker", jocker_argv, tmp_path / "jocker-root")
    yield rt
    rt.cleanup()


def default_spec() -> dict:
    from jockerd.runtime.spec import default

    spec = default()
    spec["process"]["terminal"] = False
    return spec


@pytest.fixture
def make_bundle(tmp_path: Path, busybox_rootfs: Path) -> Callable[..., Path]:
    """make_bundle(args, edit=callable(spec)) → bundle dir; each call makes a new one."""
    counter = iter(range(1000))

    def make(
        args: list[str] | None = None, edit: Callable[[dict], None] | None = None, own_rootfs: bool = False
    ) -> Path:
        bundle = tmp_path / f"bundle{next(counter)}"
        bundle.mkdir()
        spec = default_spec()
        spec["process"]["args"] = args or ["true"]
        if own_rootfs:
            shutil.copytree(busybox_rootfs, bundle / "rootfs", symlinks=True)
        else:
            spec["root"]["path"] = str(busybox_rootfs)
        if edit is not None:
            edit(spec)
        (bundle / "config.json").write_text(json.dumps(spec, indent=2))
        return bundle

    return make


@pytest.fixture
def cid() -> str:
    """A container ID unique across concurrent test runs (it also names the cgroup)."""
    return f"jrt-{uuid.uuid4().hex[:12]}"


def run_in(
    runtime: Runtime, make_bundle: Callable[..., Path], cid: str, script: str, **kw
) -> tuple[int, str]:
    """`runtime run` of `sh -c script` in a fresh bundle: (exit status, stdout + stderr)."""
    bundle = make_bundle(["sh", "-c", script], **kw)
    result = runtime.run("run", "--bundle", str(bundle), cid)
    return result.returncode, result.stdout + result.stderr


def is_root() -> bool:
    return os.geteuid() == 0
