"""Container endpoints (operationIds as route names): ContainerCreate, ContainerList,
ContainerInspect, ContainerStart, ContainerStop, ContainerRestart, ContainerKill, ContainerWait,
ContainerAttach, ContainerResize, ContainerPause, ContainerUnpause, ContainerRename,
ContainerDelete, ContainerPrune, ContainerTop, ContainerLogs, ContainerStats, ContainerUpdate.

Timing semantics the docker CLI depends on (docker-cli-flows.md §A4, §A5): /wait answers its
headers at once and the body on the condition; /attach answers 101 before the container starts
and carries every byte from the first one.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable
from typing import Any, Protocol

from aiohttp import web

from jockerd.api.middleware import version_at_least
from jockerd.api.params import query_bool, query_filters, query_int, read_json_object
from jockerd.api.responses import json_response
from jockerd.api.stream import (
    HijackedStream,
    each_until_disconnected,
    end_hijacked,
    hijack,
    json_lines,
    until_disconnected,
)
from jockerd.errors import InvalidParameterError, JockerError
from jockerd.models.docker.container import ContainerCreateRequest, ContainerInspectResponse, ContainerSummary
from jockerd.models.docker.host_config import Resources


class ContainerBackend(Protocol):
    async def create(
        self, name: str | None, body: dict[str, Any], platform: str = ""
    ) -> tuple[str, list[str]]: ...
    async def start(self, ref: str) -> None: ...
    async def stop(self, ref: str, timeout: int | None, signal: str | None = None) -> None: ...
    async def restart(self, ref: str, timeout: int | None, signal: str | None = None) -> None: ...
    async def kill(self, ref: str, signal: str | None) -> None: ...
    async def wait(self, ref: str, condition: str) -> Awaitable[tuple[int, str]]: ...
    async def pause(self, ref: str) -> None: ...
    async def unpause(self, ref: str) -> None: ...
    async def rename(self, ref: str, new_name: str) -> None: ...
    async def remove(self, ref: str, *, force: bool, volumes: bool = False) -> None: ...
    async def prune(self, filters: dict[str, list[str]]) -> tuple[list[str], int]: ...
    async def inspect(self, ref: str, *, size: bool = False) -> dict[str, Any]: ...
    async def list(
        self, *, all: bool, limit: int | None, size: bool, filters: dict[str, list[str]]
    ) -> list[dict[str, Any]]: ...
    def check_attach(self, ref: str) -> Any: ...
    async def attach(
        self, container: Any, client: HijackedStream, *, stdin: bool, stdout: bool, stderr: bool, logs: bool,
        stream: bool,
    ) -> None: ...  # fmt: skip
    async def resize(self, ref: str, height: int, width: int) -> None: ...
    async def top(self, ref: str, ps_args: str) -> tuple[list[str], list[list[str]]]: ...
    async def update(self, ref: str, body: dict[str, Any]) -> list[str]: ...
    def logs(
        self, ref: str, *, stdout: bool, stderr: bool, since: float, until: float, tail: int | None,
        timestamps: bool, follow: bool,
    ) -> AsyncIterator[bytes]: ...  # fmt: skip
    def stats(self, ref: str, *, stream: bool, one_shot: bool) -> AsyncIterator[dict[str, Any]]: ...
    async def changes(self, ref: str) -> list[dict[str, Any]]: ...
    async def commit(
        self, ref: str, *, repo: str, tag: str, comment: str, author: str, pause: bool, changes: list[str],
        config: dict[str, Any] | None,
    ) -> str: ...  # fmt: skip
    # docker cp and docker export (served by routes/archive.py)
    async def stat_path(self, ref: str, path: str) -> str: ...
    async def archive_path(self, ref: str, path: str) -> tuple[str, AsyncIterator[bytes]]: ...
    async def extract_to_dir(
        self, ref: str, path: str, body: Any, *, copy_uid_gid: bool, no_overwrite_dir_non_dir: bool
    ) -> None: ...
    async def export(self, ref: str) -> AsyncIterator[bytes]: ...


CONTAINERS = web.AppKey("containers", ContainerBackend)
routes = web.RouteTableDef()


def _validation_message(error: Exception) -> str:
    errors = getattr(error, "errors", None)
    if callable(errors):
        first = errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        return f"invalid JSON: {where}: {first.get('msg')}"
    return f"invalid JSON: {error}"


@routes.post("/containers/create", name="ContainerCreate")
async def container_create(request: web.Request) -> web.Response:
    body = await read_json_object(request)
    try:
        ContainerCreateRequest.model_validate(body)
    except ValueError as e:
        raise InvalidParameterError(_validation_message(e)) from None
    name = request.query.get("name") or None
    container_id, warnings = await request.app[CONTAINERS].create(
        name, body, request.query.get("platform", "")
    )
    return json_response({"Id": container_id, "Warnings": warnings}, status=201)


@routes.get("/containers/json", name="ContainerList")
async def container_list(request: web.Request) -> web.Response:
    summaries = await request.app[CONTAINERS].list(
        all=query_bool(request, "all"),
        limit=query_int(request, "limit"),
        size=query_bool(request, "size"),
        filters=query_filters(request),
    )
    return json_response([ContainerSummary.model_validate(s).model_dump(mode="json") for s in summaries])


@routes.get("/containers/{id:.+}/json", name="ContainerInspect")
async def container_inspect(request: web.Request) -> web.Response:
    data = await request.app[CONTAINERS].inspect(request.match_info["id"], size=query_bool(request, "size"))
    # The model gives dockerd's key set and order (`docker inspect` prints the daemon's bytes).
    return json_response(ContainerInspectResponse.model_validate(data).model_dump(mode="json"))


@routes.post("/containers/{id:.+}/start", name="ContainerStart")
async def container_start(request: web.Request) -> web.Response:
    await request.app[CONTAINERS].start(request.match_info["id"])
    return web.Response(status=204)


@routes.post("/containers/{id:.+}/stop", name="ContainerStop")
async def container_stop(request: web.Request) -> web.Response:
    await request.app[CONTAINERS].stop(
        request.match_info["id"], query_int(request, "t"), request.query.get("signal") or None
    )
    return web.Response(status=204)


@routes.post("/containers/{id:.+}/restart", name="ContainerRestart")
async def container_restart(request: web.Request) -> web.Response:
    await request.app[CONTAINERS].restart(
        request.match_info["id"], query_int(request, "t"), request.query.get("signal") or None
    )
    return web.Response(status=204)


@routes.post("/containers/{id:.+}/kill", name="ContainerKill")
async def container_kill(request: web.Request) -> web.Response:
    await request.app[CONTAINERS].kill(request.match_info["id"], request.query.get("signal") or None)
    return web.Response(status=204)


@routes.post("/containers/{id:.+}/wait", name="ContainerWait")
async def container_wait(request: web.Request) -> web.StreamResponse:
    waiter = await request.app[CONTAINERS].wait(request.match_info["id"], request.query.get("condition", ""))
    response = web.StreamResponse(status=200, headers={"Content-Type": "application/json"})
    response.enable_chunked_encoding()
    await response.prepare(request)  # the CLI sends /start only once these headers arrive
    try:
        code, error = await until_disconnected(request, waiter)
        body: dict[str, Any] = {"Error": {"Message": error} if error else None, "StatusCode": code}
    except ConnectionResetError:
        return response  # `docker run -d` hangs up once the container started
    except JockerError as e:
        body = {"Error": {"Message": str(e)}, "StatusCode": -1}
    if not version_at_least(request, "1.30"):
        body.pop("Error")
    await response.write((json.dumps(body, separators=(",", ":")) + "\n").encode())
    await response.write_eof()
    return response


@routes.post("/containers/{id:.+}/attach", name="ContainerAttach")
async def container_attach(request: web.Request) -> web.StreamResponse:
    backend = request.app[CONTAINERS]
    container = backend.check_attach(request.match_info["id"])
    if not query_bool(request, "stream") and not query_bool(request, "logs"):
        raise InvalidParameterError("Bad parameters: you must choose at least one stream")
    client = await hijack(request)
    await backend.attach(
        container,
        client,
        stdin=query_bool(request, "stdin"),
        stdout=query_bool(request, "stdout"),
        stderr=query_bool(request, "stderr"),
        logs=query_bool(request, "logs"),
        stream=query_bool(request, "stream"),
    )
    end_hijacked()
    raise AssertionError("unreachable")


@routes.post("/containers/{id:.+}/resize", name="ContainerResize")
async def container_resize(request: web.Request) -> web.Response:
    height = query_int(request, "h", 0) or 0
    width = query_int(request, "w", 0) or 0
    await request.app[CONTAINERS].resize(request.match_info["id"], height, width)
    return web.Response(status=200, headers={"Content-Type": "text/plain; charset=utf-8"})


@routes.post("/containers/{id:.+}/pause", name="ContainerPause")
async def container_pause(request: web.Request) -> web.Response:
    await request.app[CONTAINERS].pause(request.match_info["id"])
    return web.Response(status=204)


@routes.post("/containers/{id:.+}/unpause", name="ContainerUnpause")
async def container_unpause(request: web.Request) -> web.Response:
    await request.app[CONTAINERS].unpause(request.match_info["id"])
    return web.Response(status=204)


@routes.post("/containers/{id:.+}/rename", name="ContainerRename")
async def container_rename(request: web.Request) -> web.Response:
    await request.app[CONTAINERS].rename(request.match_info["id"], request.query.get("name", ""))
    return web.Response(status=204)


@routes.delete("/containers/{id:.+}", name="ContainerDelete")
async def container_delete(request: web.Request) -> web.Response:
    if query_bool(request, "link"):
        raise InvalidParameterError("Conflict, cannot remove the default link name of the container")
    await request.app[CONTAINERS].remove(
        request.match_info["id"], force=query_bool(request, "force"), volumes=query_bool(request, "v")
    )
    return web.Response(status=204)


@routes.post("/containers/prune", name="ContainerPrune")
async def container_prune(request: web.Request) -> web.Response:
    deleted, space = await request.app[CONTAINERS].prune(query_filters(request))
    return json_response({"ContainersDeleted": deleted or None, "SpaceReclaimed": space})


@routes.get("/containers/{id:.+}/top", name="ContainerTop")
async def container_top(request: web.Request) -> web.Response:
    titles, processes = await request.app[CONTAINERS].top(
        request.match_info["id"], request.query.get("ps_args", "")
    )
    return json_response({"Titles": titles, "Processes": processes})


@routes.post("/containers/{id:.+}/update", name="ContainerUpdate")
async def container_update(request: web.Request) -> web.Response:
    body = await read_json_object(request, allow_empty=True)
    try:
        Resources.model_validate(body)
    except ValueError as e:
        raise InvalidParameterError(_validation_message(e)) from None
    warnings = await request.app[CONTAINERS].update(request.match_info["id"], body)
    return json_response({"Warnings": warnings or None})


def _time_param(request: web.Request, name: str) -> float:
    """since/until: unix seconds with an optional fraction ("1795498015.000000001")."""
    value = request.query.get(name, "")
    if not value:
        return 0.0
    try:
        return float(value)
    except ValueError:
        raise InvalidParameterError(f"invalid value for {name}: {value}") from None


@routes.get("/containers/{id:.+}/logs", name="ContainerLogs")
async def container_logs(request: web.Request) -> web.StreamResponse:
    stdout, stderr = query_bool(request, "stdout"), query_bool(request, "stderr")
    if not stdout and not stderr:
        raise InvalidParameterError("Bad parameters: you must choose at least one stream")
    tail_text = request.query.get("tail", "all")
    tail: int | None = None
    if tail_text not in ("", "all"):
        try:
            tail = int(tail_text)
        except ValueError:
            tail = None  # dockerd treats a malformed tail as "all"
        if tail is not None and tail < 0:
            tail = None
    chunks = request.app[CONTAINERS].logs(
        request.match_info["id"],
        stdout=stdout,
        stderr=stderr,
        since=_time_param(request, "since"),
        until=_time_param(request, "until"),
        tail=tail,
        timestamps=query_bool(request, "timestamps"),
        follow=query_bool(request, "follow"),
    )
    iterator = aiter(chunks)
    try:
        first = await anext(iterator)  # errors (no such container) before the headers
    except StopAsyncIteration:
        first = b""
    response = web.StreamResponse(status=200)
    response.enable_chunked_encoding()
    await response.prepare(request)
    if first:
        await response.write(first)
    try:
        async for chunk in each_until_disconnected(request, iterator):
            await response.write(chunk)
    except ConnectionResetError:
        return response
    await response.write_eof()
    return response


@routes.get("/containers/{id:.+}/stats", name="ContainerStats")
async def container_stats(request: web.Request) -> web.StreamResponse:
    stream = query_bool(request, "stream", default=True)
    samples = request.app[CONTAINERS].stats(
        request.match_info["id"], stream=stream, one_shot=query_bool(request, "one-shot")
    )
    if not stream:
        async for sample in samples:
            return json_response(sample)
        return json_response({})
    return await json_lines(request, samples)


@routes.get("/containers/{id:.+}/changes", name="ContainerChanges")
async def container_changes(request: web.Request) -> web.Response:
    changes = await request.app[CONTAINERS].changes(request.match_info["id"])
    return json_response(changes or None)


@routes.post("/commit", name="ImageCommit")
async def image_commit(request: web.Request) -> web.Response:
    container = request.query.get("container", "")
    if not container:
        raise InvalidParameterError("No container was specified")
    body = await read_json_object(request, allow_empty=True)
    image_id = await request.app[CONTAINERS].commit(
        container,
        repo=request.query.get("repo", ""),
        tag=request.query.get("tag", ""),
        comment=request.query.get("comment", ""),
        author=request.query.get("author", ""),
        pause=query_bool(request, "pause", default=True),
        changes=request.query.getall("changes", []),
        config=body or None,
    )
    return json_response({"Id": image_id}, status=201)
