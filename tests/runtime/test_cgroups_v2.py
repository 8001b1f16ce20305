"""The cgroup v2 manager, through the same interface as v1.

Two ways: against a fake unified tree in tmp_path (the files a v2 hierarchy exposes, with the
kernel's subtree_control → child cgroup.controllers rule emulated) for the translations, which
needs no root; and against a real cgroup2 mount made in the test for create/add_task/pids/
freeze/kill/destroy. On a hybrid host that mount has (almost) no controllers, since they are
bound to v1, but cgroup.procs, cgroup.freeze, cgroup.kill and cpu.stat work without them.
"""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from jockerd.runtime.cgroups import (
    CgroupError,
    detect,
    manager_for,
    manager_from_dirs,
    own_cgroups,
    write_file,
)
from jockerd.runtime.cgroups.stats import UNLIMITED
from jockerd.runtime.cgroups.v2 import V2Manager, cpu_weight, io_weight

MiB = 1 << 20
CONTROLLERS = ["cpuset", "cpu", "io", "memory", "hugetlb", "pids", "rdma", "misc"]
LEAF_FILES = {
    "cgroup.procs": "",
    "cgroup.freeze": "0\n",
    "cgroup.events": "populated 0\nfrozen 0\n",
    "cgroup.kill": "",
    "cgroup.type": "domain\n",
    "cpu.weight": "100\n",
    "cpu.max": "max 100000\n",
    "cpu.max.burst": "0\n",
    "cpu.idle": "0\n",
    "cpu.stat": "usage_usec 0\nuser_usec 0\nsystem_usec 0\n",
    "memory.max": "max\n",
    "memory.low": "0\n",
    "memory.high": "max\n",
    "memory.swap.max": "max\n",
    "memory.current": "0\n",
    "pids.max": "max\n",
    "pids.current": "0\n",
    "io.weight": "default 100\n",
    "io.max": "",
    "cpuset.cpus": "",
    "cpuset.mems": "",
    "hugetlb.2MB.max": "max\n",
    "hugetlb.2MB.rsvd.max": "max\n",
    "rdma.max": "",
}


# -- a fake unified hierarchy ---------------------------------------------------------------------


def make_tree(root: Path, path: str = "/jocker/c1", offered: list[str] = CONTROLLERS) -> Path:
    """The files of a unified hierarchy: root, intermediate levels, the leaf with controller files."""
    levels = [root]
    for part in path.strip("/").split("/"):
        levels.append(levels[-1] / part)
    for level in levels:
        level.mkdir(exist_ok=True)
        (level / "cgroup.subtree_control").write_text("")
        (level / "cgroup.procs").write_text("")
        (level / "cgroup.controllers").write_text(" ".join(offered) + "\n" if level == root else "")
    for name, text in LEAF_FILES.items():
        (levels[-1] / name).write_text(text)
    return levels[-1]


class FakeKernel:
    """Records writes; "+ctl" written to a subtree_control appears in the children's cgroup.controllers."""

    def __init__(self, manager: V2Manager, root: Path) -> None:
        self.root = root
        self.writes: list[tuple[str, str, str]] = []
        manager._write = self.write  # type: ignore[method-assign]

    def write(self, directory: str, name: str, value: str) -> None:
        self.writes.append((os.path.relpath(directory, self.root), name, value))
        write_file(directory, name, value)
        if name == "cgroup.subtree_control":
            enabled = {v[1:] for v in value.split() if v.startswith("+")}
            for child in Path(directory).iterdir():
                if child.is_dir():
                    have = set((child / "cgroup.controllers").read_text().split())
                    (child / "cgroup.controllers").write_text(" ".join(sorted(have | enabled)))

    def files(self, name: str) -> list[str]:
        return [value for _, n, value in self.writes if n == name]


@pytest.fixture
def fake(tmp_path: Path) -> tuple[V2Manager, FakeKernel, Path]:
    leaf = make_tree(tmp_path)
    manager = manager_for("/jocker/c1", "c1", root=tmp_path, version=2)
    assert isinstance(manager, V2Manager)
    kernel = FakeKernel(manager, tmp_path)
    manager.create()
    return manager, kernel, leaf


def test_detect_a_plain_directory_is_not_cgroup2(tmp_path: Path) -> None:
    assert detect(tmp_path) == 1


def test_create_enables_every_offered_controller_from_the_root_down(
    fake: tuple[V2Manager, FakeKernel, Path],
) -> None:
    manager, kernel, leaf = fake
    everything = " ".join("+" + c for c in sorted(CONTROLLERS))
    assert kernel.writes == [
        (".", "cgroup.subtree_control", everything),
        ("jocker", "cgroup.subtree_control", everything),
    ]
    assert (manager.version, manager.path, manager.dirs) == (2, "/jocker/c1", {"": str(leaf)})
    assert set((leaf / "cgroup.controllers").read_text().split()) == set(CONTROLLERS)


def test_create_makes_missing_levels(tmp_path: Path) -> None:
    (tmp_path / "cgroup.controllers").write_text("")
    manager = manager_for("/a/b/c", "c", root=tmp_path, version=2)
    manager.create()
    assert (tmp_path / "a" / "b" / "c").is_dir()
    manager.create()


def test_v1_resources_are_translated_as_runc_does(fake: tuple[V2Manager, FakeKernel, Path]) -> None:
    manager, kernel, leaf = fake
    kernel.writes.clear()
    manager.apply(
        {
            "cpu": {
                "shares": 1024,
                "quota": 50000,
                "period": 100000,
                "burst": 1000,
                "cpus": "0-1",
                "mems": "0",
            },
            "memory": {"limit": 64 * MiB, "swap": 128 * MiB, "reservation": 32 * MiB},
            "pids": {"limit": 10},
            "blockIO": {
                "weight": 500,
                "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": MiB}],
                "throttleWriteIOPSDevice": [{"major": 8, "minor": 16, "rate": 300}],
            },
            "hugepageLimits": [{"pageSize": "2MB", "limit": 4 * 2 * MiB}],
            "rdma": {"mlx5_1": {"hcaHandles": 3, "hcaObjects": 10000}},
            "unified": {"memory.high": "50000000"},
        }
    )
    read = {name: (leaf / name).read_text() for name in LEAF_FILES}
    assert read["cpu.weight"] == "39" == str(cpu_weight(1024))
    assert read["cpu.max"] == "50000 100000"
    assert read["cpu.max.burst"] == "1000"
    assert (read["cpuset.cpus"], read["cpuset.mems"]) == ("0-1", "0")
    assert read["memory.max"] == str(64 * MiB)
    assert read["memory.swap.max"] == str(64 * MiB)  # v2 swap excludes memory: 128M - 64M
    assert read["memory.low"] == str(32 * MiB)
    assert read["memory.high"] == "50000000"
    assert read["pids.max"] == "10"
    assert read["io.weight"] == "4950" == str(io_weight(500))
    assert kernel.files("io.max") == ["8:0 rbps=1048576", "8:16 wiops=300"]
    assert read["hugetlb.2MB.max"] == read["hugetlb.2MB.rsvd.max"] == str(8 * MiB)
    assert read["rdma.max"] == "mlx5_1 hca_handle=3 hca_object=10000"
    assert not kernel.files("cgroup.subtree_control")  # already enabled by create()
    assert manager.notes == []


@pytest.mark.parametrize(("shares", "weight"), [(2, 1), (1024, 39), (262144, 10000)])
def test_cpu_weight_formula(shares: int, weight: int) -> None:
    assert cpu_weight(shares) == weight


@pytest.mark.parametrize(("blkio", "io"), [(10, 1), (500, 4950), (1000, 10000)])
def test_io_weight_formula(blkio: int, io: int) -> None:
    assert io_weight(blkio) == io


@pytest.mark.parametrize(
    ("resources", "name", "value"),
    [
        ({"pids": {"limit": -1}}, "pids.max", "max"),
        ({"pids": {"limit": 0}}, "pids.max", "max"),
        ({"cpu": {"quota": -1}}, "cpu.max", "max 100000"),
        ({"cpu": {"period": 50000}}, "cpu.max", "max 50000"),
        ({"memory": {"limit": -1}}, "memory.max", "max"),
        ({"memory": {"limit": -1}}, "memory.swap.max", "max"),
        ({"memory": {"limit": 64 * MiB, "swap": 64 * MiB}}, "memory.swap.max", "0"),
        ({"memory": {"limit": 64 * MiB, "swap": -1}}, "memory.swap.max", "max"),
        ({"cpu": {"idle": 1, "shares": 1024}}, "cpu.idle", "1"),
        ({"cpu": {"idle": 1, "shares": 1024}}, "cpu.weight", "100\n"),  # untouched: idle has no weight
    ],
)
def test_unlimited_and_special_values(
    fake: tuple[V2Manager, FakeKernel, Path], resources: dict, name: str, value: str
) -> None:
    manager, _, leaf = fake
    manager.apply(resources)
    assert (leaf / name).read_text() == value


def test_bfq_weight_is_preferred_and_takes_the_blkio_value(fake: tuple[V2Manager, FakeKernel, Path]) -> None:
    manager, kernel, leaf = fake
    (leaf / "io.bfq.weight").write_text("default 100\n")
    manager.apply({"blockIO": {"weight": 500, "weightDevice": [{"major": 8, "minor": 0, "weight": 300}]}})
    assert kernel.files("io.bfq.weight") == ["500", "8:0 300"]
    assert (leaf / "io.weight").read_text() == "default 100\n"


def test_missing_controllers_are_enabled_from_the_root_down(tmp_path: Path) -> None:
    leaf = make_tree(tmp_path)
    manager = manager_for("/jocker/c1", "c1", root=tmp_path, version=2)
    kernel = FakeKernel(manager, tmp_path)  # no create(): nothing enabled yet
    manager.apply({"pids": {"limit": 5}, "unified": {"memory.high": "1000000"}})
    assert [w for w in kernel.writes if w[1] == "cgroup.subtree_control"] == [
        (".", "cgroup.subtree_control", "+memory"),
        (".", "cgroup.subtree_control", "+pids"),
        ("jocker", "cgroup.subtree_control", "+memory"),
        ("jocker", "cgroup.subtree_control", "+pids"),
    ]
    assert (leaf / "pids.max").read_text() == "5"


def test_a_controller_the_host_lacks_is_an_error_before_any_write(tmp_path: Path) -> None:
    make_tree(tmp_path, offered=["cpu", "memory", "pids"])
    manager = manager_for("/jocker/c1", "c1", root=tmp_path, version=2)
    kernel = FakeKernel(manager, tmp_path)
    manager.create()
    kernel.writes.clear()
    with pytest.raises(CgroupError, match=r"controller hugetlb not available on this host"):
        manager.apply({"pids": {"limit": 5}, "hugepageLimits": [{"pageSize": "2MB", "limit": 1}]})
    with pytest.raises(CgroupError, match=r"controller io not available"):
        manager.apply({"unified": {"io.max": "8:0 rbps=1"}})
    assert kernel.writes == []


@pytest.mark.parametrize(
    ("resources", "message"),
    [
        ({"memory": {"swappiness": 60}}, "swappiness has no cgroup v2 equivalent"),
        ({"memory": {"disableOOMKiller": True}}, "disableOOMKiller"),
        ({"memory": {"kernelTCP": MiB}}, "kernelTCP"),
        ({"cpu": {"realtimeRuntime": 1000}}, "realtime"),
        ({"blockIO": {"leafWeight": 10}}, "leafWeight"),
        ({"memory": {"swap": 64 * MiB}}, "unable to set swap limit without memory limit"),
        ({"memory": {"limit": 64 * MiB, "swap": 32 * MiB}}, "should be >= memory limit"),
        ({"hugepageLimits": [{"pageSize": "3MB", "limit": 1}]}, "hugepage size '3MB' is not supported"),
        ({"unified": {"../cpu.max": "1"}}, "no slashes"),
        ({"unified": {"nodot": "1"}}, "CONTROLLER.PARAMETER"),
        ({"unified": {"memory.nonexistent": "1"}}, "unable to set unified resource 'memory.nonexistent'"),
    ],
)
def test_what_v2_cannot_do_is_an_error(
    fake: tuple[V2Manager, FakeKernel, Path], resources: dict, message: str
) -> None:
    manager, _, _ = fake
    with pytest.raises(CgroupError, match=message):
        manager.apply(resources)


def test_defaults_are_not_errors(fake: tuple[V2Manager, FakeKernel, Path]) -> None:
    manager, kernel, _ = fake
    kernel.writes.clear()
    manager.apply({"memory": {"swappiness": -1, "disableOOMKiller": False, "kernelTCP": -1}, "devices": []})
    manager.apply({})
    assert kernel.writes == []


def test_device_rules_are_skipped_with_a_note(fake: tuple[V2Manager, FakeKernel, Path]) -> None:
    manager, kernel, _ = fake
    kernel.writes.clear()
    manager.apply({"devices": [{"allow": False, "access": "rwm"}]})
    assert kernel.writes == []
    assert manager.notes == ["linux.resources.devices not enforced: cgroup v2 needs an eBPF device filter"]


def test_check_before_update_refuses_a_limit_below_usage(fake: tuple[V2Manager, FakeKernel, Path]) -> None:
    manager, _, leaf = fake
    (leaf / "memory.current").write_text(str(100 * MiB))
    with pytest.raises(CgroupError, match="below the current usage"):
        manager.apply({"memory": {"limit": 64 * MiB, "checkBeforeUpdate": True}})
    manager.apply({"memory": {"limit": 64 * MiB}})  # without the check the kernel decides (OOM)


def test_stats_from_the_v2_files(fake: tuple[V2Manager, FakeKernel, Path]) -> None:
    manager, _, leaf = fake
    (leaf / "cpu.stat").write_text(
        "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 7\nnr_throttled 2\nthrottled_usec 30\n"
    )
    (leaf / "memory.current").write_text("4096\n")
    (leaf / "memory.max").write_text(f"{64 * MiB}\n")
    (leaf / "memory.swap.current").write_text("1024\n")
    (leaf / "memory.swap.max").write_text("max\n")
    (leaf / "memory.stat").write_text("anon 2048\nfile 1024\n")
    (leaf / "memory.events").write_text("low 0\nhigh 0\nmax 3\noom 0\noom_kill 0\n")
    (leaf / "pids.current").write_text("2\n")
    (leaf / "io.stat").write_text("8:0 rbytes=10 wbytes=20 rios=1 wios=2 dbytes=0 dios=0\n")
    (leaf / "hugetlb.2MB.current").write_text("0\n")
    (leaf / "hugetlb.2MB.events").write_text("max 1\n")
    stats = manager.stats()
    assert stats["cpu"] == {
        "usage": {
            "total": 1500000,
            "percpu": [],
            "percpu_kernel": [],
            "percpu_user": [],
            "kernel": 500000,
            "user": 1000000,
        },
        "throttling": {"periods": 7, "throttledPeriods": 2, "throttledTime": 30000},
    }
    assert stats["memory"]["usage"] == {"limit": 64 * MiB, "usage": 4096, "max": 0, "failcnt": 3}
    assert stats["memory"]["swap"] == {"limit": UNLIMITED, "usage": 4096 + 1024, "max": 0, "failcnt": 0}
    assert (stats["memory"]["cache"], stats["memory"]["raw"]) == (1024, {"anon": 2048, "file": 1024})
    assert stats["pids"] == {"current": 2, "limit": 0}
    assert stats["blkio"]["ioServiceBytesRecursive"] == [
        {"major": 8, "minor": 0, "op": "Read", "value": 10},
        {"major": 8, "minor": 0, "op": "Write", "value": 20},
    ]
    assert stats["blkio"]["ioServicedRecursive"][1] == {"major": 8, "minor": 0, "op": "Write", "value": 2}
    assert stats["hugetlb"] == {"2MB": {"usage": 0, "max": 0, "failcnt": 1}}


def test_relative_path_is_below_the_parent_of_our_cgroup(tmp_path: Path) -> None:
    parent = os.path.dirname(own_cgroups().get("", "/")).rstrip("/")
    manager = manager_for("a/b", "id", root=tmp_path, version=2)
    assert manager.path == parent + "/a/b"
    assert manager.dirs == {"": str(tmp_path) + parent + "/a/b"}
    assert manager_for(None, "abc", root=tmp_path, version=2).path == parent + "/abc"


def test_escaping_paths_are_refused(tmp_path: Path) -> None:
    with pytest.raises(CgroupError, match="escapes"):
        manager_for("/a/../../b", "id", root=tmp_path, version=2)


def test_manager_from_saved_dirs(fake: tuple[V2Manager, FakeKernel, Path]) -> None:
    manager, _, _ = fake
    again = manager_from_dirs(manager.path, manager.dirs)
    assert isinstance(again, V2Manager)
    assert (again.path, again.dir, again.root) == (manager.path, manager.dir, manager.root)


# -- a real cgroup2 mount -------------------------------------------------------------------------


@pytest.fixture
def cgroup2(tmp_path: Path) -> Iterator[Path]:
    """A fresh cgroup2 mount; the controllers create() enables at its root are disabled again."""
    mnt = tmp_path / "cgroup2"
    mnt.mkdir()
    mounted = subprocess.run(["mount", "-t", "cgroup2", "none", str(mnt)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount cgroup2: {mounted.stderr.decode().strip()}")
    before = set((mnt / "cgroup.subtree_control").read_text().split())
    try:
        yield mnt
    finally:
        for leftover in mnt.glob("jocker-test-*"):
            kill_and_remove(leftover)
        for controller in set((mnt / "cgroup.subtree_control").read_text().split()) - before:
            (mnt / "cgroup.subtree_control").write_text("-" + controller)
        subprocess.run(["umount", str(mnt)], check=True)


def kill_and_remove(directory: Path) -> None:
    for child in directory.iterdir():
        if child.is_dir():
            kill_and_remove(child)
    if (directory / "cgroup.kill").exists():
        (directory / "cgroup.kill").write_text("1")
    for _ in range(200):
        try:
            directory.rmdir()
            return
        except OSError as e:
            if e.errno != errno.EBUSY:
                raise
            time.sleep(0.01)


@pytest.fixture
def sleeper() -> Iterator[Callable[[], subprocess.Popen[bytes]]]:
    procs: list[subprocess.Popen[bytes]] = []

    def start() -> subprocess.Popen[bytes]:
        procs.append(subprocess.Popen(["sleep", "30"]))
        return procs[-1]

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait(5)


def cgroup_v2_line(pid: int) -> str:
    with open(f"/proc/{pid}/cgroup") as f:
        return next(line.rstrip("\n")[3:] for line in f if line.startswith("0::"))


@pytest.mark.root
def test_real_mount_lifecycle(cgroup2: Path, sleeper: Callable) -> None:
    assert detect(cgroup2) == 2
    path = f"/jocker-test-{uuid.uuid4().hex[:12]}/c"
    manager = manager_for(path, "c", root=cgroup2)
    assert isinstance(manager, V2Manager)
    manager.create()
    assert manager.exists()
    first, second = sleeper(), sleeper()
    manager.add_task(first.pid)
    manager.add_task(second.pid)
    assert cgroup_v2_line(first.pid) == path  # the same hierarchy as the host's unified mount
    assert sorted(manager.pids()) == sorted([first.pid, second.pid])

    manager.freeze()
    assert manager.state() == "frozen"
    assert "frozen 1" in (cgroup2 / path.lstrip("/") / "cgroup.events").read_text()
    manager.thaw()
    assert manager.state() == "thawed"

    stats = manager.stats()
    assert stats["cpu"]["usage"]["total"] >= 0
    assert set(stats) == {"cpu", "memory", "pids", "blkio", "hugetlb"}

    manager.kill_all(signal.SIGKILL)  # cgroup.kill
    assert first.wait(5) == second.wait(5) == -signal.SIGKILL
    manager.destroy()
    assert not manager.exists()
    manager.destroy()
    os.rmdir(os.path.dirname(manager.dir))


@pytest.mark.root
def test_real_mount_kill_with_another_signal_freezes_around_it(cgroup2: Path, sleeper: Callable) -> None:
    manager = manager_for(f"/jocker-test-{uuid.uuid4().hex[:12]}", "c", root=cgroup2)
    manager.create()
    proc = sleeper()
    manager.add_task(proc.pid)
    manager.kill_all(signal.SIGTERM)
    assert proc.wait(5) == -signal.SIGTERM
    assert manager.state() == "thawed"
    manager.destroy()
    assert not manager.exists()


@pytest.mark.root
def test_real_mount_controllers(cgroup2: Path) -> None:
    manager = manager_for(f"/jocker-test-{uuid.uuid4().hex[:12]}", "c", root=cgroup2)
    manager.create()
    offered = set((cgroup2 / "cgroup.controllers").read_text().split())
    if "pids" not in offered:  # hybrid host: pids is bound to its v1 hierarchy
        with pytest.raises(CgroupError, match="controller pids not available on this host"):
            manager.apply({"pids": {"limit": 5}})
    else:
        manager.apply({"pids": {"limit": 5}})
        assert (Path(manager.dir) / "pids.max").read_text().strip() == "5"
    if "hugetlb" in offered and os.path.isdir("/sys/kernel/mm/hugepages/hugepages-2048kB"):
        manager.apply({"hugepageLimits": [{"pageSize": "2MB", "limit": 4 * 2 * MiB}]})
        assert (Path(manager.dir) / "hugetlb.2MB.max").read_text().strip() == str(8 * MiB)
        with pytest.raises(CgroupError, match="hugepage size '3MB' is not supported"):
            manager.apply({"hugepageLimits": [{"pageSize": "3MB", "limit": 1}]})
    manager.apply({"unified": {"cgroup.max.descendants": "3"}})
    assert (Path(manager.dir) / "cgroup.max.descendants").read_text().strip() == "3"
    manager.destroy()


@pytest.mark.root
def test_real_mount_relative_path(cgroup2: Path, sleeper: Callable) -> None:
    rel = f"jocker-test-{uuid.uuid4().hex[:12]}"
    manager = manager_for(rel, "c", root=cgroup2)
    parent = os.path.dirname(own_cgroups().get("", "/")).rstrip("/")
    assert manager.path == f"{parent}/{rel}"
    if parent:
        pytest.skip("our cgroup2 cgroup is not the root: its parent is not ours to populate")
    manager.create()
    proc = sleeper()
    manager.add_task(proc.pid)
    assert cgroup_v2_line(proc.pid) == f"/{rel}"
    manager.kill_all(signal.SIGKILL)
    proc.wait(5)
    manager.destroy()
    assert not manager.exists()
