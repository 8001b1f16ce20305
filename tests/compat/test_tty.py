"""`docker run -it` and `docker exec -it` in a real terminal (a pty the test drives).

The CLI puts its terminal in raw mode, sends ConsoleSize, resizes after start and on SIGWINCH
(kill?signal=WINCH plus resize), and exits with the container's code (traces 07, 08, 11).
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import struct
import termios
import time

import pytest

from tests.conftest import DOCKER

pytestmark = [pytest.mark.root]


class Terminal:
    """The docker CLI on the slave side of a pty; this side types and reads."""

    def __init__(self, env: dict[str, str], argv: list[str], rows: int = 30, cols: int = 100) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # pragma: no cover - the child
            os.execve(argv[0], argv, env)
        self.resize(rows, cols)
        self.buffer = b""

    def resize(self, rows: int, cols: int) -> None:
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

    def expect(self, token: bytes, timeout: float = 15) -> bytes:
        deadline = time.monotonic() + timeout
        while token not in self.buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"{token!r} not seen; got {self.buffer[-500:]!r}")
            ready, _, _ = select.select([self.fd], [], [], min(remaining, 0.2))
            if ready:
                try:
                    chunk = os.read(self.fd, 65536)
                except OSError:
                    chunk = b""
                if not chunk:
                    raise AssertionError(f"terminal closed before {token!r}; got {self.buffer[-500:]!r}")
                self.buffer += chunk
        seen, _, self.buffer = self.buffer.partition(token)
        return seen + token

    def type(self, text: bytes) -> None:
        os.write(self.fd, text)

    def resize_and_expect(self, rows: int, cols: int, timeout: float = 10) -> None:
        """Resize the terminal, signal the CLI, and ask `stty size` until the container sees it:
        the resize travels asynchronously (kill WINCH plus a resize request)."""
        self.resize(rows, cols)
        os.kill(self.pid, signal.SIGWINCH)
        deadline = time.monotonic() + timeout
        while True:
            self.type(b"stty size\r")
            try:
                self.expect(f"{rows} {cols}".encode(), timeout=1)
                return
            except AssertionError:
                if time.monotonic() > deadline:
                    raise

    def wait(self, timeout: float = 20) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                os.close(self.fd)
                return os.waitstatus_to_exitcode(status)
            ready, _, _ = select.select([self.fd], [], [], 0.1)
            if ready:
                try:
                    self.buffer += os.read(self.fd, 65536)
                except OSError:
                    pass
        os.kill(self.pid, signal.SIGKILL)
        raise AssertionError("the docker CLI did not exit")


@pytest.fixture(scope="module")
def d(shared_jockerd, busybox_archive):
    shared_jockerd.docker_ok("load", "-i", str(busybox_archive))
    return shared_jockerd


def check_interactive_shell(term: Terminal, d) -> None:
    """`run -it --rm busybox sh` at 30x100: prompt, a typed command, the size, a resize, the exit
    code, and the container gone (shared by the docker CLI's and jocker's tests)."""
    term.expect(b"/ # ")
    term.type(b"echo typed-$((40+2))\r")
    term.expect(b"typed-42")
    term.type(b"stty size\r")
    term.expect(b"30 100")
    term.resize_and_expect(40, 120)
    term.type(b"exit 3\r")
    assert term.wait() == 3
    assert d.docker_ok("ps", "-aq") == ""


def test_run_it_prompt_commands_resize_exit_code(d):
    check_interactive_shell(Terminal(d.env, [DOCKER, "run", "-it", "--rm", "busybox", "sh"]), d)


def test_run_it_ctrl_d(d):
    term = Terminal(d.env, [DOCKER, "run", "-it", "--name", "ctrld", "busybox", "sh"])
    term.expect(b"/ # ")
    term.type(b"\x04")
    assert term.wait() == 0
    assert d.docker_ok("inspect", "-f", "{{.State.ExitCode}} {{.Config.Tty}}", "ctrld") == "0 true\n"
    logs = d.docker_ok("logs", "ctrld")
    assert "/ # " in logs  # the pty's output is logged, CRLF and all
    d.docker_ok("rm", "ctrld")


def test_exec_it(d):
    d.docker_ok("run", "-d", "--name", "host", "busybox", "sleep", "1000")
    term = Terminal(d.env, [DOCKER, "exec", "-it", "host", "sh"], rows=25, cols=90)
    term.expect(b"# ")
    term.type(b"stty size; tty\r")
    term.expect(b"25 90")
    term.expect(b"/dev/pts/")
    term.type(b"exit 2\r")
    assert term.wait() == 2
    d.docker_ok("rm", "-f", "host")
