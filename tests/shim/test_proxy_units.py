"""The shim's userland proxy (jockerd/shim/ports.py) without root: the relays over loopback in
this network namespace, with `Proxy.upstream` making plain sockets instead of setns'ing into a
container's namespace (the root tests in tests/compat/test_ports.py do that part)."""

from __future__ import annotations

import _socket
import socket
import threading

import pytest

from jockerd.shim import ports
from jockerd.shim.stdio import Loop


class LocalProxy(ports.Proxy):
    def upstream(self, kind: int) -> _socket.socket:
        return _socket.socket(_socket.AF_INET, kind | _socket.SOCK_CLOEXEC | _socket.SOCK_NONBLOCK)


def free_port(kind: int = socket.SOCK_STREAM) -> socket.socket:
    server = socket.socket(socket.AF_INET, kind)
    server.bind(("127.0.0.1", 0))
    return server


@pytest.fixture
def running():
    """Start a proxy's loop in a thread: run(bindings) → the proxy; stopped afterwards."""
    stop = threading.Event()
    threads = []

    def run(bindings: list[dict]) -> LocalProxy:
        proxy = LocalProxy(Loop(), "c (ep)", bindings)
        proxy.bind()
        for listener in proxy.listeners:
            proxy.loop.register(listener.fd, ports.EPOLLIN, listener.on_events)

        def serve() -> None:
            while not stop.is_set():
                proxy.loop.run_once(0.05)
            proxy.close()

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        threads.append(thread)
        return proxy

    yield run
    stop.set()
    for thread in threads:
        thread.join(5)


def tcp_binding(target: int, host_port: int = 0) -> dict:
    return {"proto": "tcp", "host_ip": "127.0.0.1", "host_port": host_port, "container_port": target}


def test_tcp_relay_with_half_close(running) -> None:
    server = free_port()
    server.listen()
    proxy = running([tcp_binding(server.getsockname()[1])])
    published = proxy.published[0]
    assert published["host_ip"] == "127.0.0.1" and published["host_port"] > 0
    payload = bytes(range(256)) * 16384  # 4 MiB: more than the relay holds per direction
    client = socket.create_connection(("127.0.0.1", published["host_port"]), timeout=10)
    upstream, _ = server.accept()
    upstream.settimeout(10)

    def echo() -> None:  # reads everything until EOF, then answers and closes
        data = b""
        while chunk := upstream.recv(1 << 16):
            data += chunk
        upstream.sendall(data[::-1])
        upstream.close()

    thread = threading.Thread(target=echo)
    thread.start()
    client.sendall(payload)
    client.shutdown(socket.SHUT_WR)  # the server sees EOF, and can still answer
    received = b""
    while chunk := client.recv(1 << 16):
        received += chunk
    thread.join(10)
    assert received == payload[::-1]
    client.close()
    server.close()


def test_refused_upstream_closes_the_client(running) -> None:
    unused = free_port()
    port = unused.getsockname()[1]
    unused.close()  # nothing listens there
    proxy = running([tcp_binding(port)])
    client = socket.create_connection(("127.0.0.1", proxy.published[0]["host_port"]), timeout=10)
    assert client.recv(10) == b""


def test_taken_port_is_dockerds_error() -> None:
    taken = free_port()
    taken.listen()
    port = taken.getsockname()[1]
    proxy = LocalProxy(Loop(), "second (abc)", [tcp_binding(80, port)])
    with pytest.raises(ports.PortError) as e:
        proxy.bind()
    assert str(e.value) == (
        "driver failed programming external connectivity on endpoint second (abc): "
        f"Bind for 127.0.0.1:{port} failed: port is already allocated"
    )
    assert proxy.listeners == []
    taken.close()


def test_port_range_takes_the_first_free_one() -> None:
    taken = free_port()
    taken.listen()
    port = taken.getsockname()[1]
    binding = {**tcp_binding(80, port), "host_port_end": port + 1}
    proxy = LocalProxy(Loop(), "c (ep)", [binding])
    try:
        proxy.bind()
    except ports.PortError:
        pytest.skip(f"port {port + 1} is taken too")
    assert proxy.published[0]["host_port"] == port + 1
    proxy.close()
    taken.close()


def test_udp_flows(running) -> None:
    server = free_port(socket.SOCK_DGRAM)
    server.settimeout(10)
    proxy = running([{"proto": "udp", "host_ip": "127.0.0.1", "host_port": 0,
                      "container_port": server.getsockname()[1]}])  # fmt: skip
    port = proxy.published[0]["host_port"]
    clients = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(2)]
    for i, client in enumerate(clients):
        client.settimeout(10)
        client.sendto(f"hello{i}".encode(), ("127.0.0.1", port))
        data, peer = server.recvfrom(100)
        assert data == f"hello{i}".encode()
        server.sendto(b"re:" + data, peer)
        assert client.recvfrom(100)[0] == f"re:hello{i}".encode()
    listener = proxy.listeners[0]
    assert len(listener.flows) == 2  # one upstream socket per client address
    for client in clients:
        client.close()
    server.close()
