"""`jocker cp` and `jocker export` beside `docker cp`/`docker export` (CLI 28.2.2) on one jockerd:
same files, same tars, same messages and exit codes."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys

import pytest

from tests.cli.conftest import JOCKER, jocker, jocker_ok, same_as_docker
from tests.conftest import DOCKER, REPO

pytestmark = [pytest.mark.root]


@pytest.fixture(scope="module")
def c(d):
    d.docker_ok("run", "-d", "--name", "cpcli", "busybox", "sh", "-c",
                "mkdir -p /srv/t/sub && echo a > /srv/t/a && echo b > /srv/t/sub/b && "
                "ln -s /srv/t/a /srv/link && exec sleep 600")  # fmt: skip
    yield "cpcli"
    d.docker_ok("rm", "-f", "cpcli")


def tree(root: str) -> list[tuple[str, str]]:
    """(relative path, content or link target or "dir") of everything under root."""
    found = []
    for here, dirs, files in os.walk(root):
        for name in sorted(dirs + files):
            path = os.path.join(here, name)
            rel = os.path.relpath(path, root)
            if os.path.islink(path):
                found.append((rel, "-> " + os.readlink(path)))
            elif os.path.isdir(path):
                found.append((rel, "dir"))
            else:
                with open(path, "rb") as f:
                    found.append((rel, f.read().decode("latin-1")))
    return sorted(found)


@pytest.mark.parametrize(
    ("src", "dest", "precreate"),
    [
        ("/srv/t/a", "out", False),
        ("/srv/t/a", "out", True),  # into an existing directory
        ("/srv/t", "out", False),
        ("/srv/t", "out", True),
        ("/srv/t/.", "out", True),
        ("/srv/link", "out", False),
    ],
)
def test_cp_out_same_files(d, c, tmp_path, src, dest, precreate):
    results = {}
    for tool in ("docker", "jocker"):
        base = tmp_path / tool
        base.mkdir()
        if precreate:
            (base / dest).mkdir()
        run = d.docker if tool == "docker" else lambda *a: jocker(d, *a)
        result = run("cp", f"{c}:{src}", str(base / dest))
        results[tool] = (result.returncode, result.stdout, result.stderr, tree(str(base)))
    assert results["jocker"] == results["docker"]


def test_cp_follow_link_same_files(d, c, tmp_path):
    for tool in ("docker", "jocker"):
        run = d.docker if tool == "docker" else lambda *a: jocker(d, *a)
        assert run("cp", "-L", f"{c}:/srv/link", str(tmp_path / tool)).returncode == 0
    assert (tmp_path / "jocker").read_text() == (tmp_path / "docker").read_text() == "a\n"


@pytest.mark.parametrize(
    ("src", "dest"),
    [("file", "/tmp/{tool}-f"), ("file", "/tmp/"), ("dir", "/tmp/{tool}-d"), ("dir/.", "/tmp/{tool}-dd")],
)
def test_cp_in_same_result(d, c, tmp_path, src, dest):
    (tmp_path / "file").write_text("payload\n")
    (tmp_path / "dir/inner").mkdir(parents=True)
    (tmp_path / "dir/inner/x").write_text("x\n")
    listings = {}
    for tool in ("docker", "jocker"):
        run = d.docker if tool == "docker" else lambda *a: jocker(d, *a)
        target = dest.format(tool=tool)
        if src == "file" and target == "/tmp/":
            d.docker_ok("exec", c, "rm", "-f", "/tmp/file")
        result = run("cp", str(tmp_path / src), f"{c}:{target}")
        assert (result.returncode, result.stdout, result.stderr) == (0, "", ""), (tool, result.stderr)
        shown = target + "file" if target.endswith("/") else target
        script = (
            f"cd {shown} 2>/dev/null && find . -exec ls -ld {{}} + | awk '{{print $1, $NF}}' || cat {shown}"
        )
        listings[tool] = d.docker_ok("exec", c, "sh", "-c", script)
    assert listings["jocker"] == listings["docker"]


@pytest.mark.parametrize(
    "args",
    [
        ("cp", "a", "b"),
        ("cp", "x1:/a", "x2:/b"),
        ("cp", "cpcli:/no/such", "/tmp/whatever"),
        ("cp", "nosuchcontainer:/etc", "/tmp/whatever"),
        ("cp", "cpcli:/etc/passwd", "/no/such/dir/x"),
        ("cp", "/no/such/local/file", "cpcli:/tmp/"),
        ("cp", "/tmp/no-such-local-file", "cpcli:/tmp/"),
        ("export", "nosuchcontainer"),
    ],
)
def test_errors_same_as_docker(d, c, args):
    same_as_docker(d, *args, stderr=True, normalize=lambda s: s.replace("jocker", "docker"))


def test_export_same_tar(d, c, tmp_path):
    d.docker_ok("export", "-o", str(tmp_path / "docker.tar"), c)
    jocker_ok(d, "export", "-o", str(tmp_path / "jocker.tar"), c)
    assert (tmp_path / "jocker.tar").read_bytes() == (tmp_path / "docker.tar").read_bytes()
    piped = subprocess.run([*JOCKER, "export", c], env=d.env, cwd=REPO, capture_output=True, timeout=60)
    assert piped.returncode == 0 and piped.stdout == (tmp_path / "docker.tar").read_bytes()


@pytest.mark.skipif(DOCKER is None, reason="the docker CLI is not installed")
def test_summary_on_a_terminal(d, c, tmp_path):
    """With a terminal, both print `Successfully copied <tar bytes> to <dest>` on stderr."""
    (tmp_path / "up").write_text("x" * 100)
    outputs = {}
    for tool, argv in (("docker", [DOCKER]), ("jocker", [sys.executable, "-m", "jocker_cli"])):
        lines = []
        for args in (
            ["cp", f"{c}:/srv/t/a", str(tmp_path / f"{tool}-a")],
            ["cp", str(tmp_path / "up"), f"{c}:/tmp/"],
            ["cp", f"{c}:/srv/t", str(tmp_path / f"{tool}-t")],
        ):
            command = shlex.join([*argv, *args])
            result = subprocess.run(["script", "-qec", command, "/dev/null"], env=d.env, cwd=REPO,
                                    capture_output=True, timeout=60)  # fmt: skip
            lines.append(result.stdout.decode().replace(tool, "TOOL").strip())
        outputs[tool] = lines
    assert outputs["jocker"] == outputs["docker"]
    assert outputs["docker"][0].startswith("Successfully copied 2.05kB to ")
