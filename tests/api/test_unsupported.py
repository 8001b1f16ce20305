"""Handler-level tests of the unsupported-endpoint table, routing and the cross-cutting middleware.

The app is built by the real factory with tiny fake backends; nothing here needs root.
"""

from __future__ import annotations

import pathlib
import re
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from jockerd.api.app import Backends, create_app
from jockerd.api.routes import unsupported
from jockerd.api.routing import VERSIONED_NAME_SUFFIX
from jockerd.errors import NotFoundError, no_such_container, no_such_image
from jockerd.models.docker.system import SystemVersion

SWAGGER = pathlib.Path(__file__).resolve().parents[2].parent / "shared/reference/docker-engine-api-v1.51.yaml"
HTTP_METHODS = {"get", "head", "post", "put", "delete", "patch", "options"}

SWARM_NOT_MANAGER = (
    'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" '
    "to connect this node to swarm and try again."
)


class FakeSystem:
    def __init__(self) -> None:
        self.fail_data_usage = False

    async def version(self) -> SystemVersion:
        return SystemVersion(
            version="0.1.0",
            api_version="1.51",
            min_api_version="1.24",
            arch="amd64",
            kernel_version="6.1.0",
        )

    async def info(self) -> Any:
        raise AssertionError("not used by these tests")

    async def data_usage(self, types: list[str]) -> dict[str, Any]:
        if self.fail_data_usage:
            raise RuntimeError("disk on fire")
        return {"Images": [], "LayersSize": 0}


class FakeImages:
    """Knows no image: enough for the `docker inspect` chain."""

    async def inspect(self, name: str) -> Any:
        raise no_such_image(name)

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"FakeImages.{name} not used by these tests")


class FakeContainers:
    """No containers: the lookups of the `docker inspect` chain answer Docker's 404."""

    async def inspect(self, ref: str, *, size: bool = False) -> Any:
        raise no_such_container(ref)

    async def list(self, **kwargs: Any) -> list[Any]:
        return []

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"FakeContainers.{name} not used by these tests")


class FakeExecs:
    async def inspect(self, exec_id: str) -> Any:
        raise NotFoundError(f"No such exec instance: {exec_id}")

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"FakeExecs.{name} not used by these tests")


class FakeEvents:
    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"FakeEvents.{name} not used by these tests")


@pytest.fixture
def fake_system() -> FakeSystem:
    return FakeSystem()


@pytest.fixture
def app(fake_system: FakeSystem) -> web.Application:
    backends = Backends(
        images=FakeImages(),
        system=fake_system,
        containers=FakeContainers(),
        execs=FakeExecs(),
        events=FakeEvents(),
    )
    return create_app(backends)


@pytest.fixture
async def client(aiohttp_client: Any, app: web.Application) -> Any:
    return await aiohttp_client(app)


async def json_of(resp: Any) -> Any:
    assert resp.headers["Content-Type"].startswith("application/json")
    return await resp.json()


# --- 501: the default for an endpoint jocker does not serve -------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "message"),
    [
        (
            "GET",
            "/containers/abc/attach/ws",
            "ContainerAttachWebsocket (GET /containers/{id}/attach/ws) is not implemented by jocker yet",
        ),
        ("POST", "/v1.51/build/prune", "BuildPrune (POST /build/prune) is not implemented by jocker yet"),
        ("POST", "/v1.41/build", "ImageBuild (POST /build) is not implemented by jocker yet"),
        (
            "GET",
            "/v1.51/images/search",
            "ImageSearch (GET /images/search) is not implemented by jocker yet",
        ),
        ("POST", "/session", "Session (POST /session) is not implemented by jocker yet"),
        ("POST", "/v1.51/swarm/init", "SwarmInit (POST /swarm/init) is not implemented by jocker yet"),
    ],
)
async def test_not_implemented_is_501_json(client: Any, method: str, path: str, message: str) -> None:
    resp = await client.request(method, path)
    assert resp.status == 501
    assert await json_of(resp) == {"message": message}
    assert resp.headers["Api-Version"] == "1.51"


# --- the `docker inspect X` chain (docker-cli-flows.md §A3, trace 14b) --------------------------


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/v1.51/containers/jtr/nosuch/json", "No such container: jtr/nosuch"),
        ("/v1.51/images/jtr/nosuch/json", "No such image: jtr/nosuch"),
        ("/v1.51/networks/jtr/nosuch", "network jtr/nosuch not found"),
        ("/v1.51/volumes/jtr/nosuch", "get jtr/nosuch: no such volume"),
        ("/v1.51/plugins/jtr/nosuch/json", 'plugin "jtr/nosuch" not found'),
        ("/containers/w1/json", "No such container: w1"),
        ("/networks/w1", "network w1 not found"),
        ("/volumes/w1", "get w1: no such volume"),
        ("/plugins/w1/json", 'plugin "w1" not found'),
        ("/v1.51/exec/e1/json", "No such exec instance: e1"),
    ],
)
async def test_inspect_chain_lookups_are_404(client: Any, path: str, message: str) -> None:
    resp = await client.get(path)
    assert resp.status == 404
    assert await json_of(resp) == {"message": message}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1.51/swarm"),
        ("GET", "/v1.51/nodes/n1"),
        ("GET", "/v1.51/services/s1"),
        ("GET", "/v1.51/tasks/t1"),
        ("GET", "/v1.51/secrets/x1"),
        ("GET", "/v1.51/configs/x1"),
        ("GET", "/services"),
        ("GET", "/swarm/unlockkey"),
        ("POST", "/swarm/update"),
    ],
)
async def test_swarm_endpoints_are_503_not_manager(client: Any, method: str, path: str) -> None:
    resp = await client.request(method, path)
    assert resp.status == 503
    assert await json_of(resp) == {"message": SWARM_NOT_MANAGER}


async def test_swarm_leave_is_503_not_in_swarm(client: Any) -> None:
    resp = await client.post("/v1.51/swarm/leave")
    assert resp.status == 503
    assert await json_of(resp) == {"message": "This node is not part of a swarm"}


# --- listings that are correctly empty ---------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1.51/containers/json?all=1", []),
        ("/containers/json", []),
        ("/v1.51/networks", []),
        ("/v1.51/volumes", {"Volumes": [], "Warnings": None}),
        ("/v1.51/plugins", []),
    ],
)
async def test_empty_listings(client: Any, path: str, body: Any) -> None:
    resp = await client.get(path)
    assert resp.status == 200
    assert await json_of(resp) == body


# --- routing and versions ----------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/nope", "/v1.51/nope", "/containers", "/v1.51/images/"])
async def test_unknown_path_is_page_not_found(client: Any, path: str) -> None:
    resp = await client.get(path)
    assert resp.status == 404
    assert await json_of(resp) == {"message": "page not found"}


async def test_version_too_new(client: Any) -> None:
    resp = await client.get("/v1.99/version")
    assert resp.status == 400
    assert await json_of(resp) == {
        "message": "client version 1.99 is too new. Maximum supported API version is 1.51"
    }


async def test_version_too_old(client: Any) -> None:
    resp = await client.get("/v1.12/version")
    assert resp.status == 400
    message = (await json_of(resp))["message"]
    assert message.startswith("client version 1.12 is too old. Minimum supported API version is 1.24")


async def test_version_too_new_also_on_unsupported_routes(client: Any) -> None:
    resp = await client.get("/v1.99/containers/json")
    assert resp.status == 400


async def test_oldest_supported_version_pings(client: Any) -> None:
    resp = await client.get("/v1.24/_ping")
    assert resp.status == 200
    assert await resp.text() == "OK"


async def test_versioned_and_bare_version(client: Any) -> None:
    for path in ("/version", "/v1.51/version"):
        resp = await client.get(path)
        assert resp.status == 200
        assert (await json_of(resp))["ApiVersion"] == "1.51"


async def test_head_ping_headers(client: Any) -> None:
    resp = await client.head("/_ping")
    assert resp.status == 200
    assert resp.headers["Api-Version"] == "1.51"
    assert resp.headers["Ostype"] == "linux"
    assert resp.headers["Docker-Experimental"] == "false"
    assert resp.headers["Builder-Version"] == "1"
    assert resp.headers["Cache-Control"] == "no-cache, no-store, must-revalidate"
    assert resp.headers["Pragma"] == "no-cache"
    assert resp.headers["Content-Length"] == "0"
    assert await resp.read() == b""


def test_route_names_are_operation_ids(app: web.Application) -> None:
    for _method, _path, operation_id in unsupported.UNSUPPORTED:
        assert operation_id in app.router.named_resources()
        assert operation_id + VERSIONED_NAME_SUFFIX in app.router.named_resources()


def test_table_has_no_duplicates() -> None:
    keys = [(method, path) for method, path, _ in unsupported.UNSUPPORTED]
    assert len(keys) == len(set(keys))
    ids = [operation_id for _, _, operation_id in unsupported.UNSUPPORTED]
    assert len(ids) == len(set(ids))


# --- every swagger endpoint resolves to its own route -----------------------------------------


def swagger_endpoints() -> list[tuple[str, str, str]]:
    if not SWAGGER.is_file():
        pytest.skip(f"swagger not found at {SWAGGER} (it lives outside the repo, in ../shared)")
    yaml = pytest.importorskip("yaml")
    spec = yaml.safe_load(SWAGGER.read_text())
    return [
        (method.upper(), path, op["operationId"])
        for path, ops in spec["paths"].items()
        for method, op in ops.items()
        if method in HTTP_METHODS
    ]


def sample_paths(path: str) -> list[str]:
    """Concrete request paths for a swagger path: a simple value, and a slashed one where allowed."""
    paths = [re.sub(r"\{\w+\}", "x1", path)]
    if path.startswith(unsupported.SLASHED_PREFIXES) and "{" in path:
        paths.append(re.sub(r"\{\w+\}", "jtr/x1:v1", path))
    return paths


async def test_every_swagger_endpoint_resolves_to_its_route(app: web.Application) -> None:
    endpoints = swagger_endpoints()
    assert len(endpoints) > 100
    wrong = []
    for method, path, operation_id in endpoints:
        for sample in sample_paths(path):
            for prefix in ("", "/v1.51", "/v1.24"):
                request = make_mocked_request(method, prefix + sample, app=app)
                match = await app.router.resolve(request)
                name = match.route.name if match.http_exception is None else None
                if name is None or name.removesuffix(VERSIONED_NAME_SUFFIX) != operation_id:
                    wrong.append(f"{method} {prefix}{sample} ({operation_id}) -> {name}")
    assert not wrong, "\n".join(wrong)


def test_table_rows_are_swagger_endpoints() -> None:
    endpoints = set(swagger_endpoints())
    stale = [row for row in unsupported.UNSUPPORTED if row not in endpoints]
    assert not stale


# --- an exception inside a handler -------------------------------------------------------------


async def test_handler_exception_is_500_json_and_app_keeps_serving(
    client: Any, fake_system: FakeSystem, caplog: pytest.LogCaptureFixture
) -> None:
    fake_system.fail_data_usage = True
    for _ in range(2):
        resp = await client.get("/v1.51/system/df")
        assert resp.status == 500
        body = await json_of(resp)
        assert body == {"message": "internal error: disk on fire"}
    assert "internal error serving GET /v1.51/system/df" in caplog.text

    resp = await client.get("/_ping")
    assert resp.status == 200
    fake_system.fail_data_usage = False
    resp = await client.get("/system/df")
    assert resp.status == 200
