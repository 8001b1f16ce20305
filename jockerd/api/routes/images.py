"""Image endpoints: ImageList, ImageInspect, ImageHistory, ImageTag, ImageDelete, ImagePrune,
ImageLoad, ImageGet, ImageGetAll, ImageCreate (pull with fromImage, import from a tar body) and
ImagePush. The registry endpoints that are not image operations (SystemAuth, DistributionInspect)
are in distribution.py and use the same backend.

Image names in paths are not escaped by the docker CLI (`DELETE /images/jtr/bb:v1`), so every
`{name}` here matches slashes.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any, Protocol

from aiohttp import web

from jockerd.api.middleware import version_at_least
from jockerd.api.params import query_bool, query_filters
from jockerd.api.responses import json_response
from jockerd.api.stream import byte_stream, json_lines
from jockerd.errors import InvalidParameterError, not_implemented
from jockerd.models.docker.common import Filters
from jockerd.models.docker.image import (
    LEGACY_CONTAINER_CONFIG,
    HistoryResponseItem,
    ImageDeleteResponseItem,
    ImageInspect,
    ImagePruneResponse,
    ImageSummary,
)


class ByteSource(Protocol):
    """What an upload body offers (aiohttp's StreamReader satisfies it)."""

    async def read(self, n: int = -1) -> bytes: ...


class ImageBackend(Protocol):
    async def list(self, *, all: bool, filters: Filters) -> list[ImageSummary]: ...
    async def inspect(self, name: str) -> ImageInspect: ...
    async def history(self, name: str) -> list[HistoryResponseItem]: ...
    async def tag(self, name: str, repo: str, tag: str) -> None: ...
    async def delete(self, name: str, *, force: bool, prune: bool) -> list[ImageDeleteResponseItem]: ...
    async def prune(self, filters: Filters) -> ImagePruneResponse: ...
    def load(self, body: ByteSource, *, quiet: bool) -> AsyncIterator[dict[str, Any]]: ...
    def save(self, names: list[str]) -> AsyncIterator[bytes]: ...
    def import_image(
        self, body: ByteSource, *, repo: str, tag: str, message: str, changes: list[str], platform: str
    ) -> AsyncIterator[dict[str, Any]]: ...
    # Registries: `registry_auth` is the X-Registry-Auth header as the client sent it.
    def pull(
        self, from_image: str, tag: str, *, platform: str, registry_auth: str | None
    ) -> AsyncIterator[dict[str, Any]]: ...
    def push(self, name: str, tag: str, *, registry_auth: str | None) -> AsyncIterator[dict[str, Any]]: ...
    async def auth(self, config: dict[str, Any]) -> dict[str, str]: ...
    async def distribution_inspect(self, name: str, *, registry_auth: str | None) -> dict[str, Any]: ...


IMAGES = web.AppKey("images", ImageBackend)
routes = web.RouteTableDef()

INSPECT_KEY_ORDER = (
    "Id", "RepoTags", "RepoDigests", "Parent", "Comment", "Created", "Container", "ContainerConfig",
    "DockerVersion", "Author", "Config", "Architecture", "Variant", "Os", "OsVersion", "Size",
    "VirtualSize", "GraphDriver", "RootFS", "Metadata",
)  # fmt: skip


@routes.get("/images/json", name="ImageList", allow_head=False)
async def image_list(request: web.Request) -> web.Response:
    images = await request.app[IMAGES].list(all=query_bool(request, "all"), filters=query_filters(request))
    legacy = not version_at_least(request, "1.44")
    out = []
    for image in images:
        body = image.model_dump(mode="json", exclude_none=True)
        if legacy:
            body["VirtualSize"] = image.size
            if not image.repo_tags:
                body["RepoTags"] = ["<none>:<none>"]
                body["RepoDigests"] = body["RepoDigests"] or ["<none>@<none>"]
        out.append(body)
    return json_response(out)


@routes.post("/images/load", name="ImageLoad")
async def image_load(request: web.Request) -> web.StreamResponse:
    messages = request.app[IMAGES].load(request.content, quiet=query_bool(request, "quiet"))
    return await json_lines(request, messages)


@routes.get("/images/get", name="ImageGetAll", allow_head=False)
async def image_get_all(request: web.Request) -> web.StreamResponse:
    names = request.query.getall("names", [])
    if not names:
        raise InvalidParameterError("no image names given")
    return await byte_stream(request, request.app[IMAGES].save(names), "application/x-tar")


@routes.post("/images/create", name="ImageCreate")
async def image_create(request: web.Request) -> web.StreamResponse:
    query = request.query
    if query.get("fromImage"):
        messages = request.app[IMAGES].pull(
            query["fromImage"],
            query.get("tag", ""),
            platform=query.get("platform", ""),
            registry_auth=request.headers.get("X-Registry-Auth"),
        )
        return await json_lines(request, messages)
    source = query.get("fromSrc", "")
    if source != "-":
        if source:
            raise not_implemented("importing from a URL")
        raise InvalidParameterError("either fromImage or fromSrc must be given")
    messages = request.app[IMAGES].import_image(
        request.content,
        repo=query.get("repo", ""),
        tag=query.get("tag", ""),
        message=query.get("message", ""),
        changes=query.getall("changes", []),
        platform=query.get("platform", ""),
    )
    return await json_lines(request, messages)


@routes.post("/images/prune", name="ImagePrune")
async def image_prune(request: web.Request) -> web.Response:
    report = await request.app[IMAGES].prune(query_filters(request))
    return json_response(report.model_dump(mode="json"))


@routes.get("/images/{name:.+}/json", name="ImageInspect", allow_head=False)
async def image_inspect(request: web.Request) -> web.Response:
    image = await request.app[IMAGES].inspect(request.match_info["name"])
    body = image.model_dump(mode="json", exclude_none=True)
    if not version_at_least(request, "1.44"):
        body["VirtualSize"] = image.size
    if not version_at_least(request, "1.45"):
        # Container and ContainerConfig left the API in 1.45; older clients still expect them.
        body["Container"] = ""
        body["ContainerConfig"] = dict(LEGACY_CONTAINER_CONFIG)
    # `docker image inspect` prints the body re-indented in the daemon's key order: keep moby's.
    order = {key: i for i, key in enumerate(INSPECT_KEY_ORDER)}
    body = dict(sorted(body.items(), key=lambda item: order.get(item[0], len(order))))
    if "GraphDriver" in body:
        body["GraphDriver"] = dict(sorted(body["GraphDriver"].items()))
    return json_response(body)


@routes.get("/images/{name:.+}/history", name="ImageHistory", allow_head=False)
async def image_history(request: web.Request) -> web.Response:
    items = await request.app[IMAGES].history(request.match_info["name"])
    return json_response([item.model_dump(mode="json") for item in items])


@routes.get("/images/{name:.+}/get", name="ImageGet", allow_head=False)
async def image_get(request: web.Request) -> web.StreamResponse:
    chunks = request.app[IMAGES].save([request.match_info["name"]])
    return await byte_stream(request, chunks, "application/x-tar")


@routes.post("/images/{name:.+}/tag", name="ImageTag")
async def image_tag(request: web.Request) -> web.Response:
    await request.app[IMAGES].tag(
        request.match_info["name"], request.query.get("repo", ""), request.query.get("tag", "")
    )
    return web.Response(status=201)


@routes.post("/images/{name:.+}/push", name="ImagePush")
async def image_push(request: web.Request) -> web.StreamResponse:
    auth = request.headers.get("X-Registry-Auth")
    if auth is None:
        # Before X-Registry-Auth existed the AuthConfig came as the body; dockerd still takes it.
        body = await request.read()
        if not body.strip():
            raise InvalidParameterError("Bad parameters and missing X-Registry-Auth: EOF")
        auth = base64.urlsafe_b64encode(body).decode()
    messages = request.app[IMAGES].push(
        request.match_info["name"], request.query.get("tag", ""), registry_auth=auth
    )
    return await json_lines(request, messages)


@routes.delete("/images/{name:.+}", name="ImageDelete")
async def image_delete(request: web.Request) -> web.Response:
    items = await request.app[IMAGES].delete(
        request.match_info["name"],
        force=query_bool(request, "force"),
        prune=not query_bool(request, "noprune"),
    )
    return json_response([item.model_dump(mode="json", exclude_none=True) for item in items])
