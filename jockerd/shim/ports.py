"""Published ports: the userland proxy of `docker run -p`, inside the container's shim.

The daemon writes `ports.json` (`--ports FILE`): the endpoint's name for error messages and the
bindings, each `{"proto", "host_ip", "host_port", "host_port_end", "container_port"}`
(host_ip "" means 0.0.0.0 and [::] on one port; host_port 0 means one the kernel picks from its
ephemeral range, which is dockerd's 32768-60999 by default; a range means the first free port
in it). `bind()` makes every listener in the shim's network namespace (the daemon's) *before*
the container exists, so a taken port fails the start with dockerd's words and nothing to undo,
and writes `published.json`: what was bound, `[{"proto", "host_ip", "host_port",
"container_port"}]`, which the daemon shows as NetworkSettings.Ports.

Once the runtime has created the container, `attach(pid)` opens /proc/PID/ns/net. Each accepted
TCP connection gets a socket made in that namespace (setns there, socket(), setns back: a socket
keeps the namespace it was made in) connected to 127.0.0.1:<container port>, and bytes are
relayed both ways with half-close (EOF one way is a shutdown(SHUT_WR) the other way), reading a
side only while the other has less than HIGH_WATER bytes waiting. UDP: one upstream socket per
client address, replies sent back from the published port, closed after UDP_IDLE seconds
without traffic (dockerd's proxy uses the same 90 s).

Why here and not in jockerd: the shim outlives the daemon, so published ports keep working while
jockerd is down or restarted, as the shim keeps stdio. Only imported when ports are published:
`docker run` without -p pays nothing for it.
"""

from __future__ import annotations

import _socket
import os
import time

from jockerd.runtime import fastjson
from jockerd.shim.attach import EPOLLHUP, EPOLLIN, EPOLLOUT, HIGH_WATER, READ_SIZE

TYPE_CHECKING = False
if TYPE_CHECKING:
    from jockerd.shim.stdio import Loop

UDP_IDLE = 90.0
UDP_MAX_DATAGRAM = 65535
EPHEMERAL_TRIES = 16
CONNECT_ADDRESS = "127.0.0.1"
_EADDRINUSE = 98
_EINPROGRESS = 115
_SHUT_WR = 1
_SOL_SOCKET = 1
_SO_ERROR = 4
_SO_REUSEADDR = 2
_IPPROTO_IPV6 = 41
_IPV6_V6ONLY = 26
_CLONE_NEWNET = 0x40000000
_FLAGS = _socket.SOCK_CLOEXEC | _socket.SOCK_NONBLOCK


class PortError(Exception):
    """A binding could not be made: the message is dockerd's."""


def load(path: str) -> tuple[str, list[dict]]:
    """(endpoint, bindings) from the daemon's ports.json."""
    with open(path, "rb") as f:
        spec = fastjson.loads(f.read())
    if not isinstance(spec, dict) or not isinstance(spec.get("bindings"), list):
        raise ValueError("not an object with a list of bindings")
    return str(spec.get("endpoint") or ""), spec["bindings"]


def _family(ip: str) -> int:
    return _socket.AF_INET6 if ":" in ip else _socket.AF_INET


def _listen(proto: str, ip: str, port: int) -> _socket.socket:
    family = _family(ip)
    kind = _socket.SOCK_STREAM if proto == "tcp" else _socket.SOCK_DGRAM
    sock = _socket.socket(family, kind | _FLAGS)
    try:
        if family == _socket.AF_INET6:
            sock.setsockopt(_IPPROTO_IPV6, _IPV6_V6ONLY, 1)
        if proto == "tcp":  # as Go's listeners: a port in TIME_WAIT can be taken again at once
            sock.setsockopt(_SOL_SOCKET, _SO_REUSEADDR, 1)
        sock.bind((ip, port))
        if proto == "tcp":
            sock.listen(128)
    except BaseException:
        sock.close()
        raise
    return sock


def _host_port(ip: str, port: int) -> str:
    return f"{ip}:{port}"


class Proxy:
    """Every published port of one container: listeners, then relays."""

    def __init__(self, loop: Loop, endpoint: str, bindings: list[dict]) -> None:
        self.loop = loop
        self.endpoint = endpoint
        self.bindings = bindings
        self.listeners: list[_Listener] = []
        self.published: list[dict] = []
        self.netns = -1
        self.ownns = -1
        self.relays: set[_TcpRelay] = set()
        self.next_expiry: float | None = None

    # -- before the container exists ---------------------------------------------------------

    def bind(self) -> None:
        """Bind every listener (PortError, with everything closed again, if one cannot be)."""
        try:
            for binding in self.bindings:
                self._bind_one(binding)
        except BaseException:
            self.close()
            raise

    def _bind_one(self, binding: dict) -> None:
        proto = str(binding.get("proto") or "tcp")
        ip = str(binding.get("host_ip") or "")
        first = int(binding.get("host_port") or 0)
        last = max(int(binding.get("host_port_end") or first), first)
        target = int(binding["container_port"])
        addresses = [ip] if ip else ["0.0.0.0", "::"]
        candidates = [0] * EPHEMERAL_TRIES if first == 0 else list(range(first, last + 1))
        error: PortError | None = None
        for candidate in candidates:
            try:
                socks = self._bind_addresses(proto, addresses, candidate, optional_v6=not ip)
            except PortError as e:
                error = e
                continue
            for address, sock in socks:
                port = sock.getsockname()[1]
                self.listeners.append(_Listener(self, proto, sock, target))
                self.published.append(
                    {"proto": proto, "host_ip": address, "host_port": port, "container_port": target}
                )
            return
        taken = f"Bind for {_host_port(addresses[0], first)} failed: port is already allocated"
        raise error or PortError(self._message(taken))

    def _bind_addresses(
        self, proto: str, addresses: list[str], port: int, *, optional_v6: bool
    ) -> list[tuple[str, _socket.socket]]:
        """One socket per address, all on one port (the first's, when `port` is 0)."""
        socks: list[tuple[str, _socket.socket]] = []
        try:
            for address in addresses:
                try:
                    sock = _listen(proto, address, port)
                except OSError as e:
                    if e.errno == _EADDRINUSE:
                        raise PortError(self._message(
                            f"Bind for {_host_port(address, port)} failed: port is already allocated"
                        )) from None  # fmt: skip
                    if optional_v6 and _family(address) == _socket.AF_INET6:
                        continue  # no IPv6 here: the IPv4 listener is enough, as with dockerd
                    kind = proto + ("6" if _family(address) == _socket.AF_INET6 else "4")
                    where = f"[{address}]:{port}" if ":" in address else f"{address}:{port}"
                    reason = (e.strerror or str(e)).lower()
                    raise PortError(self._message(
                        f"Error starting userland proxy: listen {kind} {where}: bind: {reason}"
                    )) from None  # fmt: skip
                socks.append((address, sock))
                port = sock.getsockname()[1]
        except BaseException:
            for _, sock in socks:
                sock.close()
            raise
        return socks

    def _message(self, text: str) -> str:
        return f"driver failed programming external connectivity on endpoint {self.endpoint}: {text}"

    def published_json(self) -> bytes:
        return fastjson.dumps(self.published).encode()

    # -- once the container exists -----------------------------------------------------------

    def attach(self, pid: int) -> None:
        """Start relaying into the network namespace of `pid` (the container's init)."""
        self.netns = os.open(f"/proc/{pid}/ns/net", os.O_RDONLY | os.O_CLOEXEC)
        self.ownns = os.open("/proc/self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
        for listener in self.listeners:
            self.loop.register(listener.fd, EPOLLIN, listener.on_events)

    def upstream(self, kind: int) -> _socket.socket:
        """A non-blocking socket in the container's network namespace."""
        from jockerd.runtime.linux import libc

        libc.setns(self.netns, _CLONE_NEWNET)
        try:
            return _socket.socket(_socket.AF_INET, kind | _FLAGS)
        finally:
            libc.setns(self.ownns, _CLONE_NEWNET)

    def timeout(self, now: float) -> float | None:
        """Seconds until idle UDP flows are due to be closed (expiring them first), or None."""
        if self.next_expiry is None or now < self.next_expiry:
            return None if self.next_expiry is None else self.next_expiry - now
        self.next_expiry = None
        for listener in self.listeners:
            listener.expire(now)
        return None if self.next_expiry is None else max(self.next_expiry - now, 0.0)

    def schedule(self, when: float) -> None:
        if self.next_expiry is None or when < self.next_expiry:
            self.next_expiry = when

    def close(self) -> None:
        """Close every listener and connection: the ports are free again."""
        for relay in list(self.relays):
            relay.close()
        for listener in self.listeners:
            listener.close()
        self.listeners = []
        for fd in (self.netns, self.ownns):
            if fd >= 0:
                os.close(fd)
        self.netns = self.ownns = -1


class _Listener:
    """One published address and port: accepts TCP connections, or relays UDP datagrams."""

    def __init__(self, proxy: Proxy, proto: str, sock: _socket.socket, target: int) -> None:
        self.proxy = proxy
        self.proto = proto
        self.sock = sock
        self.fd = sock.fileno()
        self.target = target
        self.flows: dict[object, _UdpFlow] = {}

    def on_events(self, events: int) -> None:
        if self.proto == "tcp":
            self._accept()
        else:
            self._datagrams()

    def _accept(self) -> None:
        for _ in range(64):
            try:
                fd, _ = self.sock._accept()
            except (BlockingIOError, InterruptedError, ConnectionAbortedError):
                return
            except OSError:  # EMFILE and the like: the connection waits in the backlog
                return
            client = _socket.socket(self.sock.family, _socket.SOCK_STREAM, 0, fd)
            client.setblocking(False)
            try:
                upstream = self.proxy.upstream(_socket.SOCK_STREAM)
            except OSError:
                client.close()
                continue
            _TcpRelay(self.proxy, client, upstream, self.target)

    def _datagrams(self) -> None:
        for _ in range(64):
            try:
                data, address = self.sock.recvfrom(UDP_MAX_DATAGRAM)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:  # an ICMP error of an earlier reply: ignore it
                continue
            flow = self.flows.get(address)
            if flow is None:
                try:
                    flow = _UdpFlow(self, address)
                except OSError:
                    continue
                self.flows[address] = flow
            flow.send(data)

    def expire(self, now: float) -> None:
        for flow in list(self.flows.values()):
            if now - flow.last >= UDP_IDLE:
                flow.close()
            else:
                self.proxy.schedule(flow.last + UDP_IDLE)

    def close(self) -> None:
        for flow in list(self.flows.values()):
            flow.close()
        self.proxy.loop.unregister(self.fd)
        self.sock.close()


class _UdpFlow:
    """The datagrams of one client address: an upstream socket connected to the container."""

    def __init__(self, listener: _Listener, address: object) -> None:
        self.listener = listener
        self.address = address
        self.sock = listener.proxy.upstream(_socket.SOCK_DGRAM)
        self.fd = self.sock.fileno()
        try:
            self.sock.connect((CONNECT_ADDRESS, listener.target))
        except BaseException:
            self.sock.close()
            raise
        self.last = time.monotonic()
        listener.proxy.loop.register(self.fd, EPOLLIN, self.on_events)
        listener.proxy.schedule(self.last + UDP_IDLE)

    def send(self, data: bytes) -> None:
        self.last = time.monotonic()
        try:
            self.sock.send(data)
        except OSError:  # ECONNREFUSED of an earlier datagram, a full buffer: dropped, as UDP is
            pass

    def on_events(self, events: int) -> None:
        for _ in range(64):
            try:
                data = self.sock.recv(UDP_MAX_DATAGRAM)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:  # nothing listens in the container (ICMP port unreachable)
                continue
            self.last = time.monotonic()
            try:
                self.listener.sock.sendto(data, self.address)
            except OSError:
                pass

    def close(self) -> None:
        self.listener.flows.pop(self.address, None)
        self.listener.proxy.loop.unregister(self.fd)
        self.sock.close()


class _Side:
    """One socket of a relay and the bytes waiting to be written to it."""

    __slots__ = ("fd", "out", "reading", "shut", "sock")

    def __init__(self, sock: _socket.socket) -> None:
        self.sock = sock
        self.fd = sock.fileno()
        self.out = bytearray()
        self.reading = True  # until EOF from this socket
        self.shut = False  # shutdown(SHUT_WR) done: the peer's EOF has been passed on


class _TcpRelay:
    """A client connection and its upstream connection inside the container."""

    def __init__(self, proxy: Proxy, client: _socket.socket, upstream: _socket.socket, target: int) -> None:
        self.proxy = proxy
        self.client = _Side(client)
        self.upstream = _Side(upstream)
        self.connecting = True
        self.closed = False
        proxy.relays.add(self)
        try:
            code = upstream.connect_ex((CONNECT_ADDRESS, target))
        except OSError:
            code = -1
        if code == 0:
            self._connected()
        elif code == _EINPROGRESS:
            proxy.loop.register(self.upstream.fd, EPOLLOUT, self._on_upstream)
        else:  # nothing listens in the container: the client's connection is closed
            self.close()

    def _connected(self) -> None:
        self.connecting = False
        self._update()

    def _on_client(self, events: int) -> None:
        self._on_events(self.client, self.upstream, events)

    def _on_upstream(self, events: int) -> None:
        if self.connecting:
            if self.upstream.sock.getsockopt(_SOL_SOCKET, _SO_ERROR):
                self.close()
                return
            self._connected()
            return
        self._on_events(self.upstream, self.client, events)

    def _on_events(self, side: _Side, other: _Side, events: int) -> None:
        try:
            if events & EPOLLOUT and side.out:
                self._flush(side)
            if events & (EPOLLIN | EPOLLHUP) and side.reading and len(other.out) < HIGH_WATER:
                self._read(side, other)
        except OSError:  # a reset on either side ends the relay
            self.close()
            return
        if not self.closed:
            self._update()

    def _read(self, side: _Side, other: _Side) -> None:
        try:
            data = side.sock.recv(READ_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        if data:
            other.out += data
            self._flush(other)
            return
        side.reading = False
        if not other.out:
            self._shut(other)

    def _flush(self, side: _Side) -> None:
        while side.out:
            try:
                with memoryview(side.out) as view:
                    sent = side.sock.send(view[: READ_SIZE * 4])
            except (BlockingIOError, InterruptedError):
                return
            del side.out[:sent]
        peer = self.upstream if side is self.client else self.client
        if not peer.reading:
            self._shut(side)

    def _shut(self, side: _Side) -> None:
        if not side.shut:
            side.shut = True
            try:
                side.sock.shutdown(_SHUT_WR)
            except OSError:
                pass

    def _update(self) -> None:
        c, u = self.client, self.upstream
        if c.shut and u.shut and not c.reading and not u.reading:
            self.close()
            return
        for side, other, handler in ((c, u, self._on_client), (u, c, self._on_upstream)):
            mask = 0
            if side.reading and len(other.out) < HIGH_WATER:
                mask |= EPOLLIN
            if side.out:
                mask |= EPOLLOUT
            if mask:
                self.proxy.loop.register(side.fd, mask, handler)
            else:
                self.proxy.loop.unregister(side.fd)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.proxy.relays.discard(self)
        for side in (self.client, self.upstream):
            self.proxy.loop.unregister(side.fd)
            side.sock.close()
