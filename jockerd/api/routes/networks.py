"""Network endpoints: NetworkList, NetworkInspect, NetworkDelete, NetworkCreate, NetworkPrune,
NetworkConnect, NetworkDisconnect over services/networks.py (the predefined `host` and `none`,
read-only). Names may hold `/` in a path, so `{id}` matches slashes as moby's router does."""

from __future__ import annotations

from typing import Any, Protocol

from aiohttp import web

from jockerd.api.middleware import version_at_least
from jockerd.api.params import query_filters, read_json_object
from jockerd.api.responses import json_response
from jockerd.api.routes.containers import CONTAINERS
from jockerd.errors import InvalidParameterError, NotFoundError, not_implemented

# Go's strconv.ParseBool
_GO_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})
_GO_FALSE = frozenset({"0", "f", "F", "FALSE", "false", "False"})
# EnableIPv4 appeared in API 1.48; older clients get dockerd 20.10's body.
IPV4_FIELD_VERSION = "1.48"


class NetworkBackend(Protocol):
    async def list(
        self, filters: dict[str, list[str]], *, ipv4_field: bool = True
    ) -> list[dict[str, Any]]: ...
    async def inspect(self, term: str, *, scope: str = "", ipv4_field: bool = True) -> dict[str, Any]: ...
    async def remove(self, term: str) -> None: ...
    async def create(self, name: str) -> None: ...
    async def prune(self, filters: dict[str, list[str]]) -> dict[str, Any]: ...
    async def connect(self, term: str, container: dict[str, Any], *, disconnect: bool) -> None: ...


class NoNetworks:
    """What the API answers without a network backend (API tests with fakes): no networks."""

    async def list(self, filters: dict[str, list[str]], *, ipv4_field: bool = True) -> list[dict[str, Any]]:
        return []

    async def inspect(self, term: str, *, scope: str = "", ipv4_field: bool = True) -> dict[str, Any]:
        raise NotFoundError(f"network {term} not found")

    async def remove(self, term: str) -> None:
        raise NotFoundError(f"network {term} not found")

    async def create(self, name: str) -> None:
        raise not_implemented("NetworkCreate (POST /networks/create)")

    async def prune(self, filters: dict[str, list[str]]) -> dict[str, Any]:
        return {"NetworksDeleted": None}

    async def connect(self, term: str, container: dict[str, Any], *, disconnect: bool) -> None:
        raise NotFoundError(f"network {term} not found")


NETWORKS = web.AppKey("networks", NetworkBackend)
routes = web.RouteTableDef()


def _ipv4_field(request: web.Request) -> bool:
    return version_at_least(request, IPV4_FIELD_VERSION)


@routes.get("/networks", name="NetworkList", allow_head=False)
async def network_list(request: web.Request) -> web.Response:
    networks = await request.app[NETWORKS].list(query_filters(request), ipv4_field=_ipv4_field(request))
    return json_response(networks)


@routes.get("/networks/{id:.+}", name="NetworkInspect", allow_head=False)
async def network_inspect(request: web.Request) -> web.Response:
    verbose = request.query.get("verbose", "")
    if verbose and verbose not in _GO_TRUE | _GO_FALSE:
        raise InvalidParameterError(
            f'invalid value for verbose: {verbose}: strconv.ParseBool: parsing "{verbose}": invalid syntax'
        )
    network = await request.app[NETWORKS].inspect(
        request.match_info["id"], scope=request.query.get("scope", ""), ipv4_field=_ipv4_field(request)
    )
    return json_response(network)


@routes.delete("/networks/{id:.+}", name="NetworkDelete")
async def network_delete(request: web.Request) -> web.Response:
    await request.app[NETWORKS].remove(request.match_info["id"])
    return web.Response(status=204)


@routes.post("/networks/create", name="NetworkCreate")
async def network_create(request: web.Request) -> web.Response:
    body = await read_json_object(request)
    name = body.get("Name")
    if not isinstance(name, str):
        raise InvalidParameterError("json: cannot unmarshal Name into Go value of type string")
    await request.app[NETWORKS].create(name)
    raise not_implemented("NetworkCreate (POST /networks/create)")  # pragma: no cover


@routes.post("/networks/prune", name="NetworkPrune")
async def network_prune(request: web.Request) -> web.Response:
    return json_response(await request.app[NETWORKS].prune(query_filters(request)))


async def _connect(request: web.Request, *, disconnect: bool) -> web.Response:
    body = await read_json_object(request, allow_empty=True)
    ref = body.get("Container") or ""
    if not isinstance(ref, str):
        raise InvalidParameterError("json: cannot unmarshal Container into Go value of type string")
    container = await request.app[CONTAINERS].inspect(ref)
    await request.app[NETWORKS].connect(request.match_info["id"], container, disconnect=disconnect)
    return web.Response(status=200)  # pragma: no cover (connect always refuses today)


@routes.post("/networks/{id:.+}/connect", name="NetworkConnect")
async def network_connect(request: web.Request) -> web.Response:
    return await _connect(request, disconnect=False)


@routes.post("/networks/{id:.+}/disconnect", name="NetworkDisconnect")
async def network_disconnect(request: web.Request) -> web.Response:
    return await _connect(request, disconnect=True)
