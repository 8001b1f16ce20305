"""cgroup v2, the unified hierarchy: one directory, controllers enabled from the root down.

A controller's files appear in a cgroup only once every ancestor lists it in
cgroup.subtree_control. create() enables, best effort, every controller the root offers at the
root and each intermediate level (runc fs2/create.go); apply() then checks that the controllers
the resources need are in the cgroup's cgroup.controllers, tries to enable the missing ones, and
fails naming them if the host cannot provide them (on a hybrid host they are bound to v1).

The OCI resources are v1-shaped; they are translated as runc's fs2 does:
  cpu.shares        → cpu.weight = 1 + (shares - 2) * 9999 // 262142
  cpu.quota/period  → cpu.max "<quota|max> <period, default 100000>"; burst → cpu.max.burst
  memory.limit      → memory.max; reservation → memory.low (-1 → "max")
  memory.swap       → memory.swap.max = swap - limit (v1's swap is memory+swap)
  pids.limit        → pids.max (-1 or 0 → "max")
  blockIO.weight    → io.bfq.weight, or io.weight = 1 + (weight - 10) * 9999 // 990 without BFQ
  blockIO.throttle* → io.max "<major>:<minor> rbps|wbps|riops|wiops=<rate>"
  cpu.cpus/mems     → cpuset.cpus/mems; hugepageLimits → hugetlb.<size>.max (and .rsvd.max)
  unified           → written verbatim, one write per key
Resources with no v2 equivalent (swappiness, disableOOMKiller, kernelTCP, realtime cpu, blkio
leafWeight) raise CgroupError when set to a non-default value. Device rules need an eBPF program
on v2 (runc's devicefilter); that is not implemented: they are skipped and noted in `notes`.
"""

from __future__ import annotations

import errno
import os
import time

from . import (
    DESTROY_TIMEOUT,
    FREEZE_TIMEOUT,
    SIGKILL,
    CgroupError,
    CgroupManager,
    add_pid,
    list_pids,
    own_cgroups,
    pids_max,
    read_int,
    read_optional,
    remove_tree,
    write_file,
)
from .stats import UNLIMITED, empty_stats, memory_entry, parse_flat, parse_io_stat

IO_MAX_KEYS = (
    ("throttleReadBpsDevice", "rbps"),
    ("throttleWriteBpsDevice", "wbps"),
    ("throttleReadIOPSDevice", "riops"),
    ("throttleWriteIOPSDevice", "wiops"),
)


def cpu_weight(shares: int) -> int:
    """runc's ConvertCPUSharesToCgroupV2Value: [2, 262144] → [1, 10000]."""
    return 1 + (shares - 2) * 9999 // 262142


def io_weight(weight: int) -> int:
    """runc's ConvertBlkIOToIOWeightValue: [10, 1000] → [1, 10000]."""
    return 1 + (weight - 10) * 9999 // 990


def swap_max(swap: int, limit: int) -> int:
    """runc's ConvertMemorySwapToCgroupV2Value: OCI memory+swap → v2 swap alone (0 = leave unset)."""
    if limit == -1 and swap == 0:
        return -1  # unlimited memory, swap not given: unlimited swap too
    if swap in (-1, 0) or limit == -1:
        return swap
    if limit == 0:
        raise CgroupError("unable to set swap limit without memory limit")
    if limit < 0:
        raise CgroupError(f"invalid memory value: {limit}")
    if swap < limit:
        raise CgroupError(f"memory+swap limit {swap} should be >= memory limit {limit}")
    return swap - limit


def max_value(value: int) -> str:
    """A *.max/*.low value: -1 → "max"."""
    return "max" if value == -1 else str(value)


class V2Manager(CgroupManager):
    version = 2

    def __init__(self, path: str, directory: str) -> None:
        if not directory.endswith(path):
            raise CgroupError(f"cgroup directory {directory} does not end with its path {path}")
        self.path = path
        self.dir = directory
        self.root = directory[: len(directory) - len(path)] or "/"
        self.dirs = {"": directory}
        self.notes: list[str] = []

    @classmethod
    def resolve(cls, absolute: bool, inner: str, root: str) -> V2Manager:
        path = inner
        own = own_cgroups().get("", "/")
        if not absolute:
            # Below the caller's parent: the caller's own cgroup holds processes, so by the "no
            # internal processes" rule it cannot enable controllers for a child (runc).
            path = os.path.dirname(own).rstrip("/") + inner
        manager = cls(path, root.rstrip("/") + path)
        manager.own_dir = root.rstrip("/") + own.rstrip("/")
        return manager

    # -- helpers ---------------------------------------------------------------------------------

    def _write(self, directory: str, name: str, value: str) -> None:
        write_file(directory, name, value)

    def _ancestors(self) -> list[str]:
        """The root and each level down to the cgroup's parent: where subtree_control is written."""
        levels = [self.root]
        for part in self.path.strip("/").split("/")[:-1]:
            levels.append(os.path.join(levels[-1], part))
        return levels

    def _controllers(self, directory: str) -> set[str]:
        return set((read_optional(directory, "cgroup.controllers") or "").split())

    # -- lifecycle -------------------------------------------------------------------------------

    def create(self) -> None:
        offered = sorted(self._controllers(self.root))
        for level in self._ancestors():
            if offered:
                try:
                    self._write(level, "cgroup.subtree_control", " ".join("+" + c for c in offered))
                except CgroupError:
                    for controller in offered:  # one by one: some may be refused (e.g. rootless)
                        try:
                            self._write(level, "cgroup.subtree_control", "+" + controller)
                        except CgroupError:
                            pass
        try:
            os.makedirs(self.dir, exist_ok=True)
        except OSError as e:
            raise CgroupError(f"create {self.dir}: {e.strerror}", errno=e.errno) from None

    def add_task(self, pid: int) -> None:
        try:
            add_pid(self.dir, pid)
        except CgroupError as e:
            if e.errno == errno.EBUSY:
                raise CgroupError(
                    f"cannot move {pid} into {self.dir}: it has controllers enabled for child cgroups "
                    "(cgroup v2 allows processes only in leaves)",
                    errno=e.errno,
                ) from None
            raise

    def exists(self) -> bool:
        return os.path.isdir(self.dir)

    def destroy(self) -> None:
        remove_tree(self.dir, DESTROY_TIMEOUT)

    # -- limits ----------------------------------------------------------------------------------

    def apply(self, resources: dict) -> None:
        r = resources or {}
        self._enable(self._needed(r))
        memory, cpu, block_io = r.get("memory") or {}, r.get("cpu") or {}, r.get("blockIO") or {}
        if (r.get("pids") or {}).get("limit") is not None:
            self._write(self.dir, "pids.max", pids_max(r["pids"]["limit"]))
        self._set_memory(memory)
        self._set_io(block_io)
        self._set_cpu(cpu)
        if r.get("devices"):
            self.notes.append("linux.resources.devices not enforced: cgroup v2 needs an eBPF device filter")
        if cpu.get("cpus"):
            self._write(self.dir, "cpuset.cpus", cpu["cpus"])
        if cpu.get("mems"):
            self._write(self.dir, "cpuset.mems", cpu["mems"])
        self._set_hugetlb(r.get("hugepageLimits") or [])
        for device, limits in (r.get("rdma") or {}).items():
            fields = [device]
            if limits.get("hcaHandles") is not None:
                fields.append(f"hca_handle={limits['hcaHandles']}")
            if limits.get("hcaObjects") is not None:
                fields.append(f"hca_object={limits['hcaObjects']}")
            self._write(self.dir, "rdma.max", " ".join(fields))
        self._set_unified(r.get("unified") or {})

    def _needed(self, r: dict) -> set[str]:
        """The controllers the resources need; v1-only settings fail here, before any write."""
        needed = set()
        memory, cpu, block_io = r.get("memory") or {}, r.get("cpu") or {}, r.get("blockIO") or {}
        if (r.get("pids") or {}).get("limit") is not None:
            needed.add("pids")
        if memory.get("limit") or memory.get("swap") or memory.get("reservation"):
            needed.add("memory")
        swappiness = memory.get("swappiness")
        if swappiness is not None and swappiness != -1 and swappiness < 2**63:
            raise CgroupError("memory.swappiness has no cgroup v2 equivalent")
        if memory.get("disableOOMKiller"):
            raise CgroupError("memory.disableOOMKiller has no cgroup v2 equivalent")
        if (memory.get("kernelTCP") or 0) > 0:
            raise CgroupError("memory.kernelTCP has no cgroup v2 equivalent")
        if memory.get("kernel"):
            self.notes.append("memory.kernel ignored: kernel memory is not limited separately on cgroup v2")
        if block_io.get("leafWeight") or any(d.get("leafWeight") for d in block_io.get("weightDevice") or []):
            raise CgroupError("blockIO.leafWeight has no cgroup v2 equivalent")
        if (
            block_io.get("weight")
            or block_io.get("weightDevice")
            or any(block_io.get(k) for k, _ in IO_MAX_KEYS)
        ):
            needed.add("io")
        if cpu.get("realtimeRuntime") or cpu.get("realtimePeriod"):
            raise CgroupError("cpu.realtimeRuntime/realtimePeriod have no cgroup v2 equivalent")
        if cpu.get("shares") or cpu.get("quota") or cpu.get("period") or cpu.get("burst") or cpu.get("idle"):
            needed.add("cpu")
        if cpu.get("cpus") or cpu.get("mems"):
            needed.add("cpuset")
        if r.get("hugepageLimits"):
            needed.add("hugetlb")
        if r.get("rdma"):
            needed.add("rdma")
        for key in r.get("unified") or {}:
            if "/" in key or key.startswith("."):
                raise CgroupError(f"unified resource {key!r} must be a file name (no slashes)")
            controller, dot, _ = key.partition(".")
            if not dot:
                raise CgroupError(f"unified resource {key!r} must be in the form CONTROLLER.PARAMETER")
            if controller != "cgroup":
                needed.add(controller)
        return needed

    def _enable(self, needed: set[str]) -> None:
        """Make sure the cgroup has `needed` controllers, enabling them from the root down."""
        missing = needed - self._controllers(self.dir)
        if not missing:
            return
        offered = self._controllers(self.root)
        if absent := missing - offered:
            raise CgroupError(
                f"cgroup v2 controller {', '.join(sorted(absent))} not available on this host "
                f"(cgroup.controllers of {self.root}: {' '.join(sorted(offered)) or 'none'})"
            )
        for level in self._ancestors():
            for controller in sorted(missing):
                try:
                    self._write(level, "cgroup.subtree_control", "+" + controller)
                except CgroupError as e:
                    raise CgroupError(
                        f"cannot enable the {controller} controller for {self.dir}: {e}"
                    ) from None
        if still := missing - self._controllers(self.dir):
            raise CgroupError(
                f"cgroup v2 controller {', '.join(sorted(still))} could not be enabled for {self.dir}"
            )

    def _set_memory(self, m: dict) -> None:
        limit, swap, reservation = m.get("limit") or 0, m.get("swap") or 0, m.get("reservation") or 0
        if not (limit or swap or reservation):
            return
        if m.get("checkBeforeUpdate") and limit > 0:
            current = read_int(self.dir, "memory.current")
            if limit < current:
                raise CgroupError(f"memory limit {limit} is below the current usage {current}")
        swap_v2 = swap_max(swap, limit)
        value = "" if swap_v2 == 0 and swap <= 0 else max_value(swap_v2)
        if value:
            try:
                self._write(self.dir, "memory.swap.max", value)
            except CgroupError as e:
                # No swap accounting (CONFIG_MEMCG_SWAP off): fine unless a finite limit was asked.
                if e.errno != errno.ENOENT or value not in ("max", "0"):
                    raise
        if limit:
            self._write(self.dir, "memory.max", max_value(limit))
        if reservation:
            self._write(self.dir, "memory.low", max_value(reservation))

    def _set_io(self, b: dict) -> None:
        bfq = os.path.exists(os.path.join(self.dir, "io.bfq.weight"))
        if b.get("weight"):
            if bfq:
                self._write(self.dir, "io.bfq.weight", str(b["weight"]))
            else:
                self._write(self.dir, "io.weight", str(io_weight(b["weight"])))
        for dev in b.get("weightDevice") or []:
            if dev.get("weight") is not None:
                device = f"{dev['major']}:{dev['minor']}"
                if bfq:
                    self._write(self.dir, "io.bfq.weight", f"{device} {dev['weight']}")
                else:
                    self._write(self.dir, "io.weight", f"{device} {io_weight(dev['weight'])}")
        for key, name in IO_MAX_KEYS:
            for dev in b.get(key) or []:
                self._write(self.dir, "io.max", f"{dev['major']}:{dev['minor']} {name}={dev['rate']}")

    def _set_cpu(self, cpu: dict) -> None:
        idle = cpu.get("idle")
        if idle is not None and (idle or os.path.exists(os.path.join(self.dir, "cpu.idle"))):
            self._write(self.dir, "cpu.idle", str(idle))
        if cpu.get("shares") and not idle:  # an idle cgroup has no weight to set
            self._write(self.dir, "cpu.weight", str(cpu_weight(cpu["shares"])))
        quota, period = cpu.get("quota") or 0, cpu.get("period") or 0
        if quota or period:
            self._write(self.dir, "cpu.max", f"{quota if quota > 0 else 'max'} {period or 100000}")
        if cpu.get("burst") is not None:
            self._write(self.dir, "cpu.max.burst", str(cpu["burst"]))

    def _set_hugetlb(self, limits: list) -> None:
        for entry in limits:
            if not os.path.exists(os.path.join(self.dir, f"hugetlb.{entry.get('pageSize')}.max")):
                raise CgroupError(
                    f"hugepage size {entry.get('pageSize')!r} is not supported by this host "
                    f"(no hugetlb.{entry.get('pageSize')}.max in {self.dir})"
                )
        for entry in limits:
            size, limit = entry["pageSize"], str(entry["limit"])
            self._write(self.dir, f"hugetlb.{size}.max", limit)
            if os.path.exists(os.path.join(self.dir, f"hugetlb.{size}.rsvd.max")):
                self._write(self.dir, f"hugetlb.{size}.rsvd.max", limit)

    def _set_unified(self, unified: dict) -> None:
        for key, value in unified.items():
            try:
                self._write(self.dir, key, value)
            except CgroupError as e:
                raise CgroupError(f"unable to set unified resource {key!r}: {e}", errno=e.errno) from None

    # -- freezer, processes ----------------------------------------------------------------------

    def freeze(self, timeout: float = FREEZE_TIMEOUT) -> None:
        if not os.path.exists(os.path.join(self.dir, "cgroup.freeze")):
            raise CgroupError(f"cgroup v2 freezer not available: no cgroup.freeze in {self.dir}")
        self._write(self.dir, "cgroup.freeze", "1")
        deadline = time.monotonic() + timeout
        delay = 0.0005
        try:
            while parse_flat(read_optional(self.dir, "cgroup.events")).get("frozen") != 1:
                if time.monotonic() >= deadline:
                    raise CgroupError(f"unable to freeze {self.dir}: not frozen after {timeout:g}s")
                time.sleep(delay)
                delay = min(delay * 2, 0.01)
        except BaseException:
            try:  # never leave the cgroup half frozen
                self._write(self.dir, "cgroup.freeze", "0")
            except CgroupError:
                pass
            raise

    def thaw(self) -> None:
        self._write(self.dir, "cgroup.freeze", "0")

    def state(self) -> str:
        return "frozen" if (read_optional(self.dir, "cgroup.freeze") or "").strip() == "1" else "thawed"

    def pids(self) -> list[int]:
        return list_pids(self.dir)

    def kill_all(self, sig: int) -> None:
        if sig == SIGKILL and self.exists() and os.path.exists(os.path.join(self.dir, "cgroup.kill")):
            self._write(self.dir, "cgroup.kill", "1")  # the kernel kills the whole subtree, no race
            return
        super().kill_all(sig)

    def _has_freezer(self) -> bool:
        return os.path.exists(os.path.join(self.dir, "cgroup.freeze"))

    # -- stats -----------------------------------------------------------------------------------

    def stats(self) -> dict:
        if not self.exists():
            raise CgroupError(f"cgroup {self.dir} does not exist", errno=errno.ENOENT)
        d = self.dir
        st = empty_stats()
        cpu_stat = parse_flat(read_optional(d, "cpu.stat"))  # present even without the cpu controller
        usage = st["cpu"]["usage"]
        usage["total"] = cpu_stat.get("usage_usec", 0) * 1000
        usage["user"] = cpu_stat.get("user_usec", 0) * 1000
        usage["kernel"] = cpu_stat.get("system_usec", 0) * 1000
        st["cpu"]["throttling"] = {
            "periods": cpu_stat.get("nr_periods", 0),
            "throttledPeriods": cpu_stat.get("nr_throttled", 0),
            "throttledTime": cpu_stat.get("throttled_usec", 0) * 1000,
        }
        memory = st["memory"]
        memory["raw"] = parse_flat(read_optional(d, "memory.stat"))
        memory["cache"] = memory["raw"].get("file", 0)
        if read_optional(d, "memory.current") is not None:
            used = memory_entry(
                read_int(d, "memory.max", UNLIMITED),
                read_int(d, "memory.current"),
                read_int(d, "memory.peak"),
                parse_flat(read_optional(d, "memory.events")).get("max", 0),
            )
            memory["usage"] = used
            if read_optional(d, "memory.swap.current") is not None:
                # v1 reports memory+swap; so does runc on v2, for compatibility.
                swap_limit = read_int(d, "memory.swap.max", UNLIMITED)
                memory["swap"] = memory_entry(
                    UNLIMITED if UNLIMITED in (swap_limit, used["limit"]) else swap_limit + used["limit"],
                    read_int(d, "memory.swap.current") + used["usage"],
                    0,
                    parse_flat(read_optional(d, "memory.swap.events")).get("max", 0),
                )
        if read_optional(d, "pids.current") is not None:
            st["pids"] = {"current": read_int(d, "pids.current"), "limit": read_int(d, "pids.max")}
        served, serviced = parse_io_stat(read_optional(d, "io.stat"))
        st["blkio"]["ioServiceBytesRecursive"], st["blkio"]["ioServicedRecursive"] = served, serviced
        for name in sorted(os.listdir(d)):
            if name.startswith("hugetlb.") and name.endswith(".current") and ".rsvd." not in name:
                size = name[len("hugetlb.") : -len(".current")]
                st["hugetlb"][size] = {
                    "usage": read_int(d, name),
                    "max": 0,
                    "failcnt": parse_flat(read_optional(d, f"hugetlb.{size}.events")).get("max", 0),
                }
        return st
