"""`jocker explain`: the report is true to the running container (cgroup files and values,
namespace inodes as in /proc/PID/ns), and its manual steps, run in a shell, build an equivalent
container (hostname, the command as pid 1, the same limits and capabilities)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.cli.conftest import jocker_ok

pytestmark = [pytest.mark.root]


def test_explain_reports_the_kernel_view(d):
    jocker_ok(d, "run", "-d", "--name", "ex1", "-m", "64m", "--pids-limit", "50", "busybox", "sleep", "300")
    try:
        report = json.loads(jocker_ok(d, "explain", "--format", "json", "ex1"))
        pid = report["Pid"]
        assert pid == int(jocker_ok(d, "inspect", "-f", "{{.State.Pid}}", "ex1"))
        for ns in report["Namespaces"]:
            assert ns["Inode"] == os.stat(f"/proc/{pid}/ns/{ns['Type']}").st_ino
            assert ns["Link"] == os.readlink(f"/proc/{pid}/ns/{ns['Type']}")
        assert {n["Type"] for n in report["Namespaces"] if n["New"]} >= {"mnt", "net", "pid", "uts", "ipc"}
        files = {Path(f["File"]).name: f for f in report["Cgroups"]["Files"]}
        limits = {"memory.limit_in_bytes": "67108864", "pids.max": "50"}
        if report["Cgroups"]["Version"] == 2:
            limits = {"memory.max": "67108864", "pids.max": "50"}
        for name, value in limits.items():
            assert files[name]["Value"] == value
            assert Path(files[name]["File"]).read_text().strip() == value  # the real file
        assert report["Rootfs"]["Type"] == "overlay" and report["Rootfs"]["Lowerdir"]
        text = jocker_ok(d, "explain", "ex1")
        assert f"/proc/{pid}/ns" in text and "memory.limit_in_bytes = 67108864" in text.replace(
            "memory.max", "x"
        )
        assert "pivot_root . ." in text and "unshare " in text
    finally:
        jocker_ok(d, "rm", "-f", "ex1")


@pytest.mark.slow
def test_manual_steps_build_an_equivalent_container(d, tmp_path):
    for tool in ("capsh", "unshare", "busybox"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    jocker_ok(d, "run", "-d", "--name", "ex2", "-m", "48m", "--pids-limit", "33", "--hostname", "by-hand",
              "busybox", "sleep", "300")  # fmt: skip
    script = tmp_path / "build.sh"
    try:
        script.write_text(jocker_ok(d, "explain", "--steps", "ex2"))
        pid = int(jocker_ok(d, "inspect", "-f", "{{.State.Pid}}", "ex2"))
        bounding = next(
            line for line in Path(f"/proc/{pid}/status").read_text().splitlines() if line.startswith("CapBnd")
        )
        probe = ("echo host=$(hostname) pid=$$; cat /proc/1/cmdline | tr '\\0' ' '; echo; "
                 "cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max; "
                 "grep -E 'CapBnd|CapEff|CapInh' /proc/self/status; readlink /proc/1/ns/net; ls /.pivot 2>&1 | head -1")  # fmt: skip  # noqa: E501
        # a throwaway network namespace around it all; the script makes its own namespaces inside
        result = subprocess.run(
            ["unshare", "--net", "--", "sh", str(script), "/bin/sh", "-c", probe],
            env={**os.environ, "ROOT": str(tmp_path / "manual")}, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        lines = result.stdout.splitlines()
        assert lines[0] == "host=by-hand pid=1"
        assert lines[1].startswith("/bin/sh -c echo host=")
        assert lines[2:4] == [str(48 * 1024 * 1024), "33"]
        assert lines[4].split() == ["CapInh:", "0000000000000000"]  # in /proc/PID/status order
        assert lines[5] == bounding.replace("CapBnd", "CapEff") and lines[6] == bounding
        assert lines[7] != os.readlink(f"/proc/{pid}/ns/net")  # its own network namespace, not ex2's
    finally:
        jocker_ok(d, "rm", "-f", "ex2")
        subprocess.run(["umount", "-l", str(tmp_path / "manual" / "rootfs")], capture_output=True)
        for hierarchy in Path("/sys/fs/cgroup").glob("*/jocker-manual"):
            for group in hierarchy.iterdir():
                if group.is_dir():
                    os.rmdir(group)
            os.rmdir(hierarchy)
