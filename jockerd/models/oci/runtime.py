"""OCI runtime-spec documents: config.json (specs-go/config.go) and the state (specs-go/state.go).

Class names, field order and doc lines follow specs-go. Aliases come from OciModel's camelCase
generator; the irregular ones (containerID, hostID, blockIO, disableOOMKiller, classID,
kernelTCP, pageSize, closID, ...) are set on the field. A Go `omitempty` field is `X | None = None`
here, so `dump()` (aliases, no nulls) writes what the Go types would.

Only the daemon side uses these: the runtime reads config.json as plain dicts for start-up speed.
Windows, Solaris, VM and z/OS sections are not modelled; extra="allow" keeps them on round trips.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from jockerd.models.base import OciModel
from jockerd.models.oci.image import dump  # noqa: F401 - one serializer for every OCI document

# What dockerd 20.10 writes, and the newest version runc 1.1 and crun 1.8 (Debian 12) accept:
# crun rejects "1.2.0" with "unknown version specified".
OCI_VERSION = "1.0.2-dev"


class LinuxNamespaceType(StrEnum):
    """One of the Linux namespaces."""

    PID = "pid"
    NETWORK = "network"
    MOUNT = "mount"
    IPC = "ipc"
    UTS = "uts"
    USER = "user"
    CGROUP = "cgroup"
    TIME = "time"


class LinuxSeccompAction(StrEnum):
    """Action taken upon a seccomp rule match."""

    KILL = "SCMP_ACT_KILL"
    KILL_PROCESS = "SCMP_ACT_KILL_PROCESS"
    KILL_THREAD = "SCMP_ACT_KILL_THREAD"
    TRAP = "SCMP_ACT_TRAP"
    ERRNO = "SCMP_ACT_ERRNO"
    TRACE = "SCMP_ACT_TRACE"
    ALLOW = "SCMP_ACT_ALLOW"
    LOG = "SCMP_ACT_LOG"
    NOTIFY = "SCMP_ACT_NOTIFY"


class LinuxSeccompOperator(StrEnum):
    """Operator used to match syscall arguments in seccomp."""

    NE = "SCMP_CMP_NE"
    LT = "SCMP_CMP_LT"
    LE = "SCMP_CMP_LE"
    EQ = "SCMP_CMP_EQ"
    GE = "SCMP_CMP_GE"
    GT = "SCMP_CMP_GT"
    MASKED_EQ = "SCMP_CMP_MASKED_EQ"


class ContainerState(StrEnum):
    """A container's status as `state` reports it (state.go), plus runc's `paused`."""

    CREATING = "creating"
    CREATED = "created"
    RUNNING = "running"
    STOPPED = "stopped"
    PAUSED = "paused"


# -- process --------------------------------------------------------------------------------------


class Box(OciModel):
    """Box specifies dimensions of a rectangle. Used for specifying the size of a console."""

    height: int
    width: int


class User(OciModel):
    """User specifies specific user (and group) information for the container process."""

    uid: int = 0
    gid: int = 0
    umask: int | None = None
    additional_gids: list[int] | None = None
    username: str | None = None


class LinuxCapabilities(OciModel):
    """The capability sets kept for a process (capabilities(7))."""

    bounding: list[str] | None = None
    effective: list[str] | None = None
    inheritable: list[str] | None = None
    permitted: list[str] | None = None
    ambient: list[str] | None = None


class POSIXRlimit(OciModel):
    """An rlimit: type (RLIMIT_*), hard and soft limits."""

    type: str
    hard: int
    soft: int


class Scheduler(OciModel):
    """Scheduling attributes for a process (sched_setattr(2))."""

    policy: str
    nice: int | None = None
    priority: int | None = None
    flags: list[str] | None = None
    runtime: int | None = None
    deadline: int | None = None
    period: int | None = None


class LinuxIOPriority(OciModel):
    """I/O priority settings for the container's processes."""

    class_: str = Field(alias="class")
    priority: int = 0


class Process(OciModel):
    """Process contains information to start a specific application inside the container."""

    terminal: bool | None = None
    console_size: Box | None = None
    user: User = Field(default_factory=User)
    args: list[str] | None = None
    command_line: str | None = None
    env: list[str] | None = None
    cwd: str = "/"
    capabilities: LinuxCapabilities | None = None
    rlimits: list[POSIXRlimit] | None = None
    no_new_privileges: bool | None = None
    apparmor_profile: str | None = None
    oom_score_adj: int | None = None
    scheduler: Scheduler | None = None
    selinux_label: str | None = None
    io_priority: LinuxIOPriority | None = None


# -- root, mounts, hooks --------------------------------------------------------------------------


class Root(OciModel):
    """Root contains information about the container's root filesystem on the host."""

    path: str
    readonly: bool | None = None


class LinuxIDMapping(OciModel):
    """LinuxIDMapping specifies UID/GID mappings."""

    container_id: int = Field(alias="containerID")
    host_id: int = Field(alias="hostID")
    size: int


class Mount(OciModel):
    """Mount specifies a mount for a container."""

    destination: str
    type: str | None = None
    source: str | None = None
    options: list[str] | None = None
    uid_mappings: list[LinuxIDMapping] | None = None
    gid_mappings: list[LinuxIDMapping] | None = None


class Hook(OciModel):
    """A command run at a particular event in the lifecycle of a container."""

    path: str
    args: list[str] | None = None
    env: list[str] | None = None
    timeout: int | None = None


class Hooks(OciModel):
    """Hooks for container setup and teardown."""

    prestart: list[Hook] | None = None
    create_runtime: list[Hook] | None = None
    create_container: list[Hook] | None = None
    start_container: list[Hook] | None = None
    poststart: list[Hook] | None = None
    poststop: list[Hook] | None = None


# -- linux: resources -----------------------------------------------------------------------------


class LinuxMemory(OciModel):
    """Linux cgroup 'memory' resource management."""

    limit: int | None = None
    reservation: int | None = None
    swap: int | None = None
    kernel: int | None = None
    kernel_tcp: int | None = Field(None, alias="kernelTCP")
    swappiness: int | None = None
    disable_oom_killer: bool | None = Field(None, alias="disableOOMKiller")
    use_hierarchy: bool | None = None
    check_before_update: bool | None = None


class LinuxCPU(OciModel):
    """Linux cgroup 'cpu' resource management."""

    shares: int | None = None
    quota: int | None = None
    burst: int | None = None
    period: int | None = None
    realtime_runtime: int | None = None
    realtime_period: int | None = None
    cpus: str | None = None
    mems: str | None = None
    idle: int | None = None


class LinuxPids(OciModel):
    """Linux cgroup 'pids' resource management (Linux 4.3)."""

    limit: int


class LinuxBlockIODevice(OciModel):
    """Major:minor of a block device, as the blkio cgroup wants it."""

    major: int
    minor: int


class LinuxWeightDevice(LinuxBlockIODevice):
    """A `major:minor weight` pair for weightDevice."""

    weight: int | None = None
    leaf_weight: int | None = None


class LinuxThrottleDevice(LinuxBlockIODevice):
    """A `major:minor rate_per_second` pair."""

    rate: int


class LinuxBlockIO(OciModel):
    """Linux cgroup 'blkio' resource management."""

    weight: int | None = None
    leaf_weight: int | None = None
    weight_device: list[LinuxWeightDevice] | None = None
    throttle_read_bps_device: list[LinuxThrottleDevice] | None = None
    throttle_write_bps_device: list[LinuxThrottleDevice] | None = None
    throttle_read_iops_device: list[LinuxThrottleDevice] | None = Field(None, alias="throttleReadIOPSDevice")
    throttle_write_iops_device: list[LinuxThrottleDevice] | None = Field(
        None, alias="throttleWriteIOPSDevice"
    )


class LinuxHugepageLimit(OciModel):
    """Limits of hugepages of one size ("2MB", "1GB", ...)."""

    page_size: str = Field(alias="pageSize")
    limit: int


class LinuxInterfacePriority(OciModel):
    """Priority of a network interface."""

    name: str
    priority: int


class LinuxNetwork(OciModel):
    """Network class identifier and interface priorities."""

    class_id: int | None = Field(None, alias="classID")
    priorities: list[LinuxInterfacePriority] | None = None


class LinuxRdma(OciModel):
    """Linux cgroup 'rdma' resource management (Linux 4.11)."""

    hca_handles: int | None = None
    hca_objects: int | None = None


class LinuxDeviceCgroup(OciModel):
    """A device rule for the devices cgroup controller."""

    allow: bool
    type: str | None = None
    major: int | None = None
    minor: int | None = None
    access: str | None = None


class LinuxResources(OciModel):
    """Container resource constraints (cgroups)."""

    devices: list[LinuxDeviceCgroup] | None = None
    memory: LinuxMemory | None = None
    cpu: LinuxCPU | None = None
    pids: LinuxPids | None = None
    block_io: LinuxBlockIO | None = Field(None, alias="blockIO")
    hugepage_limits: list[LinuxHugepageLimit] | None = None
    network: LinuxNetwork | None = None
    rdma: dict[str, LinuxRdma] | None = None
    unified: dict[str, str] | None = None


# -- linux: the rest ------------------------------------------------------------------------------


class LinuxNamespace(OciModel):
    """A namespace to create (no path) or to join (path)."""

    type: LinuxNamespaceType
    path: str | None = None


class LinuxDevice(OciModel):
    """The mknod information for a Linux special device file."""

    path: str
    type: str
    major: int | None = None
    minor: int | None = None
    file_mode: int | None = None
    uid: int | None = None
    gid: int | None = None


class LinuxSeccompArg(OciModel):
    """Matches one syscall argument."""

    index: int
    value: int
    value_two: int | None = None
    op: LinuxSeccompOperator


class LinuxSyscall(OciModel):
    """Matches syscalls by name (and arguments) to an action."""

    names: list[str]
    action: LinuxSeccompAction
    errno_ret: int | None = None
    args: list[LinuxSeccompArg] | None = None


class LinuxSeccomp(OciModel):
    """Syscall restrictions (seccomp)."""

    default_action: LinuxSeccompAction
    default_errno_ret: int | None = None
    architectures: list[str] | None = None
    flags: list[str] | None = None
    listener_path: str | None = None
    listener_metadata: str | None = None
    syscalls: list[LinuxSyscall] | None = None


class LinuxIntelRdt(OciModel):
    """Intel RDT: the resctrl class of service, its schemata, and monitoring."""

    clos_id: str | None = Field(None, alias="closID")
    schemata: list[str] | None = None
    l3_cache_schema: str | None = Field(None, alias="l3CacheSchema")
    mem_bw_schema: str | None = None
    enable_monitoring: bool | None = None


class LinuxPersonality(OciModel):
    """The personality(2) domain (LINUX, LINUX32) and flags."""

    domain: str
    flags: list[str] | None = None


class LinuxTimeOffset(OciModel):
    """A clock offset of a time namespace."""

    secs: int | None = None
    nanosecs: int | None = None


class Linux(OciModel):
    """Platform-specific configuration for Linux based containers."""

    uid_mappings: list[LinuxIDMapping] | None = None
    gid_mappings: list[LinuxIDMapping] | None = None
    sysctl: dict[str, str] | None = None
    resources: LinuxResources | None = None
    cgroups_path: str | None = None
    namespaces: list[LinuxNamespace] | None = None
    devices: list[LinuxDevice] | None = None
    seccomp: LinuxSeccomp | None = None
    rootfs_propagation: str | None = None
    masked_paths: list[str] | None = None
    readonly_paths: list[str] | None = None
    mount_label: str | None = None
    intel_rdt: LinuxIntelRdt | None = None
    personality: LinuxPersonality | None = None
    time_offsets: dict[str, LinuxTimeOffset] | None = None


# -- documents ------------------------------------------------------------------------------------


class Spec(OciModel):
    """The base configuration for the container: config.json."""

    oci_version: str = Field(OCI_VERSION, alias="ociVersion")
    process: Process | None = None
    root: Root | None = None
    hostname: str | None = None
    domainname: str | None = None
    mounts: list[Mount] | None = None
    hooks: Hooks | None = None
    annotations: dict[str, str] | None = None
    linux: Linux | None = None


class State(OciModel):
    """The state of a container, as the runtime's `state` command prints it (state.go)."""

    oci_version: str = Field(alias="ociVersion")
    id: str
    status: ContainerState
    pid: int | None = None
    bundle: str
    annotations: dict[str, str] | None = None
