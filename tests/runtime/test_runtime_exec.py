"""exec into a running container, and the cgroup-backed verbs (ps, pause, resume, events, update,
kill --all), against jocker-runtime and runc."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from tests.runtime.conftest import Runtime
from tests.runtime.test_runtime_containers import ConsoleReceiver, read_all, wait_status

pytestmark = pytest.mark.root


@pytest.fixture
def running(runtime: Runtime, make_bundle, cid: str) -> tuple[Runtime, str]:
    def edit(spec: dict) -> None:
        spec["hostname"] = "target"
        spec["process"]["env"].append("FROM_SPEC=1")

    runtime.ok("run", "--detach", "--bundle", str(make_bundle(["sleep", "1000"], edit=edit)), cid)
    return runtime, cid


def test_exec_joins_the_namespaces(running) -> None:
    runtime, cid = running
    init_pid = runtime.state(cid)["pid"]
    script = (
        "hostname; echo $$; readlink /proc/self/ns/net; readlink /proc/self/ns/mnt; ls /proc/self/fd; exit 4"
    )
    result = runtime.run("exec", cid, "sh", "-c", script)
    assert result.returncode == 4, result.stderr
    lines = result.stdout.split()
    assert lines[0] == "target"
    assert lines[1] != "1"  # a new process in the container's pid namespace
    assert lines[2] == os.readlink(f"/proc/{init_pid}/ns/net")
    assert lines[3] == os.readlink(f"/proc/{init_pid}/ns/mnt")
    assert lines[4:] == ["0", "1", "2", "3"]


def test_exec_process_options(running) -> None:
    runtime, cid = running
    result = runtime.run(
        "exec",
        "--user",
        "1000:1001",
        "--cwd",
        "/tmp",
        "--env",
        "EXTRA=2",
        cid,
        "sh",
        "-c",
        "id -u; id -g; pwd; echo $FROM_SPEC$EXTRA",
    )
    assert result.stdout.split() == ["1000", "1001", "/tmp", "12"], result.stderr


def test_exec_with_process_json(running, tmp_path: Path) -> None:
    runtime, cid = running
    process = {
        "terminal": False,
        "user": {"uid": 7, "gid": 7},
        "args": ["sh", "-c", "id -u; grep NoNewPrivs /proc/self/status; grep CapEff /proc/self/status"],
        "env": ["PATH=/bin"],
        "cwd": "/",
        "noNewPrivileges": True,
        "capabilities": {"bounding": ["CAP_KILL"], "effective": [], "permitted": []},
    }
    (tmp_path / "process.json").write_text(json.dumps(process))
    result = runtime.run("exec", "--process", str(tmp_path / "process.json"), cid)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["7", "NoNewPrivs:", "1", "CapEff:", "0000000000000000"]


def test_exec_detached_with_pid_file(running, tmp_path: Path) -> None:
    runtime, cid = running
    pid_file = tmp_path / "exec.pid"
    runtime.ok("exec", "--detach", "--pid-file", str(pid_file), cid, "sleep", "1000")
    pid = int(pid_file.read_bytes())
    assert Path(f"/proc/{pid}").exists()
    assert pid in json.loads(runtime.ok("ps", "--format", "json", cid))


def test_exec_missing_program_fails(running) -> None:
    runtime, cid = running
    result = runtime.run("exec", cid, "nosuch")
    assert result.returncode != 0
    assert "executable file not found" in result.stderr


def test_exec_into_a_stopped_container_fails(runtime: Runtime, make_bundle, cid: str) -> None:
    runtime.ok("run", "--detach", "--bundle", str(make_bundle(["true"])), cid)
    wait_status(runtime, cid, "stopped")
    result = runtime.run("exec", cid, "true")
    assert result.returncode != 0 and "stopped" in result.stderr


def test_exec_with_a_terminal(running, tmp_path: Path) -> None:
    runtime, cid = running
    receiver = ConsoleReceiver(tmp_path / "console.sock")
    try:
        proc = subprocess.Popen(
            runtime.command(
                "exec",
                "--tty",
                "--detach",
                "--console-socket",
                str(receiver.path),
                cid,
                "sh",
                "-c",
                "tty; test -t 0 && echo yes",
            ),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        _, master = receiver.receive()
        assert proc.wait(timeout=20) == 0, proc.stderr.read()
        output = read_all(master).decode().replace("\r", "").split()
        os.close(master)
    finally:
        receiver.close()
    assert output[0].startswith("/dev/pts/") and output[1] == "yes"


# -- cgroup-backed verbs ----------------------------------------------------------------------------


def test_ps_pause_resume(running) -> None:
    runtime, cid = running
    init_pid = runtime.state(cid)["pid"]
    assert json.loads(runtime.ok("ps", "--format", "json", cid)) == [init_pid]
    table = runtime.ok("ps", cid).splitlines()
    assert "PID" in table[0].split() and any(str(init_pid) in line.split() for line in table[1:])
    runtime.ok("pause", cid)
    assert runtime.state(cid)["status"] == "paused"
    assert _proc_state(init_pid) == "D" or _frozen(init_pid)
    assert runtime.run("pause", cid).returncode != 0
    runtime.ok("resume", cid)
    assert runtime.state(cid)["status"] == "running"
    assert runtime.run("resume", cid).returncode != 0


def test_delete_force_of_a_paused_container(running) -> None:
    runtime, cid = running
    runtime.ok("pause", cid)
    runtime.ok("delete", "--force", cid)
    assert runtime.run("state", cid).returncode != 0


def test_events_stats(running) -> None:
    runtime, cid = running
    event = json.loads(runtime.ok("events", "--stats", cid).splitlines()[0])
    assert event["type"] == "stats" and event["id"] == cid
    assert event["data"]["pids"]["current"] >= 1
    assert event["data"]["memory"]["usage"]["usage"] > 0


def test_update_pids_limit(running) -> None:
    runtime, cid = running
    runtime.ok("update", "--pids-limit", "42", cid)
    pid = runtime.state(cid)["pid"]
    cgroup = next(
        line.split(":", 2)[2]
        for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines()
        if ":pids:" in line
    )
    assert Path(f"/sys/fs/cgroup/pids{cgroup}/pids.max").read_text().strip() == "42"


def test_kill_all_without_a_pid_namespace(runtime: Runtime, make_bundle, cid: str) -> None:
    def edit(spec: dict) -> None:
        spec["linux"]["namespaces"] = [n for n in spec["linux"]["namespaces"] if n["type"] != "pid"]

    runtime.ok(
        "run",
        "--detach",
        "--bundle",
        str(make_bundle(["sh", "-c", "sleep 1000 & sleep 1000 & wait"], edit=edit)),
        cid,
    )
    deadline = time.monotonic() + 5
    while len(json.loads(runtime.ok("ps", "--format", "json", cid))) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    pids = json.loads(runtime.ok("ps", "--format", "json", cid))
    assert len(pids) == 3
    runtime.ok("kill", "--all", cid, "KILL")
    deadline = time.monotonic() + 5
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not any(_alive(p) for p in pids)


def test_delete_removes_the_cgroup(jocker: Runtime, make_bundle, cid: str) -> None:
    jocker.ok("run", "--detach", "--bundle", str(make_bundle(["sleep", "1000"])), cid)
    dirs = json.loads((jocker.root / cid / "state.json").read_text())["cgroup_dirs"]
    assert dirs and all(Path(d).is_dir() for d in dirs.values())
    jocker.ok("delete", "--force", cid)
    assert not any(Path(d).exists() for d in dirs.values())


def _proc_state(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


def _frozen(pid: int) -> bool:
    cgroup = next(
        line.split(":", 2)[2]
        for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines()
        if ":freezer:" in line
    )
    return Path(f"/sys/fs/cgroup/freezer{cgroup}/freezer.state").read_text().strip() == "FROZEN"


def _alive(pid: int) -> bool:
    try:
        return _proc_state(pid) not in "ZX"
    except FileNotFoundError:
        return False
