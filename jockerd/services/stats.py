"""`docker stats`: dockerd's stats JSON (types.StatsJSON) from a runtime's cgroup sample.

Input is the `data` object of `runtime events --stats ID` (runc types/events.go: what runc,
crun and jocker-runtime print; runc omits empty keys, jocker-runtime fills them all), plus host
facts sampled next to it. Output is the JSON object dockerd 20.10 sends, key for key and in its
order (traces 16, 66, 66b), with Go's omitempty applied where moby's structs have it:

- cgroup v1 (daemon_unix.go statsV1): the eight blkio tables copied (`[]` when empty), the CPU
  usage with `percpu_usage`, `memory_stats` with `usage`, `max_usage`, `failcnt`, `limit` and
  the 32 memory.stat keys containerd reads (`cache`, `rss`, … `total_inactive_file` …).
- cgroup v2 (statsV2): `io_service_bytes_recursive` only (one "read" and one "write" entry per
  device, lowercase), the other tables null; no `percpu_usage`, no `max_usage`; the 31 v2
  memory.stat keys (`anon`, `file`, … `inactive_file` …).
- `memory_stats.limit` above the host's memory (no limit set) is the host's MemTotal.
- `precpu_stats`/`preread` are the previous sample's; for a first sample they are Go's zero
  values (`{"cpu_usage":{"total_usage":0,…},"throttling_data":{…}}` and 0001-01-01T00:00:00Z).

The /proc readers here are small synchronous reads; callers run them in a thread.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

from jockerd.errors import InternalError
from jockerd.services.system import mem_total
from jockerd.services.timefmt import ZERO_TIME

BLKIO_TABLES = (
    ("io_service_bytes_recursive", "ioServiceBytesRecursive"),
    ("io_serviced_recursive", "ioServicedRecursive"),
    ("io_queue_recursive", "ioQueueRecursive"),
    ("io_service_time_recursive", "ioServiceTimeRecursive"),
    ("io_wait_time_recursive", "ioWaitTimeRecursive"),
    ("io_merged_recursive", "ioMergedRecursive"),
    ("io_time_recursive", "ioTimeRecursive"),
    ("sectors_recursive", "sectorsRecursive"),
)
# The memory.stat keys dockerd reports (containerd cgroups' v1 and v2 Metrics), by version.
MEMORY_STAT_KEYS_V1 = (
    "cache",
    "rss",
    "rss_huge",
    "mapped_file",
    "dirty",
    "writeback",
    "pgpgin",
    "pgpgout",
    "pgfault",
    "pgmajfault",
    "inactive_anon",
    "active_anon",
    "inactive_file",
    "active_file",
    "unevictable",
    "hierarchical_memory_limit",
    "hierarchical_memsw_limit",
    "total_cache",
    "total_rss",
    "total_rss_huge",
    "total_mapped_file",
    "total_dirty",
    "total_writeback",
    "total_pgpgin",
    "total_pgpgout",
    "total_pgfault",
    "total_pgmajfault",
    "total_inactive_anon",
    "total_active_anon",
    "total_inactive_file",
    "total_active_file",
    "total_unevictable",
)
MEMORY_STAT_KEYS_V2 = (
    "anon",
    "file",
    "kernel_stack",
    "slab",
    "sock",
    "shmem",
    "file_mapped",
    "file_dirty",
    "file_writeback",
    "anon_thp",
    "inactive_anon",
    "active_anon",
    "inactive_file",
    "active_file",
    "unevictable",
    "slab_reclaimable",
    "slab_unreclaimable",
    "pgfault",
    "pgmajfault",
    "workingset_refault",
    "workingset_activate",
    "workingset_nodereclaim",
    "pgrefill",
    "pgscan",
    "pgsteal",
    "pgactivate",
    "pgdeactivate",
    "pglazyfree",
    "pglazyfreed",
    "thp_fault_alloc",
    "thp_collapse_alloc",
)
NETWORK_KEYS = (
    "rx_bytes",
    "rx_packets",
    "rx_errors",
    "rx_dropped",
    "tx_bytes",
    "tx_packets",
    "tx_errors",
    "tx_dropped",
)
# moby hard-codes USER_HZ (collector_unix.go: "on Linux it's a constant").
CLOCK_TICKS_PER_SECOND = 100


def format_time(value: datetime | None) -> str:
    """Go's time.Time JSON (RFC3339Nano: the fraction's trailing zeros trimmed) in UTC; None is
    Go's zero time. A naive datetime is taken as UTC."""
    if value is None:
        return ZERO_TIME
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    fraction = f".{value.microsecond:06d}".rstrip("0") if value.microsecond else ""
    return value.strftime("%Y-%m-%dT%H:%M:%S") + fraction + "Z"


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _omit_zero(**fields: Any) -> dict[str, Any]:
    """Go's omitempty for numbers, strings, lists and maps: zero values left out."""
    return {k: v for k, v in fields.items() if v}


def zero_cpu_stats() -> dict[str, Any]:
    """types.CPUStats{} as Go encodes it (system_cpu_usage, online_cpus, percpu omitted)."""
    return {
        "cpu_usage": {"total_usage": 0, "usage_in_kernelmode": 0, "usage_in_usermode": 0},
        "throttling_data": {"periods": 0, "throttled_periods": 0, "throttled_time": 0},
    }


def _cpu_stats(cpu: dict, *, cgroup_version: int, system_cpu_usage: int, online_cpus: int) -> dict:
    usage = cpu.get("usage") or {}
    throttling = cpu.get("throttling") or {}
    cpu_usage: dict[str, Any] = {"total_usage": _int(usage.get("total"))}
    percpu = [_int(v) for v in usage.get("percpu") or []]
    if cgroup_version == 1 and percpu:
        cpu_usage["percpu_usage"] = percpu
    cpu_usage["usage_in_kernelmode"] = _int(usage.get("kernel"))
    cpu_usage["usage_in_usermode"] = _int(usage.get("user"))
    out: dict[str, Any] = {"cpu_usage": cpu_usage}
    out.update(_omit_zero(system_cpu_usage=system_cpu_usage, online_cpus=online_cpus))
    out["throttling_data"] = {
        "periods": _int(throttling.get("periods")),
        "throttled_periods": _int(throttling.get("throttledPeriods")),
        "throttled_time": _int(throttling.get("throttledTime")),
    }
    return out


def _blkio_entries(entries: list | None) -> list[dict[str, Any]]:
    return [
        {
            "major": _int(e.get("major")),
            "minor": _int(e.get("minor")),
            "op": e.get("op") or "",
            "value": _int(e.get("value")),
        }
        for e in entries or []
    ]


def _blkio_stats(blkio: dict | None, cgroup_version: int) -> dict[str, Any]:
    if blkio is None:
        return {name: None for name, _ in BLKIO_TABLES}  # no metrics: Go's nil slices
    if cgroup_version == 1:
        return {name: _blkio_entries(blkio.get(key)) for name, key in BLKIO_TABLES}
    # v2: per device one "read" and one "write" entry (rbytes, wbytes of io.stat).
    devices: dict[tuple[int, int], dict[str, int]] = {}
    for e in _blkio_entries(blkio.get("ioServiceBytesRecursive")):
        op = e["op"].lower()
        if op in ("read", "write"):
            devices.setdefault((e["major"], e["minor"]), {"read": 0, "write": 0})[op] = e["value"]
    served = [
        {"major": major, "minor": minor, "op": op, "value": values[op]}
        for (major, minor), values in devices.items()
        for op in ("read", "write")
    ]
    out: dict[str, Any] = {name: None for name, _ in BLKIO_TABLES}
    out["io_service_bytes_recursive"] = served or None
    return out


def _memory_stats(memory: dict | None, cgroup_version: int, machine_memory: int) -> dict[str, Any]:
    if memory is None:
        return {}
    raw = memory.get("raw") or {}
    usage = memory.get("usage") or {}
    if not raw and not any(_int(v) for v in usage.values()):
        return {}  # no memory controller: dockerd has no memory metrics to report
    keys = MEMORY_STAT_KEYS_V1 if cgroup_version == 1 else MEMORY_STAT_KEYS_V2
    limit = _int(usage.get("limit"))
    if machine_memory > 0 and limit > machine_memory:
        limit = machine_memory
    return _omit_zero(
        usage=_int(usage.get("usage")),
        max_usage=_int(usage.get("max")) if cgroup_version == 1 else 0,
        stats={key: _int(raw.get(key)) for key in sorted(keys)},
        failcnt=_int(usage.get("failcnt")),
        limit=limit,
    )


def stats_from_runtime(
    data: dict,
    *,
    container_id: str,
    name: str,
    read: datetime | None,
    preread: datetime | None,
    previous: dict | None,
    system_cpu_usage: int,
    online_cpus: int,
    networks: dict[str, dict] | None,
    cgroup_version: int,
    machine_memory: int | None = None,
) -> dict[str, Any]:
    """One dockerd stats object from a runtime sample.

    A controller missing from `data` ({} altogether for a stopped container) gives Go's zero
    values, as dockerd's `if stats.X != nil`: blkio tables null, `memory_stats` and `pids_stats`
    {}, CPU usage 0; `read=None` is Go's zero time.

    `previous`: the object this function returned for the previous sample (or just its
    `cpu_stats`), None for a first sample; `preread` is that sample's `read`. `system_cpu_usage`
    and `online_cpus` should be sampled right after `data` (moby does so "to avoid noise in
    metric calculations"): `system_cpu_usage()` and `online_cpus()`. `networks`: from
    `read_network_stats(pid)`; None or {} leaves the key out, as dockerd does for containers
    without a network interface of their own (`--network none` or `host`). `machine_memory`
    defaults to the host's MemTotal.
    """
    if machine_memory is None:
        machine_memory = mem_total()
    if previous is None:
        precpu = zero_cpu_stats()
    elif "cpu_usage" in previous:
        precpu = previous
    else:
        precpu = previous.get("cpu_stats") or zero_cpu_stats()
    pids = data.get("pids") or {}
    out: dict[str, Any] = {
        "read": format_time(read),
        "preread": format_time(preread),
        "pids_stats": _omit_zero(current=_int(pids.get("current")), limit=_int(pids.get("limit"))),
        "blkio_stats": _blkio_stats(data.get("blkio"), cgroup_version),
        "num_procs": 0,
        "storage_stats": {},
        "cpu_stats": _cpu_stats(
            data.get("cpu") or {},
            cgroup_version=cgroup_version,
            system_cpu_usage=system_cpu_usage,
            online_cpus=online_cpus,
        ),
        "precpu_stats": precpu,
        "memory_stats": _memory_stats(data.get("memory"), cgroup_version, machine_memory),
        "name": name if name.startswith("/") else "/" + name,
        "id": container_id,
    }
    if networks:
        out["networks"] = {
            ifname: {key: _int(values.get(key)) for key in NETWORK_KEYS}
            for ifname, values in sorted(networks.items())
        }
    return out


def stopped_stats(*, container_id: str, name: str) -> dict[str, Any]:
    """What dockerd answers for a container that is not running (stream=0), or publishes while
    it is not running: types.StatsJSON with only name and id (trace 66b). The same as
    stats_from_runtime({}, read=None, preread=None, previous=None, system_cpu_usage=0,
    online_cpus=0, networks=None, ...)."""
    return stats_from_runtime(
        {},
        container_id=container_id,
        name=name,
        read=None,
        preread=None,
        previous=None,
        system_cpu_usage=0,
        online_cpus=0,
        networks=None,
        cgroup_version=1,
        machine_memory=0,
    )


# -- host facts -----------------------------------------------------------------------------------


def system_cpu_usage(path: str = "/proc/stat") -> int:
    """The host's CPU time in nanoseconds, as moby's getSystemCPUUsage: the first seven fields
    of the "cpu " line of /proc/stat (user … softirq, in USER_HZ ticks) * 1e9 / 100."""
    with open(path) as f:
        for line in f:
            if len(line) < 4 or not line.startswith("cpu"):
                break
            if line[3] == " ":
                parts = line.split()
                if len(parts) < 8:
                    raise InternalError("invalid number of cpu fields")
                try:
                    ticks = sum(int(v) for v in parts[1:8])
                except ValueError as e:
                    raise InternalError(f"Unable to convert value to int: {e}") from e
                return ticks * 1_000_000_000 // CLOCK_TICKS_PER_SECOND
    raise InternalError("invalid number of cpu fields")


def online_cpus() -> int:
    """The number of online CPUs (dockerd 20.10: sysconf(_SC_NPROCESSORS_ONLN))."""
    return os.sysconf("SC_NPROCESSORS_ONLN")


def parse_net_dev(text: str) -> dict[str, dict[str, int]]:
    """/proc/net/dev → {ifname: {rx_bytes, rx_packets, rx_errors, rx_dropped, tx_…}}, loopback
    left out (libnetwork reports only the interfaces it put in the sandbox)."""
    out = {}
    for line in text.splitlines()[2:]:
        ifname, sep, rest = line.partition(":")
        fields = rest.split()
        ifname = ifname.strip()
        if not sep or len(fields) < 16 or ifname == "lo":
            continue
        values = [int(v) for v in fields]
        rx, tx = values[0:4], values[8:12]
        out[ifname] = dict(zip(NETWORK_KEYS, rx + tx, strict=True))
    return out


def read_network_stats(pid: int) -> dict[str, dict[str, int]]:
    """The interfaces of the network namespace of `pid` (the container's init) and their
    counters; {} when the process is gone or has only loopback."""
    try:
        with open(f"/proc/{pid}/net/dev") as f:
            return parse_net_dev(f.read())
    except (FileNotFoundError, ProcessLookupError):
        return {}
