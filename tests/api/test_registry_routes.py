"""Handler-level tests of ImageCreate (pull), ImagePush, SystemAuth and DistributionInspect.

The real app factory with a fake image backend that records its calls: what reaches the backend
from the query and headers, and how errors before and after the 200 are rendered (an HTTP
status before any progress; an errorDetail line after, as dockerd does, trace 38d).
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any

import pytest

from jockerd.api.app import Backends, create_app
from jockerd.errors import NotFoundError, UnauthorizedError
from tests.api.test_unsupported import FakeContainers, FakeEvents, FakeExecs, FakeSystem


class FakeRegistryImages:
    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    async def pull(
        self, from_image: str, tag: str, *, platform: str, registry_auth: str | None
    ) -> AsyncIterator[dict[str, Any]]:
        self.calls.append(("pull", (from_image, tag, platform, registry_auth)))
        if tag == "missing":
            raise NotFoundError(
                f"manifest for {from_image}:{tag} not found: manifest unknown: manifest unknown"
            )
        yield {"status": f"Pulling from {from_image}", "id": tag}
        if tag == "broken":
            raise NotFoundError("boom in stream")
        yield {"status": "Status: Downloaded newer image"}

    async def push(self, name: str, tag: str, *, registry_auth: str | None) -> AsyncIterator[dict[str, Any]]:
        self.calls.append(("push", (name, tag, registry_auth)))
        yield {"status": f"The push refers to repository [{name}]"}

    async def auth(self, config: dict[str, Any]) -> dict[str, str]:
        self.calls.append(("auth", config))
        if config.get("password") != "right":
            raise UnauthorizedError("login attempt to http://r/v2/ failed with status: 401 Unauthorized")
        return {"Status": "Login Succeeded", "IdentityToken": ""}

    async def distribution_inspect(self, name: str, *, registry_auth: str | None) -> dict[str, Any]:
        self.calls.append(("distribution", (name, registry_auth)))
        return {"Descriptor": {"mediaType": "m", "digest": "d", "size": 1}, "Platforms": []}


@pytest.fixture
def images() -> FakeRegistryImages:
    return FakeRegistryImages()


@pytest.fixture
async def client(aiohttp_client: Any, images: FakeRegistryImages) -> Any:
    backends = Backends(
        images=images,  # type: ignore[arg-type]
        system=FakeSystem(),
        containers=FakeContainers(),
        execs=FakeExecs(),
        events=FakeEvents(),
    )
    return await aiohttp_client(create_app(backends))


async def test_pull_passes_query_and_auth(client: Any, images: FakeRegistryImages) -> None:
    resp = await client.post(
        "/v1.41/images/create?fromImage=127.0.0.1%3A5055%2Fjtr%2Fpushed&tag=v1&platform=linux%2Farm64",
        headers={"X-Registry-Auth": "e30="},
    )
    assert resp.status == 200
    assert resp.headers["Content-Type"] == "application/json"
    assert await resp.text() == (
        '{"status":"Pulling from 127.0.0.1:5055/jtr/pushed","id":"v1"}\n'
        '{"status":"Status: Downloaded newer image"}\n'
    )
    assert images.calls == [("pull", ("127.0.0.1:5055/jtr/pushed", "v1", "linux/arm64", "e30="))]


async def test_pull_errors_before_and_after_the_headers(client: Any) -> None:
    resp = await client.post("/v1.41/images/create?fromImage=r%2Fx&tag=missing")
    assert resp.status == 404
    assert await resp.json() == {
        "message": "manifest for r/x:missing not found: manifest unknown: manifest unknown"
    }
    resp = await client.post("/v1.41/images/create?fromImage=r%2Fx&tag=broken")
    assert resp.status == 200
    assert (await resp.text()).splitlines()[-1] == (
        '{"errorDetail":{"message":"boom in stream"},"error":"boom in stream"}'
    )


async def test_push(client: Any, images: FakeRegistryImages) -> None:
    resp = await client.post(
        "/v1.41/images/127.0.0.1:5055/jtr/pushed/push?tag=v1", headers={"X-Registry-Auth": "e30="}
    )
    assert resp.status == 200
    assert images.calls == [("push", ("127.0.0.1:5055/jtr/pushed", "v1", "e30="))]
    # the pre-X-Registry-Auth form: the AuthConfig as the body
    images.calls.clear()
    resp = await client.post("/images/r/x/push", data=b'{"username":"u"}')
    assert resp.status == 200
    name, tag, auth = images.calls[0][1]
    assert (name, tag) == ("r/x", "")
    assert base64.urlsafe_b64decode(auth) == b'{"username":"u"}'
    resp = await client.post("/images/r/x/push")
    assert resp.status == 400
    assert await resp.json() == {"message": "Bad parameters and missing X-Registry-Auth: EOF"}


async def test_auth(client: Any, images: FakeRegistryImages) -> None:
    body = {"username": "u", "password": "right", "serveraddress": "127.0.0.1:5000"}
    resp = await client.post("/v1.41/auth", json=body)
    assert resp.status == 200
    assert await resp.json() == {"Status": "Login Succeeded", "IdentityToken": ""}
    resp = await client.post("/v1.41/auth", json={**body, "password": "wrong"})
    assert resp.status == 401
    assert await resp.json() == {
        "message": "login attempt to http://r/v2/ failed with status: 401 Unauthorized"
    }
    resp = await client.post("/v1.41/auth", data=b"{not json")
    assert resp.status == 400


async def test_distribution_inspect(client: Any, images: FakeRegistryImages) -> None:
    resp = await client.get(
        "/v1.51/distribution/127.0.0.1:5000/multi:latest/json", headers={"X-Registry-Auth": "x"}
    )
    assert resp.status == 200
    assert (await resp.json())["Descriptor"]["digest"] == "d"
    assert images.calls == [("distribution", ("127.0.0.1:5000/multi:latest", "x"))]
