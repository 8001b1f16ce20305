"""GET /containers/{id}/stats bodies (swagger ContainerStatsResponse and its parts).

Unlike the rest of the API these keys are snake_case. Keys Go tags omitempty are left out while
zero, exactly as dockerd does (trace 16: no `failcnt`; trace 66b, a stopped container:
`"memory_stats": {}`, `"pids_stats": {}`, no `networks`, the blkio lists null).
"""

from __future__ import annotations

from pydantic import ConfigDict, Field

from jockerd.models.base import DockerModel
from jockerd.models.docker.host_config import omit_empty

GO_ZERO_TIME = "0001-01-01T00:00:00Z"  # `read`/`preread` of a container that is not running


class _SnakeCaseModel(DockerModel):
    model_config = ConfigDict(alias_generator=None)


class ContainerThrottlingData(_SnakeCaseModel):
    """CPU throttling counters."""

    periods: int = 0
    throttled_periods: int = 0
    throttled_time: int = 0


class ContainerCPUUsage(_SnakeCaseModel):
    """CPU time used, in nanoseconds."""

    total_usage: int = 0
    percpu_usage: list[int] = omit_empty(default_factory=list)
    usage_in_kernelmode: int = 0
    usage_in_usermode: int = 0


class ContainerCPUStats(_SnakeCaseModel):
    """`cpu_stats` and `precpu_stats`."""

    cpu_usage: ContainerCPUUsage = Field(default_factory=ContainerCPUUsage)
    system_cpu_usage: int = omit_empty(0)
    online_cpus: int = omit_empty(0)
    throttling_data: ContainerThrottlingData = Field(default_factory=ContainerThrottlingData)


class ContainerMemoryStats(_SnakeCaseModel):
    """Memory use; `stats` holds the cgroup's memory.stat counters."""

    usage: int = omit_empty(0)
    max_usage: int = omit_empty(0)
    stats: dict[str, int] = omit_empty(default_factory=dict)
    failcnt: int = omit_empty(0)
    limit: int = omit_empty(0)
    commitbytes: int = omit_empty(0)
    commitpeakbytes: int = omit_empty(0)
    privateworkingset: int = omit_empty(0)


class ContainerPidsStats(_SnakeCaseModel):
    """Number of processes and the pids limit."""

    current: int = omit_empty(0)
    limit: int = omit_empty(0)


class ContainerBlkioStatEntry(_SnakeCaseModel):
    """One blkio counter of one device."""

    major: int = 0
    minor: int = 0
    op: str = ""
    value: int = 0


class ContainerBlkioStats(_SnakeCaseModel):
    """Block I/O counters (cgroup v1 names); each list is null until a sample is read."""

    io_service_bytes_recursive: list[ContainerBlkioStatEntry] | None = None
    io_serviced_recursive: list[ContainerBlkioStatEntry] | None = None
    io_queue_recursive: list[ContainerBlkioStatEntry] | None = None
    io_service_time_recursive: list[ContainerBlkioStatEntry] | None = None
    io_wait_time_recursive: list[ContainerBlkioStatEntry] | None = None
    io_merged_recursive: list[ContainerBlkioStatEntry] | None = None
    io_time_recursive: list[ContainerBlkioStatEntry] | None = None
    sectors_recursive: list[ContainerBlkioStatEntry] | None = None


class ContainerStorageStats(_SnakeCaseModel):
    """Storage counters (Windows only; `{}` on Linux)."""

    read_count_normalized: int = omit_empty(0)
    read_size_bytes: int = omit_empty(0)
    write_count_normalized: int = omit_empty(0)
    write_size_bytes: int = omit_empty(0)


class ContainerNetworkStats(_SnakeCaseModel):
    """Counters of one network interface."""

    rx_bytes: int = 0
    rx_packets: int = 0
    rx_errors: int = 0
    rx_dropped: int = 0
    tx_bytes: int = 0
    tx_packets: int = 0
    tx_errors: int = 0
    tx_dropped: int = 0
    endpoint_id: str = omit_empty("")
    instance_id: str = omit_empty("")


class ContainerStatsResponse(_SnakeCaseModel):
    """One stats sample, in dockerd's key order."""

    read: str = GO_ZERO_TIME
    preread: str = GO_ZERO_TIME
    pids_stats: ContainerPidsStats = Field(default_factory=ContainerPidsStats)
    blkio_stats: ContainerBlkioStats = Field(default_factory=ContainerBlkioStats)
    num_procs: int = 0
    storage_stats: ContainerStorageStats = Field(default_factory=ContainerStorageStats)
    cpu_stats: ContainerCPUStats = Field(default_factory=ContainerCPUStats)
    precpu_stats: ContainerCPUStats = Field(default_factory=ContainerCPUStats)
    memory_stats: ContainerMemoryStats = Field(default_factory=ContainerMemoryStats)
    name: str = omit_empty("")
    id: str = omit_empty("")
    networks: dict[str, ContainerNetworkStats] = omit_empty(default_factory=dict)
