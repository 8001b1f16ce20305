"""Create/start/kill/delete cycles leave nothing behind: no mount, state dir, process, cgroup.

50 cycles in CI (about 14 s); the issue's 200 with `JOCKER_LEAK_CYCLES=200`.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from tests.runtime.conftest import Runtime

pytestmark = [pytest.mark.root, pytest.mark.slow]

CYCLES = int(os.environ.get("JOCKER_LEAK_CYCLES", "50"))


def mount_lines() -> set[str]:
    # mount ids and peer groups change; the mount points and sources identify a leak
    return {" ".join(line.split()[3:5]) for line in Path("/proc/self/mountinfo").read_text().splitlines()}


def processes_with(marker: str) -> list[int]:
    """Pids whose environment holds `marker` (zombies included: their environ reads empty, so
    the leftover of a zombie is caught by the cgroup and state checks instead)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if marker.encode() in Path(f"/proc/{entry}/environ").read_bytes():
                    found.append(int(entry))
            except OSError:
                pass
    return found


def test_create_start_kill_delete_cycles_leak_nothing(jocker: Runtime, make_bundle, cid: str) -> None:
    marker = f"leak-{cid}"
    bundle = make_bundle(
        ["sleep", "1000"], edit=lambda spec: spec["process"]["env"].append(f"MARKER={marker}")
    )
    mounts_before = mount_lines()
    cgroup_dirs: set[str] = set()
    for i in range(CYCLES):
        name = f"{cid}-{i}"
        jocker.ok("create", "--bundle", str(bundle), name)
        cgroup_dirs.update(
            json.loads((jocker.root / name / "state.json").read_text())["cgroup_dirs"].values()
        )
        jocker.ok("start", name)
        jocker.ok("kill", name, "KILL")
        deadline = time.monotonic() + 10
        while jocker.state(name)["status"] != "stopped" and time.monotonic() < deadline:
            time.sleep(0.005)
        jocker.ok("delete", name)
    assert mount_lines() == mounts_before
    assert list(jocker.root.iterdir()) == []
    deadline = time.monotonic() + 5
    while processes_with(marker) and time.monotonic() < deadline:  # the zombies' reaper may lag
        time.sleep(0.05)
    assert processes_with(marker) == []
    assert len(cgroup_dirs) >= CYCLES
    assert [d for d in cgroup_dirs if Path(d).exists()] == []
