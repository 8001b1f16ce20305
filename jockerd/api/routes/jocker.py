"""jocker's own endpoints, outside Docker's namespace of routes (no Docker client asks for them).

JockerContainerExplain: `GET /jocker/containers/{id}/explain` (also under `/vX.Y/`): what the
engine did for a container in the kernel's terms: the OCI bundle summarized, namespaces with
their inodes, cgroup paths and the limits in force, the rootfs and other mounts, and shell steps
that build an equivalent container by hand. See services/explain.py.
"""

from __future__ import annotations

from typing import Any, Protocol

from aiohttp import web

from jockerd.api.responses import json_response
from jockerd.errors import UnsupportedError


class JockerBackend(Protocol):
    async def explain(self, ref: str) -> dict[str, Any]: ...


JOCKER = web.AppKey("jocker", JockerBackend)
routes = web.RouteTableDef()


@routes.get("/jocker/containers/{id:.+}/explain", name="JockerContainerExplain", allow_head=False)
async def jocker_container_explain(request: web.Request) -> web.Response:
    backend = request.app.get(JOCKER)
    if backend is None:
        raise UnsupportedError("explain is not available on this daemon")
    return json_response(await backend.explain(request.match_info["id"]))
