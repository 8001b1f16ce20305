"""The process's stdio as the shim holds it: pipes, or a pty master from the console socket.

Sockets are made with `_socket`, the C module under `socket`: `import socket` builds its enums
at import time (~10 ms, on every `docker run`), and the shim needs none of them.

Unix socket paths are limited to 107 bytes, and an exec's state dir
(`exec_root/shim/<64 hex>/exec/<64 hex>`) is longer than that: a longer path is reached through
the directory's file descriptor, `/proc/PID/fd/N/NAME` (what `short_path` returns).
"""

from __future__ import annotations

import _socket
import os
import select

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

EPOLLOUT = select.EPOLLOUT

MAX_SOCKET_PATH = 107  # sizeof(sun_path) - 1
_CLOEXEC = os.O_CLOEXEC


def short_path(directory: str, name: str, dir_fd: int, pid: int | str = "self") -> str:
    """`directory/name`, or the same file through /proc/PID/fd/DIR_FD when that is too long."""
    path = f"{directory}/{name}"
    if len(os.fsencode(path)) <= MAX_SOCKET_PATH:
        return path
    return f"/proc/{pid}/fd/{dir_fd}/{name}"


def unix_listener(path: str) -> _socket.socket:
    """A non-blocking AF_UNIX stream socket listening on `path` (a stale file is replaced)."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM | _socket.SOCK_CLOEXEC)
    try:
        sock.bind(path)
        sock.listen(64)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


def accept(listener: _socket.socket) -> _socket.socket | None:
    """The next pending connection, non-blocking; None when there is none."""
    try:
        fd, _ = listener._accept()
    except (BlockingIOError, InterruptedError, ConnectionAbortedError):
        return None
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM, 0, fd)
    sock.setblocking(False)
    return sock


def receive_console(listener: _socket.socket) -> int:
    """The pty master the runtime sent over the console socket (SCM_RIGHTS), as runc does.

    Called after `create`/`exec` succeeded, so the runtime has connected and sent it already.
    """
    conn = accept(listener)
    if conn is None:
        raise OSError("the runtime did not connect to the console socket")
    try:
        conn.setblocking(True)
        conn.settimeout(5.0)
        _, ancillary, _, _ = conn.recvmsg(4096, _socket.CMSG_SPACE(4 * 4))
    finally:
        conn.close()
    fds: list[int] = []
    for level, kind, data in ancillary:
        if level == _socket.SOL_SOCKET and kind == _socket.SCM_RIGHTS:
            fds += [int.from_bytes(data[i : i + 4], "little") for i in range(0, len(data) - 3, 4)]
    if not fds:
        raise OSError("the runtime sent no pty master over the console socket")
    for extra in fds[1:]:
        os.close(extra)
    os.set_inheritable(fds[0], False)
    return fds[0]


def set_winsize(fd: int, height: int, width: int) -> None:
    """TIOCSWINSZ on the pty master: the process gets SIGWINCH."""
    import fcntl

    from jockerd.runtime.linux import constants as C

    winsize = height.to_bytes(2, "little") + width.to_bytes(2, "little") + bytes(4)
    fcntl.ioctl(fd, C.TIOCSWINSZ, winsize)


class Stdio:
    """The shim's ends of the process's stdio, and the ends the runtime hands to the process.

    - pipes: `outputs` are the read ends of stdout (stream 1) and stderr (stream 2), `stdin`
      the write end of the stdin pipe (or -1: the process gets /dev/null);
    - tty: the pty master is the single output (stream 1), and a dup of it is `stdin`, so the
      two directions are watched separately.
    The shim's ends are non-blocking and close-on-exec. `child` is (stdin, stdout, stderr) for
    the runtime, or None with a tty (the runtime then keeps the shim's /dev/null).
    """

    def __init__(self) -> None:
        self.outputs: dict[int, int] = {}  # fd → stream
        self.stdin = -1
        self.master = -1
        self.child: tuple[int, int, int] | None = None

    @classmethod
    def pipes(cls, stdin: bool) -> Stdio:
        stdio = cls()
        out_r, out_w = os.pipe2(_CLOEXEC)
        err_r, err_w = os.pipe2(_CLOEXEC)
        if stdin:
            in_r, stdio.stdin = os.pipe2(_CLOEXEC)
            os.set_blocking(stdio.stdin, False)
        else:
            in_r = os.open("/dev/null", os.O_RDONLY | _CLOEXEC)
        for fd in (out_r, err_r):
            os.set_blocking(fd, False)
        stdio.outputs = {out_r: 1, err_r: 2}
        stdio.child = (in_r, out_w, err_w)
        return stdio

    @classmethod
    def tty(cls, master: int, stdin: bool) -> Stdio:
        stdio = cls()
        os.set_blocking(master, False)
        stdio.master = master
        stdio.outputs = {master: 1}
        if stdin:
            stdio.stdin = os.dup(master)
        return stdio

    def close_child(self) -> None:
        """Close the runtime's ends once it has started (the process holds its own copies)."""
        if self.child is not None:
            for fd in self.child:
                os.close(fd)
            self.child = None

    def close(self) -> None:
        self.close_child()
        for fd in (*self.outputs, self.stdin):
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self.outputs, self.stdin, self.master = {}, -1, -1


class StdinSink:
    """Bytes on their way to the process's stdin, written as the pipe takes them.

    `write` never blocks: what the pipe does not take now waits in `pending` and is written on
    EPOLLOUT. `close_when_drained` closes the pipe (the process reads EOF) once everything
    accepted before it is written. A dead reader (EPIPE) discards what is pending.
    `on_drained` is called when `pending` drops to LOW_WATER or below (the supervisor then
    resumes reading its attach clients).
    """

    CHUNK = 64 << 10

    def __init__(self, fd: int, loop: Loop, on_drained: Callable[[], None], low_water: int) -> None:
        self.fd = fd
        self.loop = loop
        self.on_drained = on_drained
        self.low_water = low_water
        self.pending = bytearray()
        self.closing = False

    @property
    def closed(self) -> bool:
        return self.fd < 0

    def write(self, data: bytes) -> None:
        if self.fd < 0 or self.closing:
            return
        idle = not self.pending
        self.pending += data
        if idle:
            self.flush()

    def close_when_drained(self) -> None:
        if self.fd >= 0:
            self.closing = True
            self.flush()

    def flush(self, events: int = 0) -> None:
        pending = self.pending
        before = len(pending)
        while pending:
            try:
                with memoryview(pending) as view:
                    written = os.write(self.fd, view[: self.CHUNK])
            except (BlockingIOError, InterruptedError):
                break
            except OSError:  # EPIPE: nobody reads the process's stdin any more
                self.close()
                return
            del pending[:written]
        if pending:
            self.loop.register(self.fd, EPOLLOUT, self.flush)
        else:
            self.loop.unregister(self.fd)
            if self.closing:
                self.close()
                return
        if before > self.low_water >= len(pending):
            self.on_drained()

    def close(self) -> None:
        if self.fd < 0:
            return
        self.loop.unregister(self.fd)
        os.close(self.fd)
        self.fd = -1
        self.pending.clear()
        self.on_drained()


class Loop:
    """A level-triggered epoll loop: one handler per file descriptor."""

    def __init__(self) -> None:
        self.epoll = select.epoll()
        self.handlers: dict[int, Callable[[int], None]] = {}

    def register(self, fd: int, mask: int, handler: Callable[[int], None]) -> None:
        """Watch `fd` for `mask` (EPOLLHUP and EPOLLERR are always reported) with `handler`."""
        if fd in self.handlers:
            self.epoll.modify(fd, mask)
        else:
            self.epoll.register(fd, mask)
        self.handlers[fd] = handler

    def unregister(self, fd: int) -> None:
        if self.handlers.pop(fd, None) is not None:
            try:
                self.epoll.unregister(fd)
            except OSError:
                pass

    def run_once(self, timeout: float | None) -> None:
        try:
            events = self.epoll.poll(-1 if timeout is None else max(timeout, 0.0))
        except InterruptedError:
            return
        for fd, mask in events:
            handler = self.handlers.get(fd)
            if handler is not None:
                handler(mask)
