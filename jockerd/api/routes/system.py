"""System endpoints: SystemPing, SystemPingHead, SystemVersion, SystemInfo, SystemDataUsage."""

from __future__ import annotations

from typing import Any, Protocol

from aiohttp import web

from jockerd import API_VERSION
from jockerd.api.responses import json_response
from jockerd.models.docker.system import SystemInfo, SystemVersion


class SystemBackend(Protocol):
    async def version(self) -> SystemVersion: ...
    async def info(self) -> SystemInfo: ...
    async def data_usage(self, types: list[str]) -> dict[str, Any]: ...


SYSTEM = web.AppKey("system", SystemBackend)
routes = web.RouteTableDef()

_PING_HEADERS = {
    "Api-Version": API_VERSION,
    "Builder-Version": "1",
    "Cache-Control": "no-cache, no-store, must-revalidate",
    "Docker-Experimental": "false",
    "Ostype": "linux",
    "Pragma": "no-cache",
    "Content-Type": "text/plain; charset=utf-8",
}


@routes.get("/_ping", name="SystemPing", allow_head=False)
async def system_ping(request: web.Request) -> web.Response:
    return web.Response(body=b"OK", headers=_PING_HEADERS)


@routes.head("/_ping", name="SystemPingHead")
async def system_ping_head(request: web.Request) -> web.Response:
    return web.Response(headers={**_PING_HEADERS, "Content-Length": "0"})


@routes.get("/version", name="SystemVersion", allow_head=False)
async def system_version(request: web.Request) -> web.Response:
    version = await request.app[SYSTEM].version()
    return json_response(version.model_dump(mode="json"))


@routes.get("/info", name="SystemInfo", allow_head=False)
async def system_info(request: web.Request) -> web.Response:
    info = await request.app[SYSTEM].info()
    return json_response(info.model_dump(mode="json"))


@routes.get("/system/df", name="SystemDataUsage", allow_head=False)
async def system_data_usage(request: web.Request) -> web.Response:
    types = request.query.getall("type", [])
    return json_response(await request.app[SYSTEM].data_usage(types))
