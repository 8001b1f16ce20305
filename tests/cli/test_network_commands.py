"""`jocker network ls|inspect` against a real jockerd, compared with the docker CLI doing the same."""

from __future__ import annotations

import pytest

from tests.cli.conftest import jocker, jocker_ok, same_as_docker

pytestmark = [pytest.mark.root]


def test_ls(d):
    same_as_docker(d, "network", "ls")
    same_as_docker(d, "network", "list", "-q")
    same_as_docker(d, "network", "ls", "--no-trunc")
    same_as_docker(d, "network", "ls", "-q", "--no-trunc")
    same_as_docker(d, "network", "ls", "--format", "json")
    same_as_docker(d, "network", "ls", "--format", "table {{.ID}}\t{{.Name}}\t{{.CreatedAt}}\t{{.IPv6}}")
    same_as_docker(d, "network", "ls", "--format", '{{.Name}} {{.Label "a"}} {{.Internal}} {{.Labels}}')
    same_as_docker(d, "network", "ls", "-f", "driver=null")
    same_as_docker(d, "network", "ls", "--filter", "type=builtin", "-f", "name=o")
    same_as_docker(d, "network", "ls", "-f", "bogus=1", stderr=True)


def test_inspect(d):
    host_id = jocker_ok(d, "network", "ls", "-q", "-f", "name=host").strip()
    same_as_docker(d, "network", "inspect", "host")
    same_as_docker(d, "network", "inspect", "none", host_id)
    same_as_docker(d, "network", "inspect", "--format", "json", "host", "none")
    same_as_docker(d, "network", "inspect", "-f", "{{.Name}} {{.Driver}} {{.Scope}}", "host", "none")
    same_as_docker(d, "network", "inspect", "-v", "none")
    same_as_docker(d, "network", "inspect", "nosuch", stderr=True)
    same_as_docker(d, "network", "inspect", "host", "nosuch", stderr=True)
    d.docker_ok("run", "-d", "--name", "netnone", "--network", "none", "busybox", "sleep", "1000")
    try:
        same_as_docker(d, "network", "inspect", "none")
    finally:
        d.docker("rm", "-f", "netnone")


def test_help_lists_network(d):
    out = jocker(d, "network", "--help").stdout
    assert "inspect" in out and "ls" in out
