"""docker-py, the Python SDK, against a real jockerd: the calls SDK users make most."""

from __future__ import annotations

import time

import pytest

from tests.conftest import UnixHTTPConnection

docker = pytest.importorskip("docker")

pytestmark = [pytest.mark.root]


@pytest.fixture(scope="module")
def client(shared_jockerd, busybox_archive):
    shared_jockerd.docker_ok("load", "-i", str(busybox_archive))
    sdk = docker.DockerClient(base_url=f"unix://{shared_jockerd.sock}", timeout=60)
    yield sdk
    sdk.close()


def test_run_logs_exec_lifecycle(client):
    assert client.version()["ApiVersion"] == "1.51"
    assert client.containers.run("busybox", ["echo", "hi"], remove=True) == b"hi\n"
    container = client.containers.run(
        "busybox", ["sh", "-c", "echo out; echo err >&2; exec sleep 100"], detach=True, name="sdk"
    )
    assert client.containers.get("sdk").status == "running"
    result = container.exec_run(["sh", "-c", "echo exec; exit 3"])
    assert (result.exit_code, result.output) == (3, b"exec\n")
    assert container.logs(stdout=True, stderr=False) == b"out\n"
    assert container.logs(stdout=False, stderr=True) == b"err\n"
    assert container.top()["Titles"][:2] == ["UID", "PID"]
    stats = container.stats(stream=False)
    assert stats["pids_stats"]["current"] == 1
    container.pause()
    container.reload()
    assert container.status == "paused"
    container.unpause()
    container.stop(timeout=1)
    # sleep is pid 1 with no TERM handler: the kernel ignores TERM, stop escalates to KILL
    assert container.wait() == {"Error": None, "StatusCode": 137}
    container.remove()
    assert [c.name for c in client.containers.list(all=True)] == []


def test_errors_are_sdk_exceptions(client):
    with pytest.raises(docker.errors.NotFound):
        client.containers.get("nosuch")
    with pytest.raises(docker.errors.APIError):
        client.containers.run("jtr/nosuch:v1", ["true"])  # a 404, then the SDK's pull fails too
    failed = client.containers.run("busybox", ["sh", "-c", "exit 4"], detach=True)
    assert failed.wait()["StatusCode"] == 4
    with pytest.raises(docker.errors.ContainerError):
        client.containers.run("busybox", ["sh", "-c", "exit 4"], remove=True)
    failed.remove()


def test_attach_with_logs_replays_the_log(client):
    container = client.containers.run("busybox", ["sh", "-c", "echo one; echo two >&2"], detach=True)
    assert container.wait()["StatusCode"] == 0
    # logs=1, stream=0: what the log holds, then the end of the stream
    assert container.attach(stdout=True, stderr=True, logs=True, stream=False) == b"one\ntwo\n"
    assert container.attach(stdout=True, stderr=False, logs=True, stream=False) == b"one\n"
    container.remove()


def test_hijacked_output_waits_until_the_client_has_read_the_head(shared_jockerd, client):
    """A client that reads the 101 head through a buffered reader and then the raw socket (as
    docker-py does) must find every byte on the socket: the daemon sends the first payload only
    once the head has been read. The client here reads the head late, on purpose, so the log
    replay is ready first; before the fix it arrived with the head and was lost in the buffer."""
    container = client.containers.run("busybox", ["echo", "late reader"], detach=True)
    assert container.wait()["StatusCode"] == 0
    conn = UnixHTTPConnection(str(shared_jockerd.sock))
    conn.request(
        "POST",
        f"/v1.51/containers/{container.id}/attach?logs=1&stream=0&stdout=1",
        headers={"Upgrade": "tcp", "Connection": "Upgrade"},
    )
    time.sleep(0.3)  # the scenario: the daemon is ready to send before the head is read
    response = conn.getresponse()
    assert response.status == 101
    raw = response.fp.raw  # under the buffered reader, as docker-py's _get_raw_response_socket
    data = b""
    while chunk := raw.read(4096):
        data += chunk
    assert data == b"\x01\x00\x00\x00\x00\x00\x00\x0clate reader\n"
    conn.close()
    container.remove()
