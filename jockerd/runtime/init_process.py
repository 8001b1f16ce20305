"""The init process (the container's PID 1): named steps in order, exec.fifo, then execve.

Forked by the intermediate process once every namespace exists (see `launcher`). It shares the
parsed spec with its parents (fork, no re-read of config.json) and talks to the launcher over
`ctx.channel` (`sync`). The order of `INIT_STEPS` is the contract; each step says why it sits
where it does. The tenant process of `exec` reuses the steps after the rootfs ones
(`tenant_process.TENANT_STEPS`).

Every step makes its kernel calls through `ctx.sys` (`Syscalls`), so unit tests replay the whole
sequence against `RecordingSyscalls`.
"""

from __future__ import annotations

import errno
import os
import stat

from jockerd.runtime import OCI_VERSION, capabilities, rootfs
from jockerd.runtime.errors import ContainerError
from jockerd.runtime.linux import constants as C

TYPE_CHECKING = False
if TYPE_CHECKING:
    from jockerd.runtime.linux.syscalls import Syscalls
    from jockerd.runtime.sync import Channel

# runc 1.1 puts this before the errors of the container process's own set-up.
START_FAILED = "unable to start container process: "
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class ProcessContext:
    """What a container-side process knows: the spec, where things are, and its two seams."""

    def __init__(
        self,
        *,
        spec: dict,
        process: dict,
        container_id: str,
        bundle: str,
        rootfs: str,
        sys: Syscalls,
        channel: Channel | None = None,
        state_dir: str = "",
        no_pivot: bool = False,
        console_fd: int = -1,
        preserve_fds: int = 0,
        userns: bool = False,
        new_keyring: bool = True,
    ) -> None:
        self.spec = spec
        self.process = process
        self.linux = spec.get("linux") or {}
        self.container_id = container_id
        self.bundle = bundle
        self.rootfs = rootfs
        self.sys = sys
        self.channel = channel
        self.state_dir = state_dir
        self.no_pivot = no_pivot
        self.console_fd = console_fd
        self.preserve_fds = preserve_fds
        self.userns = userns
        self.new_keyring = new_keyring
        # O_PATH handle on <state dir>/exec.fifo, opened by the launcher: the state dir is
        # out of reach after pivot_root, and of a user namespace's root even before.
        self.fifo_fd = -1
        self.start_fd = -1  # exec.fifo's write end while `start` waits for our execve
        self.keep_channel = False  # tenant: the channel stays open until execve
        self.executable = ""
        self.last_cap = -1  # /proc/sys/kernel/cap_last_cap, read by the launcher (host /proc)
        self.seccomp_build = None  # the launcher's seccomp.ProgramBuild, if it started one
        self.seccomp_program = None  # received before the identity switch, loaded by `seccomp_last`
        self.cgroup_joined = channel is None  # no launcher, nothing to wait for (unit tests)

    def new_namespace(self, kind: str) -> bool:
        return any(ns.get("type") == kind and not ns.get("path") for ns in self.linux.get("namespaces") or ())

    def has_namespace(self, kind: str) -> bool:
        return any(ns.get("type") == kind for ns in self.linux.get("namespaces") or ())

    def hooks(self, kind: str) -> list[dict]:
        return (self.spec.get("hooks") or {}).get(kind) or []

    def state(self, status: str) -> dict:
        """The OCI state for container-namespace hooks: pid as the container sees it."""
        return {
            "ociVersion": OCI_VERSION,
            "id": self.container_id,
            "status": status,
            "pid": os.getpid(),
            "bundle": self.bundle,
            "annotations": self.spec.get("annotations") or {},
        }


def preload_modules(spec: dict, process: dict) -> None:
    """Import now, in the launcher, what the container-side steps import lazily: after
    pivot_root (init) or setns into the mount namespace (tenant) the host's Python library is
    out of reach, and the children are forks that share the parent's loaded modules."""
    import _signal  # noqa: F401 - restore_signals

    from jockerd.runtime.linux import libc  # noqa: F401 - prctl, capset, ... (C bindings)

    if process.get("terminal"):
        import fcntl  # noqa: F401
        import socket  # noqa: F401
        import struct  # noqa: F401

        from jockerd.runtime import terminal  # noqa: F401
    all_hooks = spec.get("hooks") or {}
    if all_hooks.get("createContainer") or all_hooks.get("startContainer"):
        import select  # noqa: F401

        from jockerd.runtime import hooks  # noqa: F401
    if (spec.get("linux") or {}).get("seccomp"):
        import_seccomp()


def import_seccomp():  # -> the jockerd.runtime.seccomp module
    """The seccomp module, or ContainerError when libseccomp is missing."""
    try:
        from jockerd.runtime import seccomp
    except ImportError as e:
        raise ContainerError(f"seccomp is not available: {e}") from None
    return seccomp


# -- steps, in INIT_STEPS order ---------------------------------------------------------------


def new_session(ctx: ProcessContext) -> None:
    """First: leave the caller's session and process group (signals to the caller's group must
    not reach the container), and a session of our own can take a controlling terminal later."""
    ctx.sys.setsid()


def session_keyring(ctx: ProcessContext) -> None:
    """Do not share the caller's session keyring (runc, unless --no-new-keyring): early, nothing
    depends on it. Kernels without keyrings (ENOSYS) are tolerated, like runc does."""
    if not ctx.new_keyring:
        return
    try:
        ctx.sys.join_session_keyring(f"_ses.{ctx.container_id}")
    except OSError as e:
        if e.errno != 38:  # ENOSYS
            raise ContainerError(f"unable to join session keyring: {e.strerror}") from None


def loopback_up(ctx: ProcessContext) -> None:
    """A new network namespace has only `lo`, down; runc brings it up before anything else, so
    createRuntime hooks configuring the network find it up."""
    if ctx.new_namespace("network"):
        ctx.sys.set_loopback_up()


def oom_score_adj(ctx: ProcessContext) -> None:
    """Before capabilities are dropped: lowering the score needs CAP_SYS_RESOURCE. The host's
    /proc is still mounted here, so /proc/self is ours either way."""
    value = ctx.process.get("oomScoreAdj")
    if value is not None:
        ctx.sys.write_file("/proc/self/oom_score_adj", str(value))


def prepare_root(ctx: ProcessContext) -> None:
    """Propagation first, so no mount made from here on reaches the host; then the rootfs bind
    that pivot_root needs.

    Without a mount namespace the container shares the caller's mounts (runc: chroot instead of
    pivot_root). Then "/" is left alone, the mounts land below the rootfs in the caller's
    namespace (on a bind of the rootfs, so a read-only root stays the container's), and
    `delete` unmounts them."""
    if not ctx.has_namespace("mount"):
        ctx.sys.mount(ctx.rootfs, ctx.rootfs, None, C.MS_BIND | C.MS_REC, None)
        return
    rootfs.prepare_root(ctx.rootfs, ctx.linux.get("rootfsPropagation"), ctx.sys)


def mount_entries(ctx: ProcessContext) -> None:
    """config.json `mounts` in the order given (the spec requires it: later mounts may sit on
    earlier ones, /dev/pts on /dev). A cgroup mount needs the cgroup namespace: `join_cgroup`
    first."""
    for entry in ctx.spec.get("mounts") or ():
        if entry.get("type") == "cgroup":
            join_cgroup(ctx)
        rootfs.mount_entry(
            entry, ctx.rootfs, ctx.bundle, ctx.sys, userns=ctx.userns, cgroupns=ctx.new_namespace("cgroup")
        )


def setup_dev(ctx: ProcessContext) -> None:
    """After the mounts: the /dev tmpfs is one of them. Before pivot_root: in a user namespace
    the device nodes are bind mounts of the host's /dev entries."""
    rootfs.setup_dev(ctx.spec, ctx.rootfs, ctx.sys, userns=ctx.userns)


def join_cgroup(ctx: ProcessContext) -> None:
    """Wait for `run`, then join the container's cgroup where `run` says so: write 0 ("myself")
    to the cgroup v1 `tasks` files it names (forked without an intermediate, we were started
    while the launcher made the cgroup; see `launcher._spawn`). Elsewhere we are in it already
    (born there through the intermediate, or moved by the launcher on cgroup v2 and a hybrid
    host's unified hierarchy). Then the new cgroup namespace, whose root is the cgroup we are
    in when creating it. At the latest here, before any hook runs (and earlier if a cgroup
    filesystem is mounted)."""
    if ctx.cgroup_joined:
        return
    assert ctx.channel is not None
    message = ctx.channel.expect("run", peer="launcher")
    for path in message.get("tasks") or ():
        try:
            ctx.sys.write_file(path, "0")
        except OSError as e:
            raise ContainerError(f"joining the container's cgroup: {e.strerror}") from None
    ctx.cgroup_joined = True
    if ctx.new_namespace("cgroup"):
        ctx.sys.unshare(C.CLONE_NEWCGROUP)


def prestart_hooks(ctx: ProcessContext) -> None:
    """prestart + createRuntime run in the runtime namespace, so the launcher runs them; the spec
    wants them after the mounts and before pivot_root, i.e. exactly here."""
    if ctx.hooks("prestart") or ctx.hooks("createRuntime"):
        assert ctx.channel is not None
        ctx.channel.send("hooks")
        ctx.channel.expect("hooks_done", peer="launcher")


def create_container_hooks(ctx: ProcessContext) -> None:
    """createContainer: in the container namespaces, after createRuntime, before pivot_root."""
    if ctx.hooks("createContainer"):
        from jockerd.runtime import hooks  # preloaded (`preload_modules`)

        hooks.run_hooks(ctx.hooks("createContainer"), ctx.state("creating"))


def pivot_root(ctx: ProcessContext) -> None:
    """The root switch; everything after this sees only the container's tree. Without a mount
    namespace a chroot: pivot_root would switch the caller's root."""
    if not ctx.has_namespace("mount"):
        ctx.sys.chroot(ctx.rootfs)
        ctx.sys.chdir("/")
    elif ctx.no_pivot:
        rootfs.move_root(ctx.rootfs, ctx.sys)
    else:
        rootfs.pivot_root(ctx.rootfs, ctx.sys)


def root_propagation(ctx: ProcessContext) -> None:
    """shared/private/unbindable root: only after pivot_root, which refuses a shared new root."""
    if not ctx.has_namespace("mount"):
        return
    rootfs.apply_root_propagation(ctx.linux.get("rootfsPropagation"), ctx.sys)


def create_cwd(ctx: ProcessContext) -> None:
    """The process's cwd, made if missing (runc's MkdirAll of the cwd): inside the new root, so
    `..` and symlinks resolve in the container's terms; as root, before readonly_root."""
    cwd = ctx.process.get("cwd") or "/"
    try:
        rootfs.mkdir_all(os.path.normpath(cwd), ctx.sys)
        if not stat.S_ISDIR(ctx.sys.stat(cwd).st_mode):
            raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR))
    except OSError as e:
        text = f"error during container init: mkdir {cwd}: {_go_error(e)}"
        raise ContainerError(START_FAILED + text) from None


def console(ctx: ProcessContext) -> None:
    """After pivot_root, so /dev/ptmx is the container's devpts instance (the pty belongs to the
    container); before the identity switch, which may lose access to /dev/pts."""
    if ctx.process.get("terminal"):
        from jockerd.runtime import terminal

        if ctx.console_fd < 0:
            raise ContainerError("a terminal was requested but there is no console socket")
        terminal.setup_console(ctx.console_fd, ctx.process.get("consoleSize"), ctx.sys, console=True)
        ctx.sys.close(ctx.console_fd)
        ctx.console_fd = -1


def hostname(ctx: ProcessContext) -> None:
    """The UTS namespace exists since the intermediate; any time before execve works."""
    if ctx.spec.get("hostname"):
        ctx.sys.sethostname(ctx.spec["hostname"])
    if ctx.spec.get("domainname"):
        ctx.sys.setdomainname(ctx.spec["domainname"])


def sysctls(ctx: ProcessContext) -> None:
    """Through the container's /proc (net.* follow the writer's network namespace), before
    readonlyPaths makes /proc/sys read-only."""
    for key, value in (ctx.linux.get("sysctl") or {}).items():
        try:
            ctx.sys.write_file("/proc/sys/" + key.replace(".", "/"), value)
        except OSError as e:
            raise ContainerError(f"failed to set sysctl {key}={value}: {e.strerror}") from None


def readonly_root(ctx: ProcessContext) -> None:
    """After every mount below / is in place (they need a writable root for their targets)."""
    if (ctx.spec.get("root") or {}).get("readonly"):
        rootfs.readonly_root(ctx.sys)


def masked_and_readonly_paths(ctx: ProcessContext) -> None:
    """The last mount changes: readonly and masked paths sit on top of /proc and /sys mounts."""
    rootfs.readonly_paths(ctx.linux.get("readonlyPaths"), ctx.sys)
    rootfs.mask_paths(ctx.linux.get("maskedPaths"), ctx.sys)


def rlimits(ctx: ProcessContext) -> None:
    """Before the capability drop (raising a hard limit needs CAP_SYS_RESOURCE), late enough that
    a low RLIMIT_NOFILE or RLIMIT_NPROC does not break the runtime's own work."""
    for rlimit in ctx.process.get("rlimits") or ():
        resource = C.RLIMITS.get(rlimit.get("type"))
        if resource is None:
            raise ContainerError(f"rlimit {rlimit.get('type')!r} is not supported")
        soft, hard = _rlim(rlimit.get("soft", 0)), _rlim(rlimit.get("hard", 0))
        try:
            ctx.sys.setrlimit(resource, soft, hard)
        except (OSError, ValueError) as e:
            raise ContainerError(f"error setting rlimit type {rlimit['type']}: {e}") from None


def _rlim(value: int) -> int:
    return -1 if value >= (1 << 64) - 1 or value < 0 else value  # RLIM_INFINITY


def no_new_privileges(ctx: ProcessContext) -> None:
    """Before execve (it is what the flag is about) and before seccomp, which an unprivileged
    process may only load with no_new_privs set."""
    if ctx.process.get("noNewPrivileges"):
        ctx.sys.prctl(C.PR_SET_NO_NEW_PRIVS, 1)


def identity(ctx: ProcessContext) -> None:
    """Capabilities and user together, in the only order that works (see `capabilities`):
    bounding drop (needs CAP_SETPCAP) → keepcaps → groups, gid, uid → capset → ambient."""
    sys = ctx.sys
    user = ctx.process.get("user") or {}
    uid, gid = user.get("uid", 0), user.get("gid", 0)
    caps = ctx.process.get("capabilities")
    top = ctx.last_cap if ctx.last_cap >= 0 else capabilities.last_cap(sys)
    if caps is not None:
        capabilities.drop_bounding(caps, sys, top)
        sys.prctl(C.PR_SET_KEEPCAPS, 1)
    try:
        sys.setgroups(list(user.get("additionalGids") or ()))
    except PermissionError:
        if not ctx.userns:  # setgroups may be denied in a user namespace
            raise
    try:
        sys.setresgid(gid, gid, gid)
        sys.setresuid(uid, uid, uid)
    except OSError as e:
        raise ContainerError(f"cannot switch to uid {uid} gid {gid}: {e.strerror}") from None
    if caps is not None:
        sys.prctl(C.PR_SET_KEEPCAPS, 0)
        capabilities.apply_sets(caps, sys, top)


def umask(ctx: ProcessContext) -> None:
    """The process's umask; after the runtime's own file creation (devices, mount targets)."""
    mask = (ctx.process.get("user") or {}).get("umask")
    ctx.sys.umask(0o022 if mask is None else mask)


def working_directory(ctx: ProcessContext) -> None:
    """As the container user (permission checks apply). Then verify the directory is inside the
    container's root: a cwd like /proc/self/fd/N could name a host directory through an
    inherited fd (CVE-2024-21626); getcwd(2) then reports it unreachable and we refuse."""
    cwd = ctx.process.get("cwd") or "/"
    try:
        ctx.sys.chdir(cwd)
    except OSError as e:
        raise ContainerError(
            f'{START_FAILED}chdir to cwd ("{cwd}") set in config.json failed: {_go_error(e)}'
        ) from None
    try:
        resolved = ctx.sys.getcwd()
    except FileNotFoundError:  # glibc: the kernel said "(unreachable)/..."
        resolved = ""
    if not resolved.startswith("/"):
        raise ContainerError(f"current working directory {cwd!r} is outside of the container's root")


def resolve_executable(ctx: ProcessContext) -> None:
    """Fail `create`, not `start`, when the program is missing (runc's LookPath here)."""
    ctx.executable = lookup_executable(ctx.process, ctx.sys)


def lookup_executable(process: dict, sys: Syscalls) -> str:
    """runc's wording, which dockerd passes on and the docker CLI maps to exit codes 127/126."""
    program = process["args"][0]
    if "/" in program:
        try:
            mode = sys.stat(program).st_mode
        except OSError as e:
            raise ContainerError(f'{START_FAILED}exec: "{program}": stat {program}: {_go_error(e)}') from None
        if stat.S_ISDIR(mode) or not sys.access(program, os.X_OK):
            raise ContainerError(f'{START_FAILED}exec: "{program}": permission denied')
        return program
    path = DEFAULT_PATH
    for entry in process.get("env") or ():
        if entry.startswith("PATH="):
            path = entry[5:]
    for directory in path.split(":"):
        candidate = os.path.join(directory or ".", program)
        if sys.access(candidate, os.X_OK):
            try:
                if not stat.S_ISDIR(sys.stat(candidate).st_mode):
                    return candidate
            except OSError:
                continue
    raise ContainerError(f'{START_FAILED}exec: "{program}": executable file not found in $PATH')


def report_ready(ctx: ProcessContext) -> None:
    """Set up: the launcher applies cgroup resources, saves state.json and lets `create` return.
    A tenant keeps its (close-on-exec) channel: `exec` waits for the EOF that execve causes,
    and gets any later error on it."""
    assert ctx.channel is not None
    ctx.channel.send("ready")
    if not ctx.keep_channel:
        ctx.channel.close()
        ctx.channel = None


def wait_for_start(ctx: ProcessContext) -> None:
    """Block opening exec.fifo for writing until `start` opens it for reading (runc): the
    container stays "created" (the fifo exists) until then. The write end stays open, close-on-
    exec: `start` reads until EOF, i.e. until execve (after the startContainer hooks), and
    reads any error this process writes there before dying."""
    fd = ctx.sys.open(f"/proc/self/fd/{ctx.fifo_fd}", os.O_WRONLY | os.O_CLOEXEC)
    ctx.sys.write(fd, b"0")
    ctx.sys.close(ctx.fifo_fd)
    ctx.fifo_fd = -1
    ctx.start_fd = fd


def start_container_hooks(ctx: ProcessContext) -> None:
    """startContainer: part of `start`, in the container, before the program runs (spec)."""
    if ctx.hooks("startContainer"):
        from jockerd.runtime import hooks  # preloaded (`preload_modules`)

        hooks.run_hooks(ctx.hooks("startContainer"), ctx.state("created"))


def close_fds(ctx: ProcessContext) -> None:
    """Nothing of the runtime may reach the program: every fd but stdio, the --preserve-fds ones
    and $LISTEN_FDS (socket activation) is marked close-on-exec. Early, through the host's /proc
    (the container may have none), and with no syscall left for the last moment, when a seccomp
    profile may forbid close_range. Every fd the runtime opens later is close-on-exec already."""
    ctx.sys.cloexec_fds_from(3 + ctx.preserve_fds + _listen_fds())


def _listen_fds() -> int:
    try:
        return max(0, int(os.environ.get("LISTEN_FDS", "0")))
    except ValueError:
        return 0


def restore_signals(ctx: ProcessContext) -> None:
    """Python ignores SIGPIPE and SIGXFSZ; ignored dispositions would survive execve."""
    ctx.sys.restore_signals()


def seccomp_filter(ctx: ProcessContext) -> None:
    """Get the filter's program here, so a bad profile fails `create`: from the launcher, which
    builds it in the background while we set up (`seccomp.ProgramBuild`), or built here.
    Without no_new_privs the kernel lets only CAP_SYS_ADMIN load a filter: then it is loaded
    now, before the capabilities are dropped, and the profile must allow what follows (runc
    does the same)."""
    profile = ctx.linux.get("seccomp")
    if not profile:
        return
    seccomp = import_seccomp()
    if ctx.seccomp_build is not None:
        ctx.seccomp_program = ctx.seccomp_build.receive()
        ctx.seccomp_build = None
    else:
        ctx.seccomp_program = seccomp.build_program(profile)
    if not ctx.process.get("noNewPrivileges"):
        seccomp.load_program(ctx.seccomp_program)
        ctx.seccomp_program = None


def seccomp_last(ctx: ProcessContext) -> None:
    """With no_new_privs: load the filter last; after it, the only syscall left is execve."""
    if ctx.seccomp_program is not None:
        import_seccomp().load_program(ctx.seccomp_program)


def exec_program(ctx: ProcessContext) -> None:
    env = list(ctx.process.get("env") or [])
    if not any(entry.startswith("HOME=") for entry in env):
        # runc sets HOME from the container's passwd when the spec leaves it out (dockerd does)
        env.append("HOME=" + _home_of((ctx.process.get("user") or {}).get("uid", 0), ctx.sys))
    ctx.sys.execve(ctx.executable, ctx.process["args"], env)


def _home_of(uid: int, sys: Syscalls) -> str:
    """The home directory of `uid` in the container's /etc/passwd, else "/" (runc's default)."""
    try:
        text = sys.read_file("/etc/passwd")
    except OSError:
        return "/"
    for line in text.splitlines():
        fields = line.split(":")
        if len(fields) >= 7 and fields[2] == str(uid):
            return fields[5] or "/"
    return "/"


def _go_error(e: OSError) -> str:
    """An errno's text as Go prints it ("no such file or directory")."""
    text = e.strerror or str(e)
    return text[:1].lower() + text[1:]


INIT_STEPS = (
    new_session,
    close_fds,
    session_keyring,
    loopback_up,
    oom_score_adj,
    prepare_root,
    mount_entries,
    setup_dev,
    join_cgroup,
    prestart_hooks,
    create_container_hooks,
    pivot_root,
    root_propagation,
    create_cwd,
    console,
    hostname,
    sysctls,
    readonly_root,
    masked_and_readonly_paths,
    rlimits,
    no_new_privileges,
    seccomp_filter,
    identity,
    umask,
    working_directory,
    resolve_executable,
    report_ready,
    wait_for_start,
    start_container_hooks,
    restore_signals,
    seccomp_last,
    exec_program,
)


def run_steps(ctx: ProcessContext, steps: tuple = INIT_STEPS) -> None:
    for step in steps:
        step(ctx)


def run(ctx: ProcessContext, steps: tuple = INIT_STEPS) -> None:
    """Run `steps`; on failure tell the launcher (or stderr, once `ready` was sent) and exit 1.

    Never returns: the last step is execve. Uses os._exit, never SystemExit: this is a forked
    copy of the runtime and must not run its parent's cleanup.
    """
    try:
        run_steps(ctx, steps)
        raise ContainerError("execve returned")
    except BaseException as e:
        message = str(e) if isinstance(e, ContainerError) else f"{type(e).__name__}: {e}"
        _report(ctx, message)
        os._exit(1)


def _report(ctx: ProcessContext, message: str) -> None:
    """To the launcher (during create), to `start` through exec.fifo (after it), and stderr."""
    try:
        if ctx.channel is not None:
            ctx.channel.send("error", message=message)
            return
        if ctx.start_fd >= 0:
            os.write(ctx.start_fd, message.encode())
        os.write(2, f"jocker-runtime: {message}\n".encode())
    except OSError:
        pass
