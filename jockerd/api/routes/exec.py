"""Exec endpoints: ContainerExec, ExecStart, ExecResize, ExecInspect (docker-cli-flows.md §A5).

`exec -d` starts without an upgrade and expects 200 with an empty body; an attached start is
hijacked like attach.
"""

from __future__ import annotations

from typing import Any, Protocol

from aiohttp import web

from jockerd.api.params import query_int, read_json_object
from jockerd.api.responses import json_response
from jockerd.api.stream import HijackedStream, end_hijacked, hijack
from jockerd.errors import InvalidParameterError
from jockerd.models.docker.exec import ExecConfig, ExecStartConfig


class ExecBackend(Protocol):
    async def create(self, ref: str, config: dict[str, Any]) -> str: ...
    def check_start(self, exec_id: str) -> Any: ...
    async def start(self, session: Any, client: HijackedStream | None, *, tty: bool) -> None: ...
    async def resize(self, exec_id: str, height: int, width: int) -> None: ...
    async def inspect(self, exec_id: str) -> dict[str, Any]: ...


EXECS = web.AppKey("execs", ExecBackend)
routes = web.RouteTableDef()


@routes.post("/containers/{id:.+}/exec", name="ContainerExec")
async def container_exec(request: web.Request) -> web.Response:
    body = await read_json_object(request, allow_empty=True)
    try:
        ExecConfig.model_validate(body)
    except ValueError as e:
        raise InvalidParameterError(f"invalid JSON: {e}") from None
    exec_id = await request.app[EXECS].create(request.match_info["id"], body)
    return json_response({"Id": exec_id}, status=201)


@routes.post("/exec/{id:.+}/start", name="ExecStart")
async def exec_start(request: web.Request) -> web.StreamResponse:
    body = await read_json_object(request, allow_empty=True)
    try:
        ExecStartConfig.model_validate(body)
    except ValueError as e:
        raise InvalidParameterError(f"invalid JSON: {e}") from None
    backend = request.app[EXECS]
    session = backend.check_start(request.match_info["id"])
    tty = bool(body.get("Tty"))
    if body.get("Detach"):
        await backend.start(session, None, tty=tty)
        return web.Response(status=200)
    client = await hijack(request, multiplexed=False)
    await backend.start(session, client, tty=tty)
    end_hijacked()
    raise AssertionError("unreachable")


@routes.post("/exec/{id:.+}/resize", name="ExecResize")
async def exec_resize(request: web.Request) -> web.Response:
    height = query_int(request, "h", 0) or 0
    width = query_int(request, "w", 0) or 0
    await request.app[EXECS].resize(request.match_info["id"], height, width)
    return web.Response(status=200, headers={"Content-Type": "text/plain; charset=utf-8"})


@routes.get("/exec/{id:.+}/json", name="ExecInspect")
async def exec_inspect(request: web.Request) -> web.Response:
    return json_response(await request.app[EXECS].inspect(request.match_info["id"]))
