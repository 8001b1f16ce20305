"""Containers outlive the daemon: kill -9 jockerd, start it again, and everything is still there.

The shims keep the containers' stdio, logs and exit status while the daemon is gone; the new
daemon re-adopts them from exec_root/shim/<id> (docker-cli-flows.md, DESIGN §5.4).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

import pytest

from tests.conftest import DOCKER, wait_for

pytestmark = [pytest.mark.root]


def test_kill_9_and_restart(jockerd, busybox_archive):
    d = jockerd
    d.docker_ok("load", "-i", str(busybox_archive))
    ticker = "i=0; while true; do echo tick$i; i=$((i+1)); sleep 0.2; done"
    d.docker_ok("run", "-d", "--name", "keep", "busybox", "sh", "-c", ticker)
    d.docker_ok("run", "-d", "--name", "dies", "busybox", "sleep", "1000")
    d.docker_ok("create", "--name", "made", "busybox", "true")
    assert d.docker("run", "--name", "done", "busybox", "sh", "-c", "exit 4").returncode == 4
    dies_id = d.docker_ok("inspect", "-f", "{{.Id}}", "dies").strip()
    pid_before = json.loads(d.docker_ok("inspect", "keep"))[0]["State"]["Pid"]
    shim_pids = [p.read_text().split()[0] for p in d.exec_root.glob("shim/*/shim.pid")]
    assert len(shim_pids) == 2

    d.stop(signal.SIGKILL)
    # While the daemon is away, one container ends: its shim records the exit status.
    dies = d.exec_root / "shim" / dies_id
    init_pid = int((dies / "init.pid").read_text().split()[0])
    os.kill(init_pid, signal.SIGKILL)
    wait_for(lambda: (dies / "exit").exists(), timeout=15, what="the shim's exit file")

    d.start()
    ps = d.docker_ok("ps", "-a", "--format", "{{.Names}} {{.State}}").split("\n")
    assert "keep running" in ps and "made created" in ps and "done exited" in ps
    assert "dies exited" in ps
    assert d.docker_ok("inspect", "-f", "{{.State.ExitCode}}", "dies") == "137\n"
    assert d.docker_ok("inspect", "-f", "{{.State.ExitCode}}", "done") == "4\n"
    assert json.loads(d.docker_ok("inspect", "keep"))[0]["State"]["Pid"] == pid_before
    assert d.docker_ok("exec", "keep", "echo", "exec-after-restart") == "exec-after-restart\n"
    follow = subprocess.Popen(
        [DOCKER, "logs", "-f", "--tail", "1", "keep"], env=d.env, stdout=subprocess.PIPE
    )
    assert follow.stdout is not None
    first = follow.stdout.readline()
    second = follow.stdout.readline()  # a new line, written after the restart
    assert first.startswith(b"tick") and second.startswith(b"tick") and first != second
    d.docker_ok("stop", "-t", "1", "keep")
    assert follow.wait(timeout=15) == 0  # the follow ends when the container does
    assert d.docker_ok("start", "made") == "made\n"
    d.docker_ok("rm", "-f", "keep", "dies", "made", "done")
    assert not list(d.exec_root.glob("shim/*"))


def test_restart_policy_applies_to_exits_seen_after_restart(jockerd, busybox_archive):
    """A container whose process died while the daemon was down comes back per its policy."""
    d = jockerd
    d.docker_ok("load", "-i", str(busybox_archive))
    d.docker_ok("run", "-d", "--name", "phoenix", "--restart", "always", "busybox", "sleep", "1000")
    first_pid = int(d.docker_ok("inspect", "-f", "{{.State.Pid}}", "phoenix"))
    d.stop(signal.SIGKILL)
    os.kill(first_pid, signal.SIGKILL)
    cid = next(p.name for p in d.exec_root.glob("shim/*"))
    wait_for(lambda: (d.exec_root / "shim" / cid / "exit").exists(), timeout=15)
    d.start()

    def restarted() -> bool:
        state = json.loads(d.docker_ok("inspect", "phoenix"))[0]
        return state["State"]["Running"] and state["State"]["Pid"] not in (0, first_pid)

    wait_for(restarted, timeout=20)
    assert json.loads(d.docker_ok("inspect", "phoenix"))[0]["RestartCount"] == 1
    d.docker_ok("rm", "-f", "phoenix")


def test_killed_shim_is_cleaned_up(jockerd, busybox_archive):
    """kill -9 of a shim: the container is reported exited (255, moby's "unknown"), and its
    process, runtime state and rootfs mount are cleaned up by the daemon instead."""
    d = jockerd
    d.docker_ok("load", "-i", str(busybox_archive))
    cid = d.docker_ok("run", "-d", "--name", "orphan", "busybox", "sleep", "1000").strip()
    pid = int(d.docker_ok("inspect", "-f", "{{.State.Pid}}", "orphan"))
    shim_pid = int((d.exec_root / "shim" / cid / "shim.pid").read_text().split()[0])
    os.kill(shim_pid, signal.SIGKILL)
    wait_for(lambda: d.docker_ok("inspect", "-f", "{{.State.Status}}", "orphan") == "exited\n", timeout=15)
    assert d.docker_ok("inspect", "-f", "{{.State.ExitCode}}", "orphan") == "255\n"
    def gone() -> bool:
        try:
            return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
        except OSError:
            return True

    wait_for(gone)
    with open("/proc/self/mounts") as f:
        assert not [line for line in f if cid in line]
    assert d.docker_ok("start", "orphan") == "orphan\n"  # a new run works
    d.docker_ok("rm", "-f", "orphan")


def test_removal_cut_short_is_finished_on_restart(jockerd, busybox_archive):
    """A daemon killed while removing leaves the record saying "removing" (written first):
    the next daemon finishes the removal, so nothing is left half-deleted and the name is free."""
    d = jockerd
    d.docker_ok("load", "-i", str(busybox_archive))
    cid = d.docker_ok("create", "--name", "halfgone", "busybox", "true").strip()
    d.stop(signal.SIGKILL)
    record = d.data_root / "containers" / cid / "container.json"
    data = json.loads(record.read_text())
    data["state"]["status"] = "removing"  # where a kill -9 during `docker rm` leaves it
    record.write_text(json.dumps(data))
    d.start()
    wait_for(lambda: not (d.data_root / "containers" / cid).exists(), timeout=15, what="the removal")
    assert d.docker("inspect", "halfgone").returncode == 1
    assert d.docker_ok("create", "--name", "halfgone", "busybox", "true").strip() != cid
