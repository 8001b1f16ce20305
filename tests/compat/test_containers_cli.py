"""Container commands through the real docker CLI against a real jockerd.

Expected outputs, exit codes and error wordings come from ../shared/traces and
../shared/docker-cli-flows.md (docker CLI 28.2.2 against Docker Engine).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import subprocess
import tarfile
import time

import pytest

from tests.conftest import DOCKER, wait_for

pytestmark = [pytest.mark.root]


@pytest.fixture(scope="module")
def d(shared_jockerd, busybox_archive):
    shared_jockerd.docker_ok("load", "-i", str(busybox_archive))
    return shared_jockerd


def run(d, *args, input=None, timeout=60):
    return d.docker("run", *args, input=input, timeout=timeout)


def test_run_rm_echo(d):
    result = run(d, "--rm", "busybox", "echo", "hello")
    assert (result.returncode, result.stdout, result.stderr) == (0, "hello\n", "")
    assert d.docker_ok("ps", "-aq") == ""


def test_run_out_err_exit_code(d):
    result = run(d, "--name", "oe7", "busybox", "sh", "-c", "echo out; echo err >&2; exit 7")
    assert (result.returncode, result.stdout, result.stderr) == (7, "out\n", "err\n")
    status = d.docker_ok("ps", "-a", "--filter", "name=oe7", "--format", "{{.Status}}")
    assert re.fullmatch(r"Exited \(7\) .* ago\n", status), status
    state = json.loads(d.docker_ok("inspect", "oe7"))[0]["State"]
    assert state["Status"] == "exited" and state["ExitCode"] == 7 and not state["Running"]
    logs = d.docker("logs", "oe7")
    assert (logs.stdout, logs.stderr) == ("out\n", "err\n")
    assert d.docker_ok("rm", "oe7") == "oe7\n"


def test_missing_command_exit_127(d):
    result = run(d, "--rm", "busybox", "/nosuchcmd")
    assert result.returncode == 127, result.stderr
    assert "docker: Error response from daemon:" in result.stderr
    assert "no such file or directory" in result.stderr or "not found" in result.stderr
    assert d.docker_ok("ps", "-aq") == ""


def test_detached_lifecycle(d):
    cid = d.docker_ok(
        "run",
        "-d",
        "--name",
        "life",
        "-l",
        "jtr=1",
        "busybox",
        "sh",
        "-c",
        "echo started; trap 'echo got-term; exit 3' TERM; while true; do sleep 0.1; done",
    ).strip()
    assert re.fullmatch(r"[0-9a-f]{64}", cid)
    wait_for(lambda: "started" in d.docker_ok("logs", "life"), timeout=10)
    ps = d.docker_ok("ps", "--format", "{{.ID}} {{.Names}} {{.Image}} {{.Status}}")
    assert re.search(rf"^{cid[:12]} life busybox Up ", ps, re.M), ps
    assert d.docker_ok("ps", "-q", "--filter", "label=jtr=1") == cid[:12] + "\n"
    out = d.docker("exec", "life", "sh", "-c", "echo in-exec; echo e >&2; exit 4")
    assert (out.returncode, out.stdout, out.stderr) == (4, "in-exec\n", "e\n")
    env = d.docker_ok(
        "exec", "-e", "X=1", "-u", "65534", "-w", "/tmp", "life", "sh", "-c", "echo $X $(id -u) $PWD"
    )
    assert env == "1 65534 /tmp\n"
    top = d.docker_ok("top", "life")
    assert (
        top.splitlines()[0].split()[:3] == ["UID", "PID", "PPID"] and "while true" in top
    ) or "sh -c" in top
    assert d.docker_ok("pause", "life") == "life\n"
    assert "(Paused)" in d.docker_ok("ps", "--filter", "name=life", "--format", "{{.Status}}")
    assert d.docker_ok("unpause", "life") == "life\n"
    assert d.docker_ok("rename", "life", "life2") == ""
    start = time.monotonic()
    assert d.docker_ok("stop", "life2") == "life2\n"
    assert time.monotonic() - start < 5  # the TERM trap ends it well before the timeout
    state = json.loads(d.docker_ok("inspect", "life2"))[0]["State"]
    assert state["ExitCode"] == 3
    assert "got-term" in d.docker_ok("logs", "life2")
    assert d.docker("stop", "life2").returncode == 0  # 304: already stopped
    assert d.docker_ok("rm", "life2") == "life2\n"


def test_stop_escalates_to_kill(d):
    d.docker_ok(
        "run",
        "-d",
        "--name",
        "stubborn",
        "busybox",
        "sh",
        "-c",
        "trap '' TERM; while true; do sleep 0.1; done",
    )
    start = time.monotonic()
    d.docker_ok("stop", "-t", "1", "stubborn")
    assert 0.9 < time.monotonic() - start < 6
    assert json.loads(d.docker_ok("inspect", "stubborn"))[0]["State"]["ExitCode"] == 137
    d.docker_ok("rm", "stubborn")


def test_kill_wait_and_errors(d):
    d.docker_ok("run", "-d", "--name", "kw", "busybox", "sleep", "1000")
    assert d.docker_ok("kill", "-s", "USR1", "kw") == "kw\n"
    wait = subprocess.Popen([DOCKER, "wait", "kw"], env=d.env, stdout=subprocess.PIPE, text=True)
    assert d.docker_ok("kill", "kw") == "kw\n"
    out, _ = wait.communicate(timeout=10)
    assert out in ("138\n", "137\n")  # USR1 (10) ends sleep too: 128+10; else KILL
    again = d.docker("kill", "kw")
    assert again.returncode == 1 and "is not running" in again.stderr
    killed = d.docker("kill", "nosuch-container")
    assert killed.returncode == 1
    assert killed.stderr.strip() == (
        "Error response from daemon: Cannot kill container: nosuch-container: "
        "No such container: nosuch-container"
    )
    missing = d.docker("rm", "nosuch-container")
    assert missing.returncode == 1
    assert missing.stderr.strip() == "Error response from daemon: No such container: nosuch-container"
    assert d.docker("rm", "-f", "nosuch-container").returncode == 0
    d.docker_ok("rm", "kw")


def test_rm_running_conflict_and_force(d):
    d.docker_ok("run", "-d", "--name", "busy", "busybox", "sleep", "1000")
    result = d.docker("rm", "busy")
    assert result.returncode == 1
    assert "You cannot remove a running container" in result.stderr
    assert d.docker_ok("rm", "-f", "busy") == "busy\n"
    assert d.docker_ok("ps", "-aq", "--filter", "name=busy") == ""


def test_name_conflict(d):
    d.docker_ok("create", "--name", "twice", "busybox", "true")
    result = d.docker("create", "--name", "twice", "busybox", "true")
    assert result.returncode == 1
    assert 'Conflict. The container name "/twice" is already in use by container' in result.stderr
    result = d.docker("run", "--name", "twice", "busybox", "true")
    assert result.returncode == 125  # run's own exit code for a daemon error
    assert result.stderr.startswith("docker: Error response from daemon: Conflict. The container name")
    d.docker_ok("rm", "twice")
    d.docker_ok("create", "--name", "twice", "busybox", "true")  # the name is free again
    d.docker_ok("rm", "twice")


def test_create_start_attach(d):
    cid = d.docker_ok("create", "--name", "csa", "busybox", "sh", "-c", "echo from-start; exit 6").strip()
    assert d.docker_ok("ps", "-a", "--filter", "name=csa", "--format", "{{.Status}}") == "Created\n"
    result = d.docker("start", "-a", "csa")
    assert (result.returncode, result.stdout) == (6, "from-start\n")
    assert d.docker_ok("start", cid).strip() == cid
    assert d.docker_ok("wait", "csa") == "6\n"
    d.docker_ok("rm", "csa")


def test_stdin_binary_roundtrip(d):
    data = os.urandom(1024 * 1024)
    result = subprocess.run(
        [DOCKER, "run", "--rm", "-i", "busybox", "cat"],
        env=d.env,
        input=data,
        capture_output=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert hashlib.sha256(result.stdout).hexdigest() == hashlib.sha256(data).hexdigest()


def test_stdin_then_more_output(d):
    result = subprocess.run(
        [DOCKER, "run", "--rm", "-i", "busybox", "sh", "-c", "cat; echo done-after-eof"],
        env=d.env,
        input=b"piped\n",
        capture_output=True,
        timeout=60,
    )
    assert result.stdout == b"piped\ndone-after-eof\n"


def test_many_lines_in_order(d):
    result = subprocess.run(
        [DOCKER, "run", "--name", "lines", "busybox", "seq", "1", "200000"],
        env=d.env,
        capture_output=True,
        timeout=120,
    )
    assert result.returncode == 0
    lines = result.stdout.split(b"\n")
    assert lines[-1] == b"" and len(lines) == 200001
    assert lines[:-1] == [str(i).encode() for i in range(1, 200001)]
    logs = subprocess.run(
        [DOCKER, "logs", "--tail", "3", "lines"], env=d.env, capture_output=True, timeout=60
    )
    assert logs.stdout == b"199998\n199999\n200000\n"
    d.docker_ok("rm", "lines")


def test_logs_follow_and_timestamps(d):
    d.docker_ok(
        "run", "-d", "--name", "flw", "busybox", "sh", "-c", "for i in 1 2 3; do echo line$i; sleep 0.2; done"
    )
    follow = d.docker("logs", "-f", "flw", timeout=20)
    assert follow.stdout == "line1\nline2\nline3\n"
    stamped = d.docker_ok("logs", "-t", "flw").splitlines()
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z line\d", line) for line in stamped), (
        stamped
    )
    d.docker_ok("rm", "flw")


def test_inspect_shape(d):
    d.docker_ok(
        "run", "-d", "--name", "insp", "-e", "A=1", "-m", "64m", "--cpus", "0.5", "busybox", "sleep", "1000"
    )
    data = json.loads(d.docker_ok("inspect", "insp"))[0]
    assert data["Name"] == "/insp"
    assert data["Path"] == "sleep" and data["Args"] == ["1000"]
    assert data["State"]["Running"] and data["State"]["Pid"] > 0
    assert data["HostConfig"]["Memory"] == 64 * 1024 * 1024
    assert data["HostConfig"]["NanoCpus"] == 500_000_000
    assert "A=1" in data["Config"]["Env"]
    assert data["Config"]["Image"] == "busybox"
    assert data["Image"].startswith("sha256:")
    assert data["Config"]["Hostname"] == data["Id"][:12]
    fmt = d.docker_ok("inspect", "-f", "{{.State.Status}} {{.RestartCount}}", "insp")
    assert fmt == "running 0\n"
    limit = d.docker_ok("exec", "insp", "cat", "/sys/fs/cgroup/memory/memory.limit_in_bytes")
    assert limit.strip() in (str(64 * 1024 * 1024), "")
    d.docker_ok("rm", "-f", "insp")


def test_stats_no_stream(d):
    d.docker_ok("run", "-d", "--name", "st", "busybox", "sleep", "1000")
    out = d.docker_ok("stats", "--no-stream", "--format", "{{.Name}} {{.PIDs}}", "st")
    assert out == "st 1\n"
    d.docker_ok("rm", "-f", "st")


def test_restart_policy_on_failure(d):
    d.docker_ok("run", "-d", "--name", "rp", "--restart", "on-failure:2", "busybox", "sh", "-c", "exit 5")
    wait_for(
        lambda: (
            json.loads(d.docker_ok("inspect", "rp"))[0]["RestartCount"] == 2
            and json.loads(d.docker_ok("inspect", "rp"))[0]["State"]["Status"] == "exited"
        ),
        timeout=20,
    )
    d.docker_ok("rm", "rp")


def test_restart_command(d):
    d.docker_ok("run", "-d", "--name", "rs", "busybox", "sleep", "1000")
    pid = json.loads(d.docker_ok("inspect", "rs"))[0]["State"]["Pid"]
    assert d.docker_ok("restart", "-t", "0", "rs") == "rs\n"
    state = json.loads(d.docker_ok("inspect", "rs"))[0]["State"]
    assert state["Running"] and state["Pid"] != pid
    d.docker_ok("rm", "-f", "rs")


def test_container_prune(d):
    d.docker_ok("create", "--name", "pr1", "-l", "jtr=prune", "busybox", "true")
    d.docker_ok("create", "--name", "pr2", "busybox", "true")
    out = d.docker_ok("container", "prune", "-f", "--filter", "label=jtr=prune")
    assert "Deleted Containers:" in out
    names = d.docker_ok("ps", "-a", "--format", "{{.Names}}").split()
    assert "pr1" not in names and "pr2" in names
    d.docker_ok("rm", "pr2")


def test_runtime_choice(d):
    runtimes = json.loads(d.docker_ok("info", "--format", "{{json .Runtimes}}"))
    assert "jocker-runtime" in runtimes
    assert d.docker_ok("info", "--format", "{{.DefaultRuntime}}") == "jocker-runtime\n"
    for name in ("runc", "crun"):
        if name not in runtimes:
            continue
        result = run(d, "--rm", "--runtime", name, "busybox", "sh", "-c", "echo via; exit 3")
        assert (result.returncode, result.stdout) == (3, "via\n"), result.stderr
    bad = run(d, "--rm", "--runtime", "nosuch", "busybox", "true")
    assert bad.returncode == 125 and "unknown or invalid runtime name: nosuch" in bad.stderr


def test_options_reach_the_container(d):
    script = "hostname; id -u; cat /etc/hosts | grep myhost; ulimit -n; touch /x 2>&1 | head -c 40; echo"
    result = run(
        d,
        "--rm",
        "--hostname",
        "hname",
        "--add-host",
        "myhost:10.1.2.3",
        "--ulimit",
        "nofile=512:512",
        "--read-only",
        "-u",
        "1000",
        "busybox",
        "sh",
        "-c",
        script,
    )
    lines = result.stdout.splitlines()
    assert lines[0] == "hname" and lines[1] == "1000"
    assert lines[2].split() == ["10.1.2.3", "myhost"]
    assert lines[3] == "512"
    assert "Read-only file system" in lines[4]


def test_network_none_and_host(d):
    result = run(d, "--rm", "--network", "none", "busybox", "sh", "-c", "ls /sys/class/net")
    assert result.stdout.split() == ["lo"]
    result = run(d, "--rm", "busybox", "sh", "-c", "ls /sys/class/net")
    assert result.stdout.split() == ["lo"]


def test_events_stream(d):
    since = str(int(time.time()) - 1)
    d.docker_ok("run", "--rm", "--name", "ev", "busybox", "true")
    until = str(int(time.time()) + 1)
    out = d.docker_ok(
        "events",
        "--since",
        since,
        "--until",
        until,
        "--filter",
        "container=ev",
        "--format",
        "{{.Type}} {{.Action}}",
    )
    actions = out.split("\n")
    for expected in ("container create", "container start", "container die", "container destroy"):
        assert expected in actions, out
    backwards = d.docker("events", "--since", until, "--until", since)
    assert (backwards.returncode, backwards.stderr) == (
        1,
        f"Error response from daemon: `since` time ({until}) cannot be after `until` time ({since})\n",
    )


@pytest.mark.parametrize("api", ["1.24", "1.41", ""])
def test_run_output_at_every_api_version(d, api):
    """At API < 1.25 the CLI removes --rm containers itself after `die`; at every version the
    output must arrive whole (attach is registered before the process runs)."""
    env = {**d.env, **({"DOCKER_API_VERSION": api} if api else {})}
    for _ in range(3):
        result = subprocess.run(
            [DOCKER, "run", "--rm", "busybox", "sh", "-c", "echo hi; exit 3"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert (result.returncode, result.stdout) == (3, "hi\n"), result.stderr
    wait_for(lambda: d.docker_ok("ps", "-aq") == "", timeout=10)


def test_diff_and_commit(d):
    script = "echo hi > /hello; rm /bin/ls; mkdir -p /tmp/d; echo x > /tmp/d/f"
    d.docker_ok("run", "--name", "cm", "busybox", "sh", "-c", script)
    assert d.docker_ok("diff", "cm").splitlines() == [
        "C /bin",
        "D /bin/ls",
        "A /hello",
        "C /tmp",
        "A /tmp/d",
        "A /tmp/d/f",
    ]
    image_id = d.docker_ok(
        "commit", "-c", 'CMD ["cat", "/hello"]', "-m", "my msg", "cm", "jtr/committed:v1"
    ).strip()
    assert image_id.startswith("sha256:")
    assert d.docker_ok("run", "--rm", "jtr/committed:v1") == "hi\n"
    gone = d.docker("run", "--rm", "jtr/committed:v1", "ls", "/")
    assert gone.returncode == 127 and 'exec: "ls": executable file not found in $PATH' in gone.stderr
    history = d.docker_ok("history", "--format", "{{.Comment}}", "jtr/committed:v1").splitlines()
    assert history[0] == "my msg"
    image = json.loads(d.docker_ok("image", "inspect", "jtr/committed:v1"))[0]
    assert len(image["RootFS"]["Layers"]) == 2
    assert image["Config"]["Cmd"] == ["cat", "/hello"]
    d.docker_ok("rm", "cm")
    d.docker_ok("rmi", "jtr/committed:v1")


def test_exec_detached_and_errors(d):
    d.docker_ok("run", "-d", "--name", "ex", "busybox", "sleep", "1000")
    start = time.monotonic()
    assert d.docker_ok("exec", "-d", "ex", "sh", "-c", "echo done > /tmp/marker") == ""
    wait_for(lambda: d.docker("exec", "ex", "cat", "/tmp/marker").stdout == "done\n", timeout=10)
    assert time.monotonic() - start < 3  # a detached exec runs (and ends) at once
    missing = subprocess.run([DOCKER, "exec", "ex", "/nosuch"], env=d.env, capture_output=True, timeout=60)
    assert (missing.returncode, missing.stdout) == (  # byte for byte as dockerd 20.10 + runc
        126,
        b'OCI runtime exec failed: exec failed: unable to start container process: exec: "/nosuch": '
        b"stat /nosuch: no such file or directory: unknown\r\n",
    )
    d.docker_ok("stop", "-t", "0", "ex")
    stopped = d.docker("exec", "ex", "true")
    assert stopped.returncode == 1 and "is not running" in stopped.stderr
    gone = d.docker("exec", "nosuch-ctr", "true")
    assert gone.returncode == 1 and "No such container: nosuch-ctr" in gone.stderr
    d.docker_ok("rm", "ex")


def test_attach_to_running_and_detach(d):
    d.docker_ok(
        "run",
        "-d",
        "--name",
        "att",
        "busybox",
        "sh",
        "-c",
        "i=0; while true; do echo a$i; i=$((i+1)); sleep 0.1; done",
    )
    attach = subprocess.Popen([DOCKER, "attach", "--no-stdin", "att"], env=d.env, stdout=subprocess.PIPE)
    assert attach.stdout is not None
    first = attach.stdout.readline()
    assert first.startswith(b"a")
    attach.kill()  # the CLI goes away (TERM would be proxied to the container): it carries on
    attach.wait(timeout=10)
    assert d.docker_ok("inspect", "-f", "{{.State.Running}}", "att") == "true\n"
    d.docker_ok("rm", "-f", "att")


def test_start_attach_interactive(d):
    d.docker_ok("create", "-i", "--name", "sai", "busybox", "sh", "-c", "read line; echo got:$line")
    result = subprocess.run(
        [DOCKER, "start", "-ai", "sai"], env=d.env, input=b"hello\n", capture_output=True, timeout=30
    )
    assert (result.returncode, result.stdout) == (0, b"got:hello\n")
    d.docker_ok("rm", "sai")


def test_update_live(d):
    d.docker_ok("run", "-d", "--name", "upd", "busybox", "sleep", "1000")
    assert (
        d.docker_ok("update", "-m", "100m", "--pids-limit", "20", "--restart", "on-failure:3", "upd")
        == "upd\n"
    )
    limits = d.docker_ok(
        "exec", "upd", "cat", "/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/pids/pids.max"
    )
    assert limits.split() == [str(100 * 1024 * 1024), "20"]
    host = json.loads(d.docker_ok("inspect", "upd"))[0]["HostConfig"]
    assert host["Memory"] == 100 * 1024 * 1024 and host["PidsLimit"] == 20
    assert host["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 3}
    bad = d.docker("update", "-m", "4m", "upd")
    assert bad.returncode == 1 and "Minimum memory limit allowed is 6MB" in bad.stderr
    d.docker_ok("rm", "-f", "upd")


def test_stats_stream_and_all(d):
    d.docker_ok("run", "-d", "--name", "sts", "busybox", "sleep", "1000")
    stream = subprocess.Popen(
        [DOCKER, "stats", "--format", "{{.Name}} {{.PIDs}}", "sts"],
        env=d.env,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert stream.stdout is not None
    seen = ""
    deadline = time.monotonic() + 15
    while "sts 1" not in seen and time.monotonic() < deadline:
        seen += stream.stdout.readline()
    stream.kill()
    stream.wait(timeout=10)
    assert "sts 1" in seen
    everything = d.docker_ok("stats", "--no-stream", "--format", "{{.Name}}")
    assert "sts" in everything.split()
    d.docker_ok("rm", "-f", "sts")


def test_events_live(d):
    """A live `docker events` (no --until) streams as things happen; --since replays what came
    before the CLI connected, so the test needs no sleep to be sure it is subscribed."""
    since = str(time.time() - 1)
    events = subprocess.Popen(
        [DOCKER, "events", "--since", since, "--filter", "container=evl", "--format", "{{.Action}}"],
        env=d.env,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert events.stdout is not None
    d.docker_ok("run", "--rm", "--name", "evl", "busybox", "true")
    actions = []
    deadline = time.monotonic() + 15
    while "destroy" not in actions and time.monotonic() < deadline:
        actions.append(events.stdout.readline().strip())
    events.kill()
    events.wait(timeout=10)
    for expected in ("create", "attach", "start", "die", "destroy"):
        assert expected in actions, actions


def test_logs_since_until(d):
    d.docker_ok("run", "--name", "lsu", "busybox", "sh", "-c", "echo early; sleep 1.2; echo late")
    stamped = d.docker_ok("logs", "-t", "lsu").splitlines()
    late_time = stamped[1].split()[0]
    assert d.docker_ok("logs", "--since", late_time, "lsu") == "late\n"
    assert d.docker_ok("logs", "--until", late_time, "lsu").startswith("early\n")
    ps = d.docker_ok("ps", "-a", "-n", "1", "--format", "{{.Names}}")
    assert ps == "lsu\n"
    d.docker_ok("rm", "lsu")


def test_oom_killed(d):
    result = d.docker(
        "run",
        "--name",
        "oomy",
        "-m",
        "8m",
        "--memory-swap",
        "8m",
        "busybox",
        "sh",
        "-c",
        "x=a; while true; do x=$x$x; done",
    )
    assert result.returncode == 137
    assert d.docker_ok("inspect", "-f", "{{.State.OOMKilled}} {{.State.ExitCode}}", "oomy") == "true 137\n"
    d.docker_ok("rm", "oomy")


def test_exec_unknown_user_and_odd_signals(d):
    d.docker_ok("run", "-d", "--name", "odd", "busybox", "sleep", "1000")
    result = d.docker("exec", "-u", "nosuch", "odd", "id")
    assert result.returncode == 126
    assert "unable to find user nosuch: no matching entries in passwd file" in result.stdout + result.stderr
    result = d.docker("kill", "-s", "99", "odd")
    assert result.returncode == 1
    assert "Cannot kill container: odd: The linux daemon does not support signal 99" in result.stderr
    d.docker_ok("rm", "-f", "odd")


def test_start_failures_and_home_as_runc_reports_them(d):
    """The runtime's words are runc's (dockerd passes them on; the CLI maps 126/127 from them)."""
    result = d.docker("run", "--rm", "busybox", "/etc")
    assert result.returncode == 126
    assert 'unable to start container process: exec: "/etc": permission denied' in result.stderr
    result = d.docker("run", "--rm", "busybox", "/nosuch")
    assert result.returncode == 127
    assert 'exec: "/nosuch": stat /nosuch: no such file or directory' in result.stderr
    homes = [d.docker_ok("run", "--rm", *user, "busybox", "sh", "-c", "echo $HOME").strip()
             for user in ([], ["-u", "65534"], ["-u", "4242"], ["-e", "HOME=/x"])]  # fmt: skip
    assert homes == ["/root", "/home", "/", "/x"]
    mounts = d.docker_ok("run", "--rm", "busybox", "grep", " /proc/sys ", "/proc/mounts")
    assert mounts.split()[3].startswith("ro,nosuid,nodev,noexec")


def test_exec_sessions_go_with_their_container(d):
    d.docker_ok("run", "-d", "--name", "ephemeral", "busybox", "sleep", "1000")
    created = d.request(
        "POST", "/containers/ephemeral/exec", json.dumps({"Cmd": ["true"]}).encode(),
        {"Content-Type": "application/json"},
    )  # fmt: skip
    exec_id = created.json()["Id"]
    assert d.request("GET", f"/exec/{exec_id}/json").status == 200
    d.docker_ok("rm", "-f", "ephemeral")
    gone = d.request("GET", f"/exec/{exec_id}/json")
    assert (gone.status, gone.json()["message"]) == (404, f"No such exec instance: {exec_id}")


def test_rm_that_cannot_delete_leaves_a_dead_container(d):
    """dockerd's SetRemovalError: the filesystem cannot go, so the container is "dead" (not
    lost, not half-gone), cannot start, and a later `docker rm` finishes the job."""
    cid = d.docker_ok("create", "--name", "undeletable", "busybox", "true").strip()
    container_dir = d.data_root / "containers" / cid
    pinned = container_dir / "upper" / "pinned"
    pinned.write_text("x")
    subprocess.run(["chattr", "+i", str(pinned)], check=True)
    try:
        result = d.docker("rm", "undeletable")
        assert result.returncode == 1
        expected = f"Error response from daemon: unable to remove filesystem for {cid}: "
        assert result.stderr.startswith(expected), result.stderr
        status = d.docker_ok("ps", "-a", "--filter", "name=undeletable", "--format", "{{.Status}}")
        assert status == "Dead\n"
        state = json.loads(d.docker_ok("inspect", "undeletable"))[0]["State"]
        assert (state["Status"], state["Dead"], state["Running"]) == ("dead", True, False)
        started = d.docker("start", "undeletable")
        assert started.returncode == 1
        assert "container is marked for removal and cannot be started" in started.stderr
    finally:
        subprocess.run(["chattr", "-i", str(pinned)], check=True)
    assert d.docker_ok("rm", "undeletable") == "undeletable\n"
    assert not container_dir.exists()
    assert d.docker("inspect", "undeletable").returncode == 1


def test_init_layer_as_in_docker(d):
    """Every container has dockerd's init layer (/.dockerenv, /etc/mtab → /proc/mounts, the
    mountpoints), whatever the image; it is under the container's changes, so `docker diff`
    and `docker commit` never show it, while `docker export` (the whole rootfs) does."""
    listing = d.docker_ok(
        "run", "--rm", "busybox", "sh", "-c", "ls -la /.dockerenv; readlink /etc/mtab; df / | wc -l"
    )
    assert re.match(r"-rwxr-xr-x +1 root +root +0 .* /\.dockerenv\n/proc/mounts\n2\n$", listing), listing
    d.docker_ok("run", "--name", "initl", "busybox", "sh", "-c", "rm /.dockerenv; echo x > /etc/mtab2")
    assert d.docker_ok("diff", "initl").splitlines() == ["D /.dockerenv", "C /etc", "A /etc/mtab2"]
    d.docker_ok("create", "--name", "initx", "busybox")
    exported = subprocess.run([DOCKER, "export", "initx"], env=d.env, capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(exported)) as tar:
        names = set(tar.getnames())
    assert {".dockerenv", "etc/mtab", "etc/hostname", "proc", "sys", "dev/pts"} <= names
    d.docker_ok("commit", "initx", "jtr/initx:v1")
    saved = subprocess.run(
        [DOCKER, "save", "jtr/initx:v1"], env=d.env, capture_output=True, check=True
    ).stdout
    in_layers: set[str] = set()
    with tarfile.open(fileobj=io.BytesIO(saved)) as archive:
        for member in archive.getmembers():
            blob = archive.extractfile(member) if member.isreg() else None
            if blob is not None and not member.name.endswith(".json"):
                with contextlib.suppress(tarfile.TarError), tarfile.open(fileobj=blob) as layer:
                    in_layers |= set(layer.getnames())
    assert "bin/sh" in in_layers and not {".dockerenv", "etc/mtab"} & in_layers
    d.docker_ok("rm", "initl", "initx")
    d.docker_ok("rmi", "jtr/initx:v1")


def test_working_directory_is_made_inside_the_container(d):
    """A missing WorkingDir is made by the runtime inside the container's root: a symlink the
    container planted where it goes leads to the container's /tmp, never the host's, and an
    image's symlinked WORKDIR is followed, not shadowed by a new directory."""
    marker = f"jocker-wd-escape-{os.getpid()}"
    d.docker_ok(
        "run",
        "--name",
        "wdesc",
        "-w",
        f"/w/{marker}",
        "busybox",
        "sh",
        "-c",
        "cd /; rm -rf /w; ln -s /tmp /w",
    )
    assert d.docker_ok("start", "-a", "wdesc") == ""
    assert not os.path.lexists(f"/tmp/{marker}")
    d.docker_ok("rm", "wdesc")
    d.docker_ok(
        "run",
        "--name",
        "wdimg",
        "busybox",
        "sh",
        "-c",
        "mkdir -p /srv/app; echo hi > /srv/app/f; ln -s /srv/app /app",
    )
    d.docker_ok("commit", "wdimg", "jtr/wdimg:v1")
    assert d.docker_ok("run", "--rm", "-w", "/app", "jtr/wdimg:v1", "cat", "f") == "hi\n"
    failed = d.docker("run", "--rm", "-w", "/etc/passwd", "busybox", "true")
    assert failed.returncode == 125
    assert failed.stderr.startswith(
        "docker: Error response from daemon: Cannot mkdir: /etc/passwd is not a directory"
    )
    d.docker_ok("rm", "wdimg")
    d.docker_ok("rmi", "jtr/wdimg:v1")
