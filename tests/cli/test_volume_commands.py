"""`jocker volume ...` against a real jockerd, compared with the docker CLI doing the same."""

from __future__ import annotations

import re

import pytest

from tests.cli.conftest import jocker, jocker_ok, same_as_docker

pytestmark = [pytest.mark.root]


@pytest.fixture(autouse=True)
def clean(d):
    yield
    for cid in d.docker_ok("ps", "-aq").split():
        d.docker("rm", "-f", cid)
    names = d.docker_ok("volume", "ls", "-q").split()
    if names:
        d.docker("volume", "rm", "-f", *names)


def _created_at(text: str) -> str:
    return re.sub(r'"CreatedAt": "[^"]+"', '"CreatedAt": "T"', text)


def test_create_ls_inspect_rm(d):
    assert jocker_ok(d, "volume", "create", "v1") == "v1\n"
    assert jocker_ok(d, "volume", "create", "--label", "a=b", "--label", "c", "-o", "type=tmpfs",
                     "-o", "device=tmpfs", "v2") == "v2\n"  # fmt: skip
    generated = jocker_ok(d, "volume", "create").strip()
    assert re.fullmatch(r"[0-9a-f]{64}", generated)
    d.docker_ok("volume", "create", "v10")
    same_as_docker(d, "volume", "ls")
    same_as_docker(d, "volume", "list", "-q")
    same_as_docker(d, "volume", "ls", "--format", "json")
    same_as_docker(d, "volume", "ls", "--format", "table {{.Name}}\t{{.Labels}}\t{{.Mountpoint}}")
    same_as_docker(d, "volume", "ls", "--format", '{{.Name}} {{.Label "a"}} {{.Scope}} {{.Links}}')
    same_as_docker(d, "volume", "ls", "-f", "label=a", "-f", "name=v")
    same_as_docker(d, "volume", "ls", "-f", "dangling=true", "-q")
    same_as_docker(d, "volume", "ls", "-f", "bogus=1", stderr=True)
    same_as_docker(d, "volume", "inspect", "v1", "v2", normalize=_created_at)
    same_as_docker(d, "volume", "inspect", "-f", "{{.Name}} {{.Driver}} {{json .Options}}", "v2")
    same_as_docker(d, "volume", "inspect", "v1", "nosuch", normalize=_created_at, stderr=True)
    same_as_docker(d, "volume", "create", "x/y", stderr=True)
    same_as_docker(d, "volume", "create", "-d", "nosuch", "v3", stderr=True)
    same_as_docker(d, "volume", "rm", "nosuch", stderr=True)
    same_as_docker(d, "volume", "rm", "-f", "nosuch", stderr=True)
    assert jocker_ok(d, "volume", "rm", "v1", "v2", generated) == f"v1\nv2\n{generated}\n"


def test_in_use_and_prune(d):
    cid = jocker_ok(d, "create", "-v", "used:/u", "-v", "/anon", "busybox", "true").strip()
    result = jocker(d, "volume", "rm", "used")
    assert result.returncode == 1
    assert result.stderr == f"Error response from daemon: remove used: volume is in use - [{cid}]\n"
    jocker_ok(d, "rm", cid)
    jocker_ok(d, "volume", "create", "named")
    out = jocker_ok(d, "volume", "prune", "-f")
    assert re.fullmatch(r"Deleted Volumes:\n[0-9a-f]{64}\n\nTotal reclaimed space: 0B\n", out)
    assert jocker_ok(d, "volume", "ls", "-q").split() == ["named", "used"]
    assert jocker_ok(d, "volume", "prune", "-f", "--filter", "label=x") == "Total reclaimed space: 0B\n"
    result = jocker(d, "volume", "prune", input=b"n\n")
    assert result.stdout == (
        "WARNING! This will remove anonymous local volumes not used by at least one container.\n"
        "Are you sure you want to continue? [y/N] "
    )
    assert (
        jocker_ok(d, "volume", "prune", "-a", "-f")
        == "Deleted Volumes:\nnamed\nused\n\nTotal reclaimed space: 0B\n"
    )


def test_run_with_volumes(d):
    assert jocker_ok(d, "run", "--rm", "-v", "data:/data", "busybox", "sh", "-c", "echo x > /data/f") == ""
    out = jocker_ok(d, "run", "--rm", "--mount", "type=volume,source=data,target=/d,readonly", "busybox",
                    "sh", "-c", "cat /d/f; touch /d/g 2>/dev/null || echo ro")  # fmt: skip
    assert out == "x\nro\n"


def test_run_mount_volume_options(d):
    spec = (
        "type=volume,src=tv,dst=/t,volume-driver=local,volume-opt=type=tmpfs,volume-opt=device=tmpfs,"
        "volume-opt=o=size=1m,volume-label=k=v"
    )
    out = jocker_ok(d, "run", "--rm", "--mount", spec, "busybox", "sh", "-c", "df -k /t | tail -1")
    assert out.split()[1] == "1024"
    volume = d.docker_ok("volume", "inspect", "-f", "{{json .Options}} {{json .Labels}}", "tv")
    assert volume == '{"device":"tmpfs","o":"size=1m","type":"tmpfs"} {"k":"v"}\n'
