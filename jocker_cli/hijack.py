"""Hijacked streams: attach and exec start upgrade the HTTP connection to a raw byte stream.

requests cannot hand over its socket, so this speaks the upgrade on a plain AF_UNIX socket
(docker-cli-flows.md §A5): `Connection: Upgrade`, `Upgrade: tcp`, 101, then raw bytes. Output
is stdcopy-framed without a TTY (stream 1 → stdout, 2 → stderr) and raw with one; stdin is never
framed, and its end is a half-close (shutdown SHUT_WR) so the daemon closes the container's stdin
and keeps streaming output.

`pump()` runs the session: the socket is read on the calling (main) thread; stdin is copied by a
daemon thread; signals reach the loop through signal.set_wakeup_fd, so SIGWINCH becomes a resize
(and the sig-proxy's kill) on the main thread, never inside a signal handler.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import select
import signal
import socket
import struct
import sys
import termios
import threading

from jocker_cli.client import USER_AGENT, CliError, EngineClient, daemon_error

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing costs start-up time
    from collections.abc import Callable, Iterator
    from typing import Any

DEFAULT_DETACH_KEYS = b"\x10\x11"  # ctrl-p ctrl-q
# Signals the docker CLI does not proxy to the container (it forwards every other one it gets).
NOT_PROXIED = {signal.SIGCHLD, signal.SIGPIPE, signal.SIGURG, signal.SIGWINCH, signal.SIGKILL, signal.SIGSTOP}
PROXIED = [
    signal.SIGHUP, signal.SIGINT, signal.SIGQUIT, signal.SIGTERM, signal.SIGUSR1, signal.SIGUSR2,
    signal.SIGALRM, signal.SIGCONT, signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU,
]  # fmt: skip


class HijackedStream:
    def __init__(self, sock: socket.socket, leftover: bytes) -> None:
        self.sock = sock
        self.leftover = leftover

    def recv(self, size: int = 65536) -> bytes:
        if self.leftover:
            data, self.leftover = self.leftover[:size], self.leftover[size:]
            return data
        return self.sock.recv(size)

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def close_write(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


def upgrade(client: EngineClient, target: str, json_body: Any = None) -> HijackedStream:
    sock = client.connect()
    body = b"" if json_body is None else json.dumps(json_body, separators=(",", ":")).encode()
    content_type = "application/json" if json_body is not None else "text/plain"
    head = (
        f"POST {target} HTTP/1.1\r\nHost: api.moby.localhost\r\nUser-Agent: {USER_AGENT}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: Upgrade\r\nContent-Type: {content_type}\r\n"
        "Upgrade: tcp\r\n\r\n"
    )
    try:
        sock.sendall(head.encode("latin-1") + body)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                raise CliError("error during connect: the daemon closed the connection")
            data += chunk
    except OSError as e:
        sock.close()
        raise CliError(f"error during connect: {e}") from None
    raw_head, _, rest = data.partition(b"\r\n\r\n")
    lines = raw_head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    status = int(parts[1])
    headers = {}
    for line in lines[1:]:
        key, _, value = line.partition(":")
        headers[key.strip().lower()] = value.strip()
    if status == 101:
        return HijackedStream(sock, rest)
    length = int(headers.get("content-length") or 0)
    with contextlib.suppress(OSError):
        while len(rest) < length:
            chunk = sock.recv(65536)
            if not chunk:
                break
            rest += chunk
    sock.close()
    if status >= 400:
        raise daemon_error(status, parts[2] if len(parts) > 2 else "", headers.get("content-type", ""), rest)
    raise CliError(f"unable to upgrade to tcp, received {status}")


# -- stdcopy ---------------------------------------------------------------------------------------


class Demux:
    """Splits stdcopy frames ([stream, 0, 0, 0, size_be32] + payload) across reads."""

    def __init__(self, stdout: Any, stderr: Any) -> None:
        self.targets = {0: stdout, 1: stdout, 2: stderr}
        self.buffer = b""

    def feed(self, data: bytes) -> None:
        self.buffer += data
        while len(self.buffer) >= 8:
            kind = self.buffer[0]
            (size,) = struct.unpack(">I", self.buffer[4:8])
            if len(self.buffer) < 8 + size:
                return
            payload, self.buffer = self.buffer[8 : 8 + size], self.buffer[8 + size :]
            if kind == 3:
                raise CliError(payload.decode("utf-8", "replace").strip())
            target = self.targets.get(kind)
            if target is None:
                raise CliError(f"Unrecognized input header: {kind}")
            target.write(payload)
            target.flush()


def demux_frames(chunks: Iterator[bytes]) -> Iterator[tuple[int, bytes]]:
    """(stream, payload) for each stdcopy frame of a body (logs)."""
    buffer = b""
    for chunk in chunks:
        buffer += chunk
        while len(buffer) >= 8:
            (size,) = struct.unpack(">I", buffer[4:8])
            if len(buffer) < 8 + size:
                break
            yield buffer[0], buffer[8 : 8 + size]
            buffer = buffer[8 + size :]


# -- terminals -------------------------------------------------------------------------------------


def terminal_size(fd: int | None = None) -> tuple[int, int]:
    """(rows, cols) of the terminal on stdout (docker reads the output stream's size)."""
    for candidate in [fd] if fd is not None else [1, 0]:
        try:
            rows, cols, _, _ = struct.unpack("HHHH", fcntl.ioctl(candidate, termios.TIOCGWINSZ, b"\0" * 8))
            return rows, cols
        except OSError:
            continue
    return 0, 0


@contextlib.contextmanager
def raw_terminal(enabled: bool) -> Iterator[None]:
    """stdin in raw mode while a TTY session runs (like `term.SetRawTerminal`), restored after."""
    fd = sys.stdin.fileno() if enabled else -1
    saved = None
    if enabled and os.isatty(fd):
        saved = termios.tcgetattr(fd)
        mode = termios.tcgetattr(fd)
        mode[0] &= ~(termios.IGNBRK | termios.BRKINT | termios.PARMRK | termios.ISTRIP | termios.INLCR
                     | termios.IGNCR | termios.ICRNL | termios.IXON)  # fmt: skip
        mode[1] &= ~termios.OPOST
        mode[2] &= ~(termios.CSIZE | termios.PARENB)
        mode[2] |= termios.CS8
        mode[3] &= ~(termios.ECHO | termios.ECHONL | termios.ICANON | termios.ISIG | termios.IEXTEN)
        mode[6][termios.VMIN] = 1
        mode[6][termios.VTIME] = 0
        termios.tcsetattr(fd, termios.TCSANOW, mode)
    try:
        yield
    finally:
        if saved is not None:
            termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def parse_detach_keys(spec: str | None) -> bytes:
    """docker's --detach-keys: "ctrl-p,ctrl-q", "a,b" (ctrl-@ … ctrl-_ and single characters)."""
    if not spec:
        return DEFAULT_DETACH_KEYS
    out = bytearray()
    for key in spec.split(","):
        key = key.strip()
        if key.startswith("ctrl-") and len(key) == 6:
            char = key[5].lower()
            codes = {"@": 0, "[": 27, "\\": 28, "]": 29, "^": 30, "_": 31}
            if "a" <= char <= "z":
                out.append(ord(char) - ord("a") + 1)
            elif char in codes:
                out.append(codes[char])
            else:
                raise CliError(f"Unknown character: '{key}'")
        elif len(key) == 1:
            out.append(ord(key))
        else:
            raise CliError(f"Unknown character: '{key}'")
    return bytes(out)


# -- a session -------------------------------------------------------------------------------------


class Session:
    """One attached stream: output to stdout/stderr, stdin to the container, signals as calls."""

    def __init__(
        self,
        stream: HijackedStream,
        *,
        tty: bool,
        stdin: bool,
        detach_keys: bytes = DEFAULT_DETACH_KEYS,
        on_resize: Callable[[], None] | None = None,
        on_signal: Callable[[int], None] | None = None,
    ) -> None:
        self.stream = stream
        self.tty = tty
        self.stdin = stdin
        self.detach_keys = detach_keys if tty else b""
        self.on_resize = on_resize
        self.on_signal = on_signal
        self.detached = False
        self.error: BaseException | None = None

    def _stdin_loop(self) -> None:
        fd = sys.stdin.fileno()
        matched = b""
        try:
            while True:
                try:
                    data = os.read(fd, 32768)
                except OSError:
                    data = b""
                if not data:
                    break
                if self.detach_keys:
                    data, matched, detach = _scan_detach(data, matched, self.detach_keys)
                    if data:
                        self.stream.send(data)
                    if detach:
                        self.detached = True
                        with contextlib.suppress(OSError):
                            self.stream.sock.shutdown(socket.SHUT_RDWR)
                        return
                else:
                    self.stream.send(data)
        except OSError:
            return
        self.stream.close_write()

    def run(self) -> None:
        """Until the daemon ends the output (or the user detaches)."""
        out = sys.stdout.buffer
        err = sys.stderr.buffer
        demux = None if self.tty else Demux(out, err)
        if self.stdin:
            threading.Thread(target=self._stdin_loop, daemon=True).start()
        rfd, wfd = os.pipe()
        os.set_blocking(wfd, False)
        os.set_blocking(rfd, False)
        watched = [signal.SIGWINCH] if self.on_resize else []
        if self.on_signal:
            watched += PROXIED
        previous = {}
        old_wakeup = -1
        if watched and threading.current_thread() is threading.main_thread():
            old_wakeup = signal.set_wakeup_fd(wfd, warn_on_full_buffer=False)
            for number in watched:
                with contextlib.suppress(OSError, ValueError):
                    previous[number] = signal.signal(number, _noop)
        try:
            sock = self.stream.sock
            while True:
                if not self.stream.leftover:
                    ready, _, _ = _select([sock, rfd])
                    if rfd in ready:
                        self._signals(rfd)
                    if sock not in ready:
                        continue
                try:
                    data = self.stream.recv(65536)
                except OSError:
                    data = b""
                if not data:
                    break
                if demux is not None:
                    demux.feed(data)
                else:
                    out.write(data)
                    out.flush()
        finally:
            if previous:
                for number, handler in previous.items():
                    with contextlib.suppress(OSError, ValueError, TypeError):
                        signal.signal(number, handler)
                signal.set_wakeup_fd(old_wakeup)
            os.close(rfd)
            os.close(wfd)
            self.stream.close()

    def _signals(self, rfd: int) -> None:
        try:
            numbers = os.read(rfd, 512)
        except BlockingIOError:
            return
        for number in numbers:
            if number == signal.SIGWINCH and self.on_resize:
                if self.on_signal:
                    self.on_signal(number)  # the docker CLI's sig-proxy sends kill?signal=WINCH too
                self.on_resize()
            elif self.on_signal and number in PROXIED:
                self.on_signal(number)


def _noop(signum: int, frame: Any) -> None:
    pass


def _select(fds: list[Any]) -> tuple[list[Any], list[Any], list[Any]]:
    while True:
        try:
            return select.select(fds, [], [])
        except InterruptedError:
            continue


def _scan_detach(data: bytes, matched: bytes, keys: bytes) -> tuple[bytes, bytes, bool]:
    """Hold back a prefix of the detach sequence; (bytes to send, held prefix, detach?)."""
    out = bytearray()
    for byte in data:
        candidate = matched + bytes([byte])
        if keys.startswith(candidate):
            matched = candidate
            if matched == keys:
                return bytes(out), b"", True
        else:
            out += candidate
            matched = b""
    return bytes(out), matched, False
