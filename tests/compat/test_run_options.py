"""`docker run` options reach the container as Docker applies them (checked from inside), under
each runtime the daemon knows: the same Docker-generated bundles through jocker-runtime, runc
and crun give the same observable results (the issue's runtime matrix, at the docker level)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

pytestmark = [pytest.mark.root]


RUNTIMES = ["jocker-runtime", *(name for name in ("runc", "crun") if shutil.which(name))]


class OnRuntime:
    """The test daemon, with `--runtime NAME` added to every run and create."""

    def __init__(self, daemon, runtime: str) -> None:
        self.daemon = daemon
        self.runtime = runtime

    def _args(self, args: tuple[str, ...]) -> tuple[str, ...]:
        if args and args[0] in ("run", "create"):
            return (args[0], "--runtime", self.runtime, *args[1:])
        return args

    def docker(self, *args: str, **kwargs):
        return self.daemon.docker(*self._args(args), **kwargs)

    def docker_ok(self, *args: str, **kwargs) -> str:
        return self.daemon.docker_ok(*self._args(args), **kwargs)

    def __getattr__(self, name: str):
        return getattr(self.daemon, name)


@pytest.fixture(scope="module")
def loaded(shared_jockerd, busybox_archive):
    shared_jockerd.docker_ok("load", "-i", str(busybox_archive))
    return shared_jockerd


@pytest.fixture(params=RUNTIMES)
def d(loaded, request):
    return OnRuntime(loaded, request.param)


def sh(d, *args: str) -> str:
    *options, script = args
    return d.docker_ok("run", "--rm", *options, "busybox", "sh", "-c", script)


def test_env_workdir_user_entrypoint(d, tmp_path):
    env_file = tmp_path / "env"
    env_file.write_text("FROM_FILE=yes\n# comment\n")
    out = sh(
        d,
        "-e",
        "A=1",
        "--env-file",
        str(env_file),
        "-w",
        "/made/here",
        "-u",
        "1000:1001",
        "echo $A $FROM_FILE $PWD $(id -u) $(id -g) $HOSTNAME",
    )
    a, from_file, pwd, uid, gid, hostname = out.split()
    assert (a, from_file, pwd, uid, gid) == ("1", "yes", "/made/here", "1000", "1001")
    # The runtime makes a missing cwd as root, inside the new root, before the root turns read-only.
    assert sh(d, "--read-only", "-w", "/ro/made", "-u", "1000", "stat -c '%u %a' $PWD") == "0 755\n"
    assert len(hostname) == 12
    out = d.docker_ok("run", "--rm", "--entrypoint", "echo", "busybox", "via", "entrypoint")
    assert out == "via entrypoint\n"
    assert sh(d, "-u", "nobody", "id -un") == "nobody\n"
    bad = d.docker("run", "--rm", "-u", "nosuchuser", "busybox", "true")
    assert bad.returncode != 0 and "nosuchuser" in bad.stderr


def test_limits(d):
    out = sh(
        d,
        "-m",
        "64m",
        "--cpus",
        "0.5",
        "--cpu-shares",
        "512",
        "--pids-limit",
        "50",
        "--shm-size",
        "16m",
        "cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/cpu/cpu.cfs_quota_us "
        "/sys/fs/cgroup/cpu/cpu.shares /sys/fs/cgroup/pids/pids.max; df -k /dev/shm | tail -1",
    )
    lines = out.split("\n")
    assert lines[:4] == [str(64 * 1024 * 1024), "50000", "512", "50"]
    assert lines[4].split()[1] == str(16 * 1024)
    small = d.docker("run", "--rm", "-m", "4m", "busybox", "true")
    assert small.returncode == 125
    assert "Minimum memory limit allowed is 6MB" in small.stderr


def test_capabilities_privileged_security_opt(d):
    def cap_eff(*options: str) -> int:
        out = sh(d, *options, "grep CapEff /proc/self/status")
        return int(out.split()[1], 16)

    default = cap_eff()
    net_admin = 1 << 12
    chown = 1 << 0
    assert not default & net_admin and default & chown
    assert cap_eff("--cap-add", "NET_ADMIN") & net_admin
    assert not cap_eff("--cap-drop", "CHOWN") & chown
    assert cap_eff("--privileged") & net_admin
    assert sh(d, "grep Seccomp: /proc/self/status").split() == ["Seccomp:", "2"]
    assert sh(d, "--security-opt", "seccomp=unconfined", "grep Seccomp: /proc/self/status").split()[1] == "0"
    assert sh(d, "--security-opt", "no-new-privileges", "grep NoNewPrivs /proc/self/status").split()[1] == "1"


def test_mounts_tmpfs_readonly_ulimit(d, tmp_path):
    host_dir = tmp_path / "share"
    host_dir.mkdir()
    (host_dir / "in").write_text("from-host\n")
    out = sh(
        d,
        "-v",
        f"{host_dir}:/data",
        "-v",
        f"{host_dir}:/ro:ro",
        "--tmpfs",
        "/scratch:size=1m",
        "--read-only",
        "--ulimit",
        "nofile=256:512",
        "cat /data/in; echo out > /data/out; touch /ro/x 2>/dev/null || echo ro-refused; "
        "grep ' /scratch ' /proc/mounts | cut -d' ' -f3; touch /rootfile 2>/dev/null || echo root-ro; "
        "ulimit -n; ulimit -Hn",
    )
    assert out.split("\n")[:-1] == ["from-host", "ro-refused", "tmpfs", "root-ro", "256", "512"]
    assert (host_dir / "out").read_text() == "out\n"


def test_init_hostname_labels_restart(d):
    if shutil.which("docker-init") is None and shutil.which("tini-static") is None:
        pytest.skip("no docker-init or tini-static on this machine")
    out = sh(d, "--init", "--hostname", "named", "cat /proc/1/cmdline | tr '\\0' ' '; echo; hostname")
    first, hostname = out.splitlines()
    assert "init" in first.split()[0] and first.split()[1] == "--"
    assert hostname == "named"
    d.docker_ok("create", "--name", "lbl", "-l", "a=b", "--restart", "unless-stopped", "busybox", "true")
    data = json.loads(d.docker_ok("inspect", "lbl"))[0]
    assert data["Config"]["Labels"]["a"] == "b"
    assert data["HostConfig"]["RestartPolicy"] == {"Name": "unless-stopped", "MaximumRetryCount": 0}
    d.docker_ok("rm", "lbl")


def test_dns_and_hosts(d):
    out = sh(
        d,
        "--dns",
        "10.0.0.53",
        "--dns-search",
        "example.test",
        "--add-host",
        "h1:10.9.8.7",
        "cat /etc/resolv.conf; grep h1 /etc/hosts",
    )
    assert "nameserver 10.0.0.53" in out and "search example.test" in out
    assert "10.9.8.7\th1" in out


def test_network_host_shares_the_namespace(d):
    ours = os.readlink("/proc/self/ns/net")
    out = sh(d, "--network", "host", "readlink /proc/self/ns/net")
    daemon_ns = os.readlink(f"/proc/{d.proc.pid}/ns/net")
    assert out.strip() == daemon_ns and daemon_ns != ours  # the test daemon's own namespace
    assert Path(f"/proc/{d.proc.pid}").exists()


def test_join_another_containers_namespaces(d):
    """--network/--pid/--ipc container:<name>: the same namespaces as the running container
    (network with its hostname and /etc/hosts, as dockerd), checked at start with dockerd's words."""
    d.docker_ok("run", "-d", "--name", "donor", "-h", "donorhost", "--add-host", "foo:1.2.3.4", "--ipc",
                "shareable", "busybox", "sleep", "100")  # fmt: skip
    try:
        namespaces = "readlink /proc/self/ns/net; readlink /proc/self/ns/ipc"
        ns = d.docker_ok("exec", "donor", "sh", "-c", namespaces).split()
        script = f"{namespaces}; hostname; grep foo /etc/hosts; ps -o comm"
        joins = ("--network", "container:donor", "--ipc", "container:donor", "--pid", "container:donor")
        out = sh(d, *joins, script)
        net, ipc, hostname, hosts, *ps = out.split("\n")
        assert [net, ipc] == ns
        assert (hostname, hosts.split()) == ("donorhost", ["1.2.3.4", "foo"])
        assert "sleep" in ps
        d.docker_ok("run", "-d", "--name", "private", "busybox", "sleep", "100")
        refused = d.docker("run", "--rm", "--ipc", "container:private", "busybox", "true")
        assert refused.returncode == 125 and "non-shareable IPC" in refused.stderr
        d.docker_ok("rm", "-f", "private")
        d.docker_ok("stop", "-t", "0", "donor")
        stopped = d.docker("run", "--rm", "--network", "container:donor", "busybox", "true")
        assert stopped.returncode == 125
        assert "cannot join network of a non running container: " in stopped.stderr
    finally:
        d.docker("rm", "-f", "donor", "private")
