"""Published ports (`docker run -p`, `-P`, `docker port`): the shim's userland proxy, driven by the
real docker CLI (traces 48-run-p, 49-port, 49b-port-specific).

The daemon runs in its own network namespace, so every client here runs inside it
(`nsenter --net=/proc/<jockerd pid>/ns/net`); UDP servers run inside the container's network
namespace the same way, since the busybox image has no UDP server. Nothing leaves loopback.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import REPO, wait_for

pytestmark = [pytest.mark.root]

CLIENT = r"""
import socket, sys, time
mode, port = sys.argv[1], int(sys.argv[2])
if mode == "http":
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(f"GET /{sys.argv[3]} HTTP/1.0\r\nHost: x\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    sys.stdout.write(data.split(b"\r\n\r\n", 1)[1].decode())
elif mode == "echo":  # send N bytes, half-close, read them all back
    size = int(sys.argv[3])
    payload = bytes(range(256)) * (size // 256)
    with socket.create_connection(("127.0.0.1", port), timeout=20) as s:
        s.sendall(payload)
        s.shutdown(socket.SHUT_WR)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    print("same" if data == payload else f"different: {len(data)} of {len(payload)} bytes")
elif mode == "udp":
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(2)
        for _ in range(10):
            s.sendto(sys.argv[3].encode(), ("127.0.0.1", port))
            try:
                print(s.recvfrom(65536)[0].decode())
                break
            except socket.timeout:
                continue
        else:
            print("no answer")
elif mode == "free":  # can a listener take the port (as dockerd's would: TIME_WAIT is no obstacle)?
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("0.0.0.0", port))
        s.listen()
        print("free")
    except OSError as e:
        print(f"taken: {e}")
elif mode == "udp-echo-server":
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", port))
    print("ready", flush=True)
    while True:
        data, peer = s.recvfrom(65536)
        s.sendto(b"echo:" + data, peer)
"""


def netns_run(pid: int, *args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    """The client script inside the network namespace of `pid`."""
    return subprocess.run(
        ["nsenter", f"--net=/proc/{pid}/ns/net", sys.executable, "-c", CLIENT, *args],
        capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


def fetch(pid: int, port: int, path: str = "index.html", attempts: int = 50) -> str:
    """GET http://127.0.0.1:PORT/PATH from the namespace of `pid`, retried while the server starts."""
    result = None
    for _ in range(attempts):
        result = netns_run(pid, "http", str(port), path)
        if result.returncode == 0:
            return result.stdout
        time.sleep(0.1)
    raise AssertionError(f"GET 127.0.0.1:{port}/{path} failed: {result and result.stderr}")


def echo(pid: int, port: int, size: int) -> str:
    result = None
    for _ in range(50):
        result = netns_run(pid, "echo", str(port), str(size))
        if result.returncode == 0 and result.stdout.strip() == "same":
            return "same"
        time.sleep(0.1)
    raise AssertionError(f"echo through 127.0.0.1:{port}: {result and (result.stdout + result.stderr)}")


ECHO_SERVER = ("nc", "-ll", "-p", "7", "-e", "cat")  # a persistent echo server on port 7
HTTPD = "mkdir -p /www && echo hello-from-jocker > /www/index.html && exec httpd -f -p 80 -h /www"


@pytest.fixture(scope="module")
def d(shared_jockerd, busybox_archive):
    shared_jockerd.docker_ok("load", "-i", str(busybox_archive))
    return shared_jockerd


@pytest.fixture
def pid(d) -> int:
    assert d.proc is not None
    return d.proc.pid


def jocker(d, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "jocker_cli", "-H", f"unix://{d.sock}", *args],
        capture_output=True, text=True, cwd=REPO, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_publish_tcp_to_httpd(d, pid):
    d.docker_ok("run", "-d", "--name", "web", "-p", "127.0.0.1:8080:80", "busybox", "sh", "-c", HTTPD)
    try:
        assert fetch(pid, 8080) == "hello-from-jocker\n"
        info = json.loads(d.docker_ok("inspect", "web"))[0]
        assert info["HostConfig"]["PortBindings"] == {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}]}
        assert info["NetworkSettings"]["Ports"] == {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}]}
        assert d.docker_ok("port", "web") == "80/tcp -> 127.0.0.1:8080\n"
        assert d.docker_ok("port", "web", "80/tcp") == "127.0.0.1:8080\n"
        assert d.docker_ok("port", "web", "80") == "127.0.0.1:8080\n"
        missing = d.docker("port", "web", "81")
        assert missing.returncode == 1 and "No public port '81' published for web" in missing.stderr
        assert d.docker_ok("ps", "--format", "{{.Ports}}", "-f", "name=web") == "127.0.0.1:8080->80/tcp\n"
        assert jocker(d, "port", "web") == d.docker_ok("port", "web")
        assert jocker(d, "ps", "--format", "{{.Ports}}", "-f", "name=web") == "127.0.0.1:8080->80/tcp\n"
        listing = json.loads(d.request("GET", "/containers/json?filters=" + '{"name":["web"]}').body)
        assert listing[0]["Ports"] == [
            {"IP": "127.0.0.1", "PrivatePort": 80, "PublicPort": 8080, "Type": "tcp"}
        ]
        assert d.docker_ok("ps", "-q", "-f", "publish=8080") != ""
        assert d.docker_ok("ps", "-q", "-f", "publish=8080/udp") == ""
        assert d.docker_ok("ps", "-q", "-f", "expose=80/tcp") != ""
        assert d.docker_ok("ps", "-q", "-f", "expose=79-81") != ""
        assert d.docker_ok("ps", "-q", "-f", "publish=80") == ""
    finally:
        d.docker("rm", "-f", "web")


def test_relay_half_close_and_bulk(d, pid):
    """1 MiB through the proxy to `nc -e cat`, half-closed, comes back whole."""
    d.docker_ok("run", "-d", "--name", "echo", "-p", "127.0.0.1:7007:7", "busybox", *ECHO_SERVER)
    try:
        assert echo(pid, 7007, 1 << 20) == "same"
        assert echo(pid, 7007, 256) == "same"  # and again: the server is persistent (-ll)
    finally:
        d.docker("rm", "-f", "echo")


def test_trace_shapes_and_publish_all(d, pid):
    """The command of trace 48 and the outputs of traces 49/49b, ephemeral port aside; -P."""
    d.docker_ok("run", "-d", "--name", "jtr-p", "-p", "127.0.0.1:8080:80", "-p", "9090",
                "-p", "127.0.0.1:5353:53/udp", "busybox", "sleep", "300")  # fmt: skip
    try:
        info = json.loads(d.docker_ok("inspect", "jtr-p"))[0]
        assert info["HostConfig"]["PortBindings"] == {
            "53/udp": [{"HostIp": "127.0.0.1", "HostPort": "5353"}],
            "80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}],
            "9090/tcp": [{"HostIp": "", "HostPort": ""}],
        }
        ports = info["NetworkSettings"]["Ports"]
        ephemeral = ports["9090/tcp"][0]["HostPort"]
        assert 32768 <= int(ephemeral) <= 60999
        assert ports == {
            "53/udp": [{"HostIp": "127.0.0.1", "HostPort": "5353"}],
            "80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}],
            "9090/tcp": [
                {"HostIp": "0.0.0.0", "HostPort": ephemeral},
                {"HostIp": "::", "HostPort": ephemeral},
            ],
        }
        assert d.docker_ok("port", "jtr-p") == (
            "53/udp -> 127.0.0.1:5353\n80/tcp -> 127.0.0.1:8080\n"
            f"9090/tcp -> 0.0.0.0:{ephemeral}\n9090/tcp -> [::]:{ephemeral}\n"
        )
        assert d.docker_ok("port", "jtr-p", "80/tcp") == "127.0.0.1:8080\n"
        assert jocker(d, "port", "jtr-p") == d.docker_ok("port", "jtr-p")
        docker_ports = d.docker_ok("ps", "--format", "{{.Ports}}", "-f", "name=jtr-p")
        assert docker_ports == (
            f"127.0.0.1:5353->53/udp, 127.0.0.1:8080->80/tcp, 0.0.0.0:{ephemeral}->9090/tcp, "
            f"[::]:{ephemeral}->9090/tcp\n"
        )
        assert jocker(d, "ps", "--format", "{{.Ports}}", "-f", "name=jtr-p") == docker_ports
        assert "PORTS" in jocker(d, "ps", "-f", "name=jtr-p").splitlines()[0]
    finally:
        d.docker("rm", "-f", "jtr-p")

    d.docker_ok("run", "-d", "--name", "all", "-P", "--expose", "7", "--expose", "8",
                "busybox", *ECHO_SERVER)  # fmt: skip
    try:
        lines = d.docker_ok("port", "all").splitlines()
        assert [line.split(" -> ")[0] for line in lines] == ["7/tcp", "7/tcp", "8/tcp", "8/tcp"]
        host = d.docker_ok("port", "all", "7/tcp").splitlines()[0]
        assert host.startswith("0.0.0.0:")
        assert echo(pid, int(host.rpartition(":")[2]), 4096) == "same"
    finally:
        d.docker("rm", "-f", "all")


def test_expose_only_shows_null_and_ps_private_port(d):
    d.docker_ok("run", "-d", "--name", "exposed", "--expose", "80", "busybox", "sleep", "300")
    try:
        info = json.loads(d.docker_ok("inspect", "exposed"))[0]
        assert info["NetworkSettings"]["Ports"] == {"80/tcp": None}
        assert d.docker_ok("port", "exposed") == ""
        assert d.docker_ok("ps", "--format", "{{.Ports}}", "-f", "name=exposed") == "80/tcp\n"
        d.docker_ok("stop", "-t", "0", "exposed")
        assert json.loads(d.docker_ok("inspect", "exposed"))[0]["NetworkSettings"]["Ports"] == {}
    finally:
        d.docker("rm", "-f", "exposed")


def test_udp(d, pid):
    d.docker_ok("run", "-d", "--name", "udp", "-p", "127.0.0.1:5353:53/udp", "busybox", "sleep", "300")
    container_pid = int(d.docker_ok("inspect", "-f", "{{.State.Pid}}", "udp"))
    server = subprocess.Popen(
        ["nsenter", f"--net=/proc/{container_pid}/ns/net", sys.executable, "-c", CLIENT,
         "udp-echo-server", "53"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert server.stdout is not None and server.stdout.readline() == "ready\n"
        assert netns_run(pid, "udp", "5353", "ping").stdout == "echo:ping\n"
        assert netns_run(pid, "udp", "5353", "again").stdout == "echo:again\n"
        assert d.docker_ok("port", "udp") == "53/udp -> 127.0.0.1:5353\n"
    finally:
        server.kill()
        server.wait()
        d.docker("rm", "-f", "udp")


def test_port_conflict(d, pid):
    d.docker_ok("run", "-d", "--name", "first", "-p", "8081:80", "busybox", "sh", "-c", HTTPD)
    try:
        assert fetch(pid, 8081) == "hello-from-jocker\n"
        before = sorted(p.name for p in d.exec_root.glob("shim/*"))
        second = d.docker("run", "-d", "--name", "second", "-p", "8081:80", "busybox", "sleep", "300")
        assert second.returncode == 125
        cid = d.docker_ok("inspect", "-f", "{{.Id}}", "second").strip()
        # (jockerd answers the CLI's next-exit wait of a failed start, as for any failed start, so
        # the CLI may also log "Error waiting for container: ..." first: the line that matters is this.)
        line = next(x for x in second.stderr.splitlines() if x.startswith("docker: "))
        endpoint = line.split("(")[1].split(")")[0]
        assert len(endpoint) == 64 and endpoint != cid  # the endpoint's ID, not the container's
        assert line == (
            "docker: Error response from daemon: driver failed programming external connectivity on "
            f"endpoint second ({endpoint}): Bind for 0.0.0.0:8081 failed: port is already allocated"
        )
        state = json.loads(d.docker_ok("inspect", "second"))[0]["State"]
        assert not state["Running"] and "port is already allocated" in state["Error"]
        for leftover in set(p.name for p in d.exec_root.glob("shim/*")) - set(before):  # no shim lives on
            shim_pid = (d.exec_root / "shim" / leftover / "shim.pid").read_text().split()[0]
            wait_for(lambda: not os.path.exists(f"/proc/{shim_pid}"), timeout=10, what="the shim's exit")  # noqa: B023
        with open("/proc/self/mounts") as f:
            assert not any(cid in line for line in f)
        assert fetch(pid, 8081) == "hello-from-jocker\n"  # the first one still serves
        # The same port on another protocol or address is not a conflict.
        d.docker_ok("run", "-d", "--name", "third", "-p", "8081:80/udp", "busybox", "sleep", "300")
        assert d.docker_ok("port", "third") == "80/udp -> 0.0.0.0:8081\n80/udp -> [::]:8081\n"
    finally:
        d.docker("rm", "-f", "first", "second", "third")


def test_stop_frees_the_port_and_start_publishes_again(d, pid):
    d.docker_ok("run", "-d", "--name", "cycle", "-p", "8082:80", "busybox", "sh", "-c", HTTPD)
    try:
        assert fetch(pid, 8082) == "hello-from-jocker\n"
        assert netns_run(pid, "free", "8082").stdout.startswith("taken")
        d.docker_ok("stop", "-t", "1", "cycle")
        assert netns_run(pid, "free", "8082").stdout == "free\n"
        assert d.docker_ok("port", "cycle") == ""
        assert d.docker_ok("ps", "-a", "--format", "{{.Ports}}", "-f", "name=cycle") == "\n"
        d.docker_ok("start", "cycle")
        assert fetch(pid, 8082) == "hello-from-jocker\n"
    finally:
        d.docker("rm", "-f", "cycle")
    assert netns_run(pid, "free", "8082").stdout == "free\n"


def test_host_and_none_networks_discard_ports(d):
    host = d.docker(
        "run", "-d", "--name", "onhost", "--network", "host", "-p", "8083:80", "busybox", "sleep", "300"
    )
    none = d.docker(
        "run", "-d", "--name", "onnone", "--network", "none", "-p", "8084:80", "busybox", "sleep", "300"
    )
    try:
        assert host.returncode == 0 and none.returncode == 0, host.stderr + none.stderr
        assert "WARNING: Published ports are discarded when using host network mode" in host.stderr
        assert "WARNING" not in none.stderr
        for name in ("onhost", "onnone"):
            assert d.docker_ok("port", name) == ""
            assert json.loads(d.docker_ok("inspect", name))[0]["NetworkSettings"]["Ports"] == {}
            assert d.docker_ok("ps", "--format", "{{.Ports}}", "-f", f"name={name}") == "\n"
    finally:
        d.docker("rm", "-f", "onhost", "onnone")


def test_invalid_port_binding(d):
    body = json.dumps({"Image": "busybox", "Cmd": ["true"],
                       "HostConfig": {"PortBindings": {"80/tcp": [{"HostPort": "x1"}]}}})  # fmt: skip
    response = d.request("POST", "/containers/create", body.encode(), {"Content-Type": "application/json"})
    assert response.status == 400
    assert response.json() == {"message": 'invalid port specification: "x1"'}


def test_proxy_outlives_the_daemon(jockerd, busybox_archive):
    """kill -9 jockerd: the shim keeps publishing; a new daemon still knows the ports, and the
    port is free once the container is stopped."""
    d = jockerd
    d.docker_ok("load", "-i", str(busybox_archive))
    d.docker_ok("run", "-d", "--name", "web", "-p", "8080:80", "busybox", "sh", "-c", HTTPD)
    assert d.proc is not None
    old = d.proc.pid
    assert fetch(old, 8080) == "hello-from-jocker\n"
    # Something to keep the old daemon's network namespace reachable once everything in it is gone.
    holder = subprocess.Popen(["nsenter", f"--net=/proc/{old}/ns/net", "sleep", "120"])
    netns = os.readlink(f"/proc/{old}/ns/net")

    def holder_in() -> bool:
        try:
            return os.readlink(f"/proc/{holder.pid}/ns/net") == netns
        except OSError:
            return False

    wait_for(holder_in, timeout=10, what="the holder in the daemon's network namespace")
    try:
        d.stop(signal.SIGKILL)
        assert fetch(holder.pid, 8080) == "hello-from-jocker\n"  # no daemon at all
        d.start()  # (in a new network namespace of its own: the shim stays in the old one)
        assert d.docker_ok("port", "web") == "80/tcp -> 0.0.0.0:8080\n80/tcp -> [::]:8080\n"
        assert d.docker_ok("ps", "--format", "{{.Ports}}") == "0.0.0.0:8080->80/tcp, [::]:8080->80/tcp\n"
        assert fetch(holder.pid, 8080) == "hello-from-jocker\n"
        d.docker_ok("stop", "-t", "1", "web")
        wait_for(
            lambda: netns_run(holder.pid, "free", "8080").stdout == "free\n",
            timeout=10,
            what="port 8080 free",
        )
    finally:
        holder.kill()
        holder.wait()
        d.docker("rm", "-f", "web")
    assert not os.path.exists(d.exec_root / "shim" / "web")
