"""Docker's default spec for a Linux container: what every config.json starts from.

The values are moby's (daemon/pkg/oci/defaults.go and caps/defaults.go, Docker 28): the default
mounts and their options, the 14 default capabilities in the bounding, effective and permitted
sets (no inheritable set since CVE-2022-24769), the masked and read-only /proc and /sys paths,
the device cgroup rules, and the namespaces (pid, network, ipc, uts, mount; cgroup too on a
cgroup v2 host, where Docker's default cgroupns mode is "private").

Docker sets no rlimits, no noNewPrivileges and no oomScoreAdj in its defaults; `with_*` options
fill those in from the HostConfig (Docker always writes oomScoreAdj, 0 by default).
"""

from __future__ import annotations

import copy
from typing import Any

from jockerd.capabilities import CAPABILITIES
from jockerd.models.oci.runtime import OCI_VERSION

DEFAULT_CAPABILITIES = (
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
)

# Every capability the kernel knows (capability.h, 6.x), in number order: `--privileged` and
# `--cap-add ALL` get these.
ALL_CAPABILITIES = CAPABILITIES

DEFAULT_MASKED_PATHS = (
    "/proc/acpi",
    "/proc/asound",
    "/proc/interrupts",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/sys/devices/virtual/powercap",
    "/sys/firmware",
)

DEFAULT_READONLY_PATHS = ("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger")

DEFAULT_PATH_ENV = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

DEFAULT_SHM_SIZE = 64 * 1024 * 1024

DEFAULT_MOUNTS: tuple[dict[str, Any], ...] = (
    {"destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid", "noexec", "nodev"]},
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
        "destination": "/sys",
        "type": "sysfs",
        "source": "sysfs",
        "options": ["nosuid", "noexec", "nodev", "ro"],
    },
    {
        "destination": "/sys/fs/cgroup",
        "type": "cgroup",
        "source": "cgroup",
        "options": ["ro", "nosuid", "noexec", "nodev"],
    },
    {
        "destination": "/dev/mqueue",
        "type": "mqueue",
        "source": "mqueue",
        "options": ["nosuid", "noexec", "nodev"],
    },
    {
        "destination": "/dev/shm",
        "type": "tmpfs",
        "source": "shm",
        "options": ["nosuid", "noexec", "nodev", "mode=1777"],
    },
)


def _char(major: int, minor: int, allow: bool = True) -> dict[str, Any]:
    return {"allow": allow, "type": "c", "major": major, "minor": minor, "access": "rwm"}


# Deny everything, then allow the devices every container has (runtime-spec "default devices":
# null, zero, full, random, urandom, tty, console, ptmx); /dev/fuse stays denied.
DEFAULT_DEVICE_RULES: tuple[dict[str, Any], ...] = (
    {"allow": False, "access": "rwm"},
    _char(1, 5),  # /dev/zero
    _char(1, 3),  # /dev/null
    _char(1, 9),  # /dev/urandom
    _char(1, 8),  # /dev/random
    _char(5, 0),  # /dev/tty
    _char(5, 1),  # /dev/console
    _char(10, 229, allow=False),  # /dev/fuse
)

DEFAULT_NAMESPACES = ("mount", "network", "uts", "pid", "ipc")


def default_spec(*, cgroup_version: int = 2, masked_paths: tuple[str, ...] = ()) -> dict[str, Any]:
    """Docker's default spec (a fresh dict each call).

    `cgroup_version` 2 adds the cgroup namespace (Docker's default cgroupns mode on v2 hosts is
    private, on v1 hosts host). `masked_paths` are added to the default ones: Docker also masks
    /sys/devices/system/cpu/cpu*/thermal_throttle where the host has them, which is host I/O
    the caller does (see `thermal_throttle_paths` in generate.py).
    """
    caps = list(DEFAULT_CAPABILITIES)
    namespaces = [{"type": ns} for ns in DEFAULT_NAMESPACES]
    if cgroup_version == 2:
        namespaces.append({"type": "cgroup"})
    return {
        "ociVersion": OCI_VERSION,
        "process": {
            "user": {"uid": 0, "gid": 0},
            "cwd": "/",
            "capabilities": {"bounding": caps, "effective": list(caps), "permitted": list(caps)},
        },
        "root": {"path": "rootfs"},
        "mounts": copy.deepcopy(list(DEFAULT_MOUNTS)),
        "linux": {
            "maskedPaths": [*DEFAULT_MASKED_PATHS, *masked_paths],
            "readonlyPaths": list(DEFAULT_READONLY_PATHS),
            "namespaces": namespaces,
            "resources": {"devices": copy.deepcopy(list(DEFAULT_DEVICE_RULES))},
        },
    }
