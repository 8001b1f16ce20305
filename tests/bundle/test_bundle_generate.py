"""generate_spec end to end, write_bundle, and (as root) runc running what jocker generated."""

from __future__ import annotations

import contextlib
import copy
import glob
import json
import os
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import Field

from jockerd.bundle import SpecSettings, generate_spec, host_settings, write_bundle
from jockerd.bundle.defaults import DEFAULT_CAPABILITIES
from jockerd.models.base import DockerModel
from jockerd.models.oci.runtime import Spec

CID = "f" * 64
SETTINGS = SpecSettings(arch="x86_64", kernel=(6, 1), cgroup_version=2, ncpu=2)


def test_docker_run_busybox_defaults(
    image_config: dict[str, Any], rootfs: Path, validate_spec: Callable[[dict[str, Any]], None]
) -> None:
    """`docker run busybox` with nothing else: the spec dockerd would write, field by field."""
    spec = generate_spec(
        CID, image_config, {"Image": "busybox"}, rootfs, settings=SETTINGS, container_dir="/c"
    )
    validate_spec(spec)
    process = spec["process"]
    assert process["args"] == ["sh"]
    assert process["cwd"] == "/"
    assert process["user"] == {"uid": 0, "gid": 0, "additionalGids": [0, 10]}
    assert process["env"] == [
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        f"HOSTNAME={CID[:12]}",
        "LANG=C.UTF-8",
    ]
    assert process["capabilities"]["bounding"] == list(DEFAULT_CAPABILITIES)
    assert process["oomScoreAdj"] == 0
    assert "noNewPrivileges" not in process and "terminal" not in process and "rlimits" not in process
    assert spec["root"] == {"path": "rootfs"}
    assert spec["hostname"] == CID[:12]
    linux = spec["linux"]
    assert [ns["type"] for ns in linux["namespaces"]] == ["mount", "network", "uts", "pid", "ipc", "cgroup"]
    assert linux["cgroupsPath"] == f"/jocker/{CID}"
    assert linux["seccomp"]["defaultAction"] == "SCMP_ACT_ERRNO"
    assert linux["sysctl"] == {
        "net.ipv4.ping_group_range": "0 2147483647",
        "net.ipv4.ip_unprivileged_port_start": "0",
    }
    assert [m["destination"] for m in spec["mounts"]] == [
        "/proc",
        "/dev",
        "/dev/pts",
        "/sys",
        "/sys/fs/cgroup",
        "/dev/mqueue",
        "/dev/shm",
        "/etc/resolv.conf",
        "/etc/hostname",
        "/etc/hosts",
    ]
    assert spec["annotations"]["org.opencontainers.image.architecture"] == "amd64"
    assert Spec.model_validate(spec).linux.seccomp.default_errno_ret == 1


def test_generation_is_pure(image_config: dict[str, Any], rootfs: Path) -> None:
    body = {"Cmd": ["true"], "HostConfig": {"Binds": ["/a:/b"], "Memory": 64 << 20, "CapAdd": ["NET_ADMIN"]}}
    before = (copy.deepcopy(image_config), copy.deepcopy(body))
    first = generate_spec(CID, image_config, body, rootfs, settings=SETTINGS)
    second = generate_spec(CID, image_config, body, rootfs, settings=SETTINGS)
    assert first == second
    assert (image_config, body) == before


def test_a_pydantic_create_body_is_accepted(image_config: dict[str, Any], rootfs: Path) -> None:
    class HostConfig(DockerModel):
        memory: int = 0
        privileged: bool = False

    class ContainerCreateRequest(DockerModel):
        cmd: list[str] | None = None
        user: str = ""
        host_config: HostConfig | None = Field(None, alias="HostConfig")

    body = ContainerCreateRequest(cmd=["id"], user="app", host_config=HostConfig(memory=32 << 20))
    spec = generate_spec(CID, image_config, body, rootfs, settings=SETTINGS)
    assert spec["process"]["args"] == ["id"]
    assert spec["process"]["user"]["uid"] == 1000
    assert spec["linux"]["resources"]["memory"]["limit"] == 32 << 20


def test_without_rootfs_only_numeric_users(image_config: dict[str, Any]) -> None:
    assert generate_spec(CID, image_config, {"User": "5:6"}, None, settings=SETTINGS)["process"]["user"] == {
        "uid": 5,
        "gid": 6,
        "additionalGids": [6],
    }


def test_write_bundle(tmp_path: Path, image_config: dict[str, Any]) -> None:
    spec = generate_spec(CID, image_config, {}, None, settings=SETTINGS)
    path = write_bundle(tmp_path / "bundles" / "x", spec)
    assert path == tmp_path / "bundles" / "x" / "config.json"
    assert json.loads(path.read_text()) == spec
    assert os.listdir(path.parent) == ["config.json"]  # no temp file left behind
    spec["hostname"] = "second"
    write_bundle(path.parent, spec)
    assert json.loads(path.read_text())["hostname"] == "second"


def test_host_settings_reads_this_host() -> None:
    settings = host_settings(cgroup_parent="/x")
    assert settings.cgroup_parent == "/x"
    assert settings.cgroup_version in (1, 2)
    assert settings.kernel is not None and settings.kernel >= (3, 0)
    assert settings.ncpu and settings.ncpu >= 1


# -- differential: runc runs the bundles jocker generates -----------------------------------------

RUNC = shutil.which("runc")
BUSYBOX = Path("/bin/busybox")


CGROUP_PARENT = "/jocker-test"


def _remove_parent_cgroups() -> None:
    """runc removes each container's cgroup, not the parent it created for it."""
    for path in [*glob.glob(f"/sys/fs/cgroup/*{CGROUP_PARENT}"), f"/sys/fs/cgroup{CGROUP_PARENT}"]:
        with contextlib.suppress(OSError):
            os.rmdir(path)


@pytest.fixture
def busybox_bundle(tmp_path: Path) -> Iterator[Path]:
    if RUNC is None or not BUSYBOX.exists():
        pytest.skip("needs runc and busybox-static")
    root = tmp_path / "rootfs"
    for d in ("bin", "etc", "proc", "sys", "dev", "tmp", "root"):
        (root / d).mkdir(parents=True)
    (root / "tmp").chmod(0o1777)  # runc gives a tmpfs the mode of the directory it covers
    shutil.copy(BUSYBOX, root / "bin" / "busybox")
    for applet in ("sh", "id", "cat", "grep", "touch", "echo", "ls", "wc", "head", "mkdir"):
        (root / "bin" / applet).symlink_to("busybox")
    (root / "etc" / "passwd").write_text(
        "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n"
    )
    (root / "etc" / "group").write_text("root:x:0:\nwheel:x:10:root\nnogroup:x:65534:\n")
    yield tmp_path
    _remove_parent_cgroups()


def run_in_runc(
    bundle: Path, script: str, host: dict[str, Any] | None = None, **config: Any
) -> tuple[int, str]:
    image = {"architecture": "amd64", "os": "linux", "config": {"Cmd": ["sh", "-c", script]}}
    body = {**config, "HostConfig": host or {}}
    container_id = "jocker-test-" + uuid.uuid4().hex[:12]
    settings = host_settings(cgroup_parent=CGROUP_PARENT)
    spec = generate_spec(
        container_id, image, body, bundle / "rootfs", settings=settings, privileged_devices=[]
    )
    write_bundle(bundle, spec)
    try:
        result = subprocess.run(
            [RUNC, "run", container_id],
            cwd=bundle,
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )
    finally:
        subprocess.run([RUNC, "delete", "--force", container_id], capture_output=True, timeout=30)
    return result.returncode, result.stdout + result.stderr


STATUS = "grep -E '^(Seccomp|NoNewPrivs|CapBnd|CapEff):' /proc/self/status"


@pytest.mark.root
def test_runc_runs_the_default_bundle(busybox_bundle: Path) -> None:
    rc, out = run_in_runc(
        busybox_bundle, f"id; {STATUS}; cat /proc/interrupts | wc -c; touch /x && echo writable"
    )
    assert rc == 0, out
    lines = out.splitlines()
    assert lines[0] == "uid=0(root) gid=0(root) groups=0(root),10(wheel)"
    status = dict(line.split(":\t") for line in lines[1:5])
    assert status["Seccomp"] == "2"
    assert status["NoNewPrivs"] == "0"
    assert status["CapBnd"] == "00000000a80425fb"  # Docker's 14 default capabilities
    assert lines[5].strip() == "0"  # /proc/interrupts is masked
    assert lines[6] == "writable"


@pytest.mark.root
def test_runc_non_root_read_only_no_new_privileges(busybox_bundle: Path) -> None:
    host = {"ReadonlyRootfs": True, "SecurityOpt": ["no-new-privileges"], "Tmpfs": {"/tmp": ""}}
    rc, out = run_in_runc(
        busybox_bundle,
        f"id; {STATUS}; touch /x 2>/dev/null || echo read-only; touch /tmp/y && echo tmpfs",
        host,
        User="nobody",
    )
    assert rc == 0, out
    lines = out.splitlines()
    assert lines[0] == "uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)"
    status = dict(line.split(":\t") for line in lines[1:5])
    assert status["NoNewPrivs"] == "1"
    assert status["CapEff"] == "0000000000000000"  # a non-root user gets the bounding set only
    assert status["CapBnd"] == "00000000a80425fb"
    assert lines[5:] == ["read-only", "tmpfs"]


@pytest.mark.root
def test_runc_privileged(busybox_bundle: Path) -> None:
    rc, out = run_in_runc(busybox_bundle, f"{STATUS}; cat /proc/interrupts | wc -c", {"Privileged": True})
    assert rc == 0, out
    lines = out.splitlines()
    status = dict(line.split(":\t") for line in lines[:4])
    assert status["Seccomp"] == "0"
    own = next(x for x in Path("/proc/self/status").read_text().splitlines() if x.startswith("CapBnd:"))
    assert status["CapBnd"] == own.split()[1]  # every capability this daemon could grant
    assert int(lines[4]) > 0  # /proc/interrupts is not masked


@pytest.mark.root
def test_runc_loads_a_custom_profile(busybox_bundle: Path) -> None:
    profile = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 28}],
    }
    host = {"SecurityOpt": ["seccomp=" + json.dumps(profile)]}
    rc, out = run_in_runc(busybox_bundle, "mkdir /made 2>&1; echo rc=$?", host)
    assert rc == 0, out
    assert "No space left on device" in out and "rc=1" in out
