"""The real shim: rootfs, runtime `create` (or `exec`), the stdio loop, reaping, clean-up, `exit`.

`prepare()` runs before readiness is reported: shim.pid, PR_SET_CHILD_SUBREAPER (so the
container's init, whose parent is the runtime's short-lived `create`, is re-parented to the
shim and reaped here), the mounts of mounts.json on BUNDLE/rootfs, the json-file log, the two
sockets, stdio, the runtime call and init.pid. Any failure undoes what was done (a process the
runtime made is deleted or killed again) and becomes the readiness error.

`serve()` is the epoll loop (see attach.py for backpressure) until the process has exited and
its output is drained, then the clean-up in the contract's order: attach clients shut down,
OOM check (before `delete` removes the cgroup), runtime `delete --force`, unmount, and the
`exit` file last. It needs no daemon: the shim runs in its own session and owns all of it.

Children are reaped on SIGCHLD, which the loop sees through `signal.set_wakeup_fd`. `_signal`
(the C module under `signal`) is used directly: `signal` imports `enum` (~8 ms of start-up).
The runtime is started by fork + exec (`spawn`), SIGINT, SIGPIPE and SIGXFSZ reset to their
defaults (the shim ignores them, and ignored signals stay ignored across exec, into the
container). The shim ignores SIGINT so that a stray one cannot interrupt it halfway (it has no
terminal); SIGTERM and SIGKILL end it without clean-up, which ShimClient.wait() reports.

Exec mode holds the process's output (nothing is read, so the pipe fills and the process
blocks) until the first attach request, because the process runs before the daemon can
attach; a detached exec releases it at once by attaching with no streams. If nobody attaches
within HOLD_TIMEOUT of readiness, the output is released anyway (read and dropped).
"""

from __future__ import annotations

import _signal
import _socket
import os
import sys
import time

from jockerd.runtime import fastjson
from jockerd.shim import stdcopy
from jockerd.shim.attach import EPOLLIN, HIGH_WATER, LOW_WATER, READ_SIZE, AttachClient, ControlClient
from jockerd.shim.logs import JsonFileLog, format_time
from jockerd.shim.stdio import (
    Loop,
    StdinSink,
    Stdio,
    accept,
    receive_console,
    set_winsize,
    short_path,
    unix_listener,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from jockerd.shim.ports import Proxy

DRAIN_TIMEOUT = 2.0  # output read after the process exited, at most
FLUSH_TIMEOUT = 5.0  # then, for attach clients to take what is buffered for them
HOLD_TIMEOUT = 5.0  # exec mode: how long output waits for a first attach after readiness
RUNTIME_TIMEOUT = 120.0  # create / exec / delete
SIGCHLD = 17
MAX_FD = 1 << 20  # fs.nr_open's default ceiling; os.closerange uses close_range(2)
SIGKILL = 9
_RESET_SIGNALS = (2, 13, 25)  # SIGINT (the shim ignores it), SIGPIPE, SIGXFSZ (Python ignores them)
_GONE = ("does not exist", "not found", "no such file")  # `delete` of a container already deleted


class ShimError(Exception):
    """A failure before readiness: its message is what the daemon reports."""


class Options:
    """The parsed command line (see jockerd.shim for the flags)."""

    __slots__ = (
        "bundle",
        "console_size",
        "exec_id",
        "id",
        "log_max_file",
        "log_max_size",
        "log_path",
        "mode",
        "ports",
        "process",
        "runtime",
        "runtime_in_process",
        "runtime_root",
        "state_dir",
        "stdin",
        "stdin_once",
        "tty",
    )

    def __init__(self) -> None:
        self.mode = ""
        self.id = ""
        self.exec_id = ""
        self.bundle = ""
        self.state_dir = ""
        self.runtime: list[str] = []
        self.runtime_in_process = False
        self.runtime_root = ""
        self.process = ""
        self.ports = ""  # ports.json: the published ports (ports.py), start mode only
        self.log_path = ""
        self.log_max_size = 0
        self.log_max_file = 1
        self.tty = False
        self.stdin = False
        self.stdin_once = False
        self.console_size: tuple[int, int] | None = None


def start_time(pid: int) -> str:
    """Field 22 of /proc/PID/stat: the process's start time in clock ticks since boot."""
    with open(f"/proc/{pid}/stat", "rb") as f:
        stat = f.read()
    return stat[stat.rindex(b")") + 2 :].split()[19].decode()


def write_file(path: str, data: bytes, *, sync: bool = False) -> None:
    """Write `path` by temp file and rename; with `sync`, durable (fsync file and directory)."""
    tmp = f"{path}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
    try:
        os.write(fd, data)
        if sync:
            os.fsync(fd)
    finally:
        os.close(fd)
    os.rename(tmp, path)
    if sync:
        dir_fd = os.open(os.path.dirname(path) or ".", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def spawn(argv: list[str], stdio: tuple[int, int, int] | None) -> int:
    """fork + exec `argv` (PATH searched) with `stdio` as its fds 0-2; OSError if exec fails.

    Not posix_spawn: glibc's sets its internal signals 32 and 33 to SIG_IGN in the child, and
    that would be inherited by the container's processes. The shim has no threads, so a fork is
    safe; the exec error comes back over a close-on-exec pipe.
    """
    errors_r, errors_w = os.pipe2(os.O_CLOEXEC)
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            os.close(errors_r)
            if stdio is not None:
                for target, fd in enumerate(stdio):
                    os.dup2(fd, target)  # the copy is inheritable
            for signum in _RESET_SIGNALS:
                _signal.signal(signum, _signal.SIG_DFL)
            os.execvp(argv[0], argv)
        except OSError as e:
            os.write(errors_w, str(e.errno).encode())
        finally:
            os._exit(127)
    os.close(errors_w)
    try:
        report = os.read(errors_r, 64)
    finally:
        os.close(errors_r)
    if report:
        os.waitpid(pid, 0)
        errno = int(report)
        raise OSError(errno, os.strerror(errno), argv[0])
    return pid


def spawn_in_process(args: list[str], stdio: tuple[int, int, int] | None) -> int:
    """jocker-runtime's `main(args)` in a fork of this shim, instead of a new interpreter.

    The shim is an exec'd, single-threaded Python process, so its fork is what a fresh
    jocker-runtime would be (DESIGN §5.3), minus the ~17 ms of interpreter start-up per call
    (three calls per `docker run --rm`). The child gets the runtime's stdio and default signal
    dispositions, and ends with os._exit: nothing of the shim's state runs on in it.
    """
    from jockerd.runtime.__main__ import main as runtime_main  # once per shim, before the fork

    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 1
        try:
            _signal.set_wakeup_fd(-1)
            for signum in (*_RESET_SIGNALS, SIGCHLD, 15):
                _signal.signal(signum, _signal.SIG_DFL)
            if stdio is not None:
                for target, fd in enumerate(stdio):
                    os.dup2(fd, target)
            # What an exec would have closed (the shim opens everything close-on-exec): the
            # container's init, forked from here, must not hold the readiness pipe, the log or
            # the sockets while it waits for `start`.
            os.closerange(3, MAX_FD)
            result = runtime_main(args)
            code = 0 if result is None else result  # a verb returns None on success
            sys.stdout.flush()
            sys.stderr.flush()
        except BaseException as e:
            try:
                os.write(2, f"jocker-runtime: {type(e).__name__}: {e}\n".encode())
            except BaseException:
                pass
        finally:
            os._exit(code if isinstance(code, int) else 1)
    return pid


def wait_child(pid: int, timeout: float) -> int:
    """Wait for our child `pid` (killing it after `timeout` s); its exit code (-N: signal N)."""
    import select

    try:
        pidfd = os.pidfd_open(pid)
    except OSError:
        pidfd = -1
    if pidfd >= 0:
        try:
            if not select.select([pidfd], [], [], timeout)[0]:
                os.kill(pid, SIGKILL)
        finally:
            os.close(pidfd)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


# -- mounts (start mode) ---------------------------------------------------------------------------

_MS_RDONLY, _MS_REMOUNT, _MS_BIND = 0x1, 0x20, 0x1000


def mount_all(mounts: list[dict], target: str) -> int:
    """Mount each OCI mount (type, source, options) on `target`, in order; how many succeeded."""
    from jockerd.mount_flags import split_mount_options
    from jockerd.runtime.linux import libc

    done = 0
    try:
        for m in mounts:
            flags, data = split_mount_options(m.get("options") or [])
            fstype = m.get("type") or None
            libc.mount(m.get("source") or "none", target, fstype, flags, ",".join(data) or None)
            done += 1
            if flags & _MS_BIND and flags & _MS_RDONLY:  # a bind mount ignores MS_RDONLY until remounted
                libc.mount(None, target, None, flags | _MS_REMOUNT, None)
    except OSError as e:
        unmount(target, done)
        raise ShimError(f"failed to mount rootfs component: {e}") from None
    return done


def unmount(target: str, count: int) -> None:
    """Undo `count` mounts stacked on `target` (detaching the ones still busy)."""
    import errno

    from jockerd.runtime.linux import libc

    for _ in range(count):
        try:
            libc.umount2(target, 0)
        except OSError as e:
            if e.errno == errno.EBUSY:
                libc.umount2(target, 2)  # MNT_DETACH
            elif e.errno == errno.EINVAL:  # not a mount point any more
                return
            else:
                raise


# -- OOM --------------------------------------------------------------------------------------------


def oom_killed(bundle: str, container_id: str) -> bool:
    """Best effort: whether the memory cgroup of the container saw an OOM kill.

    The cgroup path is config.json's linux.cgroupsPath (absent: `<id>`), resolved as runc's
    cgroupfs driver does: absolute below the hierarchy's root, relative below the caller's own
    cgroup (v1), or its parent (v2). Read before `delete` removes the cgroup.
    """
    try:
        with open(f"{bundle}/config.json", "rb") as f:
            spec = fastjson.loads(f.read())
        linux = (spec.get("linux") or {}) if isinstance(spec, dict) else {}
        path = linux.get("cgroupsPath") or container_id
        if not path or ":" in path:  # systemd's slice:prefix:name is not resolved here
            return False
        own: dict[str, str] = {}
        with open("/proc/self/cgroup") as f:
            for line in f:
                _, controllers, cgroup = line.rstrip("\n").split(":", 2)
                for controller in controllers.split(","):
                    own[controller] = cgroup
        if os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
            base = os.path.dirname(own.get("", "/"))
            directory = "/sys/fs/cgroup" + (path if path.startswith("/") else f"{base}/{path}")
            return _oom_kills(f"{directory}/memory.events") > 0
        base = own.get("memory", "/")
        directory = "/sys/fs/cgroup/memory" + (path if path.startswith("/") else f"{base}/{path}")
        return _oom_kills(f"{directory}/memory.oom_control") > 0
    except (OSError, ValueError, AttributeError):
        return False


def _oom_kills(path: str) -> int:
    with open(path) as f:
        for line in f:
            key, _, value = line.partition(" ")
            if key == "oom_kill":
                return int(value)
    return 0


# -- the supervisor ---------------------------------------------------------------------------------


class Supervisor:
    def __init__(self, options: Options) -> None:
        self.options = options
        self.exec_mode = options.mode == "exec"
        self.state_dir = options.state_dir.rstrip("/") or "/"
        self.dir_fd = os.open(self.state_dir, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
        self.rootfs = f"{options.bundle.rstrip('/')}/rootfs"
        self.loop = Loop()
        self.stdio = Stdio()
        self.stdin: StdinSink | None = None
        self.log: JsonFileLog | None = None
        self.attach_clients: list[AttachClient] = []
        self.control_clients: set[ControlClient] = set()
        self.listeners: dict[str, _socket.socket] = {}
        self.mounted = 0
        self.created = False  # the runtime's create/exec succeeded
        self.main_pid = 0
        self.started = False
        self.exit_code: int | None = None
        self.exited_ns = 0
        self.drain_deadline = 0.0
        self.hold = self.exec_mode  # output waits for a first attach
        self.hold_deadline = 0.0
        self.outputs_watched = False
        self.error = ""
        self.proxy: Proxy | None = None  # published ports (--ports)

    def path(self, name: str) -> str:
        return f"{self.state_dir}/{name}"

    # -- before readiness -----------------------------------------------------------------------

    def prepare(self) -> None:
        """Everything up to a created (start) or running (exec) process; ShimError on failure."""
        from jockerd.runtime.linux import constants, libc

        write_file(self.path("shim.pid"), f"{os.getpid()} {start_time(os.getpid())}".encode())
        libc.prctl(constants.PR_SET_CHILD_SUBREAPER, 1)
        try:
            if self.options.ports and not self.exec_mode:
                self._bind_ports()  # before anything else: a taken port leaves nothing to undo
            if not self.exec_mode:
                self.mounted = mount_all(self._read_mounts(), self.rootfs)
            self._create()
            if self.proxy is not None:
                try:
                    self.proxy.attach(self.main_pid)
                except OSError as e:
                    raise ShimError(f"publish ports: {e}") from None
        except BaseException:
            if self.proxy is not None:
                self.proxy.close()
                self.proxy = None
            if self.created:  # the runtime succeeded, a later step did not: take it down again
                if self.exec_mode:
                    if self.main_pid:
                        os.kill(self.main_pid, SIGKILL)
                else:
                    self.runtime(["delete", "--force", self.options.id])
            self.stdio.close()
            for name in list(self.listeners):
                self.listeners.pop(name).close()
                try:
                    os.unlink(self.path(name))
                except OSError:
                    pass
            if self.mounted:
                unmount(self.rootfs, self.mounted)
                self.mounted = 0
            raise

    def _bind_ports(self) -> None:
        """Listen on the published ports (ports.py) and write published.json for the daemon."""
        from jockerd.shim import ports

        try:
            endpoint, bindings = ports.load(self.options.ports)
        except (OSError, ValueError, KeyError) as e:
            raise ShimError(f"invalid ports.json: {e}") from None
        proxy = ports.Proxy(self.loop, endpoint, bindings)
        try:
            proxy.bind()
        except ports.PortError as e:
            raise ShimError(str(e)) from None
        self.proxy = proxy
        write_file(self.path("published.json"), proxy.published_json())

    def _read_mounts(self) -> list[dict]:
        try:
            with open(self.path("mounts.json"), "rb") as f:
                raw = f.read()
        except FileNotFoundError:
            return []
        if not raw.strip():
            return []
        try:
            mounts = fastjson.loads(raw)
        except ValueError as e:
            raise ShimError(f"invalid mounts.json: {e}") from None
        if not isinstance(mounts, list):
            raise ShimError("invalid mounts.json: not a list")
        return mounts

    def _create(self) -> None:
        o = self.options
        try:
            if o.log_path and not self.exec_mode:
                self.log = JsonFileLog(o.log_path, o.log_max_size, o.log_max_file)
        except OSError as e:
            raise ShimError(f"failed to open the container log: {e}") from None
        for name, kind in (("attach.sock", AttachClient), ("control.sock", ControlClient)):
            listener = unix_listener(short_path(self.state_dir, name, self.dir_fd))
            self.listeners[name] = listener
            self.loop.register(listener.fileno(), EPOLLIN, self._acceptor(listener, kind))
        pid_file = self.path("runtime.pid")
        try:
            os.unlink(pid_file)
        except FileNotFoundError:
            pass
        console = None
        if o.tty:
            console_path = short_path(self.state_dir, "console.sock", self.dir_fd, os.getpid())
            console = unix_listener(console_path)
        else:
            self.stdio = Stdio.pipes(o.stdin)
        try:
            if self.exec_mode:
                args = ["exec", "--process", o.process, "--detach", "--pid-file", pid_file]
            else:
                args = ["create", "--bundle", o.bundle, "--pid-file", pid_file]
            if console is not None:
                args += ["--console-socket", console_path]
            args.append(o.id)
            code, message = self.runtime(args, self.stdio.child)
            self.stdio.close_child()
            if code != 0:
                raise ShimError(message)
            self.created = True
            try:
                with open(pid_file, "rb") as f:
                    self.main_pid = int(f.read().strip())
                os.unlink(pid_file)
                if console is not None:
                    self.stdio = Stdio.tty(receive_console(console), o.stdin)
                    if o.console_size:
                        set_winsize(self.stdio.master, *o.console_size)
            except (OSError, ValueError) as e:
                raise ShimError(f"after the runtime's {args[0]}: {e}") from None
        finally:
            if console is not None:
                console.close()
                try:
                    os.unlink(console_path)
                except OSError:
                    pass
        try:
            started = start_time(self.main_pid)
        except (OSError, IndexError):
            started = "0"
        write_file(self.path("init.pid"), f"{self.main_pid} {started}".encode())
        if self.stdio.stdin >= 0:
            self.stdin = StdinSink(self.stdio.stdin, self.loop, self._on_stdin_drained, LOW_WATER)

    def runtime(self, args: list[str], stdio: tuple[int, int, int] | None = None) -> tuple[int, str]:
        """Run the runtime with `args` after its globals; (exit code, its error message)."""
        o = self.options
        log = self.path("runtime.log")
        try:
            offset = os.stat(log).st_size
        except FileNotFoundError:
            offset = 0
        argv = [*o.runtime, "--root", o.runtime_root, "--log", log, "--log-format", "json", *args]
        try:
            pid = spawn_in_process(argv[1:], stdio) if o.runtime_in_process else spawn(argv, stdio)
            code = wait_child(pid, RUNTIME_TIMEOUT)
        except OSError as e:
            return 127, f"cannot run the runtime {o.runtime[0]}: {e.strerror or e}"
        if code == 0:
            return 0, ""
        try:
            with open(log, "rb") as f:
                f.seek(offset)
                text = f.read().decode(errors="replace")
        except OSError:
            text = ""
        from jockerd.driver.runtime_log import parse_error_message

        message = parse_error_message(text)
        if code == -SIGKILL:
            message = f"timed out after {RUNTIME_TIMEOUT:g}s" + (f": {message}" if message else "")
        return code, message or f"exit status {code}"

    def start_process(self) -> str:
        """`RUNTIME start ID` (start mode), run here rather than by the daemon: the shim's loop
        stands still meanwhile, so a process that exits at once cannot have its runtime state
        deleted (clean-up) while `start` is still running. An error message, or "" on success."""
        if self.exec_mode:
            return "an exec'd process starts at once"
        if self.started:
            return ""
        code, message = self.runtime(["start", self.options.id])
        if code != 0:
            return message
        self.started = True
        return ""

    # -- the loop -------------------------------------------------------------------------------

    def serve(self) -> None:
        """Supervise until the process has exited and everything is cleaned up; write `exit`."""
        try:
            self.hold_deadline = time.monotonic() + HOLD_TIMEOUT
            self._install_sigchld()
            self._reap()  # the process may be gone already
            self._watch_outputs()
            self._run()
            self._finish_clients()
        except BaseException as e:  # write `exit` whatever happened
            self.error = f"shim: {type(e).__name__}: {e}"
        self._clean_up()

    def _install_sigchld(self) -> None:
        read_end, write_end = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        _signal.set_wakeup_fd(write_end, warn_on_full_buffer=False)
        _signal.signal(SIGCHLD, _ignore_signal)

        def on_wakeup(events: int) -> None:
            try:
                while os.read(read_end, 512):
                    pass
            except BlockingIOError:
                pass
            self._reap()

        self.loop.register(read_end, EPOLLIN, on_wakeup)

    def _run(self) -> None:
        while True:
            now = time.monotonic()
            timeout = None
            if self.proxy is not None:
                timeout = self.proxy.timeout(now)  # idle UDP flows
            if self.hold:
                if now >= self.hold_deadline:
                    self._release_hold()
                    continue
                timeout = _earliest(timeout, self.hold_deadline - now)
            elif self.exit_code is not None:
                if not self.stdio.outputs or now >= self.drain_deadline:
                    return
                timeout = _earliest(timeout, self.drain_deadline - now)
            self.loop.run_once(timeout)

    def _reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if pid == self.main_pid and self.exit_code is None:
                code = os.waitstatus_to_exitcode(status)
                self.exit_code = code if code >= 0 else 128 - code
                self.exited_ns = time.time_ns()
                self.drain_deadline = time.monotonic() + DRAIN_TIMEOUT
                self._close_ports()

    # -- output ---------------------------------------------------------------------------------

    def _outputs_wanted(self) -> bool:
        return not self.hold and all(len(c.out) <= HIGH_WATER for c in self.attach_clients)

    def _watch_outputs(self) -> None:
        wanted = self._outputs_wanted()
        if wanted == self.outputs_watched:
            return
        self.outputs_watched = wanted
        for fd in self.stdio.outputs:
            if wanted:
                self.loop.register(fd, EPOLLIN, self._output_reader(fd))
            else:
                self.loop.unregister(fd)

    def _output_reader(self, fd: int) -> Callable[[int], None]:
        return lambda events: self._on_output(fd)

    def _on_output(self, fd: int) -> None:
        try:
            data = os.read(fd, READ_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:  # EIO: every slave fd of the pty is closed
            data = b""
        if not data:
            self.loop.unregister(fd)
            os.close(fd)
            del self.stdio.outputs[fd]
            if self.stdio.master == fd:
                self.stdio.master = -1
            return
        stream = self.stdio.outputs[fd]
        if self.log is not None:
            try:
                self.log.write(stream, data)
            except OSError:  # a full disk costs log lines, as in Docker, not the container
                pass
        framed = None
        for client in self.attach_clients:
            if client.wants(stream):
                if framed is None:
                    framed = stdcopy.frame(stream, data)
                client.send(framed)
                if len(client.out) > HIGH_WATER:
                    self._watch_outputs()

    def _release_hold(self) -> None:
        if self.hold:
            self.hold = False
            self.drain_deadline = max(self.drain_deadline, time.monotonic() + DRAIN_TIMEOUT)
            self._watch_outputs()

    # -- attach clients (called by attach.AttachClient) ------------------------------------------

    def _acceptor(self, listener: _socket.socket, kind: type[AttachClient | ControlClient]) -> Callable:
        def on_accept(events: int) -> None:
            while (sock := accept(listener)) is not None:
                client = kind(self, sock)
                if isinstance(client, ControlClient):
                    self.control_clients.add(client)

        return on_accept

    def on_attach(self, client: AttachClient) -> None:
        self.attach_clients.append(client)
        if client.stdin and self.stdin is not None and len(self.stdin.pending) > HIGH_WATER:
            client.pause(True)
        self._release_hold()

    def on_client_stdin(self, client: AttachClient, data: bytes) -> None:
        if self.stdin is None:
            return
        self.stdin.write(data)
        if len(self.stdin.pending) > HIGH_WATER:
            for c in self.attach_clients:
                if c.stdin:
                    c.pause(True)

    def _on_stdin_drained(self) -> None:
        for c in self.attach_clients:
            if c.stdin:
                c.pause(False)

    def on_client_stdin_eof(self, client: AttachClient) -> None:
        if self.options.stdin_once and self.stdin is not None:
            self.stdin.close_when_drained()

    def on_client_closed(self, client: AttachClient) -> None:
        if client in self.attach_clients:
            self.attach_clients.remove(client)
            if client.stdin and client.reading:  # gone without an EOF first: that is its EOF
                self.on_client_stdin_eof(client)
        self._watch_outputs()

    def on_client_drained(self) -> None:
        self._watch_outputs()

    # -- control requests (called by attach.ControlClient) ---------------------------------------

    def resize(self, height: int, width: int) -> None:
        """TIOCSWINSZ on the pty; without a tty there is nothing to resize (as containerd)."""
        if self.stdio.master >= 0:
            set_winsize(self.stdio.master, height, width)

    def close_stdin(self) -> None:
        """Close the process's stdin after what attach clients have sent so far is written."""
        if self.stdin is None:
            return
        for client in list(self.attach_clients):
            if client.stdin:
                client.read_available()
        if self.stdin is not None:
            self.stdin.close_when_drained()

    # -- the end --------------------------------------------------------------------------------

    def _finish_clients(self) -> None:
        """Stop reading output, give attach clients what is buffered for them, and EOF."""
        for fd in self.stdio.outputs:
            self.loop.unregister(fd)
        self.outputs_watched = False
        if self.log is not None:
            self.log.flush()
        deadline = time.monotonic() + FLUSH_TIMEOUT
        while any(c.out for c in self.attach_clients) and (now := time.monotonic()) < deadline:
            self.loop.run_once(deadline - now)
        for client in list(self.attach_clients):
            client.shutdown()
        # Later attach requests are refused (the client then reads EOF); control.sock stays
        # until the shim exits, so `wait()`ers see its connections close after `exit` exists.
        listener = self.listeners.pop("attach.sock")
        self.loop.unregister(listener.fileno())
        listener.close()

    def _close_ports(self) -> None:
        """The container's process is gone: its published ports are free again."""
        if self.proxy is not None:
            self.proxy.close()
            self.proxy = None

    def _clean_up(self) -> None:
        o = self.options
        oom = False
        try:
            self._close_ports()
        except BaseException as e:
            self.error = self.error or f"close published ports: {e}"
        if not self.exec_mode:
            oom = oom_killed(o.bundle, o.id)
            code, message = self.runtime(["delete", "--force", o.id])
            if code != 0 and not any(gone in message.lower() for gone in _GONE):
                self.error = self.error or f"runtime delete: {message}"
            if self.mounted:
                try:
                    unmount(self.rootfs, self.mounted)
                except OSError as e:
                    self.error = self.error or f"unmount rootfs: {e}"
        if self.log is not None:
            self.log.close()
        status = {
            "exit_code": 255 if self.exit_code is None else self.exit_code,
            "oom_killed": oom,
            "finished_at": format_time(self.exited_ns or time.time_ns()),
            "error": self.error,
        }
        write_file(self.path("exit"), fastjson.dumps(status).encode(), sync=True)


def _earliest(timeout: float | None, other: float) -> float:
    return other if timeout is None else min(timeout, other)


def _ignore_signal(signum: int, frame: object) -> None:
    """SIGCHLD's handler: the wakeup fd does the work."""
