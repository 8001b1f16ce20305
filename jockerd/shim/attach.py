"""Client connections of the shim's sockets: attach.sock streams and control.sock requests.

Everything is non-blocking and driven by the supervisor's epoll loop. A connection keeps what
it could not send yet in `out`; the supervisor stops reading the process's output while any
attach client holds more than HIGH_WATER bytes (backpressure: nothing is dropped, the process
blocks on its full pipe as it would on a slow terminal), and resumes when they are below
LOW_WATER. The same applies to stdin: the supervisor stops reading attach clients while the
bytes waiting for the process's stdin are above HIGH_WATER.

A stopped reader of a socket whose peer is gone would make epoll report EPOLLHUP forever, so a
connection that is not reading and has seen the hang-up is taken off the loop until it reads
again (it still has the bytes the peer sent before closing).
"""

from __future__ import annotations

import select

from jockerd.runtime import fastjson

TYPE_CHECKING = False
if TYPE_CHECKING:
    import _socket

    from jockerd.shim.supervisor import Supervisor

EPOLLIN = select.EPOLLIN
EPOLLOUT = select.EPOLLOUT
EPOLLHUP = select.EPOLLHUP | select.EPOLLERR
HIGH_WATER = 1 << 20
LOW_WATER = 256 << 10
READ_SIZE = 64 << 10
WRITE_SIZE = 256 << 10
MAX_REQUEST = 4096  # a request line longer than this is refused
_SHUT_RDWR = 2


class Connection:
    """A non-blocking stream socket on the supervisor's loop, with an output buffer."""

    def __init__(self, supervisor: Supervisor, sock: _socket.socket) -> None:
        self.supervisor = supervisor
        self.sock = sock
        self.fd = sock.fileno()
        self.out = bytearray()
        self.reading = True  # until EOF from the peer
        self.paused = False  # reading held back by the supervisor (backpressure)
        self.hung_up = False  # the peer is gone (EPOLLHUP, EPIPE)
        self.closed = False
        supervisor.loop.register(self.fd, EPOLLIN, self.on_events)

    # -- events ------------------------------------------------------------------------------

    def on_events(self, events: int) -> None:
        try:
            self._on_events(events)
        except Exception:  # a bad client costs its connection, never the container
            self.close()

    def _on_events(self, events: int) -> None:
        if self.closed:
            return
        if events & EPOLLIN and self.reading and not self.paused:
            self._read()
        if self.closed:
            return
        if events & EPOLLOUT:
            self.flush()
        if events & EPOLLHUP and not self.closed:
            if self.reading and not self.paused:
                self._read()  # what the peer sent before it left, then EOF
            self.hung_up = True
            self.out.clear()
            if not self.reading:
                self.close()
            else:
                self.update()

    def _read(self) -> bool:
        """One read; whether it may be worth another (False: nothing to read now, or EOF)."""
        try:
            data = self.sock.recv(READ_SIZE)
        except (BlockingIOError, InterruptedError):
            return False
        except OSError:
            data = b""
        if data:
            self.on_data(data)
            return True
        self.reading = False
        self.on_eof()
        if self.hung_up and not self.closed:
            self.close()
        else:
            self.update()
        return False

    def read_available(self) -> None:
        """Read everything the peer has sent so far, backpressure or not."""
        while self.reading and not self.closed and self._read():
            pass

    def update(self) -> None:
        """Bring the epoll registration in line with what the connection waits for."""
        if self.closed:
            return
        mask = 0
        if self.reading and not self.paused:
            mask |= EPOLLIN
        if self.out and not self.hung_up:
            mask |= EPOLLOUT
        loop = self.supervisor.loop
        if self.hung_up and not mask:
            loop.unregister(self.fd)
        else:
            loop.register(self.fd, mask, self.on_events)

    # -- output ------------------------------------------------------------------------------

    def send(self, data: bytes) -> None:
        if self.hung_up or self.closed:
            return
        wanted = bool(self.out)
        self.out += data
        if not wanted:
            self.flush()

    def flush(self) -> None:
        """Send what the socket takes now; the rest waits for EPOLLOUT."""
        out = self.out
        before = len(out)
        while out:
            try:
                with memoryview(out) as view:
                    sent = self.sock.send(view[:WRITE_SIZE])
            except (BlockingIOError, InterruptedError):
                break
            except OSError:  # EPIPE, ECONNRESET: the peer is gone
                out.clear()
                self.hung_up = True
                break
            del out[:sent]
        self.update()
        if before > LOW_WATER >= len(out):
            self.supervisor.on_client_drained()

    def pause(self, paused: bool) -> None:
        if self.paused != paused:
            self.paused = paused
            self.update()

    def shutdown(self) -> None:
        """EOF to the peer, and close."""
        try:
            self.sock.shutdown(_SHUT_RDWR)
        except OSError:
            pass
        self.close()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.supervisor.loop.unregister(self.fd)
        self.sock.close()
        self.out.clear()
        self.on_close()

    # -- for subclasses ----------------------------------------------------------------------

    def on_data(self, data: bytes) -> None:
        raise NotImplementedError

    def on_eof(self) -> None:
        pass

    def on_close(self) -> None:
        pass


class AttachClient(Connection):
    """One attach.sock stream: a request line, an ack line, then stdcopy frames out, stdin in."""

    def __init__(self, supervisor: Supervisor, sock: _socket.socket) -> None:
        super().__init__(supervisor, sock)
        self.request = bytearray()
        self.attached = False
        self.stdin = self.stdout = self.stderr = False

    def wants(self, stream: int) -> bool:
        return self.stdout if stream == 1 else self.stderr

    def on_data(self, data: bytes) -> None:
        if self.attached:
            if self.stdin:
                self.supervisor.on_client_stdin(self, data)
            return
        self.request += data
        line, newline, rest = self.request.partition(b"\n")
        if not newline:
            if len(self.request) > MAX_REQUEST:
                self.shutdown()
            return
        try:
            request = fastjson.loads(bytes(line))
            if not isinstance(request, dict):
                raise ValueError("not an object")
        except ValueError:
            self.send(b'{"ok":false,"error":"invalid attach request"}\n')
            self.reading = False
            self.update()
            return
        self.stdin = bool(request.get("stdin"))
        self.stdout = bool(request.get("stdout"))
        self.stderr = bool(request.get("stderr"))
        self.attached = True
        self.request = bytearray()
        self.send(b'{"ok":true}\n')
        self.supervisor.on_attach(self)
        if rest and not self.closed:
            self.on_data(bytes(rest))

    def on_eof(self) -> None:
        if self.attached and self.stdin:
            self.supervisor.on_client_stdin_eof(self)

    def on_close(self) -> None:
        self.supervisor.on_client_closed(self)


class ControlClient(Connection):
    """One control.sock connection: JSON-lines requests, one reply line each.

    Connections stay open until the peer closes them or the shim exits, so a client can hold
    one to learn that the shim is gone.
    """

    def __init__(self, supervisor: Supervisor, sock: _socket.socket) -> None:
        super().__init__(supervisor, sock)
        self.buffer = bytearray()

    def on_data(self, data: bytes) -> None:
        self.buffer += data
        while not self.closed:
            line, newline, rest = self.buffer.partition(b"\n")
            if not newline:
                if len(self.buffer) > MAX_REQUEST:
                    self.shutdown()
                return
            self.buffer = rest
            if line.strip():
                self.send(fastjson.dumps(self._handle(bytes(line))).encode() + b"\n")

    def _handle(self, line: bytes) -> dict:
        try:
            request = fastjson.loads(line)
            if not isinstance(request, dict):
                raise ValueError("not an object")
        except ValueError as e:
            return {"ok": False, "error": f"invalid request: {e}"}
        op = request.get("op")
        try:
            if op == "ping":
                pass
            elif op == "resize":
                self.supervisor.resize(int(request["height"]), int(request["width"]))
            elif op == "close_stdin":
                self.supervisor.close_stdin()
            elif op == "start":
                error = self.supervisor.start_process()
                if error:
                    return {"ok": False, "error": error}
            else:
                return {"ok": False, "error": f"unknown op: {op!r}"}
        except (KeyError, TypeError, ValueError, OSError) as e:
            return {"ok": False, "error": f"{op}: {e}"}
        return {"ok": True}

    def on_close(self) -> None:
        self.supervisor.control_clients.discard(self)
