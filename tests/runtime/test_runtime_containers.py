"""Real containers from a busybox bundle, run by jocker-runtime and by runc (differential).

Each test is parametrized over the `runtime` fixture (["jocker", "runc"]) where both must show
the same observable result, and uses `jocker` alone where runc 1.1 behaves differently (noted).
Every container gets its own network namespace (only `lo`): nothing here touches host networking.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.runtime.conftest import Runtime, run_in

pytestmark = pytest.mark.root


def wait_status(runtime: Runtime, cid: str, status: str, timeout: float = 10) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        state = runtime.state(cid)
        if state["status"] == status or time.monotonic() > deadline:
            assert state["status"] == status, state
            return state
        time.sleep(0.02)


def drop_namespace(kind: str):
    def edit(spec: dict) -> None:
        spec["linux"]["namespaces"] = [n for n in spec["linux"]["namespaces"] if n["type"] != kind]

    return edit


# -- run and the lifecycle ------------------------------------------------------------------------


@pytest.mark.parametrize(("script", "code"), [("true", 0), ("exit 3", 3), ("kill -9 $$", 137)])
def test_run_exit_status(runtime: Runtime, make_bundle, cid: str, script: str, code: int) -> None:
    # Without a pid namespace the shell is not a PID 1 and can die of its own SIGKILL.
    status, output = run_in(runtime, make_bundle, cid, script, edit=drop_namespace("pid"))
    assert status == code, output
    assert runtime.run("state", cid).returncode != 0  # `run` deleted it


def test_create_start_state_kill_delete(runtime: Runtime, make_bundle, cid: str, tmp_path: Path) -> None:
    bundle = make_bundle(["sleep", "100"])
    pid_file = tmp_path / "pid"
    out = runtime.run("create", "--bundle", str(bundle), "--pid-file", str(pid_file), cid)
    assert out.returncode == 0, out.stderr
    assert out.stdout == ""
    state = runtime.state(cid)
    assert state["status"] == "created"
    assert state["id"] == cid and state["bundle"] == str(bundle)
    assert pid_file.read_bytes() == str(state["pid"]).encode()  # decimal, no newline
    assert Path(f"/proc/{state['pid']}").exists()
    assert runtime.run("create", "--bundle", str(bundle), cid).returncode != 0  # duplicate ID
    runtime.ok("start", cid)
    assert runtime.state(cid)["status"] == "running"
    again = runtime.run("start", cid)
    assert again.returncode != 0 and "cannot start an already running container" in again.stderr
    refused = runtime.run("delete", cid)
    assert refused.returncode != 0 and "not stopped" in refused.stderr
    runtime.ok("kill", cid, "KILL")
    state = wait_status(runtime, cid, "stopped")
    assert state["pid"] == 0
    assert runtime.run("kill", cid, "KILL").returncode != 0
    assert runtime.run("start", cid).returncode != 0
    runtime.ok("delete", cid)
    missing = runtime.run("state", cid)
    assert missing.returncode != 0 and "container does not exist" in missing.stderr


def test_created_container_runs_nothing_until_start(
    runtime: Runtime, make_bundle, cid: str, tmp_path: Path
) -> None:
    marker = tmp_path / "marker"
    bundle = make_bundle(["sh", "-c", "echo started > /mnt/marker"], edit=_bind(tmp_path, "/mnt"))
    runtime.ok("create", "--bundle", str(bundle), cid)
    time.sleep(0.2)
    assert not marker.exists()
    runtime.ok("start", cid)
    deadline = time.monotonic() + 5
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert marker.read_text() == "started\n"
    wait_status(runtime, cid, "stopped")
    runtime.ok("delete", cid)


def test_kill_a_created_container_then_delete(runtime: Runtime, make_bundle, cid: str) -> None:
    runtime.ok("create", "--bundle", str(make_bundle(["sleep", "100"])), cid)
    runtime.ok("kill", cid, "KILL")
    wait_status(runtime, cid, "stopped")
    runtime.ok("delete", cid)


def test_delete_of_a_created_container_kills_it(runtime: Runtime, make_bundle, cid: str) -> None:
    runtime.ok("create", "--bundle", str(make_bundle(["sleep", "100"])), cid)
    pid = runtime.state(cid)["pid"]
    runtime.ok("delete", cid)
    deadline = time.monotonic() + 5
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not _alive(pid)


def test_delete_force_of_a_running_container(runtime: Runtime, make_bundle, cid: str) -> None:
    runtime.ok("run", "--detach", "--bundle", str(make_bundle(["sleep", "100"])), cid)
    assert runtime.state(cid)["status"] == "running"
    runtime.ok("delete", "--force", cid)
    assert runtime.run("state", cid).returncode != 0
    assert runtime.run("delete", "--force", cid).returncode == 0  # and again: no such container is fine


def test_status_becomes_stopped_when_the_process_exits(runtime: Runtime, make_bundle, cid: str) -> None:
    runtime.ok("run", "--detach", "--bundle", str(make_bundle(["true"])), cid)
    wait_status(runtime, cid, "stopped")
    runtime.ok("delete", cid)


def test_missing_program_fails_create_and_leaves_nothing(runtime: Runtime, make_bundle, cid: str) -> None:
    result = runtime.run("create", "--bundle", str(make_bundle(["nosuch-program"])), cid)
    assert result.returncode != 0
    assert "nosuch-program" in result.stderr and "executable file not found in $PATH" in result.stderr
    assert runtime.run("state", cid).returncode != 0
    assert not (runtime.root / cid).exists()


def test_list(runtime: Runtime, make_bundle, cid: str) -> None:
    runtime.ok("create", "--bundle", str(make_bundle(["sleep", "100"])), cid)
    assert runtime.ok("list", "-q").split() == [cid]
    (entry,) = json.loads(runtime.ok("list", "--format", "json"))
    assert (entry["id"], entry["status"]) == (cid, "created")
    table = runtime.ok("list").splitlines()
    assert table[0].split() == ["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"]
    assert table[1].split()[:3] == [cid, str(entry["pid"]), "created"]


# -- what the container sees ----------------------------------------------------------------------


def test_hostname(runtime: Runtime, make_bundle, cid: str) -> None:
    def edit(spec: dict) -> None:
        spec["hostname"] = "box1"

    assert run_in(runtime, make_bundle, cid, "hostname", edit=edit) == (0, "box1\n")


def test_domainname(jocker: Runtime, make_bundle, cid: str) -> None:
    """runc 1.1 ignores `domainname` (added in runtime-spec 1.1)."""

    def edit(spec: dict) -> None:
        spec.update(hostname="box1", domainname="example.org")

    assert run_in(jocker, make_bundle, cid, "cat /proc/sys/kernel/domainname", edit=edit) == (
        0,
        "example.org\n",
    )


def test_dev_contents(runtime: Runtime, make_bundle, cid: str) -> None:
    status, output = run_in(
        runtime, make_bundle, cid, "ls /dev; ls -ln /dev/null /dev/tty; readlink /dev/ptmx; readlink /dev/fd"
    )
    assert status == 0, output
    lines = output.splitlines()
    assert lines[:14] == [
        "fd", "full", "mqueue", "null", "ptmx", "pts", "random", "shm",
        "stderr", "stdin", "stdout", "tty", "urandom", "zero",
    ]  # fmt: skip
    assert "1,   3" in output and "5,   0" in output
    status, output = run_in(
        runtime,
        make_bundle,
        cid + "-use",
        "echo x > /dev/null && head -c 4 /dev/zero | wc -c && head -c 4 /dev/urandom | wc -c",
    )
    assert (status, output.split()) == (0, ["4", "4"])  # usable: the device cgroup allows them
    assert lines[-2:] == ["pts/ptmx", "/proc/self/fd"]


def test_mounts(runtime: Runtime, make_bundle, cid: str) -> None:
    status, output = run_in(runtime, make_bundle, cid, "cat /proc/self/mountinfo")
    assert status == 0, output
    mounts = {}
    for line in output.splitlines():
        fields = line.split()
        sep = fields.index("-")
        mounts[fields[4]] = (fields[5].split(","), fields[sep + 1])
    assert mounts["/"][0][0] == "ro"  # root.readonly
    for point, fstype in [
        ("/proc", "proc"),
        ("/dev", "tmpfs"),
        ("/dev/pts", "devpts"),
        ("/dev/shm", "tmpfs"),
        ("/dev/mqueue", "mqueue"),
        ("/sys", "sysfs"),
        ("/sys/fs/cgroup", "tmpfs"),
        ("/sys/fs/cgroup/memory", "cgroup"),
    ]:
        assert mounts[point][1] == fstype, point
    assert "ro" in mounts["/sys"][0] and "nosuid" in mounts["/dev"][0]
    assert "ro" in mounts["/sys/fs/cgroup/memory"][0]
    assert mounts["/proc/sys"][0][0] == "ro"  # readonlyPaths
    assert mounts["/proc/keys"][1] == "tmpfs"  # masked by /dev/null (on the /dev tmpfs)
    assert mounts["/proc/acpi"][1] == "tmpfs"


def test_masked_and_readonly_paths(runtime: Runtime, make_bundle, cid: str) -> None:
    script = "wc -c < /proc/keys; ls /proc/acpi | wc -l; echo 1 > /proc/sys/vm/drop_caches || echo refused"
    status, output = run_in(runtime, make_bundle, cid, script)
    assert status == 0
    lines = output.splitlines()  # stdout, then stderr
    assert lines[:3] == ["0", "0", "refused"], output
    assert "Read-only file system" in output


def test_readonly_root_and_writable_tmpfs(runtime: Runtime, make_bundle, cid: str) -> None:
    status, output = run_in(runtime, make_bundle, cid, "touch /x 2>&1; touch /dev/shm/x && echo ok")
    assert status == 0, output
    assert "Read-only file system" in output and output.endswith("ok\n")


def test_capabilities(runtime: Runtime, make_bundle, cid: str) -> None:
    status, output = run_in(runtime, make_bundle, cid, "grep Cap /proc/self/status")
    assert status == 0, output
    caps = dict(line.split(":\t") for line in output.splitlines())
    # CAP_AUDIT_WRITE, CAP_KILL, CAP_NET_BIND_SERVICE
    assert caps == {
        "CapInh": "0000000000000000",
        "CapPrm": "0000000020000420",
        "CapEff": "0000000020000420",
        "CapBnd": "0000000020000420",
        "CapAmb": "0000000000000000",
    }


def test_ambient_capabilities_for_a_non_root_user(runtime: Runtime, make_bundle, cid: str) -> None:
    def edit(spec: dict) -> None:
        spec["process"]["user"] = {"uid": 1000, "gid": 1000}
        caps = ["CAP_NET_BIND_SERVICE", "CAP_KILL"]
        spec["process"]["capabilities"] = {
            k: caps for k in ("bounding", "effective", "permitted", "inheritable", "ambient")
        }

    status, output = run_in(runtime, make_bundle, cid, "grep -E 'Cap(Eff|Amb)' /proc/self/status", edit=edit)
    assert status == 0, output
    assert output == "CapEff:\t0000000000000420\nCapAmb:\t0000000000000420\n"


def test_user_groups_and_umask(runtime: Runtime, make_bundle, cid: str) -> None:
    def edit(spec: dict) -> None:
        spec["process"]["user"] = {"uid": 1000, "gid": 1001, "additionalGids": [10, 20], "umask": 0o027}

    status, output = run_in(runtime, make_bundle, cid, "id -u; id -g; id -G; umask", edit=edit)
    assert (status, output.split()) == (0, ["1000", "1001", "1001", "10", "20", "0027"])


def test_rlimits(runtime: Runtime, make_bundle, cid: str) -> None:
    def edit(spec: dict) -> None:
        spec["process"]["rlimits"] = [
            {"type": "RLIMIT_NOFILE", "soft": 512, "hard": 1024},
            {"type": "RLIMIT_CORE", "soft": 0, "hard": 0},
        ]

    status, output = run_in(runtime, make_bundle, cid, "ulimit -Sn; ulimit -Hn; ulimit -c", edit=edit)
    assert (status, output.split()) == (0, ["512", "1024", "0"])


def test_env_and_cwd(runtime: Runtime, make_bundle, cid: str) -> None:
    def edit(spec: dict) -> None:
        spec["process"]["env"] = ["PATH=/bin", "FOO=bar baz"]
        spec["process"]["cwd"] = "/tmp"

    status, output = run_in(runtime, make_bundle, cid, 'pwd; echo "$FOO"; env | sort', edit=edit)
    assert status == 0, output
    lines = output.splitlines()
    assert lines[:2] == ["/tmp", "bar baz"]
    assert "FOO=bar baz" in lines and "PATH=/bin" in lines


@pytest.mark.parametrize("nnp", [True, False])
def test_no_new_privileges(runtime: Runtime, make_bundle, cid: str, nnp: bool) -> None:
    def edit(spec: dict) -> None:
        spec["process"]["noNewPrivileges"] = nnp

    status, output = run_in(runtime, make_bundle, cid, "grep NoNewPrivs /proc/self/status", edit=edit)
    assert status == 0, output
    assert output.split() == ["NoNewPrivs:", "1" if nnp else "0"]


def test_only_stdio_is_open(runtime: Runtime, make_bundle, cid: str) -> None:
    status, output = run_in(runtime, make_bundle, cid, "ls /proc/self/fd")
    assert status == 0, output
    assert output.split() == ["0", "1", "2", "3"]  # 3: the directory ls is reading


def with_fd3(runtime: Runtime, path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the runtime with `path` open as its fd 3 (a shell opens it: pytest's own fd 3 stays put)."""
    wrapper = Runtime(
        runtime.name, ["/bin/sh", "-c", 'exec 3< "$0"; exec "$@"', str(path), *runtime.argv], runtime.root
    )
    return wrapper.run(*args)


def test_preserve_fds(runtime: Runtime, make_bundle, cid: str, tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.write_text("from the caller\n")
    bundle = make_bundle(["sh", "-c", "cat /proc/self/fd/3; ls /proc/self/fd"])
    result = with_fd3(runtime, shared, "run", "--preserve-fds", "1", "--bundle", str(bundle), cid)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "from the caller"
    assert result.stdout.split()[-5:] == ["0", "1", "2", "3", "4"]


def test_cwd_through_an_inherited_host_fd_is_refused(
    jocker: Runtime, make_bundle, cid: str, tmp_path: Path
) -> None:
    """CVE-2024-21626: /proc/self/fd/N naming a host directory must not become the cwd."""

    def edit(spec: dict) -> None:
        spec["process"]["cwd"] = "/proc/self/fd/3"

    bundle = make_bundle(["ls"], edit=edit)
    result = with_fd3(jocker, tmp_path, "run", "--preserve-fds", "1", "--bundle", str(bundle), cid)
    assert result.returncode != 0
    assert "outside of the container's root" in result.stderr


def test_sysctl_in_the_container_network_namespace(runtime: Runtime, make_bundle, cid: str) -> None:
    host = Path("/proc/sys/net/ipv4/ip_forward").read_text()

    def edit(spec: dict) -> None:
        spec["linux"]["sysctl"] = {"net.ipv4.ip_forward": "1", "kernel.shmmni": "1234"}

    status, output = run_in(
        runtime, make_bundle, cid, "cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmni", edit=edit
    )
    assert status == 0, output
    assert output.split() == ["1", "1234"]
    assert Path("/proc/sys/net/ipv4/ip_forward").read_text() == host


def test_loopback_is_up_in_a_new_network_namespace(runtime: Runtime, make_bundle, cid: str) -> None:
    status, output = run_in(
        runtime,
        make_bundle,
        cid,
        "ls /sys/class/net; cat /sys/class/net/lo/operstate /sys/class/net/lo/flags",
    )
    assert status == 0, output
    lines = output.split()
    assert lines[0] == "lo" and len(lines) == 3
    assert int(lines[2], 16) & 1  # IFF_UP


def test_linux_devices(runtime: Runtime, make_bundle, cid: str) -> None:
    def edit(spec: dict) -> None:
        spec["linux"]["devices"] = [
            {
                "path": "/dev/fuse",
                "type": "c",
                "major": 10,
                "minor": 229,
                "fileMode": 0o600,
                "uid": 1,
                "gid": 2,
            },
            {"path": "/dev/mypipe", "type": "p"},
        ]
        spec["linux"]["resources"]["devices"].append(
            {"allow": True, "type": "c", "major": 10, "minor": 229, "access": "rwm"}
        )

    status, output = run_in(runtime, make_bundle, cid, "ls -ln /dev/fuse /dev/mypipe", edit=edit)
    assert status == 0, output
    fuse, pipe = output.splitlines()
    assert fuse.split()[:6] == ["crw-------", "1", "1", "2", "10,", "229"]
    assert pipe.startswith("p")


def test_oom_score_adj(runtime: Runtime, make_bundle, cid: str) -> None:
    def edit(spec: dict) -> None:
        spec["process"]["oomScoreAdj"] = 500

    status, output = run_in(runtime, make_bundle, cid, "cat /proc/self/oom_score_adj", edit=edit)
    assert status == 0, output
    assert output == "500\n"


def test_bind_mounts_with_options(runtime: Runtime, make_bundle, cid: str, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "file").write_text("hello\n")

    def edit(spec: dict) -> None:
        spec["mounts"] += [
            {
                "destination": "/data",
                "type": "bind",
                "source": str(data),
                "options": ["rbind", "ro", "rprivate"],
            },
            {
                "destination": "/etc/one-file",
                "type": "bind",
                "source": str(data / "file"),
                "options": ["bind"],
            },
            {
                "destination": "/scratch",
                "type": "tmpfs",
                "source": "tmpfs",
                "options": ["size=1m", "mode=700"],
            },
        ]

    script = (
        "cat /data/file /etc/one-file; touch /data/x 2>&1; stat -c %a /scratch;"
        " grep -E ' /(data|scratch) ' /proc/self/mountinfo"
    )
    status, output = run_in(runtime, make_bundle, cid, script, edit=edit)
    assert status == 0, output
    lines = output.splitlines()
    assert lines[:2] == ["hello", "hello"]
    assert "Read-only file system" in lines[2]
    if runtime.name == "jocker":  # runc 1.1 chmods a tmpfs to the mode of the directory it made
        assert lines[3] == "700"
    assert " /data ro," in output


def test_no_pivot(runtime: Runtime, make_bundle, cid: str) -> None:
    bundle = make_bundle(["sh", "-c", "ls /bin/busybox && grep ' / / ' /proc/self/mountinfo | wc -l"])
    result = runtime.run("run", "--no-pivot", "--bundle", str(bundle), cid)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "/bin/busybox"


# -- namespaces ------------------------------------------------------------------------------------


def test_user_namespace_with_mappings(runtime: Runtime, make_bundle, cid: str) -> None:
    def edit(spec: dict) -> None:
        spec["linux"]["namespaces"].append({"type": "user"})
        spec["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
        spec["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
        for m in spec["mounts"]:
            if m["destination"] == "/dev/pts":
                m["options"].remove("gid=5")

    status, output = run_in(
        runtime, make_bundle, cid, "id -u; cat /proc/self/uid_map; stat -c %u /bin/busybox", edit=edit
    )
    assert status == 0, output
    assert output.split() == ["0", "0", "100000", "65536", "65534"]


def test_join_another_containers_namespace_by_path(runtime: Runtime, make_bundle, cid: str) -> None:
    def first(spec: dict) -> None:
        spec["hostname"] = "first"

    runtime.ok("run", "--detach", "--bundle", str(make_bundle(["sleep", "100"], edit=first)), cid)
    pid = runtime.state(cid)["pid"]

    def second(spec: dict) -> None:
        spec.pop("hostname")
        for ns in spec["linux"]["namespaces"]:
            if ns["type"] in ("uts", "network"):
                ns["path"] = f"/proc/{pid}/ns/{'net' if ns['type'] == 'network' else 'uts'}"

    status, output = run_in(
        runtime, make_bundle, cid + "-2", "hostname; readlink /proc/self/ns/uts", edit=second
    )
    assert status == 0, output
    assert output.splitlines() == ["first", os.readlink(f"/proc/{pid}/ns/uts")]


def test_namespace_path_of_the_wrong_type_fails(runtime: Runtime, make_bundle, cid: str) -> None:
    def edit(spec: dict) -> None:
        for ns in spec["linux"]["namespaces"]:
            if ns["type"] == "network":
                ns["path"] = "/proc/self/ns/uts"

    result = runtime.run("create", "--bundle", str(make_bundle(["true"], edit=edit)), cid)
    assert result.returncode != 0
    assert runtime.run("state", cid).returncode != 0


def test_pid_namespace(runtime: Runtime, make_bundle, cid: str) -> None:
    status, output = run_in(runtime, make_bundle, cid, "echo $$; ps -o pid | wc -l")
    assert status == 0, output
    assert output.split()[0] == "1"


# -- hooks -----------------------------------------------------------------------------------------


def _bind(directory: Path, destination: str):
    def edit(spec: dict) -> None:
        spec["mounts"].append(
            {"destination": destination, "type": "bind", "source": str(directory), "options": ["rbind"]}
        )

    return edit


def test_hooks_get_the_state_on_stdin(runtime: Runtime, make_bundle, cid: str, tmp_path: Path) -> None:
    out = tmp_path / "hooks"
    out.mkdir()

    def edit(spec: dict) -> None:
        def hook(name: str, where: Path) -> dict:
            return {"path": "/bin/sh", "args": ["sh", "-c", f"cat > {where}/{name}.json"], "timeout": 5}

        spec["hooks"] = {n: [hook(n, out)] for n in ("prestart", "createRuntime", "poststart", "poststop")}
        spec["hooks"]["createContainer"] = [hook("createContainer", out)]  # path resolves in the runtime ns
        spec["hooks"]["startContainer"] = [hook("startContainer", Path("/hooks"))]  # ...in the container
        spec["annotations"] = {"org.example/key": "value"}
        _bind(out, "/hooks")(spec)

    status, output = run_in(runtime, make_bundle, cid, "true", edit=edit)
    assert status == 0, output
    states = {p.stem: json.loads(p.read_text()) for p in out.iterdir()}
    assert set(states) == {
        "prestart",
        "createRuntime",
        "createContainer",
        "startContainer",
        "poststart",
        "poststop",
    }
    for state in states.values():
        assert state["id"] == cid
        assert state["bundle"].endswith("bundle0")
    host_pid = states["prestart"]["pid"]
    assert host_pid > 1 and states["createRuntime"]["pid"] == host_pid == states["poststart"]["pid"]
    assert states["createContainer"]["pid"] == 1 == states["startContainer"]["pid"]  # container's view
    assert states["prestart"]["status"] == "creating"
    assert states["poststop"]["status"] == "stopped"
    if runtime.name == "jocker":  # runc 1.1 passes "created" to poststart and no annotations
        assert states["poststart"]["status"] == "running"
        assert states["prestart"]["annotations"] == {"org.example/key": "value"}


def test_failing_prestart_hook_fails_create(runtime: Runtime, make_bundle, cid: str, tmp_path: Path) -> None:
    marker = tmp_path / "ran"

    def edit(spec: dict) -> None:
        spec["hooks"] = {"prestart": [{"path": "/bin/sh", "args": ["sh", "-c", "echo nope >&2; exit 2"]}]}

    bundle = make_bundle(["sh", "-c", f"touch {marker}"], edit=edit)
    result = runtime.run("create", "--bundle", str(bundle), cid)
    assert result.returncode != 0
    assert "exit status 2" in result.stderr
    assert runtime.run("state", cid).returncode != 0
    assert not marker.exists()


# -- terminal --------------------------------------------------------------------------------------


class ConsoleReceiver:
    """What a shim does with --console-socket: listen, accept, take the pty master (SCM_RIGHTS)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(str(path))
        self.server.listen(1)
        self.server.settimeout(10)

    def receive(self) -> tuple[bytes, int]:
        conn, _ = self.server.accept()
        with conn:
            message, fds, _, _ = socket.recv_fds(conn, 4096, 1)
        return message, fds[0]

    def close(self) -> None:
        self.server.close()


def read_all(fd: int, timeout: float = 10) -> bytes:
    import select

    data = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: the last slave fd closed
            break
        if not chunk:
            break
        data += chunk
    return data


def test_terminal_through_the_console_socket(runtime: Runtime, make_bundle, cid: str, tmp_path: Path) -> None:
    def edit(spec: dict) -> None:
        spec["process"]["terminal"] = True
        spec["process"]["consoleSize"] = {"height": 30, "width": 100}

    bundle = make_bundle(
        ["sh", "-c", "tty; stty size; ls -l /dev/console; test -t 0 && echo stdin-is-a-tty"], edit=edit
    )
    receiver = ConsoleReceiver(tmp_path / "console.sock")
    try:
        proc = subprocess.Popen(
            runtime.command(
                "run", "--detach", "--console-socket", str(receiver.path), "--bundle", str(bundle), cid
            ),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        name, master = receiver.receive()
        assert proc.wait(timeout=20) == 0, proc.stderr.read()
        output = read_all(master).decode().replace("\r", "").splitlines()
        os.close(master)
    finally:
        receiver.close()
    assert name == b"/dev/ptmx"
    assert output[0] == "/dev/pts/0"
    assert output[1] == "30 100"
    assert " 136,   0 " in output[2] and output[2].startswith("crw")
    assert output[3] == "stdin-is-a-tty"


def test_terminal_without_console_socket_needs_the_foreground(
    runtime: Runtime, make_bundle, cid: str
) -> None:
    def edit(spec: dict) -> None:
        spec["process"]["terminal"] = True

    result = runtime.run("create", "--bundle", str(make_bundle(["true"], edit=edit)), cid)
    assert result.returncode != 0
    assert "cannot allocate tty if" in result.stderr


def test_foreground_run_with_a_terminal_proxies_stdio(jocker: Runtime, make_bundle, cid: str) -> None:
    """runc needs its own stdin to be a terminal here; jocker proxies any stdin."""

    def edit(spec: dict) -> None:
        spec["process"]["terminal"] = True

    bundle = make_bundle(["sh", "-c", "read line; echo got=$line; test -t 1 && echo tty; exit 5"], edit=edit)
    result = jocker.run("run", "--bundle", str(bundle), cid, input="hello\n")
    assert result.returncode == 5
    assert "got=hello" in result.stdout and "tty" in result.stdout


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in "ZX"
    except FileNotFoundError:
        return False


# -- signals, seccomp, start-up cost ------------------------------------------------------------------


def test_run_forwards_signals_to_the_container(
    runtime: Runtime, make_bundle, cid: str, tmp_path: Path
) -> None:
    import signal

    bundle = make_bundle(["sh", "-c", 'trap "exit 7" TERM; echo ready; sleep 1000 & wait'])
    out = open(tmp_path / "out", "wb")  # noqa: SIM115 - closed below, shared with the container
    proc = subprocess.Popen(runtime.command("run", "--bundle", str(bundle), cid), stdout=out, stderr=out)
    out.close()
    deadline = time.monotonic() + 10
    while b"ready" not in (tmp_path / "out").read_bytes() and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 7


def test_seccomp_profile_is_loaded(runtime: Runtime, make_bundle, cid: str) -> None:
    pytest.importorskip("pyseccomp")
    import platform

    arch = {"x86_64": "SCMP_ARCH_X86_64", "aarch64": "SCMP_ARCH_AARCH64"}.get(platform.machine())
    if arch is None:
        pytest.skip("unknown architecture")

    def edit(spec: dict) -> None:
        spec["linux"]["seccomp"] = {
            "defaultAction": "SCMP_ACT_ALLOW",
            "architectures": [arch],
            "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}],
        }

    status, output = run_in(
        runtime, make_bundle, cid, "grep ^Seccomp: /proc/self/status; mkdir /tmp/x", edit=edit
    )
    assert status == 1
    assert output.splitlines()[0].split() == ["Seccomp:", "2"]
    assert "Operation not permitted" in output


def test_run_imports_no_heavy_module(jocker: Runtime, make_bundle, cid: str) -> None:
    import sys

    bundle = make_bundle(["true"])
    result = subprocess.run(
        [
            sys.executable,
            "-IS",
            "-X",
            "importtime",
            jocker.argv[0],
            "--root",
            str(jocker.root),
            "run",
            "-b",
            str(bundle),
            cid,
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    modules = {line.split("|")[-1].strip() for line in result.stderr.splitlines() if "|" in line}
    assert "jockerd.runtime.launcher" in modules
    for heavy in ("typing", "re", "json", "enum", "argparse", "subprocess", "socket", "shutil", "datetime"):
        assert heavy not in modules, f"{heavy} imported by jocker-runtime run"


def test_session_keyring(runtime: Runtime, make_bundle, cid: str) -> None:
    def edit(spec: dict) -> None:
        spec["linux"]["maskedPaths"].remove("/proc/keys")

    status, output = run_in(runtime, make_bundle, cid, "cat /proc/keys", edit=edit)
    assert status == 0, output
    assert f"_ses.{cid}" in output
    status, output = run_in(runtime, make_bundle, cid + "-2", "cat /proc/keys", edit=edit)
    assert f"_ses.{cid}-2" in output


@pytest.mark.parametrize(
    ("propagation", "tag"), [("shared", "shared:"), ("unbindable", "unbindable"), ("private", None)]
)
def test_rootfs_propagation(
    jocker: Runtime, make_bundle, cid: str, propagation: str, tag: str | None
) -> None:
    """runc 1.1 leaves the root private for "shared" and fails for "unbindable"."""

    def edit(spec: dict) -> None:
        spec["linux"]["rootfsPropagation"] = propagation

    status, output = run_in(jocker, make_bundle, cid, "awk '$5 == \"/\"' /proc/self/mountinfo", edit=edit)
    assert status == 0, output
    fields = output.split()
    optional = fields[6 : fields.index("-")]
    if tag is None:
        assert optional == []
    else:
        assert any(f.startswith(tag) for f in optional), output


def test_without_a_mount_namespace(jocker: Runtime, make_bundle, cid: str) -> None:
    """runc's behaviour: chroot into the rootfs, mounts made in the caller's namespace (here a
    throwaway one, via unshare) below the rootfs, and removed by delete."""
    bundle = make_bundle(
        ["sh", "-c", "ls /bin/busybox; hostname"], edit=drop_namespace("mount"), own_rootfs=True
    )
    rootfs = bundle / "rootfs"
    script = f'"$@" run --bundle {bundle} {cid}; echo "rc=$?"; grep -c " {rootfs}" /proc/self/mountinfo'
    result = subprocess.run(
        ["unshare", "-m", "--propagation", "slave", "sh", "-c", script, "sh", *jocker.command()],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.stdout.split() == ["/bin/busybox", "jocker", "rc=0", "0"], result.stderr


def test_start_returns_after_the_program_is_executed(jocker: Runtime, make_bundle, cid: str) -> None:
    """jocker-runtime's `start` returns once the program has been exec'd. Only jocker's promise:
    runc's returns once its init has read the exec fifo, and the exec may still be under way
    (an empty cmdline was seen on a loaded machine), so runc is not held to it."""
    jocker.ok("create", "--bundle", str(make_bundle(["sleep", "1000"])), cid)
    pid = jocker.state(cid)["pid"]
    jocker.ok("start", cid)
    assert Path(f"/proc/{pid}/cmdline").read_bytes() == b"sleep\x001000\x00"


def test_failing_start_container_hook_fails_start(jocker: Runtime, make_bundle, cid: str) -> None:
    def edit(spec: dict) -> None:
        spec["hooks"] = {
            "startContainer": [{"path": "/bin/sh", "args": ["sh", "-c", "echo broken >&2; exit 3"]}]
        }

    jocker.ok("create", "--bundle", str(make_bundle(["sleep", "1000"], edit=edit)), cid)
    result = jocker.run("start", cid)
    assert result.returncode == 1
    assert "error running hook #0: exit status 3" in result.stderr and "broken" in result.stderr
    assert jocker.state(cid)["status"] == "stopped"
