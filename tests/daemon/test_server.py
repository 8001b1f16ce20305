"""The jockerd process contract: socket, pidfile, data-root lock, daemon.json, signals, robustness.

Every daemon here runs in its own network namespace (`unshare --net`), like the `jockerd`
fixture's. Daemons that must fail are run to completion with `subprocess.run`; daemons that
must serve are started with the conftest `Jockerd` helper or, when the flags themselves are
under test (daemon.json without --data-root ...), with `spawn()` below.
"""

from __future__ import annotations

import grp
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from images.testimages import layered_image
from tests.conftest import REPO, Jockerd, UnixHTTPConnection, stop_process, wait_for

pytestmark = [pytest.mark.root, pytest.mark.timeout(90)]

NETNS = ["unshare", "--net", "--", "sh", "-c", 'ip link set lo up && exec "$@"', "jockerd"]


def jockerd_argv(*args: str) -> list[str]:
    """`python -m jockerd ARGS` in a fresh network namespace; `exec` keeps the pid jockerd's."""
    return [*NETNS, sys.executable, "-m", "jockerd", *args]


def run_jockerd(*args: str, timeout: float = 20) -> tuple[subprocess.CompletedProcess[str], float]:
    """Run a jockerd that is expected to exit by itself; returns (result, seconds it took)."""
    started = time.monotonic()
    result = subprocess.run(jockerd_argv(*args), capture_output=True, text=True, timeout=timeout, cwd=REPO)
    return result, time.monotonic() - started


def ping(sock: Path, timeout: float = 2) -> int | None:
    """Status of GET /_ping on `sock`, or None when nothing answers."""
    conn = UnixHTTPConnection(str(sock), timeout=timeout)
    try:
        conn.request("GET", "/_ping")
        return conn.getresponse().status
    except OSError:
        return None
    finally:
        conn.close()


def get(sock: Path, path: str) -> tuple[int, bytes]:
    conn = UnixHTTPConnection(str(sock), timeout=30)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


class Spawned:
    """A jockerd started with exactly the given flags (no implicit --host/--data-root)."""

    def __init__(self, args: list[str], log: Path) -> None:
        self.log = log
        with open(log, "ab") as out:
            self.proc = subprocess.Popen(jockerd_argv(*args), stdout=out, stderr=out, cwd=REPO)

    def wait_serving(self, sock: Path, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"jockerd exited with {self.proc.returncode}:\n{self.log.read_text()}")
            if ping(sock, timeout=1) == 200:
                return
            time.sleep(0.05)
        raise AssertionError(f"jockerd did not serve {sock} within {timeout}s:\n{self.log.read_text()}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> int:
        return stop_process(self.proc, sig, timeout)


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator:
    started: list[Spawned] = []

    def start(*args: str) -> Spawned:
        proc = Spawned(list(args), tmp_path / f"spawned-{len(started)}.log")
        started.append(proc)
        return proc

    yield start
    for proc in started:
        proc.stop()


@pytest.fixture
def daemons(tmp_path: Path) -> Iterator:
    """Extra `Jockerd`s under tmp_path/<name>, stopped at teardown."""
    made: list[Jockerd] = []

    def make(name: str, *args: str) -> Jockerd:
        root = tmp_path / name
        root.mkdir()
        daemon = Jockerd(root, args=list(args))
        made.append(daemon)
        return daemon

    yield make
    for daemon in made:
        if daemon.proc is not None and daemon.proc.poll() is None:
            daemon.stop()


def expected_default_gid() -> int:
    try:
        return grp.getgrnam("docker").gr_gid
    except KeyError:
        return 0


def assert_socket_0660(path: Path, gid: int) -> None:
    st = os.lstat(path)
    assert stat.S_ISSOCK(st.st_mode), f"{path} is not a socket"
    assert stat.filemode(st.st_mode) == "srw-rw----"
    assert (st.st_uid, st.st_gid) == (0, gid)


def assert_no_traceback(stderr: str) -> None:
    assert "Traceback" not in stderr, stderr


# -- socket ------------------------------------------------------------------------------------


def test_socket_is_0660_root_and_docker_group_or_root(jockerd):
    assert_socket_0660(jockerd.sock, expected_default_gid())


def test_numeric_group_is_honoured(daemons):
    daemon = daemons("numeric", "--group", "4242")  # a gid needs no /etc/group entry
    daemon.start()
    assert_socket_0660(daemon.sock, 4242)


def base_args(root: Path, **override: str) -> list[str]:
    """The flags the `Jockerd` helper passes, for a daemon run by hand under `root`."""
    root.mkdir(parents=True, exist_ok=True)
    config = root / "daemon.json"
    if not config.exists():
        config.write_text("{}")
    flags = {
        "host": f"unix://{root / 'jocker.sock'}",
        "data-root": str(root / "data"),
        "exec-root": str(root / "exec"),
        "config-file": str(config),
        **override,
    }
    return [arg for key, value in flags.items() for arg in (f"--{key}", value)]


def test_unknown_group_fails_start_up_clearly(tmp_path):
    result, took = run_jockerd(*base_args(tmp_path), "--group", "nosuchgroup")
    assert result.returncode == 1, result.stderr
    assert_no_traceback(result.stderr)
    assert "nosuchgroup" in result.stderr and "not found" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert took < 15
    assert not (tmp_path / "jocker.sock").exists()
    assert not (tmp_path / "exec" / "jockerd.pid").exists()


# -- pidfile and signals -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sig", "custom_pidfile"),
    [(signal.SIGTERM, False), (signal.SIGINT, False), (signal.SIGTERM, True), (signal.SIGINT, True)],
    ids=["SIGTERM-default", "SIGINT-default", "SIGTERM-pidfile", "SIGINT-pidfile"],
)
def test_pidfile_holds_pid_and_shutdown_cleans_up(daemons, tmp_path, sig, custom_pidfile):
    pidfile = tmp_path / "run" / "custom.pid"
    daemon = daemons("d", *(["--pidfile", str(pidfile)] if custom_pidfile else []))
    daemon.start()
    if not custom_pidfile:
        pidfile = daemon.exec_root / "jockerd.pid"
    assert daemon.proc is not None
    assert pidfile.read_text().strip() == str(daemon.proc.pid)
    assert_is_jockerd(daemon.proc.pid)
    assert daemon.stop(sig) == 0
    assert not pidfile.exists()
    assert not daemon.sock.exists()
    assert "shutting down" in daemon.log.read_text()


def assert_is_jockerd(pid: int) -> None:
    """`pid` is jockerd's python itself, not the `unshare`/`sh` in front of it."""
    argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    assert b"-m" in argv and b"jockerd" in argv, argv
    assert "python" in os.path.basename(os.readlink(f"/proc/{pid}/exe")), argv


# -- one daemon per data root, one per socket --------------------------------------------------


def test_second_daemon_on_same_data_root_refuses(jockerd, tmp_path):
    other = tmp_path / "second"
    args = base_args(other, **{"data-root": str(jockerd.data_root)})
    result, took = run_jockerd(*args)
    assert result.returncode != 0
    assert "already running" in result.stderr
    assert_no_traceback(result.stderr)
    assert took < 15
    assert not (other / "jocker.sock").exists()
    assert jockerd.proc is not None and jockerd.proc.poll() is None
    assert ping(jockerd.sock) == 200
    assert (jockerd.exec_root / "jockerd.pid").read_text().strip() == str(jockerd.proc.pid)
    jockerd.docker_ok("images")


def test_live_pidfile_makes_start_up_fail(jockerd, tmp_path):
    # Another data root and socket, but the running daemon's exec root and so its pidfile.
    args = base_args(tmp_path / "second", **{"exec-root": str(jockerd.exec_root)})
    result, _ = run_jockerd(*args)
    assert result.returncode == 1
    assert "pid file found, ensure jockerd is not running" in result.stderr
    pidfile = jockerd.exec_root / "jockerd.pid"
    assert pidfile.read_text().strip() == str(jockerd.proc.pid)
    assert ping(jockerd.sock) == 200


def test_stale_socket_is_replaced(daemons):
    daemon = daemons("stale")
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(daemon.sock))
    stale.close()  # the file stays: what a crashed daemon leaves behind
    assert stat.S_ISSOCK(os.lstat(daemon.sock).st_mode)
    daemon.start()
    assert_socket_0660(daemon.sock, expected_default_gid())
    daemon.docker_ok("images")
    assert "replacing stale socket" in daemon.log.read_text()


def test_live_socket_makes_start_up_fail(jockerd, tmp_path):
    # Another data root and pidfile (so neither the lock nor the pidfile stops it), same socket.
    args = base_args(
        tmp_path / "intruder",
        host=f"unix://{jockerd.sock}",
        **{"exec-root": str(jockerd.exec_root), "pidfile": str(tmp_path / "intruder.pid")},
    )
    before = os.lstat(jockerd.sock)
    result, took = run_jockerd(*args)
    assert result.returncode == 1
    assert "in use" in result.stderr
    assert_no_traceback(result.stderr)
    assert took < 15
    after = os.lstat(jockerd.sock)
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns), "socket was replaced"
    assert jockerd.proc is not None and jockerd.proc.poll() is None
    assert ping(jockerd.sock) == 200
    pidfile = jockerd.exec_root / "jockerd.pid"
    assert pidfile.exists(), "the refused daemon removed the running daemon's pidfile"
    assert pidfile.read_text().strip() == str(jockerd.proc.pid)
    jockerd.docker_ok("images")


# -- daemon.json -------------------------------------------------------------------------------


def write_daemon_json(tmp_path: Path, name: str) -> tuple[Path, dict[str, str]]:
    root = tmp_path / name
    values = {
        "data-root": str(root / "file-data"),
        "exec-root": str(root / "file-exec"),
        "pidfile": str(root / "file.pid"),
        "log-level": "error",
    }
    config = tmp_path / f"{name}.json"
    config.write_text(json.dumps({**values, "hosts": [f"unix://{root / 'file.sock'}"]}))
    return config, values


def test_config_file_keys_apply(tmp_path, spawn):
    config, values = write_daemon_json(tmp_path, "cfg")
    sock = tmp_path / "cfg" / "file.sock"
    daemon = spawn("--config-file", str(config))
    daemon.wait_serving(sock)
    assert_socket_0660(sock, expected_default_gid())
    assert Path(values["pidfile"]).read_text().strip() == str(daemon.proc.pid)
    assert not (Path(values["exec-root"]) / "jockerd.pid").exists()  # pidfile wins over exec-root
    assert Path(values["exec-root"]).is_dir()
    status, body = get(sock, "/v1.51/info")
    assert status == 200
    assert json.loads(body)["DockerRootDir"] == values["data-root"]
    assert (Path(values["data-root"]) / "jockerd.lock").exists()
    assert daemon.stop() == 0
    assert not sock.exists() and not Path(values["pidfile"]).exists()
    # log-level error: the info-level "listening on" and "shutting down" lines are not logged
    log = daemon.log.read_text()
    assert "listening on" not in log and "shutting down" not in log, log


def test_flags_win_over_config_file(tmp_path, spawn):
    config, values = write_daemon_json(tmp_path, "cfg")
    flags_root = tmp_path / "flags"
    sock = flags_root / "flag.sock"
    daemon = spawn(
        "--config-file",
        str(config),
        "-H",
        f"unix://{sock}",
        "--data-root",
        str(flags_root / "data"),
        "--exec-root",
        str(flags_root / "exec"),
        "--pidfile",
        str(flags_root / "flag.pid"),
        "--log-level",
        "info",
    )
    daemon.wait_serving(sock)
    assert not (tmp_path / "cfg" / "file.sock").exists()
    assert (flags_root / "flag.pid").read_text().strip() == str(daemon.proc.pid)
    assert not Path(values["pidfile"]).exists()
    assert json.loads(get(sock, "/info")[1])["DockerRootDir"] == str(flags_root / "data")
    for key in ("data-root", "exec-root"):
        assert not Path(values[key]).exists(), f"{key} from daemon.json was used"
    assert (flags_root / "exec").is_dir()
    assert daemon.stop() == 0
    assert "listening on" in daemon.log.read_text()


@pytest.mark.parametrize(
    "content",
    ["{", "[]", '{"data-root": 5}', '{"hosts": "unix:///x.sock"}', '{"log-level": "verbose"}'],
    ids=["truncated", "not-an-object", "wrong-type", "hosts-not-list", "bad-log-level"],
)
def test_malformed_config_file_fails(tmp_path, content):
    config = tmp_path / "daemon.json"
    config.write_text(content)
    result, took = run_jockerd(*base_args(tmp_path / "d", **{"config-file": str(config)}))
    assert result.returncode == 1, result.stderr
    assert f"unable to configure the daemon with file {config}" in result.stderr
    assert_no_traceback(result.stderr)
    assert took < 15
    assert not (tmp_path / "d" / "jocker.sock").exists()


def test_missing_explicit_config_file_fails(tmp_path):
    missing = tmp_path / "nope.json"
    result, _ = run_jockerd(*base_args(tmp_path / "d", **{"config-file": str(missing)}))
    assert result.returncode == 1
    assert f"unable to configure the daemon with file {missing}" in result.stderr


# -- several sockets ---------------------------------------------------------------------------


def test_multiple_hosts_all_serve(daemons, tmp_path):
    extra = [tmp_path / "b.sock", tmp_path / "sub" / "c.sock"]
    daemon = daemons("multi", *[arg for path in extra for arg in ("-H", f"unix://{path}")])
    daemon.start()
    for sock in [daemon.sock, *extra]:
        assert ping(sock) == 200, sock
        assert_socket_0660(sock, expected_default_gid())
        result = subprocess.run(
            ["docker", "-H", f"unix://{sock}", "images", "-q"],
            capture_output=True,
            text=True,
            timeout=60,
            env=daemon.env,
        )
        assert result.returncode == 0, result.stderr
    assert daemon.stop() == 0
    for sock in [daemon.sock, *extra]:
        assert not sock.exists()


# -- robustness: no request takes the daemon down ----------------------------------------------


def raw_exchange(sock: Path, data: bytes, timeout: float = 10) -> bytes:
    """Send raw bytes, read until the server closes; the server must close by itself."""
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.settimeout(timeout)
    try:
        conn.connect(str(sock))
        conn.sendall(data)
        out = b""
        while chunk := conn.recv(65536):
            out += chunk
        return out
    finally:
        conn.close()


def status_of(response: bytes) -> int:
    line = response.split(b"\r\n", 1)[0].split()
    assert len(line) >= 2 and line[0].startswith(b"HTTP/"), response[:200]
    return int(line[1])


def body_of(response: bytes) -> bytes:
    return response.split(b"\r\n\r\n", 1)[1]


def request_bytes(method: str, target: str, headers: str = "", body: bytes = b"") -> bytes:
    head = f"{method} {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n{headers}\r\n"
    return head.encode("latin-1") + body


def with_filters(method: str, path: str, filters: object) -> bytes:
    return request_bytes(method, f"{path}?filters={quote(json.dumps(filters), safe='')}")


MALFORMED: dict[str, tuple[bytes, set[int]]] = {
    "binary-garbage": (b"\x00\xff\xfe\x16\x03\x01garbage\r\n\r\n", {400}),
    "request-line-without-target": (b"GET\r\n\r\n", {400}),
    "bad-http-version": (b"GET /_ping HTTP/9.9\r\nHost: x\r\n\r\n", {400, 505}),
    "unknown-method-token": (request_bytes("BREW", "/_ping"), {400, 405, 501}),
    "unknown-method-known-path": (request_bytes("PROPFIND", "/images/json"), {400, 405, 501}),
    "huge-header": (request_bytes("GET", "/_ping", "X-Big: " + "a" * 200_000 + "\r\n"), {400, 431}),
    "too-many-headers": (
        request_bytes("GET", "/_ping", "".join(f"X-H{i}: v\r\n" for i in range(5000))),
        {400, 431},
    ),
    "bad-chunk-size": (
        request_bytes("POST", "/images/load", "Transfer-Encoding: chunked\r\n", b"zz\r\nabc\r\n0\r\n\r\n"),
        {400},
    ),
    "content-length-and-chunked": (
        request_bytes(
            "POST", "/images/load", "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", b"0\r\n\r\n"
        ),
        {400},
    ),
    "negative-content-length": (request_bytes("POST", "/images/load", "Content-Length: -5\r\n"), {400}),
    "filters-not-json": (request_bytes("GET", "/images/json?filters=notjson"), {400}),
    "filters-not-utf8": (request_bytes("GET", "/images/json?filters=%ff%fe"), {400}),
    "filters-a-list": (with_filters("GET", "/images/json", [1]), {400}),
    "filters-scalar-value": (with_filters("GET", "/images/json", {"dangling": 5}), {400}),
    "filters-bad-bool": (
        with_filters("GET", "/images/json", {"dangling": ["maybe"]}),
        {400},
    ),
    "filters-unknown-key": (with_filters("GET", "/images/json", {"nosuch": ["x"]}), {400}),
    "filters-bad-until": (with_filters("GET", "/images/json", {"until": ["xx"]}), {400}),
    "all-maybe": (request_bytes("GET", "/images/json?all=maybe"), {200}),
    "version-overflow": (request_bytes("GET", "/v1.99999999999999999999/version"), {400}),
    "version-zero": (request_bytes("GET", "/v0.0/version"), {400}),
    "version-not-numeric": (request_bytes("GET", "/vabc/version"), {400, 404}),
    "bad-percent-escape": (request_bytes("GET", "/images/%zz/json"), {400, 404}),
    "nul-in-name": (request_bytes("GET", "/images/a%00b/json"), {400, 404}),
    "nul-in-tag": (request_bytes("POST", "/images/a/tag?repo=%00"), {400, 404}),
    "dotdot-name": (request_bytes("DELETE", "/images/..%2F..%2Fetc%2Fpasswd"), {400, 404}),
    "save-without-names": (request_bytes("GET", "/images/get"), {400}),
    "load-empty": (request_bytes("POST", "/images/load", "Content-Length: 0\r\n"), {400}),
    "load-garbage": (request_bytes("POST", "/images/load", "Content-Length: 10\r\n", b"0123456789"), {400}),
    "import-bad-repo": (
        request_bytes("POST", "/images/create?fromSrc=-&repo=BAD%20NAME", "Content-Length: 3\r\n", b"abc"),
        {400},
    ),
    "prune-bad-filters": (with_filters("POST", "/images/prune", {"x": 1}), {400}),
}


def test_malformed_requests_never_kill_the_daemon(jockerd, busybox_archive):
    jockerd.docker_ok("load", "-i", str(busybox_archive))
    statuses = {}
    for name, (data, expected) in MALFORMED.items():
        response = raw_exchange(jockerd.sock, data)
        statuses[name] = status_of(response)
        assert statuses[name] in expected, f"{name}: {response[:300]!r}"
        if b"application/json" in response.split(b"\r\n\r\n", 1)[0] and statuses[name] >= 400:
            assert isinstance(json.loads(body_of(response))["message"], str), name
    assert 500 not in statuses.values()

    # 400 for malformed filters JSON, with Docker's {"message"} body.
    bad = jockerd.request("GET", "/v1.51/images/json?filters=notjson")
    assert bad.status == 400
    assert bad.headers["content-type"].startswith("application/json")
    assert "invalid filter" in bad.json()["message"].lower()

    # Connections dropped half-way: no headers end, a chunked load and a sized load cut mid-body.
    cut_short(jockerd.sock, b"GET /_ping HTTP/1.1\r\nHost: x\r\n")
    with open(busybox_archive, "rb") as f:
        part = f.read(300_000)
    cut_short(
        jockerd.sock,
        request_bytes("POST", "/v1.51/images/load?quiet=1", "Transfer-Encoding: chunked\r\n")
        + b"%x\r\n" % len(part)
        + part
        + b"\r\n100000\r\nabc",
        spooling=jockerd.data_root / "tmp",
    )
    cut_short(
        jockerd.sock,
        request_bytes("POST", "/v1.51/images/load", f"Content-Length: {len(part) * 4}\r\n") + part,
        spooling=jockerd.data_root / "tmp",
    )
    wait_for(lambda: not any((jockerd.data_root / "tmp").iterdir()), what="spooled uploads to be removed")
    assert not any((jockerd.data_root / "image" / "ingest").iterdir())

    assert jockerd.proc is not None and jockerd.proc.poll() is None
    assert ping(jockerd.sock) == 200
    assert jockerd.docker_ok("images", "--format", "{{.Repository}}:{{.Tag}}") == "busybox:latest\n"


def cut_short(sock: Path, data: bytes, spooling: Path | None = None) -> None:
    """Send a partial request and hang up; with `spooling`, first wait for the upload to land."""
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.settimeout(10)
    try:
        conn.connect(str(sock))
        conn.sendall(data)
        if spooling is not None:
            wait_for(lambda: any(spooling.iterdir()), timeout=10, what="the upload to be spooled")
    finally:
        conn.close()


# -- API versions ------------------------------------------------------------------------------


def test_api_version_contract(jockerd, busybox_archive, tmp_path):
    too_new = jockerd.request("GET", "/v1.52/version")
    assert too_new.status == 400
    assert too_new.json() == {
        "message": "client version 1.52 is too new. Maximum supported API version is 1.51"
    }
    too_old = jockerd.request("GET", "/v1.23/version")
    assert too_old.status == 400
    assert too_old.json()["message"].startswith(
        "client version 1.23 is too old. Minimum supported API version is 1.24"
    )
    for path in ("/v1.24/version", "/v1.51/version", "/version"):
        response = jockerd.request("GET", path)
        assert response.status == 200, path
        assert response.json()["ApiVersion"] == "1.51"
        assert response.headers["api-version"] == "1.51"

    jockerd.docker_ok("load", "-i", str(busybox_archive))
    dangling = layered_image(tmp_path / "dangling.tar", [[("file", "hello", "hi\n")]], tag=None)
    assert "Loaded image ID: " + dangling.id in jockerd.docker_ok("load", "-i", str(dangling.path))

    def listing(prefix: str) -> dict[str, dict]:
        response = jockerd.request("GET", f"{prefix}/images/json")
        assert response.status == 200, (prefix, response.body)
        return {image["Id"]: image for image in response.json()}

    for prefix in ("/v1.24", "/v1.41", "/v1.43"):
        images = listing(prefix)
        assert len(images) == 2
        assert images[dangling.id]["RepoTags"] == ["<none>:<none>"]
        for image in images.values():
            assert image["VirtualSize"] == image["Size"], prefix
        assert any(i["RepoTags"] == ["busybox:latest"] for i in images.values())
    for prefix in ("/v1.44", "/v1.51", ""):
        images = listing(prefix)
        assert len(images) == 2
        assert images[dangling.id]["RepoTags"] == []
        for image in images.values():
            assert "VirtualSize" not in image, prefix


def test_docker_api_version_env_downgrades(jockerd):
    env = {**jockerd.env, "DOCKER_API_VERSION": "1.41"}
    result = subprocess.run(
        ["docker", "version", "--format", "{{.Client.APIVersion}} {{.Server.APIVersion}}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["1.41", "1.51"]
    plain = subprocess.run(["docker", "version"], env=env, capture_output=True, text=True, timeout=60)
    assert plain.returncode == 0, plain.stderr
    client = plain.stdout.split("Server:")[0]
    assert any(
        line.split(":", 1)[0].strip() == "API version" and line.split(":", 1)[1].split()[0] == "1.41"
        for line in client.splitlines()
    ), plain.stdout
    images = subprocess.run(["docker", "images"], env=env, capture_output=True, text=True, timeout=60)
    assert images.returncode == 0, images.stderr


@pytest.mark.parametrize(("level", "logs_info"), [("debug", True), ("warn", False), ("fatal", False)])
def test_log_level_flag(daemons, level, logs_info):
    daemon = daemons(level, "--log-level", level)
    daemon.start()
    assert daemon.stop() == 0
    assert ("listening on" in daemon.log.read_text()) is logs_info
