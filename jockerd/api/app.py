"""The application factory: middlewares, routes and backends (aiohttp's polls-style skeleton)."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from jockerd.api import middleware
from jockerd.api.keys import CONTAINERS, EVENTS, EXECS, IMAGES, JOCKER, NETWORKS, SYSTEM, VOLUMES
from jockerd.api.routes import (
    containers,
    distribution,
    exec,
    images,
    jocker,
    networks,
    system,
    unsupported,
    volumes,
)
from jockerd.api.routes.archive import routes as archive_routes
from jockerd.api.routes.containers import ContainerBackend
from jockerd.api.routes.exec import ExecBackend
from jockerd.api.routes.images import ImageBackend
from jockerd.api.routes.jocker import JockerBackend
from jockerd.api.routes.networks import NetworkBackend, NoNetworks
from jockerd.api.routes.system import EventBackend, SystemBackend
from jockerd.api.routes.volumes import NoVolumes, VolumeBackend
from jockerd.api.routing import add_versioned

# Large uploads (load, import) are streamed, never buffered; this only bounds JSON bodies.
CLIENT_MAX_SIZE = 64 * 1024 * 1024


@dataclass
class Backends:
    """What the API needs from below; the daemon passes real services, tests pass fakes."""

    images: ImageBackend
    system: SystemBackend
    containers: ContainerBackend
    execs: ExecBackend
    events: EventBackend
    jocker: JockerBackend | None = None  # jocker's own endpoints (explain); None: answered 501
    volumes: VolumeBackend | None = None  # None: no volumes (empty list, 404s)
    networks: NetworkBackend | None = None  # None: no networks (empty list, 404s)


def create_app(backends: Backends) -> web.Application:
    app = web.Application(
        middlewares=[middleware.error_middleware, middleware.version_middleware],
        client_max_size=CLIENT_MAX_SIZE,
    )
    app[IMAGES] = backends.images
    app[SYSTEM] = backends.system
    app[CONTAINERS] = backends.containers
    app[EXECS] = backends.execs
    app[EVENTS] = backends.events
    if backends.jocker is not None:
        app[JOCKER] = backends.jocker
    app[VOLUMES] = backends.volumes if backends.volumes is not None else NoVolumes()
    app[NETWORKS] = backends.networks if backends.networks is not None else NoNetworks()
    add_versioned(app, system.routes)
    add_versioned(app, images.routes)
    add_versioned(app, distribution.routes)
    add_versioned(app, containers.routes)
    add_versioned(app, archive_routes)
    add_versioned(app, exec.routes)
    add_versioned(app, jocker.routes)
    add_versioned(app, volumes.routes)
    add_versioned(app, networks.routes)
    add_versioned(app, unsupported.routes)
    app.on_response_prepare.append(middleware.on_prepare)
    return app
