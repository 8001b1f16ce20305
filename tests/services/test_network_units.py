"""NetworkService without root: moby's list filters, lookup order, refusals, the store."""

from __future__ import annotations

import json

import pytest

from jockerd.errors import ForbiddenError, InternalError, InvalidParameterError, NotFoundError
from jockerd.services.networks import NetworkService, find_network
from jockerd.store.networks import NetworkStore


@pytest.fixture
def service(tmp_path):
    svc = NetworkService(NetworkStore(tmp_path / "network"))
    svc.restore()
    return svc


def names(networks):
    return [n["Name"] for n in networks]


async def test_list_order_and_body(service):
    listed = await service.list({})
    assert names(listed) == ["none", "host"]
    assert [n["Driver"] for n in listed] == ["null", "host"]
    assert list(listed[0])[:7] == ["Name", "Id", "Created", "Scope", "Driver", "EnableIPv4", "EnableIPv6"]
    old = await service.list({}, ipv4_field=False)
    assert "EnableIPv4" not in old[0]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"driver": ["null"]}, ["none"]),
        ({"driver": ["nul"]}, []),  # exact
        ({"driver": ["null", "host"]}, ["none", "host"]),
        ({"name": ["os"]}, ["host"]),  # a regular expression, searched
        ({"name": ["^n"]}, ["none"]),
        ({"name": ["["]}, []),  # a bad pattern matches nothing
        ({"scope": ["local"]}, ["none", "host"]),
        ({"scope": ["swarm"]}, []),
        ({"label": ["a"]}, []),
        ({"type": ["builtin"]}, ["none", "host"]),
        ({"type": ["custom"]}, []),
        ({"type": ["custom", "builtin"]}, ["none", "host"]),
        ({"dangling": ["true"]}, []),  # predefined networks are never dangling
        ({"dangling": ["0"]}, ["none", "host"]),
    ],
)
async def test_list_filters(service, filters, expected):
    assert names(await service.list(filters)) == expected


async def test_id_filter_is_searched(service):
    host = service.id_of("host")
    assert names(await service.list({"id": [host[3:9]]})) == ["host"]


@pytest.mark.parametrize(
    ("filters", "error", "message"),
    [
        ({"foo": ["x"]}, InvalidParameterError, "Invalid filter 'foo'"),
        ({"label!": ["a"]}, InvalidParameterError, "Invalid filter 'label!'"),
        ({"dangling": ["1", "0"]}, InvalidParameterError,
         'got more than one value for filter key "dangling"'),
        ({"dangling": ["maybe"]}, InvalidParameterError,
         "invalid value for filter 'dangling', must be \"true\" (or \"1\"), or \"false\" (or \"0\")"),
        ({"type": ["weird"]}, InternalError, "invalid filter: 'type'='weird'"),
    ],
)  # fmt: skip
async def test_list_filter_errors(service, filters, error, message):
    with pytest.raises(error) as e:
        await service.list(filters)
    assert str(e.value) == message


def test_lookup_order():
    a = {"Name": "abc", "Id": "abc" + "0" * 61}
    b = {"Name": "x", "Id": "abd" + "0" * 61}
    named = {"Name": "ab", "Id": "f" * 64}
    assert find_network("ab", [a, b, named]) is named  # the name wins over ID prefixes
    assert find_network("abd", [a, b]) is b
    assert find_network(a["Id"], [b, {"Name": a["Id"], "Id": "e" * 64}, a]) is a  # full ID first
    with pytest.raises(
        InvalidParameterError, match=r"network ab is ambiguous \(2 matches found based on ID prefix\)"
    ):
        find_network("ab", [a, b])
    with pytest.raises(NotFoundError, match=r"^network nope not found$"):
        find_network("nope", [a, b])


async def test_inspect_scope_and_containers(service):
    service.endpoints = lambda name: {"c" * 64: {"Name": "n"}} if name == "none" else {}
    body = await service.inspect("none")
    assert body["Containers"] == {"c" * 64: {"Name": "n"}}
    assert (await service.inspect(service.id_of("none")[:5]))["Name"] == "none"
    assert (await service.list({}))[0]["Containers"] == {}
    assert names(await service.list({"dangling": ["false"]})) == ["none", "host"]
    with pytest.raises(NotFoundError):
        await service.inspect("none", scope="swarm")


async def test_refusals(service):
    with pytest.raises(ForbiddenError, match=r"^host is a pre-defined network and cannot be removed$"):
        await service.remove(service.id_of("host"))
    with pytest.raises(NotFoundError, match=r"^network bridge not found$"):
        await service.remove("bridge")
    for name in ("bridge", "host", "none", "default"):
        with pytest.raises(ForbiddenError) as e:
            await service.create(name)
        assert str(e.value) == f"operation is not permitted on predefined {name} network "
    assert await service.prune({"label": ["a"], "until": ["10m"]}) == {"NetworksDeleted": None}
    with pytest.raises(InvalidParameterError, match="Invalid filter 'foo'"):
        await service.prune({"foo": ["x"]})
    with pytest.raises(InternalError, match='failed to parse value as time or duration: "bogus"'):
        await service.prune({"until": ["bogus"]})


async def test_connect_refusals(service):
    default = {"Id": "c" * 64, "HostConfig": {"NetworkMode": "default"}, "State": {"Running": True},
               "NetworkSettings": {"Networks": {"bridge": {}}}}  # fmt: skip
    host = {**default, "HostConfig": {"NetworkMode": "host"}, "NetworkSettings": {"Networks": {"host": {}}}}
    conflict = "container cannot be disconnected from host network or connected to host network"
    with pytest.raises(InvalidParameterError, match=conflict):
        await service.connect("host", default, disconnect=False)
    with pytest.raises(InvalidParameterError, match=conflict):
        await service.connect("host", host, disconnect=True)
    with pytest.raises(InternalError, match=f"container {'c' * 64} is not connected to network host"):
        await service.connect("host", default, disconnect=True)
    with pytest.raises(NotFoundError):
        await service.connect("nope", default, disconnect=False)


def test_ids_persist(tmp_path):
    store = NetworkStore(tmp_path / "network")
    first = NetworkService(store)
    first.restore()
    second = NetworkService(store)
    second.restore()
    assert second.records == first.records
    saved = json.loads((tmp_path / "network" / "predefined.json").read_text())
    assert saved["host"]["id"] == first.id_of("host") and saved["none"]["driver"] == "null"
    (tmp_path / "network" / "predefined.json").write_text("{broken")
    third = NetworkService(store)
    third.restore()  # an unreadable file: new identities, written again
    assert third.id_of("host") != first.id_of("host")
    assert json.loads((tmp_path / "network" / "predefined.json").read_text())["host"]["id"] == third.id_of(
        "host"
    )
    assert first.id_of("bridge") == ""
