"""The predefined networks, host and none, through the real docker CLI: what dockerd 20.10
(`--bridge none`) shows, side by side (services/networks.py)."""

from __future__ import annotations

import json
import re
import signal

import pytest

pytestmark = [pytest.mark.root]

TABLE = (
    "NETWORK ID     NAME      DRIVER    SCOPE\n"
    "<id>   host      host      local\n"
    "<id>   none      null      local\n"
)


def ids_out(text: str) -> str:
    return re.sub(r"\b[0-9a-f]{12}\b", "<id>", text)


@pytest.fixture(scope="module")
def d(shared_jockerd, busybox_archive):
    shared_jockerd.docker_ok("load", "-i", str(busybox_archive))
    return shared_jockerd


def network_ids(d) -> dict[str, str]:
    out = d.docker_ok("network", "ls", "--no-trunc", "--format", "{{.Name}} {{.ID}}")
    return dict(line.split() for line in out.splitlines())


def test_ls_table(d):
    assert ids_out(d.docker_ok("network", "ls")) == TABLE


def test_ls_quiet_and_no_trunc(d):
    ids = network_ids(d)
    assert sorted(ids) == ["host", "none"]
    assert all(re.fullmatch(r"[0-9a-f]{64}", i) for i in ids.values())
    assert d.docker_ok("network", "ls", "-q") == f"{ids['host'][:12]}\n{ids['none'][:12]}\n"
    assert d.docker_ok("network", "ls", "-q", "--no-trunc") == f"{ids['host']}\n{ids['none']}\n"
    long = d.docker_ok("network", "ls", "--no-trunc").splitlines()
    assert long[0].split() == ["NETWORK", "ID", "NAME", "DRIVER", "SCOPE"]
    assert long[1].split() == [ids["host"], "host", "host", "local"]


def test_ls_filters(d):
    assert d.docker_ok("network", "ls", "--filter", "driver=null", "--format", "{{.Name}}") == "none\n"
    assert d.docker_ok("network", "ls", "-f", "type=builtin", "--format", "{{.Name}}") == "host\nnone\n"
    assert d.docker_ok("network", "ls", "-f", "type=custom", "-q") == ""
    assert d.docker_ok("network", "ls", "-f", "dangling=true", "-q") == ""
    assert d.docker_ok("network", "ls", "-f", "name=os", "--format", "{{.Name}}") == "host\n"
    assert d.docker_ok("network", "ls", "-f", "scope=local", "--format", "{{.Name}}") == "host\nnone\n"
    ids = network_ids(d)
    assert d.docker_ok("network", "ls", "-f", f"id={ids['none'][:5]}", "--format", "{{.Name}}") == "none\n"
    bad = d.docker("network", "ls", "-f", "bogus=1")
    assert bad.returncode == 1 and bad.stderr == "Error response from daemon: Invalid filter 'bogus'\n"
    weird = d.request("GET", "/v1.51/networks?filters=" + '{"type":{"weird":true}}'.replace('"', "%22"))
    assert (weird.status, weird.json()) == (500, {"message": "invalid filter: 'type'='weird'"})


def test_inspect_by_name_id_and_prefix(d):
    ids = network_ids(d)
    for term in ("host", ids["host"], ids["host"][:7]):
        (body,) = json.loads(d.docker_ok("network", "inspect", term))
        assert body["Name"] == "host" and body["Id"] == ids["host"]
    body = d.request("GET", "/v1.41/networks/none").json()
    assert list(body) == ["Name", "Id", "Created", "Scope", "Driver", "EnableIPv6", "IPAM", "Internal",
                          "Attachable", "Ingress", "ConfigFrom", "ConfigOnly", "Containers", "Options",
                          "Labels"]  # fmt: skip
    assert {k: v for k, v in body.items() if k not in ("Id", "Created")} == {
        "Name": "none", "Scope": "local", "Driver": "null", "EnableIPv6": False,
        "IPAM": {"Driver": "default", "Options": None, "Config": []}, "Internal": False,
        "Attachable": False, "Ingress": False, "ConfigFrom": {"Network": ""}, "ConfigOnly": False,
        "Containers": {}, "Options": {}, "Labels": {},
    }  # fmt: skip
    new = d.request("GET", "/v1.51/networks/none").json()
    assert list(new)[4:6] == ["Driver", "EnableIPv4"] and new["EnableIPv4"] is False
    assert d.docker_ok("network", "inspect", "-f", "{{.Driver}}", "host", "none") == "host\nnull\n"


def test_inspect_not_found(d):
    missing = d.docker("network", "inspect", "nosuch")
    assert (missing.returncode, missing.stdout) == (1, "[]\n")
    assert missing.stderr == "Error response from daemon: network nosuch not found\n"
    assert d.request("GET", "/v1.51/networks/HOST").json() == {"message": "network HOST not found"}
    assert d.request("GET", "/v1.51/networks/host?scope=swarm").status == 404
    bad = d.request("GET", "/v1.51/networks/host?verbose=bogus")
    assert bad.status == 400


def test_predefined_networks_are_read_only(d):
    rm = d.docker("network", "rm", "host")
    assert rm.returncode == 1
    # "exit status 1" is the CLI's own line, as with dockerd.
    assert rm.stderr == (
        "Error response from daemon: host is a pre-defined network and cannot be removed\nexit status 1\n"
    )
    assert d.request("DELETE", "/v1.51/networks/none").status == 403
    assert d.request("DELETE", "/v1.51/networks/nosuch").json() == {"message": "network nosuch not found"}
    create = d.docker("network", "create", "host")
    assert create.returncode == 1
    assert (
        create.stderr == "Error response from daemon: operation is not permitted on predefined host network\n"
    )
    body = b'{"Name":"none"}'
    created = d.request("POST", "/v1.51/networks/create", body, {"Content-Type": "application/json"})
    # dockerd's message ends with a space (the CLI trims it).
    assert (created.status, created.json()) == (
        403,
        {"message": "operation is not permitted on predefined none network "},
    )
    assert d.docker("network", "create", "foo").returncode == 1  # 501: not yet
    assert d.docker_ok("network", "prune", "-f") == ""
    assert d.request("POST", "/v1.51/networks/prune").json() == {"NetworksDeleted": None}
    connect = d.docker("network", "connect", "host", "nosuchcontainer")
    assert connect.stderr == "Error response from daemon: No such container: nosuchcontainer\n"


def test_containers_of_none_and_host(d):
    ids = network_ids(d)
    d.docker_ok("run", "-d", "--name", "nn", "--network", "none", "busybox", "sleep", "1000")
    d.docker_ok("create", "--name", "nc", "--network", "none", "busybox", "true")
    d.docker_ok("run", "-d", "--name", "hh", "--network", "host", "busybox", "sleep", "1000")
    d.docker_ok("run", "-d", "--name", "dflt", "busybox", "sleep", "1000")
    try:
        nn = json.loads(d.docker_ok("inspect", "nn"))[0]
        endpoint = nn["NetworkSettings"]["Networks"]["none"]
        assert endpoint["NetworkID"] == ids["none"]
        assert re.fullmatch(r"[0-9a-f]{64}", endpoint["EndpointID"])
        (none,) = json.loads(d.docker_ok("network", "inspect", "none"))
        assert none["Containers"] == {
            nn["Id"]: {"Name": "nn", "EndpointID": endpoint["EndpointID"], "MacAddress": "",
                       "IPv4Address": "", "IPv6Address": ""},
        }  # fmt: skip
        (host,) = json.loads(d.docker_ok("network", "inspect", "host"))
        assert [c["Name"] for c in host["Containers"].values()] == ["hh"]
        # The list never fills Containers (dockerd's list), and `none` is not dangling.
        assert all(n["Containers"] == {} for n in d.request("GET", "/v1.51/networks").json())
        never = json.loads(d.docker_ok("inspect", "nc"))[0]["NetworkSettings"]["Networks"]["none"]
        assert (never["NetworkID"], never["EndpointID"]) == ("", "")
        default = json.loads(d.docker_ok("inspect", "dflt"))[0]["NetworkSettings"]["Networks"]["bridge"]
        assert (default["NetworkID"], default["EndpointID"]) == ("", "")
        d.docker_ok("stop", "-t", "0", "nn")
        stopped = json.loads(d.docker_ok("inspect", "nn"))[0]["NetworkSettings"]["Networks"]["none"]
        assert (stopped["NetworkID"], stopped["EndpointID"]) == (ids["none"], "")
        assert json.loads(d.docker_ok("network", "inspect", "none"))[0]["Containers"] == {}
        d.docker_ok("start", "nn")
        again = json.loads(d.docker_ok("inspect", "nn"))[0]["NetworkSettings"]["Networks"]["none"]
        assert again["EndpointID"] not in ("", endpoint["EndpointID"])
        disconnect = d.docker("network", "disconnect", "host", "hh")
        assert disconnect.stderr == (
            "Error response from daemon: container cannot be disconnected from host network or "
            "connected to host network\n"
        )
    finally:
        d.docker("rm", "-f", "nn", "nc", "hh", "dflt")


def test_ids_stable_across_restart(jockerd, busybox_archive):
    d = jockerd
    d.docker_ok("load", "-i", str(busybox_archive))
    before = d.request("GET", "/v1.51/networks").json()
    d.docker_ok("run", "-d", "--name", "keep", "--network", "none", "busybox", "sleep", "1000")
    endpoint = json.loads(d.docker_ok("inspect", "keep"))[0]["NetworkSettings"]["Networks"]["none"]
    d.stop(signal.SIGKILL)
    d.start()
    assert d.request("GET", "/v1.51/networks").json() == before
    (none,) = json.loads(d.docker_ok("network", "inspect", "none"))
    assert [c["EndpointID"] for c in none["Containers"].values()] == [endpoint["EndpointID"]]
    d.stop()
    d.start()
    assert d.request("GET", "/v1.51/networks").json() == before
    d.docker_ok("rm", "-f", "keep")
