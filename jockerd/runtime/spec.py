"""config.json as plain dicts: `load()` reads and validates a bundle's spec, `default()` is `spec`'s.

Validation covers what `create` must refuse before anything is set up (runtime-spec runtime.md
"Create": an invalid or unsatisfiable config is an error, and nothing may be left behind):
ociVersion, `process` (args, cwd), `root.path`, namespace types, capability and rlimit names.
"""

from __future__ import annotations

import os

from jockerd.runtime import OCI_VERSION, fastjson
from jockerd.runtime.errors import ContainerError

NAMESPACE_TYPES = ("pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time")


def load(bundle: str) -> dict:
    """The validated spec of the bundle at `bundle` (an absolute path)."""
    path = os.path.join(bundle, "config.json")
    try:
        with open(path, "rb") as f:
            spec = fastjson.loads(f.read())
    except FileNotFoundError:
        raise ContainerError(f"JSON specification file {path} not found") from None
    except ValueError as e:
        raise ContainerError(f"invalid config.json: {e}") from None
    if not isinstance(spec, dict):
        raise ContainerError("invalid config.json: not a JSON object")
    validate(spec, bundle)
    return spec


def _version_ok(version: object) -> bool:
    if not isinstance(version, str):
        return False
    core = version.split("-", 1)[0].split("+", 1)[0]
    parts = core.split(".")
    return len(parts) == 3 and all(p.isdigit() for p in parts) and parts[0] == "1"


def validate(spec: dict, bundle: str) -> None:
    from jockerd.runtime import capabilities
    from jockerd.runtime.linux.constants import RLIMITS

    if not _version_ok(spec.get("ociVersion")):
        raise ContainerError(f"unsupported spec version {spec.get('ociVersion')!r}")
    root = spec.get("root") or {}
    if not root.get("path"):
        raise ContainerError("root.path must be set")
    rootfs = os.path.join(bundle, root["path"])
    if not os.path.isdir(rootfs):
        raise ContainerError(f"rootfs ({rootfs}) does not exist")
    process = spec.get("process")
    if not isinstance(process, dict):
        raise ContainerError("process must be set")
    validate_process(process)
    linux = spec.get("linux") or {}
    seen = set()
    for ns in linux.get("namespaces") or []:
        kind = ns.get("type")
        if kind not in NAMESPACE_TYPES:
            raise ContainerError(f"namespace type {kind!r} is not supported")
        if kind in seen:
            raise ContainerError(f"malformed spec file: duplicated ns {kind!r}")
        seen.add(kind)
    if (linux.get("uidMappings") or linux.get("gidMappings")) and "user" not in seen:
        raise ContainerError("user namespaces mappings are specified but no user namespace is requested")
    if spec.get("hostname") and "uts" not in seen:
        raise ContainerError("unable to set hostname without a private UTS namespace")
    seen_rlimits = set()
    for rlimit in process.get("rlimits") or []:
        kind = rlimit.get("type")
        if kind not in RLIMITS:
            raise ContainerError(f"rlimit {kind!r} is not supported")
        if kind in seen_rlimits:
            raise ContainerError(f"duplicate rlimit {kind!r}")
        seen_rlimits.add(kind)
    capabilities.validate(process.get("capabilities"))


def validate_process(process: dict) -> None:
    args = process.get("args")
    if not args or not isinstance(args, list):
        raise ContainerError("args must not be empty")
    cwd = process.get("cwd") or "/"
    if not cwd.startswith("/"):
        raise ContainerError(f"cwd {cwd!r} is not an absolute path")
    if process.get("terminal") and not isinstance(process.get("terminal"), bool):
        raise ContainerError("process.terminal must be a boolean")


def namespaces(spec: dict) -> list[dict]:
    return list((spec.get("linux") or {}).get("namespaces") or [])


def has_namespace(spec: dict, kind: str, new: bool = False) -> bool:
    """Does the spec ask for a `kind` namespace (and, with `new`, a fresh one rather than a path)?"""
    return any(ns.get("type") == kind and not (new and ns.get("path")) for ns in namespaces(spec))


_CAPS = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]


def default(rootless: bool = False) -> dict:
    """The spec `jocker-runtime spec` writes: runc's default, so bundles behave the same on both."""
    spec: dict = {
        "ociVersion": OCI_VERSION,
        "process": {
            "terminal": True,
            "user": {"uid": 0, "gid": 0},
            "args": ["sh"],
            "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
            "cwd": "/",
            "capabilities": {k: list(_CAPS) for k in ("bounding", "effective", "permitted", "ambient")},
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": True,
        },
        "root": {"path": "rootfs", "readonly": True},
        "hostname": "jocker",
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {
                "destination": "/dev",
                "type": "tmpfs",
                "source": "tmpfs",
                "options": ["nosuid", "strictatime", "mode=755", "size=65536k"],
            },
            {
                "destination": "/dev/pts",
                "type": "devpts",
                "source": "devpts",
                "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"],
            },
            {
                "destination": "/dev/shm",
                "type": "tmpfs",
                "source": "shm",
                "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
            },
            {
                "destination": "/dev/mqueue",
                "type": "mqueue",
                "source": "mqueue",
                "options": ["nosuid", "noexec", "nodev"],
            },
            {
                "destination": "/sys",
                "type": "sysfs",
                "source": "sysfs",
                "options": ["nosuid", "noexec", "nodev", "ro"],
            },
            {
                "destination": "/sys/fs/cgroup",
                "type": "cgroup",
                "source": "cgroup",
                "options": ["nosuid", "noexec", "nodev", "relatime", "ro"],
            },
        ],
        "linux": {
            "resources": {"devices": [{"allow": False, "access": "rwm"}]},
            "namespaces": [{"type": t} for t in ("pid", "network", "ipc", "uts", "mount", "cgroup")],
            "maskedPaths": [
                "/proc/acpi",
                "/proc/asound",
                "/proc/kcore",
                "/proc/keys",
                "/proc/latency_stats",
                "/proc/timer_list",
                "/proc/timer_stats",
                "/proc/sched_debug",
                "/sys/firmware",
                "/proc/scsi",
            ],
            "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
        },
    }
    if rootless:
        linux = spec["linux"]
        linux["uidMappings"] = [{"containerID": 0, "hostID": os.getuid(), "size": 1}]
        linux["gidMappings"] = [{"containerID": 0, "hostID": os.getgid(), "size": 1}]
        linux["namespaces"] = [{"type": t} for t in ("pid", "ipc", "uts", "mount", "cgroup", "user")]
        del linux["resources"]
        for m in spec["mounts"]:
            if m["destination"] == "/dev/pts":
                m["options"].remove("gid=5")
            if m["destination"] == "/sys":
                m.update(type="none", source="/sys", options=["rbind", "nosuid", "noexec", "nodev", "ro"])
        spec["mounts"] = [m for m in spec["mounts"] if m["destination"] != "/sys/fs/cgroup"]
    return spec
