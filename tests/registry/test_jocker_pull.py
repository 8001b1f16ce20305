"""`jocker pull` / `jocker push` against the local registry: plain progress lines when output is not
a terminal, a progress bar per layer (redrawn in place) on a terminal; same image as `docker pull`."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.compat.test_tty import Terminal
from tests.conftest import REPO

pytestmark = [pytest.mark.root]

JOCKER = [sys.executable, "-m", "jocker_cli"]


def short(digest: str) -> str:
    return digest.removeprefix("sha256:")[:12]


def jocker(daemon, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*JOCKER, *args], env=daemon.env, cwd=REPO, capture_output=True, text=True, timeout=120
    )


def test_jocker_pull_plain_lines_then_push(registry_jockerd, open_registry):
    info = open_registry.seeded["busybox:latest"]
    ref = f"{open_registry.host}/busybox:latest"
    layer = short(info["layers"][0])
    result = jocker(registry_jockerd, "pull", ref)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "latest: Pulling from busybox"
    assert f"{layer}: Pull complete" in lines
    assert lines[-3:] == [f"Digest: {info['digest']}", f"Status: Downloaded newer image for {ref}", ref]
    assert "\x1b[" not in result.stdout  # no cursor movement off a terminal
    image_id = registry_jockerd.docker_ok("image", "inspect", "-f", "{{.Id}}", ref).strip()
    assert image_id == info["image_id"]
    target = f"{open_registry.host}/jtr/from-jocker:v1"
    assert jocker(registry_jockerd, "tag", ref, target).returncode == 0
    pushed = jocker(registry_jockerd, "push", target)
    assert pushed.returncode == 0, pushed.stderr
    assert "digest: sha256:" in pushed.stdout


def test_jocker_pull_draws_bars_on_a_terminal(registry_jockerd, open_registry):
    ref = f"{open_registry.host}/busybox:latest"
    layer = short(open_registry.seeded["busybox:latest"]["layers"][0])
    env = {**registry_jockerd.env, "PYTHONPATH": str(REPO)}
    term = Terminal(env, [*JOCKER, "pull", ref], rows=30, cols=120)
    seen = term.expect(b"Status: Downloaded newer image for")
    assert term.wait() == 0
    text = seen.decode("utf-8", "replace")
    assert f"{layer}: " in text
    assert "\x1b[1A\x1b[2K" in text  # the layer's line is redrawn in place (cursor up, erase line)
    assert re.search(rf"{layer}: Downloading \[=+>? *\] +[\d.]+[kM]?B/[\d.]+[kM]?B", text)  # docker's bar
