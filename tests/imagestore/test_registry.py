"""The registry client's pure parts, and its HTTP behaviour against aiohttp test servers.

No root and no registry: challenges, X-Registry-Auth, endpoints and insecure rules, Docker's
error wordings, progress texts from the traces (68b, 67), platform selection; then resume,
redirects and the token dance against small servers standing in for a registry (the real
registry is exercised in tests/registry).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from yarl import URL

from jockerd.config import build_parser, load_config
from jockerd.errors import NotFoundError, UnauthorizedError
from jockerd.imagestore.pull import (
    PlatformSpec,
    choose_manifest,
    parse_platform,
    progress_text,
    translate_pull_error,
)
from jockerd.imagestore.reference import parse_reference
from jockerd.imagestore.registry import (
    Challenge,
    Credentials,
    Endpoint,
    RegistryClient,
    RegistryError,
    RegistryOptions,
    TransportError,
    VerificationError,
    credentials_from_auth_config,
    error_from_response,
    is_insecure,
    normalize_server_address,
    parse_challenges,
    parse_registry_auth,
)
from jockerd.models.oci.image import Descriptor, Platform


def b64url(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode()


# -- parsing --------------------------------------------------------------------------------------


def test_parse_challenges() -> None:
    hub = 'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"'
    assert parse_challenges([hub]) == [
        Challenge(
            "bearer",
            {
                "realm": "https://auth.docker.io/token",
                "service": "registry.docker.io",
                "scope": "repository:library/busybox:pull",
            },
        )
    ]
    assert parse_challenges(['Basic realm="basic-realm"']) == [Challenge("basic", {"realm": "basic-realm"})]
    both = parse_challenges(['Basic realm="a", Bearer realm="b",error="insufficient_scope"'])
    assert [c.scheme for c in both] == ["basic", "bearer"]
    assert both[1].params == {"realm": "b", "error": "insufficient_scope"}
    assert parse_challenges(['Bearer realm="x\\"y",scope="a b"'])[0].params == {
        "realm": 'x"y',
        "scope": "a b",
    }


def test_registry_auth_header() -> None:
    assert not parse_registry_auth("e30=")  # base64("{}"), what the CLI sends without credentials
    assert not parse_registry_auth(None)
    assert not parse_registry_auth("%%%not base64")
    creds = parse_registry_auth(b64url({"username": "u", "password": "p", "serveraddress": "127.0.0.1:5000"}))
    assert (creds.username, creds.password, creds.server_address) == ("u", "p", "127.0.0.1:5000")
    # base64url without padding, and an identity token
    raw = base64.urlsafe_b64encode(json.dumps({"identitytoken": "tok"}).encode()).decode().rstrip("=")
    assert parse_registry_auth(raw).identity_token == "tok"
    # `auth` is base64("user:password") as in ~/.docker/config.json
    auth = base64.b64encode(b"alice:pa:ss").decode()
    assert credentials_from_auth_config({"auth": auth}) == Credentials("alice", "pa:ss")


def test_credentials_never_printed() -> None:
    creds = Credentials("alice", "hunter2", identity_token="tok-secret", registry_token="reg-secret")
    assert "hunter2" not in repr(creds) and "secret" not in repr(creds)
    assert "alice" in repr(creds)


def test_insecure_registries() -> None:
    for domain in ("localhost", "localhost:5000", "127.0.0.1:5000", "127.1.2.3", "[::1]:5000"):
        assert is_insecure(domain, [])
    assert not is_insecure("registry.example.com:5000", [])
    assert not is_insecure("10.1.2.3:5000", [])
    assert is_insecure("10.1.2.3:5000", ["10.0.0.0/8"])
    assert is_insecure("registry.example.com:5000", ["registry.example.com:5000"])
    assert is_insecure("registry.example.com", ["registry.example.com"])
    assert not is_insecure("registry.example.com:5001", ["registry.example.com:5000"])


def test_endpoints() -> None:
    client = RegistryClient(
        RegistryOptions(insecure_registries=("reg.lan:5000",), mirrors=("https://mirror.lan",))
    )
    assert [str(e.url) for e in client.endpoints("docker.io")] == [
        "https://mirror.lan",
        "https://registry-1.docker.io",
    ]
    assert [e.mirror for e in client.endpoints("docker.io")] == [True, False]
    assert [str(e.url) for e in client.endpoints("docker.io", push=True)] == ["https://registry-1.docker.io"]
    insecure = client.endpoints("reg.lan:5000")
    assert [(str(e.url), e.verify_tls) for e in insecure] == [
        ("https://reg.lan:5000", False),
        ("http://reg.lan:5000", False),
    ]
    assert [(str(e.url), e.verify_tls) for e in client.endpoints("ghcr.io")] == [("https://ghcr.io", True)]


def test_server_addresses() -> None:
    assert normalize_server_address("https://index.docker.io/v1/") == "docker.io"
    assert normalize_server_address("") == "docker.io"
    assert normalize_server_address("registry-1.docker.io") == "docker.io"
    assert normalize_server_address("http://127.0.0.1:5000/") == "127.0.0.1:5000"
    assert normalize_server_address("ghcr.io") == "ghcr.io"


def test_daemon_config_registry_keys(tmp_path: Path) -> None:
    daemon_json = tmp_path / "daemon.json"
    daemon_json.write_text(
        json.dumps({"insecure-registries": ["reg.lan:5000"], "registry-mirrors": ["https://m.lan/"]})
    )
    args = build_parser().parse_args(["--config-file", str(daemon_json)])
    config = load_config(args)
    assert config.insecure_registries == ["reg.lan:5000"]
    assert config.registry_mirrors == ["https://m.lan"]
    args = build_parser().parse_args(
        ["--config-file", str(daemon_json), "--insecure-registry", "a:1", "--insecure-registry", "10.0.0.0/8",
         "--registry-mirror", "http://127.0.0.1:5000"]
    )  # fmt: skip
    config = load_config(args)
    assert config.insecure_registries == ["a:1", "10.0.0.0/8"]
    assert config.registry_mirrors == ["http://127.0.0.1:5000"]
    daemon_json.write_text(json.dumps({"registry-mirrors": ["ftp://m.lan"]}))
    with pytest.raises(ValueError, match="registry-mirrors"):
        load_config(
            argparse.Namespace(**{**vars(build_parser().parse_args([])), "config_file": str(daemon_json)})
        )
    daemon_json.write_text(json.dumps({"insecure-registries": ["http://reg.lan"]}))
    with pytest.raises(ValueError, match="should not contain '://'"):
        load_config(build_parser().parse_args(["--config-file", str(daemon_json)]))


# -- Docker's wordings ----------------------------------------------------------------------------


class Headers(dict):
    def getall(self, key: str, default: list[str]) -> list[str]:
        return [self[key]] if key in self else default


def test_error_wordings() -> None:
    body = b'{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{"Tag":"x"}}]}'
    error = error_from_response(404, "Not Found", Headers(), body)
    assert str(error) == "manifest unknown: manifest unknown"
    ref = parse_reference("127.0.0.1:5055/jtr/scratchy:nosuchtag")
    translated = translate_pull_error(error, ref)
    assert isinstance(translated, NotFoundError)
    assert str(translated) == (
        "manifest for 127.0.0.1:5055/jtr/scratchy:nosuchtag not found: manifest unknown: manifest unknown"
    )  # trace 68c
    denied = error_from_response(
        401,
        "",
        Headers(),
        b'{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}',
    )
    assert str(translate_pull_error(denied, parse_reference("jtr/nosuch:v1"))) == (
        "pull access denied for jtr/nosuch, repository does not exist or may require 'docker login': "
        "denied: requested access to the resource is denied"
    )
    unknown = error_from_response(
        404,
        "",
        Headers(),
        b'{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry"}]}',
    )
    assert str(translate_pull_error(unknown, parse_reference("127.0.0.1:5000/a/b"))) == (
        "repository 127.0.0.1:5000/a/b not found: name unknown: repository name not known to registry"
    )
    token = error_from_response(
        401, "Unauthorized", Headers(), b'{"details":"incorrect username or password"}'
    )
    assert str(token) == "unauthorized: incorrect username or password"
    assert (
        str(error_from_response(401, "Unauthorized", Headers(), b""))
        == "unauthorized: authentication required"
    )
    assert str(error_from_response(500, "Internal Server Error", Headers(), b"oops")) == (
        "received unexpected HTTP status: 500 Internal Server Error"
    )
    two = error_from_response(
        400,
        "",
        Headers(),
        b'{"errors":[{"code":"DIGEST_INVALID","message":"a"},{"code":"X_Y","message":"b"}]}',
    )
    assert str(two) == "errors:\ndigest invalid: a\nunknown: b\n"
    scope = Headers({"WWW-Authenticate": 'Bearer realm="r",error="insufficient_scope"'})
    assert (
        str(error_from_response(401, "", scope, b"")) == "denied: requested access to the resource is denied"
    )


@pytest.mark.parametrize(
    ("current", "total", "text"),
    [
        (3678, 300293, "[>                                                  ]  3.678kB/300.3kB"),  # 68b
        (32768, 300293, "[=====>                                             ]  32.77kB/300.3kB"),
        (300293, 300293, "[==================================================>]  300.3kB/300.3kB"),
        (2129920, 1984172, "[==================================================>]   2.13MB"),  # 67
        (512, 19, "[==================================================>]     512B"),
    ],
)
def test_progress_text_matches_dockerd(current: int, total: int, text: str) -> None:
    assert progress_text(current, total) == text


def test_platforms() -> None:
    assert parse_platform("") is None
    assert parse_platform("linux/arm64/v8") == PlatformSpec("linux", "arm64")
    assert parse_platform("linux/x86_64") == PlatformSpec("linux", "amd64")
    assert parse_platform("linux/arm/v7") == PlatformSpec("linux", "arm", "v7")

    def entry(arch: str, variant: str | None = None, digest: str = "a") -> Descriptor:
        return Descriptor(
            media_type="application/vnd.oci.image.manifest.v1+json",
            digest=f"sha256:{digest * 64}",
            size=1,
            platform=Platform(os="linux", architecture=arch, variant=variant),
        )

    entries = [entry("arm", "v7", "1"), entry("arm64", "v8", "2"), entry("amd64", None, "3")]
    assert choose_manifest(entries, PlatformSpec("linux", "amd64")).digest.endswith("3")
    assert choose_manifest(entries, PlatformSpec("linux", "arm64")).digest.endswith("2")
    assert choose_manifest(entries, PlatformSpec("linux", "arm", "v7")).digest.endswith("1")
    with pytest.raises(
        NotFoundError, match="no matching manifest for linux/s390x in the manifest list entries"
    ):
        choose_manifest(entries, PlatformSpec("linux", "s390x"))


# -- against small HTTP servers -------------------------------------------------------------------

RANGES = web.AppKey("ranges", bool)
BLOB = bytes(range(256)) * 4096  # 1 MiB
BLOB_DIGEST = "sha256:" + hashlib.sha256(BLOB).hexdigest()


def _endpoint(server: Any) -> Endpoint:
    return Endpoint(URL(f"http://127.0.0.1:{server.port}"), verify_tls=False)


async def test_blob_resume_with_and_without_range_support(aiohttp_server: Any) -> None:
    """A connection broken mid-blob resumes at the right byte whether the server honours Range or not."""
    calls: list[str | None] = []

    async def blob(request: web.Request) -> web.StreamResponse:
        calls.append(request.headers.get("Range"))
        ranged = request.app[RANGES] and "Range" in request.headers
        start = int(request.headers["Range"][6:-1]) if ranged else 0
        response = web.StreamResponse(status=206 if ranged else 200)
        if ranged:
            response.headers["Content-Range"] = f"bytes {start}-{len(BLOB) - 1}/{len(BLOB)}"
        response.content_length = len(BLOB) - start
        await response.prepare(request)
        if len(calls) == 1:  # the first answer breaks after 300 kB
            await response.write(BLOB[:300_000])
            assert request.transport is not None
            request.transport.close()
            return response
        await response.write(BLOB[start:])
        return response

    async def v2(request: web.Request) -> web.Response:
        return web.json_response({})

    for ranges in (True, False):
        calls.clear()
        app = web.Application()
        app[RANGES] = ranges
        app.router.add_get("/v2/", v2)
        app.router.add_get("/v2/x/blobs/{digest}", blob)
        server = await aiohttp_server(app)
        client = RegistryClient()
        try:
            repo = await client.open(f"127.0.0.1:{server.port}", "x", endpoint=_endpoint(server))
            data = b"".join([chunk async for chunk in repo.blob_chunks(BLOB_DIGEST, len(BLOB))])
        finally:
            await client.close()
        assert data == BLOB
        assert calls[0] is None and calls[1] is not None and calls[1].startswith("bytes=")


async def test_token_dance_and_redirect_without_credentials(aiohttp_server: Any) -> None:
    """Bearer: 401 → token from the realm (basic auth there) → retry; a redirect off the registry's
    origin does not carry the Authorization header."""
    seen: dict[str, Any] = {"tokens": [], "cdn": []}

    async def v2(request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != "Bearer good":
            realm = f"http://127.0.0.1:{request.url.port}/token"
            return web.json_response(
                {"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]},
                status=401,
                headers={"WWW-Authenticate": f'Bearer realm="{realm}",service="svc"'},
            )
        if request.path.startswith("/v2/x/blobs/"):
            raise web.HTTPTemporaryRedirect(f"http://localhost:{request.url.port}/cdn/blob")
        return web.json_response({})

    async def token(request: web.Request) -> web.Response:
        seen["tokens"].append((request.query.getall("scope", []), request.headers.get("Authorization")))
        return web.json_response({"token": "good", "expires_in": 300})

    async def cdn(request: web.Request) -> web.Response:
        seen["cdn"].append(request.headers.get("Authorization"))
        return web.Response(body=BLOB)

    app = web.Application()
    app.router.add_get("/token", token)
    app.router.add_get("/cdn/blob", cdn)
    app.router.add_route("*", "/v2/{tail:.*}", v2)
    server = await aiohttp_server(app)
    client = RegistryClient()
    try:
        repo = await client.open(
            f"127.0.0.1:{server.port}", "x", Credentials("u", "p"), endpoint=_endpoint(server)
        )
        data = b"".join([chunk async for chunk in repo.blob_chunks(BLOB_DIGEST, len(BLOB))])
    finally:
        await client.close()
    assert data == BLOB
    assert seen["tokens"] == [(["repository:x:pull"], "Basic " + base64.b64encode(b"u:p").decode())]
    assert seen["cdn"] == [None]


async def test_login_wordings(aiohttp_server: Any) -> None:
    async def v2(request: web.Request) -> web.Response:
        if request.headers.get("Authorization") == "Basic " + base64.b64encode(b"u:right").decode():
            return web.json_response({})
        return web.json_response({}, status=401, headers={"WWW-Authenticate": 'Basic realm="r"'})

    app = web.Application()
    app.router.add_get("/v2/", v2)
    server = await aiohttp_server(app)
    host = f"127.0.0.1:{server.port}"
    client = RegistryClient()
    try:
        assert await client.login(host, Credentials("u", "right")) == ""
        with pytest.raises(UnauthorizedError) as refused:
            await client.login(host, Credentials("u", "wrong"))
        assert (
            str(refused.value) == f"login attempt to http://{host}/v2/ failed with status: 401 Unauthorized"
        )
        with pytest.raises(
            TransportError,
            match=r'^Get "http://127\.0\.0\.1:1/v2/": dial tcp 127\.0\.0\.1:1: connect: connection refused$',
        ):
            await client.login("127.0.0.1:1", Credentials("u", "p"))
    finally:
        await client.close()


async def test_manifest_digest_is_checked(aiohttp_server: Any) -> None:
    manifest = json.dumps({"schemaVersion": 2, "config": {}, "layers": []}).encode()

    async def handler(request: web.Request) -> web.Response:
        if request.path == "/v2/":
            return web.json_response({})
        return web.Response(body=manifest, content_type="application/vnd.oci.image.manifest.v1+json")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    server = await aiohttp_server(app)
    client = RegistryClient()
    try:
        repo = await client.open(f"127.0.0.1:{server.port}", "x", endpoint=_endpoint(server))
        desc, data = await repo.get_manifest("latest")
        assert data == manifest
        assert desc.digest == "sha256:" + hashlib.sha256(manifest).hexdigest()
        assert desc.media_type == "application/vnd.oci.image.manifest.v1+json"
        with pytest.raises(VerificationError, match="manifest verification failed for digest"):
            await repo.get_manifest("sha256:" + "0" * 64)
        with pytest.raises(RegistryError):
            await repo.get_blob(Descriptor(media_type="x", digest=BLOB_DIGEST, size=10 << 20), limit=1 << 20)
    finally:
        await client.close()
