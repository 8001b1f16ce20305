"""Terminals: the pty is allocated inside the container and its master sent out (runc's model).

Container side (`setup_console`, in the init or tenant process, after pivot_root / setns so that
/dev/ptmx is the container's devpts instance): open /dev/ptmx, unlock it, open the slave,
bind the slave onto /dev/console (init only), send the master over the console socket with
SCM_RIGHTS (message: "/dev/ptmx", as runc sends), make the slave stdio and controlling tty.

Caller side: `--console-socket PATH` names an AF_UNIX stream socket the caller listens on; the
launcher connects before forking. `run`/`exec` in the foreground with a terminal and no socket
use an internal socketpair and `proxy()` between their own stdio and the master.
"""

from __future__ import annotations

import os

from jockerd.runtime.errors import ContainerError
from jockerd.runtime.linux import constants as C

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from jockerd.runtime.linux.syscalls import Syscalls


def connect_console_socket(path: str) -> int:
    import socket

    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
    try:
        sock.connect(path)
    except OSError as e:
        sock.close()
        raise ContainerError(f"failed to connect to console socket {path}: {e.strerror}") from None
    return sock.detach()


def socketpair() -> tuple[int, int]:
    import socket

    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
    return a.detach(), b.detach()


def setup_console(socket_fd: int, size: dict | None, sys: Syscalls, *, console: bool) -> None:
    import struct

    master = sys.open("/dev/ptmx", os.O_RDWR | os.O_NOCTTY | os.O_CLOEXEC)
    try:
        sys.ioctl(master, C.TIOCSPTLCK, struct.pack("i", 0))
        number = struct.unpack("I", sys.ioctl(master, C.TIOCGPTN, b"\0\0\0\0"))[0]
        slave_path = f"/dev/pts/{number}"
        if size:
            winsize = struct.pack("HHHH", size.get("height", 0), size.get("width", 0), 0, 0)
            sys.ioctl(master, C.TIOCSWINSZ, winsize)
        slave = sys.open(slave_path, os.O_RDWR | os.O_NOCTTY | os.O_CLOEXEC)
        if console:
            from jockerd.runtime.rootfs import create_file

            create_file("/dev/console", sys)
            sys.mount(slave_path, "/dev/console", None, C.MS_BIND, None)
        send_fd(socket_fd, master, b"/dev/ptmx")
    finally:
        sys.close(master)
    for fd in (0, 1, 2):
        sys.dup2(slave, fd)
    sys.close(slave)
    sys.ioctl(0, C.TIOCSCTTY, 0)


def send_fd(socket_fd: int, fd: int, name: bytes) -> None:
    import socket

    sock = socket.socket(fileno=socket_fd)
    try:
        socket.send_fds(sock, [name], [fd])
    finally:
        sock.detach()


def receive_fd(socket_fd: int) -> int:
    import socket

    sock = socket.socket(fileno=socket_fd)
    try:
        _, fds, _, _ = socket.recv_fds(sock, 4096, 1)
    finally:
        sock.detach()
    if not fds:
        raise ContainerError("console socket: no file descriptor received")
    return fds[0]


def proxy(master: int, done: Callable[[], bool]) -> None:
    """Copy stdin → master and master → stdout until the master hangs up and `done()` is true."""
    import select
    import termios
    import tty

    saved = None
    if os.isatty(0):
        saved = termios.tcgetattr(0)
        tty.setraw(0)
    try:
        stdin_open = True
        while True:
            fds = [master, 0] if stdin_open else [master]
            ready, _, _ = select.select(fds, [], [], 0.1)
            if master in ready:
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: every slave fd is closed
                    data = b""
                if not data:
                    break
                os.write(1, data)
            if 0 in ready:
                data = os.read(0, 65536)
                if data:
                    os.write(master, data)
                else:
                    stdin_open = False
            if not ready and done():
                break
    finally:
        if saved is not None:
            termios.tcsetattr(0, termios.TCSADRAIN, saved)
