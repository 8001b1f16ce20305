"""`docker cp` and `docker export`: ContainerArchiveInfo (HEAD), ContainerArchive (GET),
PutContainerArchive (PUT) on /containers/{id}/archive, and ContainerExport.

As moby's api/server/router/container/copy.go: the path's stat travels base64-encoded in the
`X-Docker-Container-Path-Stat` header (on HEAD and on GET, before the tar); the PUT's
`noOverwriteDirNonDir` and `copyUIDGID` are Docker booleans. The backend is the container
service (ContainerBackend in routes/containers.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from jockerd.api.params import query_bool
from jockerd.api.routes.containers import CONTAINERS

PATH_STAT_HEADER = "X-Docker-Container-Path-Stat"
routes = web.RouteTableDef()


async def _send(
    request: web.Request, chunks: AsyncIterator[bytes], content_type: str, headers: dict[str, str]
) -> web.StreamResponse:
    """Stream `chunks`; the iterator is closed however the response ends (it holds the
    container's lock until then)."""
    try:
        response = web.StreamResponse(status=200, headers={"Content-Type": content_type, **headers})
        response.enable_chunked_encoding()
        first = await anext(chunks, b"")
        await response.prepare(request)
        if first:
            await response.write(first)
        async for chunk in chunks:
            await response.write(chunk)
        await response.write_eof()
        return response
    finally:
        await chunks.aclose()  # type: ignore[attr-defined]


@routes.head("/containers/{id:.+}/archive", name="ContainerArchiveInfo")
async def container_archive_info(request: web.Request) -> web.Response:
    header = await request.app[CONTAINERS].stat_path(request.match_info["id"], request.query.get("path", ""))
    return web.Response(status=200, headers={PATH_STAT_HEADER: header})


@routes.get("/containers/{id:.+}/archive", name="ContainerArchive", allow_head=False)
async def container_archive(request: web.Request) -> web.StreamResponse:
    header, chunks = await request.app[CONTAINERS].archive_path(
        request.match_info["id"], request.query.get("path", "")
    )
    return await _send(request, chunks, "application/x-tar", {PATH_STAT_HEADER: header})


@routes.put("/containers/{id:.+}/archive", name="PutContainerArchive")
async def put_container_archive(request: web.Request) -> web.Response:
    await request.app[CONTAINERS].extract_to_dir(
        request.match_info["id"],
        request.query.get("path", ""),
        request.content,
        copy_uid_gid=query_bool(request, "copyUIDGID"),
        no_overwrite_dir_non_dir=query_bool(request, "noOverwriteDirNonDir"),
    )
    return web.Response(status=200)


@routes.get("/containers/{id:.+}/export", name="ContainerExport", allow_head=False)
async def container_export(request: web.Request) -> web.StreamResponse:
    chunks = await request.app[CONTAINERS].export(request.match_info["id"])
    return await _send(request, chunks, "application/octet-stream", {})
