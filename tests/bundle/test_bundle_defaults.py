"""default_spec() holds Docker's defaults (moby daemon/pkg/oci/defaults.go, Docker 28)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from jockerd.bundle.defaults import ALL_CAPABILITIES, DEFAULT_CAPABILITIES, default_spec


def _mount(spec: dict[str, Any], destination: str) -> dict[str, Any]:
    return next(m for m in spec["mounts"] if m["destination"] == destination)


def test_default_mounts_and_options() -> None:
    spec = default_spec()
    assert [m["destination"] for m in spec["mounts"]] == [
        "/proc",
        "/dev",
        "/dev/pts",
        "/sys",
        "/sys/fs/cgroup",
        "/dev/mqueue",
        "/dev/shm",
    ]
    assert _mount(spec, "/proc") == {
        "destination": "/proc",
        "type": "proc",
        "source": "proc",
        "options": ["nosuid", "noexec", "nodev"],
    }
    assert _mount(spec, "/dev")["options"] == ["nosuid", "strictatime", "mode=755", "size=65536k"]
    assert _mount(spec, "/dev/pts")["options"] == [
        "nosuid",
        "noexec",
        "newinstance",
        "ptmxmode=0666",
        "mode=0620",
        "gid=5",
    ]
    assert _mount(spec, "/sys") == {
        "destination": "/sys",
        "type": "sysfs",
        "source": "sysfs",
        "options": ["nosuid", "noexec", "nodev", "ro"],
    }
    assert _mount(spec, "/sys/fs/cgroup")["type"] == "cgroup"
    assert _mount(spec, "/sys/fs/cgroup")["options"] == ["ro", "nosuid", "noexec", "nodev"]
    assert _mount(spec, "/dev/mqueue")["type"] == "mqueue"
    assert _mount(spec, "/dev/shm") == {
        "destination": "/dev/shm",
        "type": "tmpfs",
        "source": "shm",
        "options": ["nosuid", "noexec", "nodev", "mode=1777"],
    }


def test_default_capabilities_are_dockers_fourteen() -> None:
    assert set(DEFAULT_CAPABILITIES) == {
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
    }
    caps = default_spec()["process"]["capabilities"]
    assert set(caps) == {"bounding", "effective", "permitted"}  # no inheritable (CVE-2022-24769)
    assert caps["bounding"] == caps["effective"] == caps["permitted"] == list(DEFAULT_CAPABILITIES)
    assert len(ALL_CAPABILITIES) == 41 and set(DEFAULT_CAPABILITIES) < set(ALL_CAPABILITIES)


def test_masked_and_readonly_paths() -> None:
    linux = default_spec()["linux"]
    assert linux["maskedPaths"] == [
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
    ]
    assert linux["readonlyPaths"] == [
        "/proc/bus",
        "/proc/fs",
        "/proc/irq",
        "/proc/sys",
        "/proc/sysrq-trigger",
    ]
    extra = "/sys/devices/system/cpu/cpu0/thermal_throttle"
    assert default_spec(masked_paths=(extra,))["linux"]["maskedPaths"][-1] == extra


def test_namespaces_by_cgroup_version() -> None:
    v1 = [ns["type"] for ns in default_spec(cgroup_version=1)["linux"]["namespaces"]]
    v2 = [ns["type"] for ns in default_spec(cgroup_version=2)["linux"]["namespaces"]]
    assert v1 == ["mount", "network", "uts", "pid", "ipc"]
    assert v2 == [*v1, "cgroup"]


def test_device_rules_deny_all_then_allow_the_standard_devices() -> None:
    rules = default_spec()["linux"]["resources"]["devices"]
    assert rules[0] == {"allow": False, "access": "rwm"}
    allowed = {(r["major"], r["minor"]) for r in rules if r["allow"]}
    assert allowed == {(1, 3), (1, 5), (1, 8), (1, 9), (5, 0), (5, 1)}
    assert rules[-1] == {"allow": False, "type": "c", "major": 10, "minor": 229, "access": "rwm"}


def test_no_rlimits_no_new_privileges_by_default() -> None:
    process = default_spec()["process"]
    assert "rlimits" not in process
    assert not process.get("noNewPrivileges")
    assert process["user"] == {"uid": 0, "gid": 0}


def test_each_call_is_fresh() -> None:
    a = default_spec()
    a["mounts"][0]["options"].append("x")
    a["process"]["capabilities"]["bounding"].append("CAP_SYS_ADMIN")
    b = default_spec()
    assert "x" not in b["mounts"][0]["options"]
    assert "CAP_SYS_ADMIN" not in b["process"]["capabilities"]["bounding"]


def test_default_spec_is_schema_valid(validate_spec: Callable[[dict[str, Any]], None]) -> None:
    validate_spec(default_spec())
