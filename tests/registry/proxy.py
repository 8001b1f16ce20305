"""A test-only front for the real registry: bearer-token auth, throttling, broken connections.

Why: Debian's docker-registry can do htpasswd basic auth on its own, but its token auth needs a
certificate-signed token service; and a network that is slow or breaks mid-blob cannot be had on
loopback. This aiohttp server sits in front of the real registry (every /v2/ request is forwarded
to it, bodies streamed both ways) and adds, on request:

- `--auth token`: Docker Hub's scheme. /v2/ answers 401 with `WWW-Authenticate: Bearer
  realm=".../token",service="jocker-test",scope="repository:<name>:<actions>"` until a token is
  presented; /token issues tokens (anonymous ones may only pull; `--user NAME:PASSWORD` may push),
  answers 401 `{"details":"incorrect username or password"}` to bad credentials, and hands out a
  refresh token to `docker login` (offline_token=true), redeemable with the OAuth POST form.
- `--throttle BYTES_PER_SECOND`: blob downloads are sent at that rate per connection.
- `--cut-after BYTES`: the first GET of each blob is cut after that many bytes (the connection is
  closed mid-body), so the client must resume with a Range request.
- `--log FILE`: one JSON line per request (method, path, Range, status, bytes sent); credentials
  are never written.

Run inside the registry's network namespace: `python proxy.py --listen 127.0.0.1:PORT --upstream
http://127.0.0.1:REGISTRY_PORT [...]`.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import re
import secrets
import time
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

SERVICE = "jocker-test"
HOP_HEADERS = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "host",
    "content-length",
}
REPO_PATH = re.compile(r"^/v2/(?P<name>.+?)/(?:manifests|blobs|tags)/")
BLOB_GET = re.compile(r"^/v2/.+/blobs/(?P<digest>sha256:[0-9a-f]{64})$")


class Front:
    def __init__(self, args: argparse.Namespace) -> None:
        self.upstream = args.upstream.rstrip("/")
        self.auth = args.auth
        self.users = dict(u.split(":", 1) for u in args.user)
        self.throttle = args.throttle
        self.cut_after = args.cut_after
        self.cut_done: set[str] = set()
        self.log_path = Path(args.log) if args.log else None
        self.tokens: dict[str, tuple[str, dict[str, set[str]]]] = {}  # token → (user, repo → actions)
        self.refresh: dict[str, str] = {}  # refresh token → user
        self.session: aiohttp.ClientSession | None = None

    def log(self, **entry: Any) -> None:
        if self.log_path is not None:
            with self.log_path.open("a") as f:
                f.write(json.dumps(entry) + "\n")

    # Token service

    def _user(self, request: web.Request) -> tuple[str | None, bool]:
        """(user, refused): the Basic credentials of a token request."""
        header = request.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return None, False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return None, True
        if self.users.get(user) != password:
            return None, True
        return user, False

    def _grant(self, user: str | None, scopes: list[str]) -> dict[str, set[str]]:
        granted: dict[str, set[str]] = {}
        for scope in scopes:
            for item in scope.split(" "):
                parts = item.split(":")
                if len(parts) != 3 or parts[0] != "repository":
                    continue
                actions = set(parts[2].split(","))
                if user is None:
                    actions &= {"pull"}
                granted.setdefault(parts[1], set()).update(actions)
        return granted

    async def token(self, request: web.Request) -> web.Response:
        if request.method == "POST":
            form = await request.post()
            user = self.refresh.get(str(form.get("refresh_token", "")))
            if user is None:
                return web.json_response({"details": "invalid refresh token"}, status=401)
            scopes = [str(form.get("scope", ""))]
            refused = False
        else:
            user, refused = self._user(request)
            scopes = request.query.getall("scope", [])
        self.log(event="token", method=request.method, user=user, refused=refused, scopes=scopes)
        if refused:
            return web.json_response({"details": "incorrect username or password"}, status=401)
        token = secrets.token_hex(16)
        self.tokens[token] = (user or "", self._grant(user, scopes))
        body: dict[str, Any] = {
            "token": token,
            "access_token": token,
            "expires_in": 300,
            "issued_at": time.time(),
        }
        if request.query.get("offline_token") == "true" and user is not None:
            refresh = secrets.token_hex(16)
            self.refresh[refresh] = user
            body["refresh_token"] = refresh
        return web.json_response(body)

    def _challenge(
        self, request: web.Request, name: str | None, needed: str, error: str = ""
    ) -> web.Response:
        realm = f"http://{request.host}/token"
        value = f'Bearer realm="{realm}",service="{SERVICE}"'
        if name:
            value += f',scope="repository:{name}:{needed}"'
        if error:
            value += f',error="{error}"'
        if error == "insufficient_scope":
            body = {"errors": [{"code": "DENIED", "message": "requested access to the resource is denied"}]}
        else:
            body = {
                "errors": [{"code": "UNAUTHORIZED", "message": "authentication required", "detail": None}]
            }
        return web.json_response(body, status=401, headers={"WWW-Authenticate": value})

    def _authorized(self, request: web.Request) -> web.Response | None:
        match = REPO_PATH.match(request.path)
        name = match["name"] if match else None
        needed = "pull" if request.method in ("GET", "HEAD") else "pull,push"
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return self._challenge(request, name, needed)
        grant = self.tokens.get(header[7:])
        if grant is None:
            return self._challenge(request, name, needed, "invalid_token")
        if name is None:
            return None
        have = grant[1].get(name, set())
        if not set(needed.split(",")) <= have:
            return self._challenge(request, name, needed, "insufficient_scope")
        return None

    # Forwarding

    async def forward(self, request: web.Request) -> web.StreamResponse:
        if self.auth == "token":
            refusal = self._authorized(request)
            if refusal is not None:
                self.log(method=request.method, path=request.path, status=401)
                return refusal
        assert self.session is not None
        headers = {
            k: v for k, v in request.headers.items() if k.lower() not in HOP_HEADERS | {"authorization"}
        }
        headers["Host"] = request.host
        data = request.content if request.body_exists else None
        if request.headers.get("Content-Length"):
            headers["Content-Length"] = request.headers["Content-Length"]
        async with self.session.request(
            request.method,
            self.upstream + request.rel_url.path_qs,
            headers=headers,
            data=data,
            allow_redirects=False,
            auto_decompress=False,
        ) as upstream:
            out_headers = {k: v for k, v in upstream.headers.items() if k.lower() not in HOP_HEADERS}
            response = web.StreamResponse(status=upstream.status, headers=out_headers)
            if upstream.headers.get("Content-Length") and request.method != "HEAD":
                response.content_length = int(upstream.headers["Content-Length"])
            elif request.method == "HEAD" and upstream.headers.get("Content-Length"):
                response.headers["Content-Length"] = upstream.headers["Content-Length"]
            await response.prepare(request)
            sent = 0
            blob = BLOB_GET.match(request.path) if request.method == "GET" else None
            cut = None
            if (
                blob
                and self.cut_after
                and "Range" not in request.headers
                and blob["digest"] not in self.cut_done
            ):
                cut = self.cut_after
                self.cut_done.add(blob["digest"])
            started = time.monotonic()
            if request.method != "HEAD":
                async for chunk in upstream.content.iter_chunked(64 * 1024):
                    if cut is not None and sent + len(chunk) > cut:
                        chunk = chunk[: cut - sent]
                        await response.write(chunk)
                        sent += len(chunk)
                        self.log(method="GET", path=request.path, status=upstream.status, sent=sent, cut=True)
                        assert request.transport is not None
                        request.transport.close()
                        return response
                    await response.write(chunk)
                    sent += len(chunk)
                    if blob and self.throttle:
                        ahead = sent / self.throttle - (time.monotonic() - started)
                        if ahead > 0:
                            await asyncio.sleep(ahead)
            self.log(
                method=request.method,
                path=request.path,
                range=request.headers.get("Range"),
                status=upstream.status,
                sent=sent,
            )
            await response.write_eof()
            return response


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--listen", required=True)
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--auth", choices=("none", "token"), default="none")
    parser.add_argument("--user", action="append", default=[], metavar="NAME:PASSWORD")
    parser.add_argument("--throttle", type=float, default=0)
    parser.add_argument("--cut-after", type=int, default=0)
    parser.add_argument("--log")
    args = parser.parse_args()
    front = Front(args)

    async def start(app: web.Application) -> None:
        front.session = aiohttp.ClientSession(auto_decompress=False)

    async def stop(app: web.Application) -> None:
        if front.session is not None:
            await front.session.close()

    app = web.Application(client_max_size=1 << 34)
    app.on_startup.append(start)
    app.on_cleanup.append(stop)
    app.router.add_route("*", "/token", front.token)
    app.router.add_route("*", "/{tail:.*}", front.forward)
    host, _, port = args.listen.rpartition(":")
    web.run_app(app, host=host, port=int(port), access_log=None, print=None)


if __name__ == "__main__":
    main()
