"""The application factory: middlewares, routes and backends (aiohttp's polls-style skeleton)."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from jockerd.api import middleware
from jockerd.api.keys import IMAGES, SYSTEM
from jockerd.api.routes import images, system, unsupported
from jockerd.api.routes.images import ImageBackend
from jockerd.api.routes.system import SystemBackend
from jockerd.api.routing import add_versioned

# Large uploads (load, import) are streamed, never buffered; this only bounds JSON bodies.
CLIENT_MAX_SIZE = 64 * 1024 * 1024


@dataclass
class Backends:
    """What the API needs from below; the daemon passes real services, tests pass fakes."""

    images: ImageBackend
    system: SystemBackend


def create_app(backends: Backends) -> web.Application:
    app = web.Application(
        middlewares=[middleware.error_middleware, middleware.version_middleware],
        client_max_size=CLIENT_MAX_SIZE,
    )
    app[IMAGES] = backends.images
    app[SYSTEM] = backends.system
    add_versioned(app, system.routes)
    add_versioned(app, images.routes)
    add_versioned(app, unsupported.routes)
    app.on_response_prepare.append(middleware.on_prepare)
    return app
