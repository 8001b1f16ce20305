"""cgroup v1 (legacy and hybrid hosts): one directory per mounted hierarchy.

The hierarchies are the cgroup mounts below the root in /proc/self/mountinfo, named by their
controllers ("memory", "cpu,cpuacct", "name=systemd"); on a hybrid host the cgroup2 mount below
the root is joined too, as "unified", as runc does (no limits are written there). Every
hierarchy gets the directory and the process; limits go only to the controllers that need them,
in runc's subsystem order: cpuset, devices, memory, cpu, pids, blkio, hugetlb, net_cls,
net_prio, rdma.

Orders that matter, each from runc's libcontainer/cgroups/fs:
- cpuset: a new cpuset cgroup starts with empty cpus/mems and refuses tasks, so create() copies
  them down from the nearest ancestor that has them; apply() then writes the requested ones.
- memory: memsw.limit_in_bytes may never be below limit_in_bytes, so when the new swap limit is
  at least the current memory limit (raising) memsw goes first, otherwise (lowering) the
  memory limit goes first.
- cpu: a shorter cfs period can fail (EINVAL) until the quota is written; it is retried after.
- devices: "a" is denied first, then each rule is written in config order.
- freezer: FREEZING is retried, with an occasional thaw, until FROZEN or the timeout.
"""

from __future__ import annotations

import errno
import os
import time

from . import (
    DESTROY_TIMEOUT,
    FREEZE_TIMEOUT,
    CgroupError,
    CgroupManager,
    add_pid,
    device_rule,
    hugepage_sizes,
    list_pids,
    mountinfo,
    own_cgroups,
    pids_max,
    read_file,
    read_int,
    read_optional,
    remove_tree,
    write_file,
)

# The v1 controllers of cgroups(7); other options of a cgroup mount are flags (rw, xattr, …).
CONTROLLERS = frozenset(
    {"cpuset", "cpu", "cpuacct", "blkio", "memory", "devices", "freezer"}
    | {"net_cls", "perf_event", "net_prio", "hugetlb", "pids", "rdma", "misc"}
)
# The hierarchy whose directory stands for the cgroup in `path` and pids() (runc uses devices).
PRIMARY = ("devices", "freezer", "pids", "memory", "cpu")
THROTTLE_FILES = (
    ("throttleReadBpsDevice", "blkio.throttle.read_bps_device"),
    ("throttleWriteBpsDevice", "blkio.throttle.write_bps_device"),
    ("throttleReadIOPSDevice", "blkio.throttle.read_iops_device"),
    ("throttleWriteIOPSDevice", "blkio.throttle.write_iops_device"),
)
# stats(): the first of these files with entries fills the table (bfq, cfq, then throttle, as runc).
BLKIO_TABLES = (
    (
        "ioServiceBytesRecursive",
        (
            "blkio.bfq.io_service_bytes_recursive",
            "blkio.io_service_bytes_recursive",
            "blkio.throttle.io_service_bytes_recursive",
            "blkio.throttle.io_service_bytes",
        ),
    ),
    (
        "ioServicedRecursive",
        (
            "blkio.bfq.io_serviced_recursive",
            "blkio.io_serviced_recursive",
            "blkio.throttle.io_serviced_recursive",
            "blkio.throttle.io_serviced",
        ),
    ),
    ("ioQueueRecursive", ("blkio.bfq.io_queued_recursive", "blkio.io_queued_recursive")),
    ("ioServiceTimeRecursive", ("blkio.bfq.io_service_time_recursive", "blkio.io_service_time_recursive")),
    ("ioWaitTimeRecursive", ("blkio.bfq.io_wait_time_recursive", "blkio.io_wait_time_recursive")),
    ("ioMergedRecursive", ("blkio.bfq.io_merged_recursive", "blkio.io_merged_recursive")),
    ("ioTimeRecursive", ("blkio.bfq.time_recursive", "blkio.time_recursive")),
    ("sectorsRecursive", ("blkio.bfq.sectors_recursive", "blkio.sectors_recursive")),
)


def hierarchies(
    root: str, mounts: list[tuple[str, str, str, str]] | None = None
) -> dict[str, tuple[str, str]]:
    """{name: (mount point, mount root)} of the hierarchies mounted below `root`, from
    /proc/self/mountinfo or `mounts` (as `mountinfo()` read it)."""
    root = os.path.realpath(root).rstrip("/")
    found: dict[str, tuple[str, str]] = {}
    for mount_root, point, fstype, options in mountinfo() if mounts is None else mounts:
        if not point.startswith(root + "/"):
            continue
        if fstype == "cgroup":
            name = ",".join(o for o in options.split(",") if o in CONTROLLERS or o.startswith("name="))
        elif fstype == "cgroup2":
            name = "unified"
        else:
            continue
        if name:
            found.setdefault(name, (point, mount_root))
    return found


class V1Manager(CgroupManager):
    version = 1

    def __init__(self, path: str, dirs: dict[str, str]) -> None:
        self.path = path
        self.dirs = dirs
        self.notes: list[str] = []
        self._dir_of = {c: d for name, d in dirs.items() if name != "unified" for c in name.split(",")}
        self._self_moved: frozenset[str] = frozenset()  # hierarchies left to `move_self`

    @classmethod
    def resolve(
        cls, absolute: bool, inner: str, root: str, mountinfo: list[tuple[str, str, str, str]] | None = None
    ) -> V1Manager:
        mounts = hierarchies(root, mountinfo)
        if not mounts:
            raise CgroupError(f"no cgroup v1 hierarchy is mounted below {root}")
        own = {frozenset(k.split(",")) if k else frozenset(): v for k, v in own_cgroups().items()}
        dirs, paths = {}, {}
        for name, (point, mount_root) in mounts.items():
            base = "/"
            if not absolute:
                base = own.get(frozenset() if name == "unified" else frozenset(name.split(",")), "/")
                # A mount of a sub-tree (inside a cgroup namespace) starts at mount_root.
                if mount_root != "/" and (base == mount_root or base.startswith(mount_root + "/")):
                    base = base[len(mount_root) :] or "/"
            paths[name] = base.rstrip("/") + inner
            dirs[name] = point + paths[name]
        primary = next((n for c in PRIMARY for n in mounts if c in n.split(",")), next(iter(mounts)))
        manager = cls(paths[primary], dirs)
        point, mount_root = mounts[primary]
        mine = own.get(frozenset(primary.split(",")))  # the caller's, for warm_attach
        if mine is not None and mount_root != "/":
            inside = mine == mount_root or mine.startswith(mount_root + "/")
            mine = (mine[len(mount_root) :] or "/") if inside else None
        if mine is not None:
            manager.own_dir = point + mine.rstrip("/")
        return manager

    # -- helpers ---------------------------------------------------------------------------------

    def _dir(self, controller: str, what: str) -> str:
        directory = self._dir_of.get(controller)
        if directory is None:
            raise CgroupError(f"{what} needs the cgroup v1 {controller} controller, which is not mounted")
        return directory

    def _write(self, directory: str, name: str, value: str) -> None:
        write_file(directory, name, value)

    def _put(self, directory: str, name: str, value: str, what: str) -> None:
        """Write, turning a missing file into "the host lacks it"."""
        try:
            self._write(directory, name, value)
        except CgroupError as e:
            if e.errno == errno.ENOENT and os.path.isdir(directory):
                raise CgroupError(
                    f"{what} is not supported by this kernel: no {name} in {directory}"
                ) from None
            raise

    def _primary(self) -> str:
        for controller in PRIMARY:
            if controller in self._dir_of:
                return self._dir_of[controller]
        return next(iter(self.dirs.values()))

    # -- lifecycle -------------------------------------------------------------------------------

    def create(self) -> None:
        for name, directory in self.dirs.items():
            try:
                if "cpuset" in name.split(","):
                    self._make_cpuset(directory)
                else:
                    os.makedirs(directory, exist_ok=True)
            except OSError as e:
                raise CgroupError(f"create {directory}: {e.strerror}", errno=e.errno) from None

    def _make_cpuset(self, directory: str) -> None:
        """mkdir down from the nearest ancestor with cpus and mems, copying them into each level."""
        chain = []
        current = directory
        while not (
            (read_optional(current, "cpuset.cpus") or "").strip()
            and (read_optional(current, "cpuset.mems") or "").strip()
        ):
            if current == "/":
                raise CgroupError(f"no cpuset ancestor with cpus and mems above {directory}")
            chain.append(current)
            current = os.path.dirname(current)
        for level in reversed(chain):
            os.makedirs(level, exist_ok=True)
            parent = os.path.dirname(level)
            for name in ("cpuset.cpus", "cpuset.mems"):
                if not read_file(level, name).strip():
                    self._write(level, name, read_file(parent, name).strip())

    def add_task(self, pid: int) -> None:
        for name, directory in self.dirs.items():
            if name not in self._self_moved:
                add_pid(directory, pid)

    def self_move_files(self) -> list[str]:
        """The `tasks` file of every hierarchy but a hybrid host's unified one (see the base
        class): a thread that writes 0 there moves itself without the global lock."""
        names = [name for name in self.dirs if name != "unified"]
        self._self_moved = frozenset(names)
        return [os.path.join(self.dirs[name], "tasks") for name in names]

    @property
    def add_task_needed(self) -> bool:
        return any(name not in self._self_moved for name in self.dirs)

    def exists(self) -> bool:
        return any(os.path.isdir(d) for d in self.dirs.values())

    def destroy(self) -> None:
        deadline = time.monotonic() + DESTROY_TIMEOUT
        errors = []
        for directory in self.dirs.values():
            try:
                remove_tree(directory, max(deadline - time.monotonic(), 0.0))
            except CgroupError as e:
                errors.append(str(e))
        if errors:
            raise CgroupError("; ".join(errors))

    # -- limits ----------------------------------------------------------------------------------

    def apply(self, resources: dict) -> None:
        r = resources or {}
        if r.get("unified"):
            raise CgroupError("linux.resources.unified needs cgroup v2, and this host uses cgroup v1")
        cpu = r.get("cpu") or {}
        self._set_cpuset(cpu)
        self._set_devices(r.get("devices") or [])
        self._set_memory(r.get("memory") or {})
        self._set_cpu(cpu)
        self._set_pids(r.get("pids") or {})
        self._set_blkio(r.get("blockIO") or {})
        self._set_hugetlb(r.get("hugepageLimits") or [])
        self._set_network(r.get("network") or {})
        self._set_rdma(r.get("rdma") or {})

    def _set_cpuset(self, cpu: dict) -> None:
        cpus, mems = cpu.get("cpus") or "", cpu.get("mems") or ""
        if cpus or mems:
            directory = self._dir("cpuset", "linux.resources.cpu.cpus/mems")
            if cpus:
                self._write(directory, "cpuset.cpus", cpus)
            if mems:
                self._write(directory, "cpuset.mems", mems)

    def _set_devices(self, rules: list) -> None:
        if not rules:
            return
        directory = self._dir("devices", "linux.resources.devices")
        lines = [
            ("devices.allow" if rule.get("allow") else "devices.deny", device_rule(rule)) for rule in rules
        ]
        self._write(directory, "devices.deny", "a")
        for name, line in lines:
            self._write(directory, name, line)

    def _set_memory(self, m: dict) -> None:
        limit, swap = m.get("limit") or 0, m.get("swap") or 0
        reservation, kernel_tcp = m.get("reservation") or 0, m.get("kernelTCP") or 0
        swappiness = m.get("swappiness")
        if swappiness is not None and (swappiness == -1 or swappiness >= 2**63):
            swappiness = None  # -1 (or uint64 -1) means "unset" to runc and Docker
        use_hierarchy = m.get("useHierarchy")
        if m.get("kernel"):
            self.notes.append(
                "memory.kernel ignored: kmem limits are deprecated and a no-op in current kernels"
            )
        if (
            not (
                limit
                or swap
                or reservation
                or kernel_tcp
                or swappiness is not None
                or m.get("disableOOMKiller")
            )
            and use_hierarchy is None
        ):
            return
        directory = self._dir("memory", "linux.resources.memory")
        has_memsw = os.path.exists(os.path.join(directory, "memory.memsw.limit_in_bytes"))
        if limit == -1 and swap == 0 and has_memsw:
            swap = -1  # unlimited memory and no swap given: unlimited swap too (runc)
        if swap and not has_memsw:
            raise CgroupError(
                "linux.resources.memory.swap needs swap accounting, which this kernel lacks "
                f"(no memory.memsw.limit_in_bytes in {directory})"
            )
        if limit > 0 and swap > 0 and swap < limit:
            raise CgroupError(f"memory+swap limit {swap} should be >= memory limit {limit}")
        if limit and swap and (swap == -1 or read_int(directory, "memory.limit_in_bytes") < swap):
            self._write(directory, "memory.memsw.limit_in_bytes", str(swap))
            self._set_memory_limit(directory, limit)
        else:
            if limit:
                self._set_memory_limit(directory, limit)
            if swap:
                self._write(directory, "memory.memsw.limit_in_bytes", str(swap))
        if reservation:
            self._write(directory, "memory.soft_limit_in_bytes", str(reservation))
        if kernel_tcp:
            self._put(directory, "memory.kmem.tcp.limit_in_bytes", str(kernel_tcp), "memory.kernelTCP")
        if m.get("disableOOMKiller"):
            self._write(directory, "memory.oom_control", "1")
        if swappiness is not None:
            if not 0 <= swappiness <= 100:
                raise CgroupError(f"invalid memory swappiness {swappiness}: the range is 0-100")
            self._write(directory, "memory.swappiness", str(swappiness))
        if use_hierarchy is not None:
            self._write(directory, "memory.use_hierarchy", "1" if use_hierarchy else "0")

    def _set_memory_limit(self, directory: str, limit: int) -> None:
        try:
            self._write(directory, "memory.limit_in_bytes", str(limit))
        except CgroupError as e:
            if e.errno != errno.EBUSY:
                raise
            usage = read_int(directory, "memory.usage_in_bytes")
            peak = read_int(directory, "memory.max_usage_in_bytes")
            raise CgroupError(
                f"unable to set memory limit to {limit} (current usage: {usage}, peak usage: {peak})",
                errno=errno.EBUSY,
            ) from None

    def _set_cpu(self, cpu: dict) -> None:
        shares, quota, period = cpu.get("shares") or 0, cpu.get("quota") or 0, cpu.get("period") or 0
        rt_runtime, rt_period = cpu.get("realtimeRuntime") or 0, cpu.get("realtimePeriod") or 0
        burst, idle = cpu.get("burst"), cpu.get("idle")
        if not (shares or quota or period or rt_runtime or rt_period or burst or idle):
            return
        directory = self._dir("cpu", "linux.resources.cpu")
        # Real-time first: a SCHED_RR task cannot join a cgroup without an rt budget (runc).
        if rt_period:
            self._put(directory, "cpu.rt_period_us", str(rt_period), "cpu.realtimePeriod")
        if rt_runtime:
            self._put(directory, "cpu.rt_runtime_us", str(rt_runtime), "cpu.realtimeRuntime")
        if shares:
            self._write(directory, "cpu.shares", str(shares))
            actual = read_int(directory, "cpu.shares")
            if actual != shares:  # the kernel clamps to [2, 262144]
                bound = "maximum" if shares > actual else "minimum"
                raise CgroupError(f"the {bound} allowed cpu-shares is {actual}")
        retry_period = None
        if period:
            try:
                self._write(directory, "cpu.cfs_period_us", str(period))
            except CgroupError as e:
                # A shorter period with the old quota may exceed the parent's bandwidth: retry after quota.
                if e.errno != errno.EINVAL or not quota:
                    raise
                retry_period = str(period)
        if quota:
            self._write(directory, "cpu.cfs_quota_us", str(quota))
            if retry_period:
                self._write(directory, "cpu.cfs_period_us", retry_period)
        if burst is not None:
            self._put(directory, "cpu.cfs_burst_us", str(burst), "cpu.burst")
        if idle:
            self._put(directory, "cpu.idle", str(idle), "cpu.idle")

    def _set_pids(self, pids: dict) -> None:
        if pids.get("limit") is not None:
            self._write(self._dir("pids", "linux.resources.pids"), "pids.max", pids_max(pids["limit"]))

    def _set_blkio(self, b: dict) -> None:
        weight, leaf, weight_devices = (
            b.get("weight") or 0,
            b.get("leafWeight") or 0,
            b.get("weightDevice") or [],
        )
        if not (weight or leaf or weight_devices or any(b.get(key) for key, _ in THROTTLE_FILES)):
            return
        directory = self._dir("blkio", "linux.resources.blockIO")
        # CFQ's blkio.weight is gone from current kernels; BFQ offers blkio.bfq.weight instead.
        bfq = not os.path.exists(os.path.join(directory, "blkio.weight")) and os.path.exists(
            os.path.join(directory, "blkio.bfq.weight")
        )
        weight_file = "blkio.bfq.weight" if bfq else "blkio.weight"
        if weight:
            self._put(directory, weight_file, str(weight), "blockIO.weight")
        if leaf:
            self._put(directory, "blkio.leaf_weight", str(leaf), "blockIO.leafWeight")
        for dev in weight_devices:
            device = f"{dev['major']}:{dev['minor']}"
            if dev.get("weight") is not None:
                self._put(
                    directory, weight_file + "_device", f"{device} {dev['weight']}", "blockIO.weightDevice"
                )
            if dev.get("leafWeight") is not None:
                self._put(
                    directory,
                    "blkio.leaf_weight_device",
                    f"{device} {dev['leafWeight']}",
                    "blockIO.weightDevice",
                )
        for key, name in THROTTLE_FILES:
            for dev in b.get(key) or []:
                self._put(directory, name, f"{dev['major']}:{dev['minor']} {dev['rate']}", f"blockIO.{key}")

    def _set_hugetlb(self, limits: list) -> None:
        if not limits:
            return
        sizes = hugepage_sizes()
        for entry in limits:
            if entry.get("pageSize") not in sizes:
                raise CgroupError(
                    f"hugepage size {entry.get('pageSize')!r} is not supported by this host "
                    f"(sizes: {', '.join(sorted(sizes)) or 'none'})"
                )
        directory = self._dir("hugetlb", "linux.resources.hugepageLimits")
        for entry in limits:
            size, limit = entry["pageSize"], str(entry["limit"])
            self._put(directory, f"hugetlb.{size}.limit_in_bytes", limit, "hugepageLimits")
            if os.path.exists(os.path.join(directory, f"hugetlb.{size}.rsvd.limit_in_bytes")):
                self._write(directory, f"hugetlb.{size}.rsvd.limit_in_bytes", limit)

    def _set_network(self, network: dict) -> None:
        if network.get("classID"):
            directory = self._dir("net_cls", "linux.resources.network.classID")
            self._write(directory, "net_cls.classid", str(network["classID"]))
        for prio in network.get("priorities") or []:
            directory = self._dir("net_prio", "linux.resources.network.priorities")
            self._write(directory, "net_prio.ifpriomap", f"{prio['name']} {prio['priority']}")

    def _set_rdma(self, rdma: dict) -> None:
        for device, limits in rdma.items():
            directory = self._dir("rdma", "linux.resources.rdma")
            fields = [device]
            if limits.get("hcaHandles") is not None:
                fields.append(f"hca_handle={limits['hcaHandles']}")
            if limits.get("hcaObjects") is not None:
                fields.append(f"hca_object={limits['hcaObjects']}")
            self._write(directory, "rdma.max", " ".join(fields))

    # -- freezer, processes ----------------------------------------------------------------------

    def freeze(self, timeout: float = FREEZE_TIMEOUT) -> None:
        directory = self._dir("freezer", "freeze")
        deadline = time.monotonic() + timeout
        attempt = 0
        try:
            while True:
                if attempt % 50 == 49:
                    # New tasks keep a v1 cgroup FREEZING; a thaw and a pause let it settle (runc).
                    self._write(directory, "freezer.state", "THAWED")
                    time.sleep(0.01)
                self._write(directory, "freezer.state", "FROZEN")
                state = read_file(directory, "freezer.state").strip()
                if state == "FROZEN":
                    return
                if state != "FREEZING":
                    raise CgroupError(f"unexpected freezer state {state!r} in {directory} while freezing")
                if time.monotonic() >= deadline:
                    raise CgroupError(f"unable to freeze {directory}: still FREEZING after {timeout:g}s")
                attempt += 1
                time.sleep(min(0.0002 * attempt, 0.01))
        except BaseException:
            try:  # never leave the cgroup half frozen
                self._write(directory, "freezer.state", "THAWED")
            except CgroupError:
                pass
            raise

    def thaw(self) -> None:
        self._write(self._dir("freezer", "thaw"), "freezer.state", "THAWED")

    def state(self) -> str:
        directory = self._dir_of.get("freezer")
        if directory is None:
            return "thawed"
        for _ in range(1000):
            state = read_file(directory, "freezer.state").strip()
            if state == "THAWED":
                return "thawed"
            if state == "FROZEN":
                break
            if state != "FREEZING":
                raise CgroupError(f"unknown freezer state {state!r} in {directory}")
            time.sleep(0.001)
        # FROZEN may come from an ancestor; self_freezing says whether this cgroup asked for it.
        own = read_optional(directory, "freezer.self_freezing")
        return "frozen" if own is None or own.strip() == "1" else "thawed"

    def pids(self) -> list[int]:
        return list_pids(self._primary())

    def _has_freezer(self) -> bool:
        return "freezer" in self._dir_of and os.path.isdir(self._dir_of["freezer"])

    # -- stats -----------------------------------------------------------------------------------

    def stats(self) -> dict:
        from .stats import empty_stats, memory_entry, parse_blkio, parse_flat  # `events` only

        if not self.exists():
            raise CgroupError(f"cgroup {self.path} does not exist", errno=errno.ENOENT)
        st = empty_stats()
        usage = st["cpu"]["usage"]
        if directory := self._dir_of.get("cpuacct"):
            usage["total"] = read_int(directory, "cpuacct.usage")
            usage["percpu"] = [
                int(v) for v in (read_optional(directory, "cpuacct.usage_percpu") or "").split()
            ]
            for line in (read_optional(directory, "cpuacct.usage_all") or "").splitlines()[1:]:
                fields = line.split()  # cpu user system
                if len(fields) == 3:
                    usage["percpu_user"].append(int(fields[1]))
                    usage["percpu_kernel"].append(int(fields[2]))
            ticks = parse_flat(read_optional(directory, "cpuacct.stat"))
            hz = os.sysconf("SC_CLK_TCK")
            usage["user"] = ticks.get("user", 0) * 1_000_000_000 // hz
            usage["kernel"] = ticks.get("system", 0) * 1_000_000_000 // hz
        if directory := self._dir_of.get("cpu"):
            cpu_stat = parse_flat(read_optional(directory, "cpu.stat"))
            st["cpu"]["throttling"] = {
                "periods": cpu_stat.get("nr_periods", 0),
                "throttledPeriods": cpu_stat.get("nr_throttled", 0),
                "throttledTime": cpu_stat.get("throttled_time", 0),
            }
        if directory := self._dir_of.get("memory"):
            memory = st["memory"]
            memory["raw"] = parse_flat(read_optional(directory, "memory.stat"))
            memory["cache"] = memory["raw"].get("cache", 0)
            for key, prefix in (
                ("usage", "memory"),
                ("swap", "memory.memsw"),
                ("kernel", "memory.kmem"),
                ("kernelTCP", "memory.kmem.tcp"),
            ):
                if read_optional(directory, f"{prefix}.usage_in_bytes") is not None:
                    memory[key] = memory_entry(
                        read_int(directory, f"{prefix}.limit_in_bytes"),
                        read_int(directory, f"{prefix}.usage_in_bytes"),
                        read_int(directory, f"{prefix}.max_usage_in_bytes"),
                        read_int(directory, f"{prefix}.failcnt"),
                    )
        if directory := self._dir_of.get("pids"):
            st["pids"] = {
                "current": read_int(directory, "pids.current"),
                "limit": read_int(directory, "pids.max"),
            }
        if directory := self._dir_of.get("blkio"):
            for table, candidates in BLKIO_TABLES:
                for name in candidates:
                    if entries := parse_blkio(read_optional(directory, name)):
                        st["blkio"][table] = entries
                        break
        if directory := self._dir_of.get("hugetlb"):
            for size in hugepage_sizes():
                if read_optional(directory, f"hugetlb.{size}.usage_in_bytes") is not None:
                    st["hugetlb"][size] = {
                        "usage": read_int(directory, f"hugetlb.{size}.usage_in_bytes"),
                        "max": read_int(directory, f"hugetlb.{size}.max_usage_in_bytes"),
                        "failcnt": read_int(directory, f"hugetlb.{size}.failcnt"),
                    }
        return st
