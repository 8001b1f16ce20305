"""System endpoints: SystemPing, SystemPingHead, SystemVersion, SystemInfo, SystemDataUsage,
SystemEvents."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any, Protocol

from aiohttp import web

from jockerd import API_VERSION
from jockerd.api.params import query_filters
from jockerd.api.responses import json_response
from jockerd.api.stream import each_until_disconnected
from jockerd.errors import InvalidParameterError
from jockerd.models.docker.system import SystemInfo, SystemVersion


class SystemBackend(Protocol):
    async def version(self) -> SystemVersion: ...
    async def info(self) -> SystemInfo: ...
    async def data_usage(self, types: list[str]) -> dict[str, Any]: ...


class EventBackend(Protocol):
    def subscribe(
        self, *, since: float | None, until: float | None, filters: dict[str, list[str]]
    ) -> AsyncIterator[dict[str, Any]]: ...


SYSTEM = web.AppKey("system", SystemBackend)
EVENTS = web.AppKey("events", EventBackend)
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


def _event_time(request: web.Request, name: str) -> float | None:
    """since/until as the CLI sends them: unix seconds, optionally with a fraction."""
    value = request.query.get(name, "")
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        raise InvalidParameterError(f"invalid value for {name}: {value}") from None


@routes.get("/events", name="SystemEvents", allow_head=False)
async def system_events(request: web.Request) -> web.StreamResponse:
    since, until = _event_time(request, "since"), _event_time(request, "until")
    if since is not None and until is not None and since > until:
        raise InvalidParameterError(  # dockerd quotes the values as the client sent them
            f"`since` time ({request.query['since']}) cannot be after `until` time ({request.query['until']})"
        )
    events = request.app[EVENTS].subscribe(since=since, until=until, filters=query_filters(request))
    iterator = aiter(events)
    response = web.StreamResponse(status=200, headers={"Content-Type": "application/json"})
    response.enable_chunked_encoding()
    await response.prepare(request)  # headers at once: `docker events` waits on them
    try:
        async for event in each_until_disconnected(request, iterator):
            await response.write((json.dumps(event, separators=(",", ":")) + "\n").encode())
    except ConnectionResetError:
        return response
    await response.write_eof()
    return response
