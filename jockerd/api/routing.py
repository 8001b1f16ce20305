"""Registers every route twice: bare and under `/v{X.Y}/`, as moby's server does."""

from __future__ import annotations

from aiohttp import web

VERSION_PREFIX = "/v{version:[0-9]+\\.[0-9]+}"
# aiohttp route names are unique; the bare copy keeps the operationId, the versioned one gets this suffix.
VERSIONED_NAME_SUFFIX = ".versioned"


def add_versioned(app: web.Application, table: web.RouteTableDef) -> None:
    """Add each route of `table` at `/path` and at `/vX.Y/path`; the version is checked by middleware.

    Each copy is registered through `RouteDef.register`, so per-method options such as
    `allow_head` mean what they mean in aiohttp.
    """
    for route in table:
        assert isinstance(route, web.RouteDef)
        kwargs = dict(route.kwargs)
        name = kwargs.pop("name", None)
        versioned_name = name + VERSIONED_NAME_SUFFIX if name else None
        for path, route_name in ((VERSION_PREFIX + route.path, versioned_name), (route.path, name)):
            copy = web.RouteDef(route.method, path, route.handler, {**kwargs, "name": route_name})
            copy.register(app.router)
