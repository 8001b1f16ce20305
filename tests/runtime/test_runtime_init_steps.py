"""The init process's step sequence, replayed against RecordingSyscalls (no root needed).

A representative spec (runc's default: proc, /dev tmpfs, devpts, shm, mqueue, ro sysfs, ro cgroup,
masked and readonly paths, rlimits, capabilities, a non-root user, no_new_privs) goes through
`init_process.INIT_STEPS`; the recorded calls must come in the order the spec and the kernel
require.
"""

from __future__ import annotations

import os

import pytest

from jockerd.runtime import init_process, rootfs
from jockerd.runtime.capabilities import CAPABILITY_NUMBERS
from jockerd.runtime.errors import ContainerError
from jockerd.runtime.init_process import INIT_STEPS, ProcessContext, run_steps
from jockerd.runtime.linux import constants as C
from jockerd.runtime.linux.syscalls import RecordingSyscalls
from jockerd.runtime.spec import default

ROOTFS = "/bundle/rootfs"
CGROUP_FILES = {
    "/proc/self/cgroup": "2:memory:/jrt\n1:cpu,cpuacct:/jrt\n0::/jrt\n",
    "/proc/self/mountinfo": (
        "30 20 0:26 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755\n"
        "31 30 0:27 / /sys/fs/cgroup/memory rw,nosuid - cgroup cgroup rw,memory\n"
        "32 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid - cgroup cgroup rw,cpu,cpuacct\n"
        "33 30 0:29 / /sys/fs/cgroup/unified rw,nosuid - cgroup2 cgroup2 rw\n"
    ),
    "/proc/sys/kernel/cap_last_cap": "40\n",
}


class FakeChannel:
    def __init__(self, replies: list[str] | None = None) -> None:
        self.sent: list[str] = []
        self.replies = list(replies or [])
        self.closed = False

    def send(self, type: str, **fields: object) -> None:
        self.sent.append(type)

    def expect(self, *types: str, peer: str = "") -> dict:
        reply = self.replies.pop(0)
        assert reply in types
        return {"type": reply}

    def close(self) -> None:
        self.closed = True


def spec_for_test() -> dict:
    spec = default()
    spec["process"].update(
        terminal=False,
        args=["sh", "-c", "true"],
        user={"uid": 1000, "gid": 1000, "additionalGids": [10, 20], "umask": 0o077},
        cwd="/home",
        oomScoreAdj=100,
    )
    spec["linux"]["sysctl"] = {"net.ipv4.ip_forward": "1"}
    spec["linux"]["devices"] = [
        {"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 0o600}
    ]
    spec["domainname"] = "example.org"
    return spec


def make_ctx(
    spec: dict, *, userns: bool = False, no_pivot: bool = False
) -> tuple[ProcessContext, RecordingSyscalls]:
    sys = RecordingSyscalls(
        tree={
            f"{ROOTFS}/bin/sh": "file",
            f"{ROOTFS}/home": "dir",
            f"{ROOTFS}/proc/kcore": "file",
            f"{ROOTFS}/proc/keys": "file",
            f"{ROOTFS}/proc/acpi": "dir",
            f"{ROOTFS}/proc/sys": "dir",
            f"{ROOTFS}/proc/bus": "dir",
            f"{ROOTFS}/sys/firmware": "dir",
            "/dev/null": "chr",
            "/sys/fs/cgroup/memory/jrt": "dir",
        },
        files=CGROUP_FILES,
    )
    ctx = ProcessContext(
        spec=spec,
        process=spec["process"],
        container_id="c1",
        bundle="/bundle",
        rootfs=ROOTFS,
        sys=sys,
        channel=FakeChannel(["run"]),  # type: ignore[arg-type]
        state_dir="/run/jocker-runtime/c1",
        no_pivot=no_pivot,
        userns=userns,
    )
    ctx.cgroup_joined = False
    ctx.fifo_fd = 7
    ctx.last_cap = 40
    return ctx, sys


def index(sys: RecordingSyscalls, predicate) -> int:
    for i, call in enumerate(sys.calls):
        if predicate(call):
            return i
    raise AssertionError("no such call")


def mounts(sys: RecordingSyscalls) -> list[tuple]:
    return sys.of("mount")


@pytest.fixture
def recorded() -> tuple[ProcessContext, RecordingSyscalls]:
    ctx, sys = make_ctx(spec_for_test())
    run_steps(ctx, INIT_STEPS)
    return ctx, sys


def test_first_and_last_calls(recorded) -> None:
    ctx, sys = recorded
    names = sys.names()
    assert names[:4] == ["setsid", "cloexec_fds_from", "join_session_keyring", "set_loopback_up"]
    assert sys.calls[1] == ("cloexec_fds_from", 3)
    assert sys.calls[2] == ("join_session_keyring", "_ses.c1")
    assert names[-1] == "execve"
    # runc's rule: HOME from the container's passwd when the spec's env has none ("/" here)
    assert sys.calls[-1] == ("execve", "/bin/sh", ["sh", "-c", "true"], [*ctx.process["env"], "HOME=/"])
    assert names[-2] == "restore_signals"


def test_root_is_made_rslave_then_bound_before_any_spec_mount(recorded) -> None:
    _, sys = recorded
    first, second = mounts(sys)[:2]
    assert first == ("mount", None, "/", None, C.MS_SLAVE | C.MS_REC, None)
    assert second == ("mount", ROOTFS, ROOTFS, None, C.MS_BIND | C.MS_REC, None)


def test_spec_mounts_in_config_order_inside_the_rootfs(recorded) -> None:
    _, sys = recorded
    targets = [call[2] for call in mounts(sys)[2:9]]
    assert targets == [
        f"{ROOTFS}/proc",
        f"{ROOTFS}/dev",
        f"{ROOTFS}/dev/pts",
        f"{ROOTFS}/dev/shm",
        f"{ROOTFS}/dev/mqueue",
        f"{ROOTFS}/sys",
        f"{ROOTFS}/sys/fs/cgroup",
    ]
    dev = mounts(sys)[3]
    assert dev == (
        "mount",
        "tmpfs",
        f"{ROOTFS}/dev",
        "tmpfs",
        C.MS_NOSUID | C.MS_STRICTATIME,
        "mode=755,size=65536k",
    )
    devpts = mounts(sys)[4]
    assert devpts[3] == "devpts" and devpts[5] == "newinstance,ptmxmode=0666,mode=0620,gid=5"
    sysfs = mounts(sys)[7]
    assert sysfs[4] == C.MS_RDONLY | C.MS_NOSUID | C.MS_NOEXEC | C.MS_NODEV
    assert ("mkdir", f"{ROOTFS}/dev/pts", 0o755) in sys.calls


def test_cgroup_v1_hierarchies_mounted_in_the_cgroup_namespace(recorded) -> None:
    _, sys = recorded
    cgroup_mounts = [m for m in mounts(sys) if m[3] in ("cgroup", "cgroup2")]
    assert [(m[2], m[3], m[5]) for m in cgroup_mounts] == [
        (f"{ROOTFS}/sys/fs/cgroup/memory", "cgroup", "memory"),
        (f"{ROOTFS}/sys/fs/cgroup/cpu,cpuacct", "cgroup", "cpu,cpuacct"),
        (f"{ROOTFS}/sys/fs/cgroup/unified", "cgroup2", None),
    ]
    assert ("symlink", "cpu,cpuacct", f"{ROOTFS}/sys/fs/cgroup/cpu") in sys.calls
    # the cgroup namespace is created (after the launcher's `run`) before the first cgroup mount
    unshare = index(sys, lambda c: c == ("unshare", C.CLONE_NEWCGROUP))
    assert unshare < index(sys, lambda c: c[0] == "mount" and c[3] == "cgroup")


def test_devices_and_dev_links_before_pivot_root(recorded) -> None:
    _, sys = recorded
    nodes = {call[1]: call for call in sys.of("mknod")}
    assert set(nodes) == {
        f"{ROOTFS}/dev/{name}" for name in ("null", "zero", "full", "random", "urandom", "tty", "fuse")
    }
    null = nodes[f"{ROOTFS}/dev/null"]
    assert null[2] == 0o020666 and null[3] == os.makedev(1, 3)
    assert nodes[f"{ROOTFS}/dev/fuse"][2] == 0o020600
    assert ("symlink", "pts/ptmx", f"{ROOTFS}/dev/ptmx") in sys.calls
    assert ("symlink", "/proc/self/fd", f"{ROOTFS}/dev/fd") in sys.calls
    pivot = index(sys, lambda c: c[0] == "pivot_root")
    assert all(sys.calls.index(n) < pivot for n in sys.of("mknod"))


def test_pivot_root_detaches_the_old_root(recorded) -> None:
    _, sys = recorded
    pivot = index(sys, lambda c: c[0] == "pivot_root")
    assert sys.calls[pivot] == ("pivot_root", ".", ".")
    after = sys.calls[pivot + 1 : pivot + 5]
    assert [c[0] for c in after] == ["fchdir", "mount", "umount2", "chdir"]
    assert after[1] == ("mount", None, ".", None, C.MS_SLAVE | C.MS_REC, None)
    assert after[2] == ("umount2", ".", C.MNT_DETACH)


def test_after_pivot_root_readonly_root_readonly_paths_then_masks(recorded) -> None:
    _, sys = recorded
    pivot = index(sys, lambda c: c[0] == "pivot_root")
    later = [c for c in sys.calls[pivot:] if c[0] == "mount"][1:]  # skip the old root's rslave
    assert later[0] == ("mount", None, "/", None, C.MS_BIND | C.MS_RDONLY | C.MS_REMOUNT, None)
    readonly = [c for c in later if c[1] == c[2] and c[1] is not None]
    assert [c[1] for c in readonly] == ["/proc/bus", "/proc/sys"]  # the others do not exist
    masked = [c for c in later if c[1] in ("tmpfs", "/dev/null")]
    assert [(c[1], c[2]) for c in masked] == [
        ("tmpfs", "/proc/acpi"),
        ("/dev/null", "/proc/kcore"),
        ("/dev/null", "/proc/keys"),
        ("tmpfs", "/sys/firmware"),
    ]
    first_mask = sys.calls.index(masked[0])
    assert all(sys.calls.index(r) < first_mask for r in readonly)
    sysctl = index(sys, lambda c: c[0] == "write_file" and c[1] == "/proc/sys/net/ipv4/ip_forward")
    assert sysctl < index(sys, lambda c: c == readonly[1])  # before /proc/sys turns read-only


def test_identity_order(recorded) -> None:
    _ctx, sys = recorded
    at = {
        name: index(sys, lambda c, n=name: c[0] == n)
        for name in ("setrlimit", "setgroups", "setresuid", "capset")
    }
    nnp = index(sys, lambda c: c == ("prctl", C.PR_SET_NO_NEW_PRIVS, 1))
    keepcaps = index(sys, lambda c: c == ("prctl", C.PR_SET_KEEPCAPS, 1))
    drops = [i for i, c in enumerate(sys.calls) if c[:2] == ("prctl", C.PR_CAPBSET_DROP)]
    assert at["setrlimit"] < nnp < drops[0]
    assert drops[-1] < keepcaps < at["setgroups"] < at["setresuid"] < at["capset"]
    assert sys.of("setgroups") == [("setgroups", [10, 20])]
    assert sys.of("setresgid") == [("setresgid", 1000, 1000, 1000)]
    assert sys.of("setrlimit") == [("setrlimit", C.RLIMITS["RLIMIT_NOFILE"], 1024, 1024)]
    kept = {CAPABILITY_NUMBERS[n] for n in ("CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE")}
    assert {c[2] for c in sys.calls if c[:2] == ("prctl", C.PR_CAPBSET_DROP)} == set(range(41)) - kept
    mask = sum(1 << n for n in kept)
    assert sys.of("capset") == [("capset", mask, mask, 0)]
    assert ("umask", 0o077) in sys.calls
    assert ("chdir", "/home") in sys.calls
    assert ("sethostname", "jocker") in sys.calls and ("setdomainname", "example.org") in sys.calls
    assert ("write_file", "/proc/self/oom_score_adj", "100") in sys.calls


def test_launcher_messages_and_the_exec_fifo(recorded) -> None:
    ctx, sys = recorded
    assert ctx.channel is None  # closed after `ready`
    ready_then_fifo = [c for c in sys.calls if c[0] == "open" and c[1] == "/proc/self/fd/7"]
    assert ready_then_fifo == [("open", "/proc/self/fd/7", os.O_WRONLY | os.O_CLOEXEC)]
    fifo = index(sys, lambda c: c[0] == "open" and c[1] == "/proc/self/fd/7")
    assert sys.calls[fifo + 1][0] == "write" and sys.calls[fifo + 1][2] == b"0"
    assert fifo < index(sys, lambda c: c[0] == "execve")


def test_hooks_sync_with_the_launcher_before_pivot_root() -> None:
    spec = spec_for_test()
    spec["hooks"] = {"prestart": [{"path": "/bin/true"}]}
    ctx, _sys = make_ctx(spec)
    channel = FakeChannel(["run", "hooks_done"])
    ctx.channel = channel  # type: ignore[assignment]
    run_steps(ctx, INIT_STEPS[: INIT_STEPS.index(init_process.pivot_root)])
    assert channel.sent == ["hooks"]
    assert channel.replies == []


def test_no_pivot_moves_the_root_and_chroots() -> None:
    ctx, sys = make_ctx(spec_for_test(), no_pivot=True)
    run_steps(ctx, INIT_STEPS)
    assert not sys.of("pivot_root")
    move = index(sys, lambda c: c[0] == "mount" and c[4] == C.MS_MOVE)
    assert sys.calls[move] == ("mount", ROOTFS, "/", None, C.MS_MOVE, None)
    assert sys.calls[move + 1] == ("chroot", ".")


def test_user_namespace_binds_devices_instead_of_mknod() -> None:
    ctx, sys = make_ctx(spec_for_test(), userns=True)
    run_steps(ctx, INIT_STEPS)
    assert not sys.of("mknod")
    assert ("mount", "/dev/null", f"{ROOTFS}/dev/null", None, C.MS_BIND, None) in sys.calls


def test_symlinked_destination_stays_inside_the_rootfs() -> None:
    sys = RecordingSyscalls(tree={f"{ROOTFS}/evil": "link:/etc", f"{ROOTFS}/up": "link:../../../host"})
    assert rootfs.secure_join(ROOTFS, "/evil/passwd", sys) == f"{ROOTFS}/etc/passwd"
    assert rootfs.secure_join(ROOTFS, "/up/x", sys) == f"{ROOTFS}/host/x"
    assert rootfs.secure_join(ROOTFS, "/../../etc", sys) == f"{ROOTFS}/etc"


def test_missing_executable_fails_before_ready() -> None:
    spec = spec_for_test()
    spec["process"]["args"] = ["nosuch"]
    ctx, _ = make_ctx(spec)
    with pytest.raises(ContainerError, match='exec: "nosuch": executable file not found in \\$PATH'):
        run_steps(ctx, INIT_STEPS)
    assert ctx.channel is not None and "ready" not in ctx.channel.sent


def test_cwd_outside_the_root_is_refused() -> None:
    ctx, sys = make_ctx(spec_for_test())
    sys.getcwd = lambda: (_ for _ in ()).throw(FileNotFoundError(2, "unreachable"))  # type: ignore[method-assign]
    with pytest.raises(ContainerError, match="outside of the container's root"):
        run_steps(ctx, INIT_STEPS)


@pytest.mark.parametrize(
    ("options", "flags", "propagation", "data"),
    [
        (["nosuid", "noexec", "nodev", "ro"], C.MS_NOSUID | C.MS_NOEXEC | C.MS_NODEV | C.MS_RDONLY, [], ""),
        (["rbind", "rprivate"], C.MS_BIND | C.MS_REC, [C.MS_PRIVATE | C.MS_REC], ""),
        (["ro", "rw", "mode=755", "size=1m"], 0, [], "mode=755,size=1m"),
        (["defaults", "shared", "tmpcopyup"], 0, [C.MS_SHARED], ""),
    ],
)
def test_parse_mount_options(options, flags, propagation, data) -> None:
    assert rootfs.parse_mount_options(options) == (flags, propagation, data)


def test_without_a_mount_namespace_the_callers_root_is_left_alone() -> None:
    """The container then shares the caller's mounts: pivot_root would pivot the caller's, and
    changing the propagation of "/" would change the host's. runc chroots instead."""
    spec = spec_for_test()
    spec["linux"]["namespaces"] = [n for n in spec["linux"]["namespaces"] if n["type"] != "mount"]
    ctx, sys = make_ctx(spec)
    run_steps(ctx, INIT_STEPS)
    assert not sys.of("pivot_root") and not sys.of("umount2")
    first = sys.of("mount")[0]
    assert first == ("mount", ROOTFS, ROOTFS, None, C.MS_BIND | C.MS_REC, None)
    chroot = index(sys, lambda c: c[0] == "chroot")
    assert sys.calls[chroot] == ("chroot", ROOTFS)
    assert all(sys.calls.index(m) > chroot for m in sys.of("mount") if m[2] == "/")
    assert sys.names()[-1] == "execve"
