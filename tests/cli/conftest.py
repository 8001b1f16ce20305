"""`jocker` against a real jockerd (its own network namespace), beside the real docker CLI."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable

import pytest

from tests.conftest import REPO

JOCKER = [sys.executable, "-m", "jocker_cli"]


def jocker(
    daemon, *args: str, input: bytes | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([*JOCKER, *args], env=daemon.env, cwd=REPO, input=input, capture_output=True,
                            timeout=timeout)  # fmt: skip
    return subprocess.CompletedProcess(
        result.args,
        result.returncode,
        result.stdout.decode("utf-8", "replace"),
        result.stderr.decode("utf-8", "replace"),
    )


def jocker_ok(daemon, *args: str, timeout: float = 60) -> str:
    result = jocker(daemon, *args, timeout=timeout)
    assert result.returncode == 0, f"jocker {' '.join(args)} failed ({result.returncode}): {result.stderr}"
    return result.stdout


def same_as_docker(
    daemon, *args: str, normalize: Callable[[str], str] = lambda s: s, attempts: int = 3, stderr: bool = False
) -> str:
    """Run `docker ARGS` and `jocker ARGS`; their exit codes and (normalized) outputs must match.
    Outputs with "N seconds ago" can straddle a second: retried a few times."""
    for attempt in range(attempts):
        ours = jocker(daemon, *args)
        theirs = daemon.docker(*args)
        mine = normalize(ours.stdout + (ours.stderr.replace("jocker", "docker") if stderr else ""))
        reference = normalize(theirs.stdout + (theirs.stderr if stderr else ""))
        if (ours.returncode, mine) == (theirs.returncode, reference):
            return ours.stdout
        if attempt < attempts - 1:
            time.sleep(0.3)
    assert (ours.returncode, mine) == (theirs.returncode, reference), (
        f"stderr: {ours.stderr!r} / {theirs.stderr!r}"
    )
    return ours.stdout


@pytest.fixture(scope="module")
def d(shared_jockerd, busybox_archive):
    shared_jockerd.docker_ok("load", "-i", str(busybox_archive))
    return shared_jockerd
