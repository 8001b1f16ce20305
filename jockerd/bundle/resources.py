"""Resource options: HostConfig's cgroup limits and devices → linux.resources and linux.devices.

Pure `with_*` options like opts.py (spec in, changed copy out), with dockerd's checks and
wording (daemon_unix.go verifyPlatformContainerResources, adaptContainerSettings). The I/O
is in `device_from_path()` (one stat, replaceable) and `host_devices()` (lists /dev for
--privileged): the caller passes their results in.
"""

from __future__ import annotations

import copy
import os
import re
import stat as stat_module
from collections.abc import Callable, Mapping
from pathlib import PurePosixPath
from typing import Any

from jockerd.errors import InvalidParameterError

Spec = dict[str, Any]
HostConfig = Mapping[str, Any]

LINUX_MIN_MEMORY = 6 * 1024 * 1024
CPU_PERIOD_US = 100_000  # 100ms, the CFS period --cpus uses


def _linux_copy(spec: Spec) -> tuple[Spec, dict[str, Any]]:
    """A deep copy of the spec and its (created if missing) linux section."""
    spec = copy.deepcopy(spec)
    return spec, spec.setdefault("linux", {})


# -- cgroup limits --------------------------------------------------------------------------------

_CPUSET = re.compile(r"^\d+(-\d+)?(,\d+(-\d+)?)*$")


def _validate_cpuset(value: str, what: str) -> None:
    if value and not _CPUSET.match(value):
        raise InvalidParameterError(f"Invalid value {value} for cpuset {what}: invalid format: {value}")
    for part in filter(None, value.split(",")):
        low, _, high = part.partition("-")
        if high and int(high) < int(low):
            raise InvalidParameterError(f"Invalid value {value} for cpuset {what}: invalid range: {part}")


def memory_resources(host: HostConfig) -> dict[str, Any]:
    """HostConfig memory fields → linux.resources.memory, with dockerd's checks and its default
    swap (twice the memory limit when only --memory is given)."""
    memory = int(host.get("Memory") or 0)
    swap = int(host.get("MemorySwap") or 0)
    reservation = int(host.get("MemoryReservation") or 0)
    swappiness = host.get("MemorySwappiness")
    if swappiness == -1:
        swappiness = None
    if memory > 0 and swap == 0:
        swap = memory * 2
    if memory != 0 and memory < LINUX_MIN_MEMORY:
        raise InvalidParameterError("Minimum memory limit allowed is 6MB")
    if memory > 0 and swap > 0 and swap < memory:
        raise InvalidParameterError("Minimum memoryswap limit should be larger than memory limit, see usage")
    if memory == 0 and swap > 0:
        raise InvalidParameterError(
            "You should always set the Memory limit when using Memoryswap limit, see usage"
        )
    if swappiness is not None and not 0 <= int(swappiness) <= 100:
        raise InvalidParameterError(f"Invalid value: {swappiness}, valid memory swappiness range is 0-100")
    if reservation > 0 and reservation < LINUX_MIN_MEMORY:
        raise InvalidParameterError("Minimum memory reservation allowed is 6MB")
    if memory > 0 and reservation > 0 and memory < reservation:
        raise InvalidParameterError(
            "Minimum memory limit can not be less than memory reservation limit, see usage"
        )
    out: dict[str, Any] = {}
    if memory > 0:
        out["limit"] = memory
    if reservation > 0:
        out["reservation"] = reservation
    if swap != 0:
        out["swap"] = swap
    if swappiness is not None:
        out["swappiness"] = int(swappiness)
    if host.get("OomKillDisable") is not None:
        out["disableOOMKiller"] = bool(host["OomKillDisable"])
    if host.get("KernelMemoryTCP"):
        out["kernelTCP"] = int(host["KernelMemoryTCP"])
    return out


def cpu_resources(host: HostConfig, *, ncpu: int | None = None) -> dict[str, Any]:
    """HostConfig CPU fields → linux.resources.cpu (--cpus becomes quota over a 100ms period)."""
    nano = int(host.get("NanoCpus") or 0)
    shares = int(host.get("CpuShares") or 0)
    period = int(host.get("CpuPeriod") or 0)
    quota = int(host.get("CpuQuota") or 0)
    if nano > 0 and period > 0:
        raise InvalidParameterError("Conflicting options: Nano CPUs and CPU Period cannot both be set")
    if nano > 0 and quota > 0:
        raise InvalidParameterError("Conflicting options: Nano CPUs and CPU Quota cannot both be set")
    if nano != 0 and ncpu is not None and (nano < 0 or nano > ncpu * 10**9):
        raise InvalidParameterError(
            f"Range of CPUs is from 0.01 to {ncpu}.00, as there are only {ncpu} CPUs available"
        )
    if nano < 0:
        raise InvalidParameterError("Range of CPUs is from 0.01 to the number of CPUs available")
    if shares < 0:
        raise InvalidParameterError(f"invalid CPU shares ({shares}): value must be a positive integer")
    if period != 0 and not 1000 <= period <= 1_000_000:
        raise InvalidParameterError(
            "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)"
        )
    if 0 < quota < 1000:
        raise InvalidParameterError("CPU cfs quota can not be less than 1ms (i.e. 1000)")
    cpus, mems = str(host.get("CpusetCpus") or ""), str(host.get("CpusetMems") or "")
    _validate_cpuset(cpus, "cpus")
    _validate_cpuset(mems, "mems")
    out: dict[str, Any] = {}
    if shares > 0:
        out["shares"] = shares
    if nano > 0:
        out["period"] = CPU_PERIOD_US
        out["quota"] = nano * CPU_PERIOD_US // 10**9
    if period:
        out["period"] = period
    if quota:
        out["quota"] = quota
    if host.get("CpuRealtimePeriod"):
        out["realtimePeriod"] = int(host["CpuRealtimePeriod"])
    if host.get("CpuRealtimeRuntime"):
        out["realtimeRuntime"] = int(host["CpuRealtimeRuntime"])
    if cpus:
        out["cpus"] = cpus
    if mems:
        out["mems"] = mems
    return out


def with_resources(spec: Spec, host: HostConfig, *, ncpu: int | None = None) -> Spec:
    """Memory, CPU, pids and blkio weight → linux.resources (the device rules are kept)."""
    if int(host.get("BlkioWeight") or 0) and not 10 <= int(host["BlkioWeight"]) <= 1000:
        raise InvalidParameterError("Range of blkio weight is from 10 to 1000")
    if host.get("IOMaximumBandwidth") or host.get("IOMaximumIOps"):
        raise InvalidParameterError(
            "Invalid QoS settings: linux does not support Maximum IO Bandwidth or Maximum IO IOps"
        )
    memory = memory_resources(host)
    cpu = cpu_resources(host, ncpu=ncpu)
    spec, linux = _linux_copy(spec)
    resources = linux.setdefault("resources", {})
    for key, value in (("memory", memory), ("cpu", cpu)):
        if value:
            resources[key] = value
    pids = host.get("PidsLimit")
    if pids:  # null and 0 mean "no limit"; negative is "unlimited" explicitly
        resources["pids"] = {"limit": int(pids) if int(pids) > 0 else -1}
    if host.get("BlkioWeight"):
        resources["blockIO"] = {"weight": int(host["BlkioWeight"])}
    return spec


def with_cgroups_path(spec: Spec, host: HostConfig, container_id: str, *, parent: str = "/jocker") -> Spec:
    """linux.cgroupsPath: <CgroupParent or the daemon's parent>/<id> (cgroupfs layout)."""
    spec, linux = _linux_copy(spec)
    base = str(host.get("CgroupParent") or parent)
    linux["cgroupsPath"] = str(PurePosixPath("/") / base.lstrip("/") / container_id)
    return spec


# -- devices --------------------------------------------------------------------------------------

StatFn = Callable[[str], Any]
_DEVICE_RULE = re.compile(r"^([acb]) ([0-9]+|\*):([0-9]+|\*) ([rwm]{1,3})$")


def _device_type(mode: int) -> str | None:
    if stat_module.S_ISCHR(mode):
        return "c"
    if stat_module.S_ISBLK(mode):
        return "b"
    if stat_module.S_ISFIFO(mode):
        return "p"
    return None


def device_from_path(
    path_on_host: str, path_in_container: str, permissions: str = "rwm", *, stat: StatFn = os.stat
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The linux.devices entry and the device cgroup rule of one host device (the one stat)."""
    if not permissions or set(permissions) - set("rwm"):
        raise InvalidParameterError(f"invalid device mode: {permissions}")
    context = f'error gathering device information while adding custom device "{path_on_host}"'
    try:
        st = stat(path_on_host)
    except OSError as e:
        reason = (e.strerror or str(e))[:1].lower() + (e.strerror or str(e))[1:]  # Go's error text
        raise InvalidParameterError(f"{context}: {reason}") from e
    dev_type = _device_type(st.st_mode)
    if dev_type is None:
        raise InvalidParameterError(f"{context}: not a device node")
    major, minor = os.major(st.st_rdev), os.minor(st.st_rdev)
    device = {
        "path": path_in_container or path_on_host,
        "type": dev_type,
        "major": major,
        "minor": minor,
        "fileMode": stat_module.S_IMODE(st.st_mode),
        "uid": st.st_uid,
        "gid": st.st_gid,
    }
    rule = {"allow": True, "type": dev_type, "major": major, "minor": minor, "access": permissions}
    return device, rule


def parse_device_cgroup_rule(rule: str) -> dict[str, Any]:
    """A --device-cgroup-rule ("c 1:3 rwm", "a *:* m") → a linux.resources.devices entry."""
    match = _DEVICE_RULE.match(rule)
    if not match:
        raise InvalidParameterError(f"invalid device cgroup rule format: '{rule}'")
    dev_type, major, minor, access = match.groups()
    out: dict[str, Any] = {"allow": True, "type": dev_type, "access": access}
    if major != "*":
        out["major"] = int(major)
    if minor != "*":
        out["minor"] = int(minor)
    return out


def with_devices(spec: Spec, host: HostConfig, *, stat: StatFn = os.stat) -> Spec:
    """HostConfig.Devices [{PathOnHost, PathInContainer, CgroupPermissions}] and DeviceCgroupRules.

    --privileged containers get every host device in with_privileged instead.
    """
    mappings = list(host.get("Devices") or [])
    rules = list(host.get("DeviceCgroupRules") or [])
    if host.get("Privileged") or not (mappings or rules):
        return spec
    spec, linux = _linux_copy(spec)
    devices = linux.setdefault("devices", [])
    cgroup_rules = linux.setdefault("resources", {}).setdefault("devices", [])
    for mapping in mappings:
        device, rule = device_from_path(
            mapping["PathOnHost"],
            mapping.get("PathInContainer") or mapping["PathOnHost"],
            mapping.get("CgroupPermissions") or "rwm",
            stat=stat,
        )
        devices.append(device)
        cgroup_rules.append(rule)
    cgroup_rules.extend(parse_device_cgroup_rule(r) for r in rules)
    return spec


def host_devices(root: str = "/dev", *, stat: StatFn = os.lstat) -> list[dict[str, Any]]:
    """Every device node under /dev (not pts, shm, mqueue, fd), for --privileged: the other I/O."""
    skip = {"pts", "shm", "mqueue", "fd", ".lxc", ".lxd-mounts", ".udev"}
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        if dirpath == root:
            dirnames[:] = [d for d in dirnames if d not in skip]
        for name in sorted(filenames):
            path = os.path.join(dirpath, name)
            try:
                st = stat(path)
            except OSError:
                continue
            dev_type = _device_type(st.st_mode)
            if dev_type not in ("c", "b") or path == "/dev/console":
                continue
            out.append(
                {
                    "path": path,
                    "type": dev_type,
                    "major": os.major(st.st_rdev),
                    "minor": os.minor(st.st_rdev),
                    "fileMode": stat_module.S_IMODE(st.st_mode),
                    "uid": st.st_uid,
                    "gid": st.st_gid,
                }
            )
    return out
