"""Endpoints Docker has and jocker does not (yet): a clear JSON error instead of a bare 404.

`UNSUPPORTED` lists every (method, path, operationId) of the v1.51 swagger
(`../shared/reference/docker-engine-api-v1.51.yaml`) that no other routes module serves. It was
generated once from the swagger and is kept by hand: when a resource module starts serving an
endpoint, delete its row here: route names are operationIds, so a row left behind makes
create_app fail with aiohttp's "Duplicate 'ContainerKill'". tests/api/test_unsupported.py checks
that every swagger endpoint resolves to the route named after it. app.py registers this table last.

What each endpoint answers:
- by default 501 `{"message": "<operationId> (<METHOD> <path>) is not implemented by jocker yet"}`;
- the lookups of the untyped `docker inspect X` chain (plugins) and
  exec inspect answer Docker's 404 for that kind: the chain asks one kind after another and
  stops at the first status that is not 404 (docker-cli-flows.md §A3, trace 14b);
- the listing the CLI needs (`plugin ls`) answers empty: no such object exists in jocker yet
  (networks are served by networks.py);
- swarm endpoints answer 503 as dockerd does on a node that is not in a swarm (moby
  daemon/cluster `errNoManager`, `errNoSwarm`); only init and join are "not implemented".
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from aiohttp import web

from jockerd.api.responses import json_response
from jockerd.errors import (
    NotFoundError,
    UnavailableError,
    not_implemented,
)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Swagger v1.51 endpoints not served by system.py or images.py, grouped by swagger tag.
UNSUPPORTED: tuple[tuple[str, str, str], ...] = (
    # Container
    ("GET", "/containers/{id}/attach/ws", "ContainerAttachWebsocket"),
    # Image
    ("POST", "/build", "ImageBuild"),
    ("POST", "/build/prune", "BuildPrune"),
    ("GET", "/images/search", "ImageSearch"),
    # Exec
    # Plugin
    ("GET", "/plugins", "PluginList"),
    ("GET", "/plugins/privileges", "GetPluginPrivileges"),
    ("POST", "/plugins/pull", "PluginPull"),
    ("GET", "/plugins/{name}/json", "PluginInspect"),
    ("DELETE", "/plugins/{name}", "PluginDelete"),
    ("POST", "/plugins/{name}/enable", "PluginEnable"),
    ("POST", "/plugins/{name}/disable", "PluginDisable"),
    ("POST", "/plugins/{name}/upgrade", "PluginUpgrade"),
    ("POST", "/plugins/create", "PluginCreate"),
    ("POST", "/plugins/{name}/push", "PluginPush"),
    ("POST", "/plugins/{name}/set", "PluginSet"),
    # Node
    ("GET", "/nodes", "NodeList"),
    ("GET", "/nodes/{id}", "NodeInspect"),
    ("DELETE", "/nodes/{id}", "NodeDelete"),
    ("POST", "/nodes/{id}/update", "NodeUpdate"),
    # Swarm
    ("GET", "/swarm", "SwarmInspect"),
    ("POST", "/swarm/init", "SwarmInit"),
    ("POST", "/swarm/join", "SwarmJoin"),
    ("POST", "/swarm/leave", "SwarmLeave"),
    ("POST", "/swarm/update", "SwarmUpdate"),
    ("GET", "/swarm/unlockkey", "SwarmUnlockkey"),
    ("POST", "/swarm/unlock", "SwarmUnlock"),
    # Service
    ("GET", "/services", "ServiceList"),
    ("POST", "/services/create", "ServiceCreate"),
    ("GET", "/services/{id}", "ServiceInspect"),
    ("DELETE", "/services/{id}", "ServiceDelete"),
    ("POST", "/services/{id}/update", "ServiceUpdate"),
    ("GET", "/services/{id}/logs", "ServiceLogs"),
    # Task
    ("GET", "/tasks", "TaskList"),
    ("GET", "/tasks/{id}", "TaskInspect"),
    ("GET", "/tasks/{id}/logs", "TaskLogs"),
    # Secret
    ("GET", "/secrets", "SecretList"),
    ("POST", "/secrets/create", "SecretCreate"),
    ("GET", "/secrets/{id}", "SecretInspect"),
    ("DELETE", "/secrets/{id}", "SecretDelete"),
    ("POST", "/secrets/{id}/update", "SecretUpdate"),
    # Config
    ("GET", "/configs", "ConfigList"),
    ("POST", "/configs/create", "ConfigCreate"),
    ("GET", "/configs/{id}", "ConfigInspect"),
    ("DELETE", "/configs/{id}", "ConfigDelete"),
    ("POST", "/configs/{id}/update", "ConfigUpdate"),
    # Session
    ("POST", "/session", "Session"),
)

# The docker CLI puts references in paths unescaped (`GET /containers/jtr/nosuch/json`), so under
# these prefixes a path parameter matches slashes, as moby's routers do with `{name:.*}`.
# Swarm objects (nodes, services, tasks, secrets, configs) keep moby's plain `{id}`.
SLASHED_PREFIXES = (
    "/containers/",
    "/exec/",
    "/images/",
    "/networks/",
    "/volumes/",
    "/plugins/",
    "/distribution/",
)

# Docker's wording for the kinds jocker has no module for yet (moby plugin/store,
# daemon/cluster/errors.go, daemon/exec.go).
SWARM_NOT_MANAGER = (
    'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" '
    "to connect this node to swarm and try again."
)
SWARM_NOT_JOINED = "This node is not part of a swarm"


def route_path(path: str) -> str:
    """The aiohttp path for a swagger path: `{id}` becomes `{id:.+}` where names may hold `/`."""
    if path.startswith(SLASHED_PREFIXES):
        return re.sub(r"\{(\w+)\}", r"{\1:.+}", path)
    return path


def _param(request: web.Request) -> str:
    """The one path parameter of the lookups below (`id` or `name`), version excluded."""
    return request.match_info.get("id") or request.match_info.get("name", "")


# Listings that are correctly empty while jocker has no such objects.


async def plugin_list(request: web.Request) -> web.Response:
    return json_response([])


# Lookups of the `docker inspect` chain: Docker's 404 for each kind.


async def plugin_inspect(request: web.Request) -> web.Response:
    raise NotFoundError(f'plugin "{_param(request)}" not found')


# Swarm: what dockerd answers on a node that has not joined a swarm.


async def swarm_not_manager(request: web.Request) -> web.Response:
    raise UnavailableError(SWARM_NOT_MANAGER)


async def swarm_leave(request: web.Request) -> web.Response:
    raise UnavailableError(SWARM_NOT_JOINED)


SPECIAL_HANDLERS: dict[str, Handler] = {
    "PluginList": plugin_list,
    "PluginInspect": plugin_inspect,
    "SwarmLeave": swarm_leave,
}

# Swarm, Node, Service, Task, Secret and Config endpoints all need a manager; init and join
# would make this node one, so they stay "not implemented".
SWARM_PREFIXES = ("/swarm", "/nodes", "/services", "/tasks", "/secrets", "/configs")
SWARM_NOT_IMPLEMENTED = frozenset({"SwarmInit", "SwarmJoin"})


def not_implemented_handler(method: str, path: str, operation_id: str) -> Handler:
    what = f"{operation_id} ({method} {path})"

    async def handler(request: web.Request) -> web.Response:
        raise not_implemented(what)

    handler.__name__ = handler.__qualname__ = f"not_implemented_{operation_id}"
    return handler


def handler_for(method: str, path: str, operation_id: str) -> Handler:
    if operation_id in SPECIAL_HANDLERS:
        return SPECIAL_HANDLERS[operation_id]
    if path.startswith(SWARM_PREFIXES) and operation_id not in SWARM_NOT_IMPLEMENTED:
        return swarm_not_manager
    return not_implemented_handler(method, path, operation_id)


def build_routes() -> web.RouteTableDef:
    table = web.RouteTableDef()
    for method, path, operation_id in UNSUPPORTED:
        # No implicit HEAD for GET: dockerd's router does not add one.
        extra = {"allow_head": False} if method == "GET" else {}
        table.route(method, route_path(path), name=operation_id, **extra)(
            handler_for(method, path, operation_id)
        )
    return table


routes = build_routes()
