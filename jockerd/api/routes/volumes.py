"""Volume endpoints: VolumeList, VolumeCreate, VolumeInspect, VolumeUpdate, VolumeDelete,
VolumePrune (services/volumes.py holds the rules; names may hold `/`, which only the service
refuses, so `{name}` matches slashes as moby's router does)."""

from __future__ import annotations

from typing import Any, Protocol

from aiohttp import web

from jockerd.api.middleware import version_at_least
from jockerd.api.params import query_bool, query_filters, read_json_object
from jockerd.api.responses import json_response
from jockerd.errors import InvalidParameterError, NotFoundError, not_implemented


class VolumeBackend(Protocol):
    async def create(
        self,
        name: str = "",
        driver: str = "",
        options: dict[str, str] | None = None,
        labels: dict[str, str] | None = None,
        *,
        reference: str | None = None,
        cluster: bool = False,
    ) -> dict[str, Any]: ...
    async def inspect(self, name: str) -> dict[str, Any]: ...
    async def list(self, filters: dict[str, list[str]]) -> dict[str, Any]: ...
    async def remove(self, name: str, *, force: bool = False) -> None: ...
    async def prune(self, filters: dict[str, list[str]], *, anonymous_only: bool) -> dict[str, Any]: ...
    async def update(self, name: str, body: dict[str, Any]) -> None: ...


class NoVolumes:
    """What the API answers without a volume backend (API tests with fakes): no volumes."""

    async def create(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        raise not_implemented("VolumeCreate (POST /volumes/create)")

    async def inspect(self, name: str) -> dict[str, Any]:
        raise NotFoundError(f"get {name}: no such volume")

    async def list(self, filters: dict[str, list[str]]) -> dict[str, Any]:
        return {"Volumes": [], "Warnings": None}

    async def remove(self, name: str, *, force: bool = False) -> None:
        if not force:
            raise NotFoundError(f"get {name}: no such volume")

    async def prune(self, filters: dict[str, list[str]], *, anonymous_only: bool) -> dict[str, Any]:
        return {"VolumesDeleted": None, "SpaceReclaimed": 0}

    async def update(self, name: str, body: dict[str, Any]) -> None:
        raise NotFoundError(f"get {name}: no such volume")


VOLUMES = web.AppKey("volumes", VolumeBackend)
routes = web.RouteTableDef()


def _strings(body: dict[str, Any], key: str) -> dict[str, str] | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise InvalidParameterError(f"json: cannot unmarshal {key} into Go value of type map[string]string")
    return value


@routes.get("/volumes", name="VolumeList", allow_head=False)
async def volume_list(request: web.Request) -> web.Response:
    return json_response(await request.app[VOLUMES].list(query_filters(request)))


@routes.post("/volumes/create", name="VolumeCreate")
async def volume_create(request: web.Request) -> web.Response:
    body = await read_json_object(request, allow_empty=True)
    name = body.get("Name") or ""
    driver = body.get("Driver") or ""
    if not isinstance(name, str) or not isinstance(driver, str):
        raise InvalidParameterError("json: cannot unmarshal Name or Driver into Go value of type string")
    volume = await request.app[VOLUMES].create(
        name,
        driver,
        _strings(body, "DriverOpts"),
        _strings(body, "Labels"),
        cluster=bool(body.get("ClusterVolumeSpec")) and version_at_least(request, "1.42"),
    )
    return json_response(volume, status=201)


@routes.get("/volumes/{name:.+}", name="VolumeInspect", allow_head=False)
async def volume_inspect(request: web.Request) -> web.Response:
    return json_response(await request.app[VOLUMES].inspect(request.match_info["name"]))


@routes.put("/volumes/{name:.+}", name="VolumeUpdate")
async def volume_update(request: web.Request) -> web.Response:
    body = await read_json_object(request, allow_empty=True)
    await request.app[VOLUMES].update(request.match_info["name"], body)
    return web.Response(status=200)


@routes.delete("/volumes/{name:.+}", name="VolumeDelete")
async def volume_delete(request: web.Request) -> web.Response:
    await request.app[VOLUMES].remove(request.match_info["name"], force=query_bool(request, "force"))
    return web.Response(status=204)


@routes.post("/volumes/prune", name="VolumePrune")
async def volume_prune(request: web.Request) -> web.Response:
    report = await request.app[VOLUMES].prune(
        query_filters(request), anonymous_only=version_at_least(request, "1.42")
    )
    return json_response(report)
