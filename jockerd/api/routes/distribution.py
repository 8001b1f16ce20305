"""Registry endpoints that are not image operations: SystemAuth (`docker login`) and
DistributionInspect. Both are served by the image backend (api/routes/images.py, ImageBackend),
which owns the registry client."""

from __future__ import annotations

import json

from aiohttp import web

from jockerd.api.responses import json_response
from jockerd.api.routes.images import IMAGES
from jockerd.errors import InvalidParameterError

routes = web.RouteTableDef()


@routes.post("/auth", name="SystemAuth")
async def system_auth(request: web.Request) -> web.Response:
    try:
        config = json.loads(await request.read() or b"{}")
    except ValueError as e:
        raise InvalidParameterError(f"invalid JSON body: {e}") from None
    if not isinstance(config, dict):
        raise InvalidParameterError("invalid JSON body: expected an AuthConfig object")
    return json_response(await request.app[IMAGES].auth(config))


@routes.get("/distribution/{name:.+}/json", name="DistributionInspect", allow_head=False)
async def distribution_inspect(request: web.Request) -> web.Response:
    info = await request.app[IMAGES].distribution_inspect(
        request.match_info["name"], registry_auth=request.headers.get("X-Registry-Auth")
    )
    return json_response(info)
