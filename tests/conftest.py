"""Shared fixtures: a real jockerd in its own network namespace, the real docker CLI, images.

Network safety: every jockerd a test starts runs under `unshare -n` with only `lo` up, so
nothing it does can reach the host's networks.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCKER = shutil.which("docker")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.geteuid() != 0:
        skip = pytest.mark.skip(reason="needs root")
        for item in items:
            if "root" in item.keywords:
                item.add_marker(skip)


def stop_process(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM, timeout: float = 20) -> int:
    """Signal a process and reap it, killing it if it does not exit in time; its exit code."""
    if proc.poll() is None:
        proc.send_signal(sig)
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait(timeout)


def wait_for(
    condition: Callable[[], bool], timeout: float = 30, what: str = "condition", interval: float = 0.02
) -> None:
    """Poll `condition` until it holds, with a bounded deadline (never a bare sleep)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float = 60) -> None:
        super().__init__("localhost", timeout=timeout)
        self.socket_path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self.socket_path)
        self.sock = sock


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.body.splitlines() if line.strip()]


@dataclass
class Jockerd:
    """A running jockerd process and ways to talk to it."""

    root: Path
    proc: subprocess.Popen[bytes] | None = None
    args: list[str] = field(default_factory=list)

    @property
    def sock(self) -> Path:
        return self.root / "jocker.sock"

    @property
    def data_root(self) -> Path:
        return self.root / "data"

    @property
    def exec_root(self) -> Path:
        return self.root / "exec"

    @property
    def log(self) -> Path:
        return self.root / "jockerd.log"

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "DOCKER_HOST": f"unix://{self.sock}", "DOCKER_CONFIG": str(self.root / "cli")}

    def command(self, *extra: str) -> list[str]:
        daemon = [
            sys.executable,
            "-m",
            "jockerd",
            "--host",
            f"unix://{self.sock}",
            "--data-root",
            str(self.data_root),
            "--exec-root",
            str(self.exec_root),
            "--config-file",
            str(self.root / "daemon.json"),
            *self.args,
            *extra,
        ]
        # Own network namespace with loopback up; `exec` so the pid is jockerd's.
        script = 'ip link set lo up && exec "$@"'
        return ["unshare", "--net", "--", "sh", "-c", script, "jockerd", *daemon]

    def start(self, *extra: str, timeout: float = 30) -> None:
        (self.root / "daemon.json").exists() or (self.root / "daemon.json").write_text("{}")
        log = open(self.log, "ab")  # noqa: SIM115 - owned by the child
        self.proc = subprocess.Popen(self.command(*extra), stdout=log, stderr=log, cwd=REPO)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jockerd exited with {self.proc.returncode}:\n{self.log.read_text()}")
            try:
                if self.request("GET", "/_ping", timeout=1).status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"jockerd did not answer within {timeout}s:\n{self.log.read_text()}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> int:
        assert self.proc is not None
        return stop_process(self.proc, sig, timeout)

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 120,
    ) -> Response:
        conn = UnixHTTPConnection(str(self.sock), timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            return Response(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read())
        finally:
            conn.close()

    def docker(
        self, *args: str, input: bytes | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        if DOCKER is None:
            pytest.skip("the docker CLI is not installed")
        return subprocess.run(
            [DOCKER, *args],
            env=self.env,
            input=input.decode("latin-1") if input is not None else None,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def docker_ok(self, *args: str, timeout: float = 120) -> str:
        result = self.docker(*args, timeout=timeout)
        assert result.returncode == 0, f"docker {' '.join(args)} failed: {result.stderr}"
        return result.stdout


@pytest.fixture(scope="session")
def busybox_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default image, built offline from the host's static busybox."""
    from images.busybox.build import build_busybox

    if not Path("/bin/busybox").exists():
        pytest.skip("busybox-static is not installed (run ./setup.sh --no-start)")
    dest = tmp_path_factory.mktemp("images") / "busybox.tar"
    build_busybox(dest)
    return dest


def remove_all_containers(daemon: Jockerd) -> None:
    """`docker rm -f` of every container, through the API (shims outlive the daemon otherwise)."""
    try:
        listing = daemon.request("GET", "/containers/json?all=1", timeout=30)
        if listing.status != 200:
            return
        for item in listing.json():
            daemon.request("DELETE", f"/containers/{item['Id']}?force=1", timeout=30)
    except OSError:
        pass


def kill_leftovers(root: Path) -> None:
    """Last resort after a test: shims, container processes and mounts under `root`."""
    for pidfile in root.glob("exec/shim/**/shim.pid"):
        with contextlib.suppress(ValueError, OSError):
            os.kill(int(pidfile.read_text().split()[0]), signal.SIGKILL)
    for state in root.glob("exec/runtime/*/*/state.json"):
        with contextlib.suppress(ValueError, OSError, KeyError):
            os.kill(int(json.loads(state.read_text())["init_process_pid"]), signal.SIGKILL)
    with open("/proc/self/mounts") as f:
        targets = [line.split()[1] for line in f if line.split()[1].startswith(str(root))]
    for target in reversed(targets):
        subprocess.run(["umount", "-l", target], capture_output=True)


def _start(tmp_path: Path) -> Iterator[Jockerd]:
    daemon = Jockerd(tmp_path)
    daemon.start()
    try:
        yield daemon
    finally:
        if daemon.proc is not None and daemon.proc.poll() is None:
            remove_all_containers(daemon)
            daemon.stop()
        kill_leftovers(tmp_path)


@pytest.fixture
def jockerd(tmp_path: Path) -> Iterator[Jockerd]:
    """A fresh jockerd for one test."""
    yield from _start(tmp_path)


@pytest.fixture(scope="module")
def shared_jockerd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Jockerd]:
    """One jockerd for a module's read-mostly tests."""
    yield from _start(tmp_path_factory.mktemp("jockerd"))
