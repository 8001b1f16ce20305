"""The cgroup v1 manager against this host's real v1 hierarchies (needs root).

Every test cgroup is /jocker-test-<uuid> (or a relative path below our own cgroup); the
fixtures kill what is left in it and remove it from every hierarchy even when a test fails.
"""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator

import pytest

from jockerd.runtime.cgroups import (
    CGROUP_ROOT,
    CgroupError,
    detect,
    hugepage_sizes,
    manager_for,
    manager_from_dirs,
    own_cgroups,
)
from jockerd.runtime.cgroups.v1 import V1Manager, hierarchies

MOUNTS = hierarchies(CGROUP_ROOT) if os.path.isdir(CGROUP_ROOT) else {}
pytestmark = [
    pytest.mark.root,
    pytest.mark.skipif(detect(CGROUP_ROOT) != 1 or not MOUNTS, reason="needs cgroup v1 hierarchies"),
]
MiB = 1 << 20


def read(directory: str, name: str) -> str:
    with open(os.path.join(directory, name)) as f:
        return f.read().strip()


def force_remove(directory: str) -> None:
    """Test teardown: empty and remove a cgroup whatever state a failed test left it in."""
    if not os.path.isdir(directory):
        return
    for child in os.scandir(directory):
        if child.is_dir(follow_symlinks=False):
            force_remove(child.path)
    if os.path.exists(os.path.join(directory, "freezer.state")):
        with open(os.path.join(directory, "freezer.state"), "w") as f:
            f.write("THAWED")
    for pid in read(directory, "cgroup.procs").split():
        try:
            os.kill(int(pid), signal.SIGKILL)
        except ProcessLookupError:
            pass
    for _ in range(200):
        try:
            os.rmdir(directory)
            return
        except OSError as e:
            if e.errno != errno.EBUSY:
                raise
            time.sleep(0.01)


@pytest.fixture
def cgroup_path() -> Iterator[str]:
    path = f"/jocker-test-{uuid.uuid4().hex[:12]}"
    yield path
    for point, _ in MOUNTS.values():
        force_remove(point + path)


@pytest.fixture
def manager(cgroup_path: str) -> V1Manager:
    m = manager_for(cgroup_path, "test")
    assert isinstance(m, V1Manager)
    m.create()
    return m


@pytest.fixture
def spawn() -> Iterator[Callable[[], subprocess.Popen[bytes]]]:
    """Start `sh` waiting on stdin; go(proc) makes it exec sleep (memory charged where it is then)."""
    procs: list[subprocess.Popen[bytes]] = []

    def start() -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(["sh", "-c", "read line; exec sleep 30"], stdin=subprocess.PIPE)
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait(5)


def go(proc: subprocess.Popen[bytes]) -> None:
    assert proc.stdin is not None
    proc.stdin.write(b"go\n")
    proc.stdin.flush()
    deadline = time.monotonic() + 5
    while read(f"/proc/{proc.pid}", "comm") != "sleep":
        assert time.monotonic() < deadline, "sh did not exec sleep"
        time.sleep(0.005)


def cgroup_lines(pid: int) -> dict[str, str]:
    with open(f"/proc/{pid}/cgroup") as f:
        return {controllers: path for _, controllers, path in (line.rstrip("\n").split(":", 2) for line in f)}


def test_detect_sees_v1_and_the_hybrid_unified_mount() -> None:
    assert detect() == 1
    if "unified" in MOUNTS:
        assert detect(MOUNTS["unified"][0]) == 2


def test_create_makes_the_directory_in_every_hierarchy(manager: V1Manager, cgroup_path: str) -> None:
    assert set(manager.dirs) == set(MOUNTS)
    assert manager.path == cgroup_path
    for name, (point, _) in MOUNTS.items():
        assert manager.dirs[name] == point + cgroup_path
        assert os.path.isdir(manager.dirs[name])
    cpuset = manager.dirs["cpuset"]  # a new cpuset cgroup is empty; create() copies the parent's
    assert read(cpuset, "cpuset.cpus") == read(os.path.dirname(cpuset), "cpuset.cpus")
    assert read(cpuset, "cpuset.mems") == read(os.path.dirname(cpuset), "cpuset.mems")
    manager.create()  # idempotent
    assert manager.exists()


def test_cpuset_copied_into_every_new_level(cgroup_path: str) -> None:
    m = manager_for(cgroup_path + "/a/b", "test")
    m.create()
    for level in (cgroup_path, cgroup_path + "/a", cgroup_path + "/a/b"):
        assert read(MOUNTS["cpuset"][0] + level, "cpuset.cpus") == read(MOUNTS["cpuset"][0], "cpuset.cpus")
    m.destroy()
    assert not os.path.exists(m.dirs["cpuset"])
    assert os.path.isdir(MOUNTS["cpuset"][0] + cgroup_path + "/a")  # only the container's cgroup goes


def test_memory_limits(manager: V1Manager) -> None:
    manager.apply(
        {
            "memory": {
                "limit": 64 * MiB,
                "reservation": 32 * MiB,
                "swap": 128 * MiB,
                "kernelTCP": 16 * MiB,
                "swappiness": 10,
                "disableOOMKiller": True,
            }
        }
    )
    d = manager.dirs["memory"]
    assert read(d, "memory.limit_in_bytes") == str(64 * MiB)
    assert read(d, "memory.soft_limit_in_bytes") == str(32 * MiB)
    assert read(d, "memory.memsw.limit_in_bytes") == str(128 * MiB)
    assert read(d, "memory.kmem.tcp.limit_in_bytes") == str(16 * MiB)
    assert read(d, "memory.swappiness") == "10"
    assert "oom_kill_disable 1" in read(d, "memory.oom_control")


def test_memory_and_swap_written_in_the_order_the_kernel_accepts(manager: V1Manager) -> None:
    d = manager.dirs["memory"]
    for limit, swap in ((64, 128), (256, 512), (32, 32), (512, 1024)):  # raise, lower, raise again
        manager.apply({"memory": {"limit": limit * MiB, "swap": swap * MiB}})
        assert (read(d, "memory.limit_in_bytes"), read(d, "memory.memsw.limit_in_bytes")) == (
            str(limit * MiB),
            str(swap * MiB),
        )
    # Why the order matters: memsw below the memory limit is refused.
    with pytest.raises(OSError) as e, open(os.path.join(d, "memory.memsw.limit_in_bytes"), "w") as f:
        f.write(str(64 * MiB))
    assert e.value.errno == errno.EINVAL
    manager.apply({"memory": {"limit": -1}})  # unlimited memory takes swap along
    assert int(read(d, "memory.limit_in_bytes")) > 2**62
    assert int(read(d, "memory.memsw.limit_in_bytes")) > 2**62


def test_cpu_and_cpuset(manager: V1Manager) -> None:
    manager.apply(
        {
            "cpu": {
                "shares": 512,
                "quota": 50000,
                "period": 100000,
                "burst": 1000,
                "realtimePeriod": 1000000,
                "realtimeRuntime": 10000,
                "cpus": "0",
                "mems": "0",
            }
        }
    )
    cpu, cpuset = manager.dirs["cpu"], manager.dirs["cpuset"]
    assert read(cpu, "cpu.shares") == "512"
    assert read(cpu, "cpu.cfs_quota_us") == "50000"
    assert read(cpu, "cpu.cfs_period_us") == "100000"
    assert read(cpu, "cpu.cfs_burst_us") == "1000"
    assert read(cpu, "cpu.rt_period_us") == "1000000"
    assert read(cpu, "cpu.rt_runtime_us") == "10000"
    assert read(cpuset, "cpuset.cpus") == "0"
    assert read(cpuset, "cpuset.mems") == "0"
    manager.apply({"cpu": {"period": 50000, "quota": -1}})
    assert (read(cpu, "cpu.cfs_period_us"), read(cpu, "cpu.cfs_quota_us")) == ("50000", "-1")
    with pytest.raises(CgroupError, match="minimum allowed cpu-shares is 2"):
        manager.apply({"cpu": {"shares": 1}})


def test_pids_limit(manager: V1Manager) -> None:
    d = manager.dirs["pids"]
    manager.apply({"pids": {"limit": 10}})
    assert read(d, "pids.max") == "10"
    manager.apply({"pids": {"limit": -1}})
    assert read(d, "pids.max") == "max"
    manager.apply({"pids": {"limit": 10}})
    manager.apply({"pids": {"limit": 0}})
    assert read(d, "pids.max") == "max"


def block_device() -> tuple[int, int]:
    for name in sorted(os.listdir("/sys/block")):
        if not name.startswith(("loop", "ram", "zram")):
            major, minor = read(f"/sys/block/{name}", "dev").split(":")
            return int(major), int(minor)
    pytest.skip("no block device to throttle")


def test_blkio_weight_and_throttle(manager: V1Manager) -> None:
    major, minor = block_device()
    manager.apply(
        {
            "blockIO": {
                "weight": 200,
                "throttleReadBpsDevice": [{"major": major, "minor": minor, "rate": MiB}],
                "throttleWriteIOPSDevice": [{"major": major, "minor": minor, "rate": 300}],
            }
        }
    )
    d = manager.dirs["blkio"]
    weight_file = "blkio.weight" if os.path.exists(os.path.join(d, "blkio.weight")) else "blkio.bfq.weight"
    assert read(d, weight_file) == "200"
    assert read(d, "blkio.throttle.read_bps_device") == f"{major}:{minor} {MiB}"
    assert read(d, "blkio.throttle.write_iops_device") == f"{major}:{minor} 300"


def test_device_rules_start_from_deny_all_in_config_order(manager: V1Manager) -> None:
    d = manager.dirs["devices"]
    assert read(d, "devices.list") == "a *:* rwm"
    manager.apply(
        {
            "devices": [
                {"allow": False, "access": "rwm"},
                {"allow": True, "type": "c", "major": 1, "minor": 3, "access": "rwm"},
                {"allow": True, "type": "c", "access": "m"},
                {"allow": False, "type": "c", "major": 1, "minor": 3, "access": "w"},
            ]
        }
    )
    assert sorted(read(d, "devices.list").splitlines()) == ["c *:* m", "c 1:3 rm"]
    # Order is the config's: a later deny-all wins over an earlier allow.
    manager.apply({"devices": [{"allow": True, "type": "c", "major": 1, "minor": 5, "access": "rwm"}]})
    assert read(d, "devices.list") == "c 1:5 rwm"
    with pytest.raises(CgroupError, match="access"):
        manager.apply({"devices": [{"allow": True, "type": "c", "access": "x"}]})


def test_process_lifecycle(manager: V1Manager, cgroup_path: str, spawn: Callable) -> None:
    proc = spawn()
    manager.add_task(proc.pid)
    go(proc)
    lines = cgroup_lines(proc.pid)
    for name in manager.dirs:
        assert lines["" if name == "unified" else name] == cgroup_path
    assert manager.pids() == [proc.pid]

    manager.freeze()
    assert manager.state() == "frozen"
    assert read(manager.dirs["freezer"], "freezer.state") == "FROZEN"
    manager.thaw()
    assert manager.state() == "thawed"

    stats = manager.stats()
    assert stats["memory"]["usage"]["usage"] > 0
    assert stats["memory"]["raw"]["total_rss"] >= 0
    assert stats["pids"] == {"current": 1, "limit": 0}
    assert stats["cpu"]["usage"]["total"] > 0
    assert len(stats["cpu"]["usage"]["percpu"]) == os.cpu_count()
    assert set(stats) == {"cpu", "memory", "pids", "blkio", "hugetlb"}

    manager.kill_all(signal.SIGKILL)
    assert proc.wait(5) == -signal.SIGKILL
    manager.destroy()
    assert not manager.exists()
    for point, _ in MOUNTS.values():
        assert not os.path.exists(point + cgroup_path)
    manager.destroy()  # a missing cgroup is fine


def test_kill_all_reaches_a_paused_container(manager: V1Manager, spawn: Callable) -> None:
    proc = spawn()
    manager.add_task(proc.pid)
    manager.freeze()
    manager.kill_all(signal.SIGTERM)  # delivered on thaw: the cgroup stays paused
    assert manager.state() == "frozen"
    assert proc.poll() is None
    manager.thaw()
    assert proc.wait(5) == -signal.SIGTERM
    proc = spawn()
    manager.add_task(proc.pid)
    manager.freeze()
    manager.kill_all(signal.SIGKILL)  # a frozen task dies only once thawed, so KILL thaws
    assert proc.wait(5) == -signal.SIGKILL
    assert manager.state() == "thawed"


def test_destroy_with_a_live_process_fails_and_names_it(manager: V1Manager, spawn: Callable) -> None:
    proc = spawn()
    manager.add_task(proc.pid)
    with pytest.raises(CgroupError, match=f"processes left: {proc.pid}"):
        manager.destroy()
    manager.kill_all(signal.SIGKILL)
    manager.destroy()
    assert not manager.exists()


def test_relative_path_is_below_our_own_cgroup_in_each_hierarchy(spawn: Callable) -> None:
    rel = f"jocker-test-{uuid.uuid4().hex[:12]}/c"
    own = {frozenset(k.split(",")): v for k, v in own_cgroups().items() if k}
    m = manager_for(rel, "test")
    try:
        m.create()
        for name, (point, _) in MOUNTS.items():
            if name != "unified":
                assert m.dirs[name] == point + own[frozenset(name.split(","))].rstrip("/") + "/" + rel
        proc = spawn()
        m.add_task(proc.pid)
        lines = cgroup_lines(proc.pid)
        for name in m.dirs:
            if name != "unified":
                assert lines[name] == own[frozenset(name.split(","))].rstrip("/") + "/" + rel
        m.kill_all(signal.SIGKILL)
        proc.wait(5)
        m.destroy()
        assert not m.exists()
    finally:
        for d in m.dirs.values():
            force_remove(d)
            force_remove(os.path.dirname(d))


def test_default_path_is_the_container_id_relative_to_our_cgroup() -> None:
    default, explicit = manager_for(None, "abc123"), manager_for("abc123", "other")
    assert default.dirs == explicit.dirs
    assert manager_for("", "abc123").dirs == default.dirs


def test_manager_from_saved_dirs(manager: V1Manager, spawn: Callable) -> None:
    proc = spawn()
    manager.add_task(proc.pid)
    again = manager_from_dirs(manager.path, manager.dirs)
    assert (again.version, again.path, again.dirs) == (1, manager.path, manager.dirs)
    assert again.pids() == [proc.pid]
    again.kill_all(signal.SIGKILL)
    proc.wait(5)
    again.destroy()
    assert not manager.exists()


@pytest.mark.parametrize("path", ["/../etc", "a/../../b", "..", "/", "./"])
def test_paths_that_escape_or_name_the_parent_are_refused(path: str) -> None:
    with pytest.raises(CgroupError, match="invalid cgroupsPath"):
        manager_for(path, "test")


def test_dotdot_inside_the_path_is_normalised() -> None:
    assert manager_for("/a/../b/./c", "test").path == "/b/c"


@pytest.mark.parametrize(
    ("resources", "message"),
    [
        ({"hugepageLimits": [{"pageSize": "3MB", "limit": 1}]}, "hugepage size '3MB' is not supported"),
        ({"unified": {"memory.high": "1"}}, "needs cgroup v2"),
        ({"memory": {"swappiness": 101}}, "swappiness 101"),
        ({"memory": {"limit": 64 * MiB, "swap": 32 * MiB}}, "should be >= memory limit"),
        ({"blockIO": {"leafWeight": 10}}, "blockIO.leafWeight is not supported by this kernel"),
    ],
)
def test_what_the_host_cannot_do_is_an_error(manager: V1Manager, resources: dict, message: str) -> None:
    with pytest.raises(CgroupError, match=message):
        manager.apply(resources)


def test_controllers_the_host_lacks_are_errors_only_when_asked_for(manager: V1Manager) -> None:
    manager.apply({"network": {}, "hugepageLimits": [], "rdma": {}, "memory": {"swappiness": -1}})
    if "net_cls" not in manager._dir_of:
        with pytest.raises(CgroupError, match="net_cls controller, which is not mounted"):
            manager.apply({"network": {"classID": 1048577}})
    sizes = hugepage_sizes()
    if "hugetlb" not in manager._dir_of and sizes:
        with pytest.raises(CgroupError, match="hugetlb controller, which is not mounted"):
            manager.apply({"hugepageLimits": [{"pageSize": sizes[0], "limit": 2 * MiB}]})
