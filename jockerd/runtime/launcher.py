"""The parent side of `create`, `run` and `exec`: fork, sync, id maps, cgroup, state, pid file.

Process model (the runtime is a fresh single-threaded process: DESIGN §5.3):

    jocker-runtime create (launcher)          host namespaces; exits when create is done
      └─ intermediate                         joins/creates the namespaces (`namespaces.enter`)
           └─ init (container PID 1)          rootfs, identity, blocks on exec.fifo, execve
                                              (`init_process.INIT_STEPS`)

The intermediate exists because a new pid namespace (and time namespace) applies only to the
children of the process that created it, and because the user namespace must be created, mapped
by the launcher (root outside), and entered before the others (youki does the same). It sends
the init's host pid and exits; the init is reparented to the nearest subreaper: the caller's
(a shim sets PR_SET_CHILD_SUBREAPER before `create`) or, for `run` and `exec` in the
foreground, the launcher itself. Messages: see `sync`.

When every namespace is new and there is no user or time namespace (runc's and Docker's
default specs), the intermediate is skipped (`_needs_intermediate`): the launcher unshares the
pid namespace for its children, forks the init, and takes its own back; the init moves itself
into the cgroup and creates the other namespaces itself. Like runc's container init (cloned
with CLONE_PARENT), the init is then the launcher's child until the launcher exits.

`exec` has the same shape: launcher → intermediate (setns into the init's namespaces,
non-dumpable) → tenant (`tenant_process`).
"""

from __future__ import annotations

import os

from jockerd.runtime import (
    OCI_VERSION,
    capabilities,
    init_process,
    log,
    namespaces,
    rootfs,
    sync,
)
from jockerd.runtime import spec as spec_mod
from jockerd.runtime.container import (
    Container,
    format_time,
    open_cgroup,
    process_start_time,
    remove_state_dir,
    validate_id,
    write_pid_file,
)
from jockerd.runtime.errors import CONTAINER_EXISTS, ContainerError
from jockerd.runtime.init_process import ProcessContext, preload_modules
from jockerd.runtime.linux import constants as C
from jockerd.runtime.linux.syscalls import LinuxSyscalls

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from jockerd.runtime.cgroups import CgroupManager


class Children:
    """Pids the launcher forked or learnt, so a failure can kill and reap them."""

    def __init__(self) -> None:
        self.intermediate = 0
        self.target = 0  # the init or tenant (host pid)
        self.direct = False  # the target is our own child (no intermediate)

    def reap_intermediate(self) -> None:
        if self.intermediate:
            try:
                os.waitpid(self.intermediate, 0)
            except ChildProcessError:
                pass
            self.intermediate = 0

    def kill(self) -> None:
        for pid in (self.target, self.intermediate):
            if pid:
                try:
                    os.kill(pid, 9)
                except ProcessLookupError:
                    pass
        self.reap_intermediate()
        if self.direct and self.target:
            try:
                os.waitpid(self.target, 0)
            except ChildProcessError:
                pass


def _intermediate(
    channel: sync.Channel,
    ns_list: list[dict],
    time_offsets: dict | None,
    child: Callable[[], None],
    sys: LinuxSyscalls,
    *,
    cgroup_fds: list[int],
    dumpable: bool = True,
) -> None:
    """Runs in the forked intermediate: cgroup, namespaces, fork the target, report its pid, exit.

    The intermediate moves itself into the container's cgroup first (`cgroup_fds`, see
    `CgroupManager.open_self_move`), before it creates or joins any namespace, so the target is
    born in it, as runc's `runc init` is moved before it clones."""
    try:
        if not dumpable:
            # exec: we hold host fds while joining a container that may be hostile (runc).
            sys.prctl(C.PR_SET_DUMPABLE, 0)
        _move_self(cgroup_fds)

        def request_id_maps() -> None:
            channel.send("id_map_request")
            channel.expect("id_map_done", peer="launcher")

        # A new cgroup namespace is the target's to create, once it is in its cgroup (`join_cgroup`).
        namespaces.enter(ns_list, sys, request_id_maps, time_offsets, defer_new=("cgroup",))
        pid = os.fork()
        if pid == 0:
            channel.close()
            try:
                child()  # never returns: reports its own errors on its channel
            finally:
                os._exit(1)
        channel.send("pid", pid=pid)
        os._exit(0)
    except BaseException as e:
        message = str(e) if isinstance(e, ContainerError) else f"{type(e).__name__}: {e}"
        try:
            channel.send("error", message=message)
        except OSError:
            pass
        os._exit(1)


def _direct_target(
    channel: sync.Channel, ns_list: list[dict], child: Callable[[], None], sys: LinuxSyscalls
) -> None:
    """Runs in a target forked by the launcher itself (`_spawn`, no intermediate): the
    namespaces the intermediate would have created, then the target's steps (which move it
    into the cgroup when `run` names the files: `init_process.join_cgroup`)."""
    try:
        others = [ns for ns in ns_list if ns["type"] != "pid"]  # pid: the launcher unshared it
        namespaces.enter(others, sys, _no_user_namespace, None, defer_new=("cgroup",))
    except BaseException as e:
        message = str(e) if isinstance(e, ContainerError) else f"{type(e).__name__}: {e}"
        try:
            channel.send("error", message=message)
        except OSError:
            pass
        os._exit(1)
    try:
        child()  # never returns: reports its own errors on its channel
    finally:
        os._exit(1)


def _move_self(cgroup_fds: list[int]) -> None:
    if cgroup_fds:
        from jockerd.runtime.cgroups import CgroupError, move_self

        try:
            move_self(cgroup_fds)
        except CgroupError as e:
            raise ContainerError(str(e)) from None


def _no_user_namespace() -> None:
    raise AssertionError("a new user namespace needs the intermediate")


def _needs_intermediate(ns_list: list[dict], time_offsets: dict | None, dumpable: bool) -> bool:
    """Whether the namespaces need the intermediate process (see the module docstring).

    Without it (the common case, every namespace new and no user or time namespace) the launcher
    unshares the pid namespace itself, forks the target, and takes its own pid namespace back for
    the children it forks later (hooks): the target creates the other namespaces. That saves a
    fork, a process exit and a message, ~2 ms. A new user namespace must be created, mapped and
    entered before the others by a process of its own; joined namespaces (`path`, and every
    namespace of `exec`) are entered by the intermediate in a fixed order, as a new time
    namespace gets its offsets there."""
    if not dumpable:
        return True  # exec: joins the container's namespaces
    return bool(time_offsets) or any(ns.get("path") or ns["type"] in ("user", "time") for ns in ns_list)


def _fork_direct(
    ns_list: list[dict],
    child: Callable[[], None],
    child_channel: sync.Channel,
    parent_channel: sync.Channel,
    sys: LinuxSyscalls,
) -> int:
    """Fork the target from the launcher: in a new pid namespace if the spec has one, by
    unsharing it for the launcher's children and joining the launcher's own back right after
    the fork (setns into one's own active pid namespace resets pid_for_children)."""
    own_pid_ns = -1
    if any(ns["type"] == "pid" for ns in ns_list):
        own_pid_ns = os.open("/proc/self/ns/pid", os.O_RDONLY | os.O_CLOEXEC)
        try:
            sys.unshare(C.CLONE_NEWPID)
        except OSError as e:
            os.close(own_pid_ns)
            raise ContainerError(f"unshare pid: {e.strerror}") from None
    try:
        pid = os.fork()
        if pid == 0:
            parent_channel.close()
            _direct_target(child_channel, ns_list, child, sys)
    finally:
        if own_pid_ns >= 0:
            sys.setns(own_pid_ns, C.CLONE_NEWPID)
            os.close(own_pid_ns)
    return pid


def _spawn(
    ns_list: list[dict],
    time_offsets: dict | None,
    child: Callable[[], None],
    child_channel: sync.Channel,
    parent_channel: sync.Channel,
    children: Children,
    *,
    cgroup_for: Callable[[], CgroupManager | None],
    id_maps: tuple[list, list] | None,
    dumpable: bool = True,
) -> int:
    """Fork the target, through the intermediate when the namespaces need it (messages 1-3, see
    `sync`), else directly (`_needs_intermediate`); then message 4. The target's pid.

    `cgroup_for()` makes (or finds) the container's cgroup. The target joins it by moving
    itself into the cgroup v1 hierarchies (cheap, see `CgroupManager.open_self_move`):
    - through the intermediate, which moves itself first through files the launcher opened
      for it (the kernel checks the opener's credentials), so the target is born in the
      cgroup, before any namespace exists;
    - without one, the target writes to the files `run` names once the launcher has made the
      cgroup, which the launcher does after the fork, while the target creates its namespaces
      and mounts (~2 ms of cgroup work off the critical path).
    Where a move by the process itself is impossible (cgroup v2, a hybrid host's unified
    hierarchy), the launcher moves the target by pid once it knows it, while the target sets
    up its mounts (that move waits for an RCU grace period, ~7 ms here). The target waits for
    `run` only where it needs it (`init_process.join_cgroup`)."""
    sys = LinuxSyscalls()
    tasks: list[str] = []
    if not _needs_intermediate(ns_list, time_offsets, dumpable):
        children.target = _fork_direct(ns_list, child, child_channel, parent_channel, sys)
        children.direct = True
        child_channel.close()
        cgroup = cgroup_for()
        if cgroup is not None:
            tasks = cgroup.self_move_files()
    else:
        cgroup = cgroup_for()
        cgroup_fds = cgroup.open_self_move() if cgroup is not None else []
        try:
            if cgroup is not None and not cgroup_fds:
                cgroup.warm_attach()  # add_task's grace period passes meanwhile
            inter_parent, inter_child = sync.channel_pair()
            pid = os.fork()
            if pid == 0:
                inter_parent.close()
                parent_channel.close()
                _intermediate(
                    inter_child, ns_list, time_offsets, child, sys, cgroup_fds=cgroup_fds, dumpable=dumpable
                )
        finally:
            for fd in cgroup_fds:
                os.close(fd)
        children.intermediate = pid
        inter_child.close()
        child_channel.close()
        try:
            while True:
                message = inter_parent.expect("id_map_request", "pid", peer="intermediate")
                if message["type"] == "pid":
                    children.target = int(message["pid"])
                    break
                assert id_maps is not None
                namespaces.write_id_maps(pid, *id_maps)
                inter_parent.send("id_map_done")
        finally:
            inter_parent.close()
        children.reap_intermediate()
    if cgroup is not None and cgroup.add_task_needed:
        cgroup.add_task(children.target)
    try:
        if tasks:
            parent_channel.send("run", tasks=tasks)
        else:
            parent_channel.send("run")
    except BrokenPipeError:
        pass  # the target died; its `error` message is waiting in the socket
    return children.target


def create(
    root: str,
    container_id: str,
    bundle: str,
    *,
    pid_file: str | None = None,
    console_socket: str | None = None,
    console_fd: int = -1,
    no_pivot: bool = False,
    no_new_keyring: bool = False,
    preserve_fds: int = 0,
    spec: dict | None = None,
) -> Container:
    """`create`: everything up to the init blocking on exec.fifo; then state.json, pid file.
    `spec`: the bundle's, already loaded (by `run`)."""
    validate_id(container_id)
    bundle = os.path.abspath(bundle)
    spec = spec or spec_mod.load(bundle)
    process = spec["process"]
    if process.get("terminal") and console_fd < 0 and not console_socket:
        raise ContainerError(
            "cannot allocate tty if jocker-runtime will detach without setting console socket"
        )
    if not process.get("terminal") and console_socket:
        raise ContainerError("cannot use console socket if jocker-runtime will not detach or allocate tty")
    linux = spec.get("linux") or {}
    rootfs_path = os.path.normpath(os.path.join(bundle, spec["root"]["path"]))
    state_dir = os.path.join(root, container_id)
    os.makedirs(root, 0o700, exist_ok=True)
    try:
        os.mkdir(state_dir, 0o711)
    except FileExistsError:
        raise ContainerError(CONTAINER_EXISTS) from None
    created = format_time(_now_ns())
    children = Children()
    cgroup = None
    own_console = False
    fifo_fd = -1
    seccomp_build = None
    try:
        seccomp_build = start_seccomp_build(linux.get("seccomp"))
        old_mask = os.umask(0)
        try:
            os.mkfifo(os.path.join(state_dir, "exec.fifo"), 0o622)
        finally:
            os.umask(old_mask)
        fifo_fd = os.open(os.path.join(state_dir, "exec.fifo"), os.O_PATH | os.O_CLOEXEC)
        if console_socket:
            from jockerd.runtime import terminal

            console_fd = terminal.connect_console_socket(console_socket)
            own_console = True
        ns_list = spec_mod.namespaces(spec)
        userns = any(ns["type"] == "user" for ns in ns_list)
        preload_modules(spec, process)
        last_cap = capabilities.last_cap(LinuxSyscalls())
        init_parent, init_child = sync.channel_pair()

        def make_cgroup() -> CgroupManager | None:
            nonlocal cgroup
            cgroup = open_cgroup(linux.get("cgroupsPath"), container_id)
            if cgroup is not None:
                cgroup.create()
            return cgroup

        def init() -> None:
            ctx = ProcessContext(
                spec=spec,
                process=process,
                container_id=container_id,
                bundle=bundle,
                rootfs=rootfs_path,
                sys=LinuxSyscalls(),
                channel=init_child,
                state_dir=state_dir,
                no_pivot=no_pivot,
                console_fd=console_fd,
                preserve_fds=preserve_fds,
                userns=userns,
                new_keyring=not no_new_keyring,
            )
            ctx.last_cap = last_cap
            ctx.fifo_fd = fifo_fd
            ctx.seccomp_build = seccomp_build
            init_process.run(ctx)

        try:
            pid = _spawn(
                ns_list,
                linux.get("timeOffsets"),
                init,
                init_child,
                init_parent,
                children,
                cgroup_for=make_cgroup,
                id_maps=(linux.get("uidMappings"), linux.get("gidMappings")),
            )
            while True:
                message = init_parent.expect("hooks", "ready", peer="init")
                if message["type"] == "ready":
                    break
                from jockerd.runtime import hooks  # only a spec with hooks gets here

                state = _creating_state(container_id, pid, bundle, spec)
                hooks.run_hooks((spec.get("hooks") or {}).get("prestart"), state)
                hooks.run_hooks((spec.get("hooks") or {}).get("createRuntime"), state)
                init_parent.send("hooks_done")
        finally:
            init_parent.close()
        if cgroup is not None:
            # After the init made its device nodes (a devices "deny all" would forbid mknod),
            # before it can run the program (it waits on exec.fifo): runc's procReady.
            cgroup.apply(rootfs.cgroup_resources(linux))
        container = Container(
            root,
            {
                "id": container_id,
                "bundle": bundle,
                "rootfs": rootfs_path,
                "created": created,
                "owner": "",
                "annotations": spec.get("annotations") or {},
                "init_process_pid": pid,
                "init_process_start": process_start_time(pid),
                "cgroup_path": getattr(cgroup, "path", None),
                "cgroup_dirs": getattr(cgroup, "dirs", None),
                "cgroups_path": linux.get("cgroupsPath"),
                "namespaces": ns_list,
                "process": process,
                "hooks": {k: (spec.get("hooks") or {}).get(k) or [] for k in ("poststart", "poststop")},
                "seccomp": linux.get("seccomp"),
                "no_pivot": no_pivot,
                "paused": False,
            },
        )
        container.save()
        if pid_file:
            write_pid_file(pid_file, pid)
        log.debug(f"created container {container_id} with init pid {pid}")
        return container
    except BaseException:
        children.kill()
        if cgroup is not None:
            try:
                cgroup.destroy()
            except Exception as e:
                log.warning(f"removing cgroup: {e}")
        remove_state_dir(state_dir)
        raise
    finally:
        if own_console:
            os.close(console_fd)
        if fifo_fd >= 0:
            os.close(fifo_fd)
        if seccomp_build is not None:
            seccomp_build.close()


def start_seccomp_build(profile: dict | None):  # -> seccomp.ProgramBuild | None
    """Start building the seccomp program in the background (see `seccomp.ProgramBuild`): the
    earlier, the more of libseccomp's work overlaps the children's set-up."""
    if not profile:
        return None
    return init_process.import_seccomp().ProgramBuild(profile)


def _now_ns() -> int:
    import time

    return time.time_ns()


def _creating_state(container_id: str, pid: int, bundle: str, spec: dict) -> dict:
    return {
        "ociVersion": OCI_VERSION,
        "id": container_id,
        "status": "creating",
        "pid": pid,
        "bundle": bundle,
        "annotations": spec.get("annotations") or {},
    }


def exec_process(
    container: Container,
    process: dict,
    *,
    console_socket: str | None = None,
    console_fd: int = -1,
    pid_file: str | None = None,
    preserve_fds: int = 0,
    subreaper: bool = False,
) -> int:
    """Start a tenant process in `container`; its host pid once it is about to execve."""
    from jockerd.runtime import state as state_mod
    from jockerd.runtime import tenant_process

    status = container.refresh_status()
    state_mod.check_transition("exec", status, container.id)
    spec_mod.validate_process(process)
    if process.get("terminal") and console_fd < 0 and not console_socket:
        raise ContainerError(
            "cannot allocate tty if jocker-runtime will detach without setting console socket"
        )
    own_console = False
    if console_socket:
        from jockerd.runtime import terminal

        console_fd = terminal.connect_console_socket(console_socket)
        own_console = True
    ns_list = [
        {"type": ns["type"], "path": f"/proc/{container.pid}/ns/{namespaces.PROC_NAMES[ns['type']]}"}
        for ns in container.record.get("namespaces") or ()
    ]
    if subreaper:
        LinuxSyscalls().prctl(C.PR_SET_CHILD_SUBREAPER, 1)
    children = Children()
    spec = {"linux": {"seccomp": container.record.get("seccomp")}}
    preload_modules(spec, process)
    last_cap = capabilities.last_cap(LinuxSyscalls())
    tenant_parent, tenant_child = sync.channel_pair()
    userns = any(ns["type"] == "user" for ns in ns_list)
    seccomp_build = start_seccomp_build(spec["linux"]["seccomp"])

    def tenant() -> None:
        ctx = ProcessContext(
            spec=spec,
            process=process,
            container_id=container.id,
            bundle=container.record["bundle"],
            rootfs="/",
            sys=LinuxSyscalls(),
            channel=tenant_child,
            console_fd=console_fd,
            preserve_fds=preserve_fds,
            userns=userns,
        )
        ctx.last_cap = last_cap
        ctx.keep_channel = True
        ctx.seccomp_build = seccomp_build
        tenant_process.run(ctx)

    try:
        pid = _spawn(
            ns_list,
            None,
            tenant,
            tenant_child,
            tenant_parent,
            children,
            cgroup_for=lambda: container.cgroup(required=False),
            id_maps=None,
            dumpable=False,
        )
        tenant_parent.expect("ready", peer="tenant")
        late = tenant_parent.recv()  # EOF once execve closed the tenant's end
        if late is not None:
            raise ContainerError(str(late.get("message", late)))
    except BaseException:
        children.kill()
        raise
    finally:
        tenant_parent.close()
        if own_console:
            os.close(console_fd)
        if seccomp_build is not None:
            seccomp_build.close()
    if pid_file:
        write_pid_file(pid_file, pid)
    return pid


def wait_for(pid: int, forward_signals: bool = True, master_fd: int = -1) -> int:
    """Wait for `pid` (our child, or reparented to us as subreaper), forwarding signals and
    reaping anything else reparented to us; its exit code, 128+N for a signal (runc)."""
    if forward_signals:
        _forward_signals(pid)
    status: int | None = None
    if master_fd >= 0:
        from jockerd.runtime import terminal

        def done() -> bool:
            nonlocal status
            if status is None:
                status = _reap(pid, block=False)
            return status is not None

        terminal.proxy(master_fd, done)
    while status is None:
        status = _reap(pid, block=True)
    code = os.waitstatus_to_exitcode(status)
    return 128 - code if code < 0 else code


def _reap(pid: int, *, block: bool) -> int | None:
    while True:
        try:
            reaped, status = os.waitpid(-1, 0 if block else os.WNOHANG)
        except ChildProcessError:
            raise ContainerError(f"process {pid} is not a child of this runtime") from None
        if reaped == pid:
            return status
        if reaped == 0:
            return None


_FORWARDED = (1, 2, 3, 10, 12, 15, 28)  # HUP INT QUIT USR1 USR2 TERM WINCH


def _forward_signals(pid: int) -> None:
    import _signal  # `signal` would import `enum`

    def forward(signum: int, _frame: object) -> None:
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass

    for signum in _FORWARDED:
        _signal.signal(signum, forward)
