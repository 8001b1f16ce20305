"""Cross-cutting HTTP behaviour: API version range, common headers, error rendering.

Errors are classified where they start (jockerd.errors) and rendered only here, as Docker's
`{"message": ...}` with Docker's status codes; anything unexpected is a logged 500, so no
request can take the daemon down.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from jockerd import API_VERSION, MIN_API_VERSION, __version__
from jockerd.api.responses import json_response
from jockerd.errors import JockerError, api_version_too_new, api_version_too_old

log = logging.getLogger("jockerd.api")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

COMMON_HEADERS = {
    "Api-Version": API_VERSION,
    "Docker-Experimental": "false",
    "Ostype": "linux",
    "Server": f"jocker/{__version__} (linux)",
}

REQUEST_VERSION = web.RequestKey("api_version", str)


def version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split(".") if part.isdigit())


def request_version(request: web.Request) -> str:
    """The API version the client asked for (the newest when the path has no prefix)."""
    return request.get(REQUEST_VERSION, API_VERSION)


def version_at_least(request: web.Request, version: str) -> bool:
    return version_tuple(request_version(request)) >= version_tuple(version)


def _json_error(status: int, message: str) -> web.Response:
    if status == 304:
        return web.Response(status=304)
    return json_response({"message": message}, status=status)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except JockerError as e:
        if e.status >= 500:
            log.warning("%s %s: %s", request.method, request.path, e)
        return _json_error(e.status, str(e))
    except web.HTTPNotFound:
        return _json_error(404, "page not found")
    except web.HTTPMethodNotAllowed:
        return _json_error(405, "method not allowed")
    except web.HTTPException as e:
        if e.status < 400:
            raise
        return _json_error(e.status, e.text or e.reason)
    except (ConnectionResetError, BrokenPipeError):
        raise
    except Exception as e:
        log.exception("internal error serving %s %s", request.method, request.path)
        return _json_error(500, f"internal error: {e}")


@web.middleware
async def version_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Check `/vX.Y/` against [MIN_API_VERSION, API_VERSION] and stamp Docker's headers."""
    version = request.match_info.get("version")
    if version:
        if version_tuple(version) > version_tuple(API_VERSION):
            raise api_version_too_new(version, API_VERSION)
        if version_tuple(version) < version_tuple(MIN_API_VERSION):
            raise api_version_too_old(version, MIN_API_VERSION)
        request[REQUEST_VERSION] = version
    return await handler(request)


async def on_prepare(request: web.Request, response: web.StreamResponse) -> None:
    for key, value in COMMON_HEADERS.items():
        response.headers[key] = value
