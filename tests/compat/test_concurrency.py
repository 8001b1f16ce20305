"""Many containers at once, and races on one container, leave nothing behind."""

from __future__ import annotations

import concurrent.futures
import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import DOCKER

pytestmark = [pytest.mark.root, pytest.mark.slow]


def cgroups() -> set[str]:
    return {str(p) for p in Path("/sys/fs/cgroup").glob("*/jocker/*") if p.is_dir()}


def leftovers(d, cgroups_before: set[str]) -> dict[str, list[str]]:
    with open("/proc/self/mounts") as f:
        mounts = [line.split()[1] for line in f if str(d.root) in line.split()[1]]
    return {
        "mounts": mounts,
        "cgroups": sorted(cgroups() - cgroups_before),
        "shims": [str(p) for p in d.exec_root.glob("shim/*")],
        "bundles": [str(p) for p in d.exec_root.glob("bundles/*")],
        "runtime_state": [str(p) for p in d.exec_root.glob("runtime/*/*")],
        "containers": [str(p) for p in d.data_root.glob("containers/*")],
    }


def test_50_concurrent_runs(jockerd, busybox_archive):
    d = jockerd
    d.docker_ok("load", "-i", str(busybox_archive))
    before = cgroups()

    def one(i: int) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [DOCKER, "run", "--rm", "busybox", "true"], env=d.env, capture_output=True, text=True, timeout=180
        )

    with concurrent.futures.ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(one, range(50)))
    failures = [r.stderr for r in results if r.returncode != 0]
    assert failures == []
    assert d.docker_ok("ps", "-aq") == ""
    found = leftovers(d, before)
    assert found == {k: [] for k in found}


def test_races_on_one_name(jockerd, busybox_archive):
    """create/start/rm -f racing on one name: every container ends whole or gone, names reusable."""
    d = jockerd
    d.docker_ok("load", "-i", str(busybox_archive))
    before = cgroups()

    def churn(i: int) -> None:
        subprocess.run(
            [DOCKER, "run", "-d", "--name", "racer", "busybox", "sleep", "100"],
            env=d.env,
            capture_output=True,
            timeout=60,
        )
        subprocess.run([DOCKER, "rm", "-f", "racer"], env=d.env, capture_output=True, timeout=60)

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(churn, range(24)))
    subprocess.run([DOCKER, "rm", "-f", "racer"], env=d.env, capture_output=True, timeout=60)
    assert d.docker_ok("ps", "-aq") == ""
    d.docker_ok("run", "--rm", "--name", "racer", "busybox", "true")
    found = leftovers(d, before)
    assert found == {k: [] for k in found}, json.dumps(found, indent=1)
