"""Each command through `jocker` against a real jockerd, compared with the docker CLI doing the
same thing (IDs and times normalized where they must differ)."""

from __future__ import annotations

import json
import re
import time

import pytest

from tests.cli.conftest import jocker, jocker_ok, same_as_docker
from tests.conftest import wait_for

pytestmark = [pytest.mark.root]


def _info_server_section(text: str) -> str:
    """The Server part of `info`, with the Runtimes line's names sorted: the docker CLI prints them
    in Go map order, which changes from run to run (jocker prints them sorted)."""
    server = text.split("\nServer:", 1)[-1]
    return re.sub(
        r"^ Runtimes: (.*)$",
        lambda m: " Runtimes: " + " ".join(sorted(m.group(1).split())),
        server,
        flags=re.M,
    )


def test_version_and_info_server_sections(d):
    ours = jocker_ok(d, "version")
    theirs = d.docker_ok("version")
    assert ours.split("\nServer:", 1)[1] == theirs.split("\nServer:", 1)[1]
    assert re.search(r"^ API version:\s+1\.51$", ours, re.M)
    same_as_docker(d, "info", normalize=_info_server_section)
    assert (
        jocker_ok(d, "info", "--format", "{{.OSType}} {{json .Swarm.LocalNodeState}}") == 'linux "inactive"\n'
    )


def test_images_history_inspect_tag_rmi(d):
    same_as_docker(d, "images")
    same_as_docker(d, "images", "--no-trunc", "--digests")
    same_as_docker(d, "images", "--format", "json")
    same_as_docker(d, "images", "-q")
    same_as_docker(d, "history", "busybox")
    same_as_docker(d, "history", "--no-trunc", "--format", "{{.ID}}|{{.CreatedBy}}|{{.Size}}", "busybox")
    same_as_docker(d, "image", "inspect", "busybox")
    same_as_docker(d, "inspect", "-f", "{{.Os}} {{.RootFS.Layers}} {{json .Config.Cmd}}", "busybox")
    assert jocker_ok(d, "tag", "busybox", "jtr/bb:v1") == ""
    same_as_docker(d, "images", "--format", "table {{.Repository}}\t{{.Tag}}\t{{.Size}}")
    same_as_docker(d, "rmi", "nosuch:v9", stderr=True)
    assert jocker_ok(d, "rmi", "jtr/bb:v1") == "Untagged: jtr/bb:v1\n"
    same_as_docker(d, "inspect", "nosuchobject", stderr=True)


def test_run_exit_codes_and_streams(d):
    result = jocker(d, "run", "--rm", "busybox", "echo", "hello")
    assert (result.returncode, result.stdout, result.stderr) == (0, "hello\n", "")
    result = jocker(d, "run", "--name", "oe7", "busybox", "sh", "-c", "echo out; echo err >&2; exit 7")
    assert (result.returncode, result.stdout, result.stderr) == (7, "out\n", "err\n")
    same_as_docker(d, "logs", "oe7", stderr=True)
    same_as_docker(d, "wait", "oe7")
    same_as_docker(d, "ps", "-a", "--filter", "name=oe7", normalize=_times)
    assert jocker_ok(d, "rm", "oe7") == "oe7\n"
    result = jocker(d, "run", "--rm", "busybox", "/nosuchcmd")
    assert result.returncode == 127 and result.stderr.startswith("jocker: Error response from daemon: ")
    result = jocker(
        d, "run", "-i", "--rm", "busybox", "sh", "-c", "cat; echo done-after-eof", input=b"line-a\n"
    )
    assert (result.returncode, result.stdout) == (0, "line-a\ndone-after-eof\n")
    same_as_docker(d, "run", "--rm", "nosuch/image:v1", "true", stderr=True,
                   normalize=lambda s: re.sub(r"Get .*|dial .*", "", s))  # fmt: skip
    same_as_docker(d, "run", "--rm", "--restart", "always", "busybox", "true", stderr=True)
    assert jocker(d, "run", "--bogus", "busybox").returncode == 125
    assert jocker_ok(d, "ps", "-aq") == ""


def test_run_builds_the_same_container_as_docker(d):
    flags = ["-d", "-e", "A=1", "-w", "/tmp", "-u", "0:0", "--entrypoint", "/bin/sh", "-l", "jtr=1",
             "--restart", "on-failure:2", "--hostname", "jtrhost", "--add-host", "foo:127.0.0.2", "-m", "64m",
             "--cpus", "0.5", "--pids-limit", "40", "--cap-add", "NET_ADMIN", "--init", "--shm-size", "32m",
             "--tmpfs", "/scratch", "--read-only", "--stop-signal", "USR1"]  # fmt: skip
    jocker_ok(d, "run", *flags, "--name", "rich-j", "busybox", "-c", "sleep 300")
    d.docker_ok("run", *flags, "--name", "rich-d", "busybox", "-c", "sleep 300")
    ours, theirs = (json.loads(jocker_ok(d, "inspect", name))[0] for name in ("rich-j", "rich-d"))
    for key in ("Config", "HostConfig", "Path", "Args"):
        mine = json.dumps(ours[key]).replace("rich-j", "X")
        assert mine == json.dumps(theirs[key]).replace("rich-d", "X"), key
    same_as_docker(
        d, "inspect", "-f", "{{.State.Status}} {{.HostConfig.Memory}} {{.Config.Labels}}", "rich-j"
    )
    jocker_ok(d, "rm", "-f", "rich-j", "rich-d")


def test_lifecycle_and_tables(d):
    cid = jocker_ok(d, "run", "-d", "--name", "life", "-l", "jtr=1", "busybox", "sh", "-c",
                    "echo started; trap 'exit 3' TERM; while true; do sleep 0.1; done").strip()  # fmt: skip
    assert re.fullmatch(r"[0-9a-f]{64}", cid)
    wait_for(lambda: "started" in jocker_ok(d, "logs", "life"), timeout=10)
    same_as_docker(d, "ps", normalize=_times)
    same_as_docker(d, "ps", "-a", "--no-trunc", normalize=_times)
    same_as_docker(d, "ps", "-s", normalize=_times)
    same_as_docker(d, "ps", "-q", "--filter", "label=jtr=1")
    same_as_docker(
        d, "ps", "-n", "1", "--format", '{{.ID}} {{.Names}} {{.Image}} {{.Command}} {{.Label "jtr"}}'
    )
    same_as_docker(d, "ps", "--format", "json", normalize=_times)
    same_as_docker(d, "ps", "--format", "table {{.Names}}\t{{.State}}\t{{.Networks}}")
    same_as_docker(d, "inspect", "life", normalize=_times)
    same_as_docker(d, "container", "inspect", "-f", "{{.State.Running}} {{json .Config.Cmd}}", "life")
    # `life` forks a new `sleep 0.1` every tenth of a second: compare top on a steady process set.
    jocker_ok(d, "run", "-d", "--name", "steady", "busybox", "sleep", "1000")
    same_as_docker(d, "top", "steady", normalize=lambda s: re.sub(r"\d+:\d+", "T", s))
    jocker_ok(d, "rm", "-f", "steady")
    same_as_docker(d, "stats", "--no-stream", "--format", "{{.Name}} {{.PIDs}} {{.NetIO}}", "life")
    out = jocker(d, "exec", "life", "sh", "-c", "echo in-exec; echo e >&2; exit 4")
    assert (out.returncode, out.stdout, out.stderr) == (4, "in-exec\n", "e\n")
    same_as_docker(
        d, "exec", "-e", "X=1", "-u", "65534", "-w", "/tmp", "life", "sh", "-c", "echo $X $(id -u) $PWD"
    )
    assert jocker(d, "exec", "-d", "life", "touch", "/tmp/detached").returncode == 0
    wait_for(lambda: jocker(d, "exec", "life", "test", "-e", "/tmp/detached").returncode == 0, timeout=10)
    assert jocker_ok(d, "pause", "life") == "life\n"
    assert "(Paused)" in jocker_ok(d, "ps", "--format", "{{.Status}}")
    assert jocker_ok(d, "unpause", "life") == "life\n"
    assert jocker_ok(d, "rename", "life", "life2") == ""
    assert jocker_ok(d, "restart", "-t", "1", "life2") == "life2\n"
    assert jocker_ok(d, "stop", "-t", "5", "life2") == "life2\n"
    assert jocker_ok(d, "wait", "life2") == "3\n"
    same_as_docker(d, "stop", "life2")  # already stopped: 304 is success
    same_as_docker(d, "kill", "life2", stderr=True)  # not running: 409
    same_as_docker(d, "rm", "-f", "nosuch", stderr=True)  # exit 0 though it prints the error
    same_as_docker(d, "rm", "nosuch", stderr=True)
    same_as_docker(d, "exec", "life2", "true", stderr=True)
    same_as_docker(d, "events", "--since", "2m", "--until", "0s", "--filter", "container=life2",
                   "--format", "{{.Type}} {{.Action}} {{.Actor.Attributes.name}}")  # fmt: skip
    assert jocker_ok(d, "rm", "life2") == "life2\n"


def test_create_start_attach_and_prune(d):
    cid = jocker_ok(
        d, "create", "--name", "made", "-l", "prune=1", "busybox", "sh", "-c", "echo made-out; exit 6"
    )
    assert re.fullmatch(r"[0-9a-f]{64}\n", cid)
    same_as_docker(d, "ps", "-a", "--filter", "name=made", normalize=_times)
    result = jocker(d, "start", "-a", "made")
    assert (result.returncode, result.stdout) == (6, "made-out\n")
    assert jocker_ok(d, "start", "made") == "made\n"
    jocker_ok(d, "wait", "made")
    out = jocker_ok(d, "container", "prune", "-f", "--filter", "label=prune=1")
    assert out == f"Deleted Containers:\n{cid}\nTotal reclaimed space: 0B\n"
    same_as_docker(d, "container", "prune", "-f")
    same_as_docker(d, "system", "df")
    same_as_docker(d, "system", "df", "--format", "json")


def test_save_load_import(d, tmp_path):
    archive = tmp_path / "bb.tar"
    assert jocker_ok(d, "save", "-o", str(archive), "busybox") == ""
    assert archive.stat().st_size > 1_000_000
    same_as_docker(d, "load", "-i", str(archive))
    result = jocker(d, "load", input=archive.read_bytes())
    assert (result.returncode, result.stdout) == (0, "Loaded image: busybox:latest\n")
    rootfs = tmp_path / "rootfs.tar"
    rootfs.write_bytes(archive.read_bytes())
    out = jocker_ok(d, "import", "-c", 'CMD ["sh"]', str(rootfs), "jtr/imported:v1")
    assert re.fullmatch(r"sha256:[0-9a-f]{64}\n", out)
    assert (
        jocker_ok(d, "images", "--format", "{{.Repository}}:{{.Tag}}", "jtr/imported") == "jtr/imported:v1\n"
    )
    jocker_ok(d, "rmi", "jtr/imported:v1")


def test_errors_and_usage(d):
    result = jocker(d, "rm")
    assert result.returncode == 1 and result.stderr.startswith('"jocker rm" requires at least 1 argument.')
    result = jocker(d, "ps", "--bogus")
    assert (result.returncode, result.stderr) == (125, "unknown flag: --bogus\nSee 'jocker ps --help'.\n")
    assert "Usage:  jocker run [OPTIONS] IMAGE [COMMAND] [ARG...]" in jocker_ok(d, "run", "--help")
    assert "Common Commands:" in jocker_ok(d, "--help")
    result = jocker(d, "-H", "unix:///nonexistent.sock", "ps")
    assert result.returncode == 1 and "Cannot connect to the jocker daemon" in result.stderr


def _times(text: str) -> str:
    text = re.sub(r"(Less than a second|About a minute|\d+ seconds?|\d+ minutes?) ago", "N ago", text)
    text = re.sub(r"Up (Less than a second|About a minute|\d+ seconds?|\d+ minutes?)", "Up N", text)
    text = re.sub(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?Z?", "TIME", text)
    return re.sub(r" +", " ", text)


def test_completion_and_startup(d):
    script = jocker_ok(d, "completion", "bash")
    assert "complete -F _jocker jocker" in script
    started = time.monotonic()
    jocker_ok(d, "ps")
    assert time.monotonic() - started < 5


def test_inspect_every_kind_and_format(d):
    """`inspect` finds containers, images, networks and volumes (the docker CLI's order),
    `--format json` is one compact array, and each kind's not-found words are the daemon's."""
    d.docker_ok("volume", "create", "jtr-insp")
    d.docker_ok("create", "--name", "jtr-insp-c", "busybox", "true")
    try:
        for args in (
            ("inspect", "-f", "json", "busybox"),
            ("image", "inspect", "--format", "json", "busybox"),
            ("volume", "inspect", "-f", "json", "jtr-insp"),
            ("network", "inspect", "--format", "json", "none"),
            ("inspect", "--type", "volume", "jtr-insp"),
            ("inspect", "--type", "network", "host"),
            ("inspect", "-f", "{{.Name}}", "jtr-insp-c", "none", "jtr-insp"),
        ):
            same_as_docker(d, *args)
        for args in (
            ("inspect", "jtr-insp-c", "nosuch-object"),
            ("inspect", "--type", "volume", "nosuch"),
            ("inspect", "--type", "network", "nosuch"),
            ("inspect", "--type", "node", "nosuch"),
            ("inspect", "--type", "bogus", "x"),
            ("image", "inspect", "nosuch"),
            ("volume", "inspect", "jtr-insp", "nosuch"),
        ):
            same_as_docker(d, *args, stderr=True)
    finally:
        d.docker("rm", "jtr-insp-c")
        d.docker("volume", "rm", "jtr-insp")
