"""RegistryClient: the OCI distribution API (distribution-spec `spec.md`) over aiohttp's client.

What it does, and the Docker choices it copies:
- **Endpoints.** `docker.io` is served by `registry-1.docker.io`, after the configured mirrors
  (pulls only). A registry is reached over verified HTTPS; over unverified HTTPS and then plain
  HTTP only when it is localhost, in 127.0.0.0/8, ::1, or listed in insecure-registries (a
  `host[:port]` or a CIDR), as dockerd's registry service decides.
- **Auth.** A ping of `/v2/` learns the challenge. `Bearer`: a token from the realm for the
  repository's scopes, anonymous or with credentials (basic auth on a GET, or an identity token
  as an OAuth refresh token on a POST). `Basic`: the credentials on every request. A 401 that
  carries a new challenge (an expired token, a wider scope) refreshes the token once.
- **Manifests** are asked for with an Accept header naming Docker schema2 and OCI manifests and
  indexes, and checked against their digest when it is known.
- **Blobs** stream out with their bytes in order: a broken connection is resumed with a `Range`
  request (bytes already received are skipped if the registry ignores the range). The caller's
  sink checks size and digest before the blob gets a name in the content store.
- **Uploads**: existence check (HEAD), cross-repository mount, monolithic PUT for small blobs,
  chunked PATCHes (Content-Range) then the closing PUT for bigger ones.
- **Errors** carry Docker's words: `Get "URL": dial tcp HOST:PORT: connect: connection refused`,
  `manifest unknown: manifest unknown`, `unauthorized: authentication required`, ...

Credentials never reach a log line or an error message: `Credentials` hides them from repr(),
and error texts are built from URLs, statuses and registry error bodies only.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import errno
import hashlib
import ipaddress
import json
import logging
import platform
import re
import socket
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from yarl import URL

from jockerd import __version__
from jockerd.errors import InvalidParameterError, JockerError, UnauthorizedError
from jockerd.models.oci.image import (
    INDEX_MEDIA_TYPES,
    MANIFEST_MEDIA_TYPES,
    MEDIA_TYPE_DOCKER_MANIFEST,
    MEDIA_TYPE_DOCKER_MANIFEST_LIST,
    MEDIA_TYPE_IMAGE_INDEX,
    MEDIA_TYPE_IMAGE_MANIFEST,
    Descriptor,
)

log = logging.getLogger("jockerd.registry")

DOCKER_HUB_DOMAIN = "docker.io"
DOCKER_HUB_API = "https://registry-1.docker.io"
# What `docker login` without a server sends as serveraddress, and the names it stands for.
DOCKER_HUB_ALIASES = {"docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"}
ACCEPT_MANIFESTS = ", ".join(
    (
        MEDIA_TYPE_IMAGE_INDEX,
        MEDIA_TYPE_DOCKER_MANIFEST_LIST,
        MEDIA_TYPE_IMAGE_MANIFEST,
        MEDIA_TYPE_DOCKER_MANIFEST,
    )
)
MAX_MANIFEST_SIZE = 4 * 1024 * 1024  # distribution-spec: registries may refuse more; so do we
MAX_CONFIG_SIZE = 16 * 1024 * 1024
DOWNLOAD_CHUNK = 1 << 20
DOWNLOAD_RETRIES = 5  # moby's maxDownloadAttempts
RETRY_DELAYS = (0.2, 0.5, 1.0, 2.0, 4.0)
MONOLITHIC_UPLOAD_MAX = 1 << 20  # bigger blobs go up in chunks (PATCH with Content-Range)
UPLOAD_CHUNK = 8 << 20
UPLOAD_PIECE = 256 * 1024  # granularity of upload progress
MAX_REDIRECTS = 10
REDIRECT_STATUSES = (301, 302, 303, 307, 308)
TOKEN_MIN_LIFETIME = 60  # seconds; docker/distribution's minimum when expires_in is absent or small

# errcode values registered by distribution (registry/api/errcode + api/v2): any other value
# reads as "unknown", as Go's ParseErrorCode does.
KNOWN_ERROR_CODES = frozenset(
    {
        "UNKNOWN", "UNSUPPORTED", "UNAUTHORIZED", "DENIED", "UNAVAILABLE", "TOOMANYREQUESTS",
        "DIGEST_INVALID", "SIZE_INVALID", "NAME_INVALID", "TAG_INVALID", "NAME_UNKNOWN",
        "MANIFEST_UNKNOWN", "MANIFEST_INVALID", "MANIFEST_UNVERIFIED", "MANIFEST_BLOB_UNKNOWN",
        "BLOB_UNKNOWN", "BLOB_UPLOAD_UNKNOWN", "BLOB_UPLOAD_INVALID", "PAGINATION_NUMBER_INVALID",
        "RANGE_INVALID", "NAME_NOT_ALLOWED",
    }
)  # fmt: skip
DEFAULT_ERROR_MESSAGES = {"UNAUTHORIZED": "authentication required", "UNKNOWN": "unknown error"}


# -- credentials ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Credentials:
    """What the client sent in X-Registry-Auth or POST /auth. Never printed (repr hides secrets)."""

    username: str = ""
    password: str = field(default="", repr=False)
    identity_token: str = field(default="", repr=False)
    registry_token: str = field(default="", repr=False)
    server_address: str = ""

    def __bool__(self) -> bool:
        return bool(self.username or self.password or self.identity_token or self.registry_token)


ANONYMOUS = Credentials()


def credentials_from_auth_config(data: Any) -> Credentials:
    """Docker's AuthConfig (`{"username","password","auth","serveraddress","identitytoken",...}`)."""
    if not isinstance(data, dict):
        return ANONYMOUS
    values = {str(k).lower(): v for k, v in data.items() if isinstance(v, str)}
    username, password = values.get("username", ""), values.get("password", "")
    if values.get("auth") and not (username or password):
        # `auth` is base64("user:password"), as in ~/.docker/config.json.
        with contextlib.suppress(ValueError, binascii.Error, UnicodeDecodeError):
            username, _, password = base64.b64decode(values["auth"]).decode().partition(":")
    return Credentials(
        username=username,
        password=password,
        identity_token=values.get("identitytoken", ""),
        registry_token=values.get("registrytoken", ""),
        server_address=values.get("serveraddress", ""),
    )


def basic_authorization(username: str, password: str) -> str:
    """The Authorization header of HTTP basic auth (Go's SetBasicAuth: the UTF-8 bytes, base64)."""
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def parse_registry_auth(header: str | None) -> Credentials:
    """X-Registry-Auth: base64url(JSON AuthConfig). Unreadable means anonymous, as dockerd 20.10."""
    if not header:
        return ANONYMOUS
    text = header.strip()
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        return credentials_from_auth_config(json.loads(raw))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return ANONYMOUS


# -- errors ---------------------------------------------------------------------------------------


class RegistryError(JockerError):
    """A failure talking to a registry, worded as Docker words it.

    `codes` are the registry's errcode entries (code, message), first first; `status` is the HTTP
    status jockerd answers with when the error happens before any progress was streamed.
    """

    def __init__(self, message: str, codes: Iterable[tuple[str, str]] = (), status: int = 500) -> None:
        super().__init__(message)
        self.codes = list(codes)
        self.status = status

    @property
    def code(self) -> str:
        return self.codes[0][0] if self.codes else ""


class TransportError(RegistryError):
    """The registry could not be reached or the connection broke (Go's url.Error)."""


class VerificationError(RegistryError):
    """Content did not match its descriptor."""


def _errcode_text(code: str, message: str) -> str:
    """Go's errcode.Error.Error(): the code in lower case with spaces, then the message."""
    value = code if code in KNOWN_ERROR_CODES else "UNKNOWN"
    return f"{value.lower().replace('_', ' ')}: {message}"


def _errcode_list(codes: list[tuple[str, str]]) -> str:
    """errcode.Errors.Error(): one error as itself, several under `errors:`."""
    if len(codes) == 1:
        return _errcode_text(*codes[0])
    return "errors:\n" + "".join(_errcode_text(c, m) + "\n" for c, m in codes)


def error_from_response(status: int, reason: str, headers: Any, body: bytes) -> RegistryError:
    """docker/distribution's HandleErrorResponse: registry error bodies as Docker prints them."""
    if 400 <= status < 500:
        codes: list[tuple[str, str]] = []  # from the challenge, then the body (mergeErrors)
        for challenge in parse_challenges(headers.getall("WWW-Authenticate", []) if headers else []):
            if challenge.scheme == "bearer" and challenge.params.get("error") in (
                "invalid_token",
                "insufficient_scope",
            ):
                code = "UNAUTHORIZED" if challenge.params["error"] == "invalid_token" else "DENIED"
                message = challenge.params.get("error_description") or (
                    "authentication required"
                    if code == "UNAUTHORIZED"
                    else "requested access to the resource is denied"
                )
                codes.append((code, message))
                break
        parsed: Any = None
        with contextlib.suppress(ValueError, UnicodeDecodeError):
            parsed = json.loads(body) if body else None
        if isinstance(parsed, dict) and isinstance(parsed.get("details"), str) and parsed["details"]:
            code = {401: "UNAUTHORIZED", 429: "TOOMANYREQUESTS"}.get(status, "UNKNOWN")
            codes.append((code, parsed["details"]))
        elif isinstance(parsed, dict) and isinstance(parsed.get("errors"), list) and parsed["errors"]:
            for entry in parsed["errors"]:
                if isinstance(entry, dict):
                    code = str(entry.get("code", "UNKNOWN")).upper()
                    message = entry.get("message") or DEFAULT_ERROR_MESSAGES.get(code, "")
                    codes.append((code, str(message)))
        if len(codes) > 1 and codes[0][0] in {code for code, _ in codes[1:]}:
            codes = codes[1:]  # the body says it again, in its own words
        elif not codes:
            if status == 401:
                codes.append(("UNAUTHORIZED", "authentication required"))
            else:
                shown = body[:200].decode("utf-8", "replace")
                why = "unexpected end of JSON input" if not body else "invalid character in response body"
                return RegistryError(
                    f"error parsing HTTP {status} response body: {why}: {shown!r}", status=500
                )
        return RegistryError(_errcode_list(codes), codes)
    return RegistryError(f"received unexpected HTTP status: {status} {reason}")


def _go_method(method: str) -> str:
    return method[:1].upper() + method[1:].lower()


def describe_transport_error(e: BaseException, url: URL) -> str:
    """Go's net/http wording for a failed request: what follows `Get "URL": `."""
    host = url.host or ""
    port = url.port or (443 if url.scheme == "https" else 80)
    address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    if isinstance(e, aiohttp.ClientConnectorCertificateError):
        return f"tls: failed to verify certificate: {e.certificate_error}"
    if isinstance(e, aiohttp.ClientConnectorSSLError | aiohttp.ClientSSLError | ssl.SSLError):
        return "http: server gave HTTP response to HTTPS client" if "WRONG_VERSION" in str(e) else f"tls: {e}"
    os_error = getattr(e, "os_error", None)
    if isinstance(os_error, socket.gaierror) or isinstance(e, socket.gaierror):
        return f"dial tcp: lookup {host}: no such host"
    if isinstance(e, aiohttp.ClientConnectorError) and isinstance(os_error, OSError):
        code = os_error.errno
        if code == errno.ECONNREFUSED:
            return f"dial tcp {address}: connect: connection refused"
        if code in (errno.ENETUNREACH, errno.EHOSTUNREACH):
            what = "network" if code == errno.ENETUNREACH else "host"
            return f"dial tcp {address}: connect: {what} is unreachable"
        return f"dial tcp {address}: connect: {os_error.strerror or os_error}"
    if isinstance(e, aiohttp.ServerDisconnectedError):
        return "EOF"
    if isinstance(e, aiohttp.ClientPayloadError):
        return "unexpected EOF"
    if isinstance(e, TimeoutError | asyncio.TimeoutError):
        return f"dial tcp {address}: i/o timeout"
    if isinstance(e, OSError) and e.strerror:
        return f"read tcp {address}: {e.strerror.lower()}"
    return str(e) or type(e).__name__


def _transport_error(method: str, url: URL, e: BaseException) -> TransportError:
    return TransportError(f'{_go_method(method)} "{url}": {describe_transport_error(e, url)}')


_TRANSPORT_ERRORS = (aiohttp.ClientError, OSError, TimeoutError, asyncio.TimeoutError)


# -- challenges -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Challenge:
    scheme: str  # lower case: "bearer", "basic"
    params: dict[str, str]


def parse_challenges(values: Iterable[str]) -> list[Challenge]:
    """WWW-Authenticate headers (RFC 7235): `Bearer realm="x",service="y",scope="a b"`, several per header."""
    out: list[Challenge] = []
    for value in values:
        i, n = 0, len(value)
        current: Challenge | None = None
        while i < n:
            while i < n and value[i] in " \t,":
                i += 1
            start = i
            while i < n and value[i] not in " \t,=":
                i += 1
            token = value[start:i]
            if not token:
                break
            j = i
            while j < n and value[j] in " \t":
                j += 1
            if j < n and value[j] == "=" and current is not None:
                i = j + 1
                while i < n and value[i] in " \t":
                    i += 1
                if i < n and value[i] == '"':
                    i += 1
                    chars = []
                    while i < n and value[i] != '"':
                        if value[i] == "\\" and i + 1 < n:
                            i += 1
                        chars.append(value[i])
                        i += 1
                    i += 1
                    param = "".join(chars)
                else:
                    start = i
                    while i < n and value[i] not in " \t,":
                        i += 1
                    param = value[start:i]
                current.params[token.lower()] = param
            else:
                current = Challenge(token.lower(), {})
                out.append(current)
                i = j
    return out


# -- endpoints ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RegistryOptions:
    """The daemon's registry settings (daemon.json `insecure-registries`, `registry-mirrors`)."""

    insecure_registries: tuple[str, ...] = ()
    mirrors: tuple[str, ...] = ()
    user_agent: str = ""


@dataclass(frozen=True)
class Endpoint:
    url: URL  # scheme://host[:port], no path
    verify_tls: bool = True
    mirror: bool = False

    def v2(self, path: str = "") -> URL:
        return URL(f"{self.url}/v2/{path}", encoded=False)


def _split_host(domain: str) -> str:
    if domain.startswith("["):
        return domain[1 : domain.index("]")] if "]" in domain else domain
    return domain.rsplit(":", 1)[0] if domain.count(":") == 1 else domain


def is_insecure(domain: str, insecure_registries: Iterable[str]) -> bool:
    """Whether dockerd would talk to `domain` without TLS verification (and over plain HTTP)."""
    host = _split_host(domain)
    networks = []
    for entry in insecure_registries:
        if entry in (domain, host):
            return True
        with contextlib.suppress(ValueError):
            if "/" in entry:
                networks.append(ipaddress.ip_network(entry, strict=False))
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or any(address in network for network in networks)


def normalize_server_address(address: str) -> str:
    """The registry a `docker login` server address names: `https://index.docker.io/v1/` is docker.io."""
    value = address.strip()
    if "://" in value:
        value = value.split("://", 1)[1]
    value = value.split("/", 1)[0]
    if not value or value in DOCKER_HUB_ALIASES:
        return DOCKER_HUB_DOMAIN
    return value


# -- the client -----------------------------------------------------------------------------------


def _default_user_agent() -> str:
    return f"jocker/{__version__} go/none os/linux arch/{platform.machine()}"


class RegistryClient:
    """One per daemon: the HTTP session (connection pool) and which scheme each insecure host speaks."""

    def __init__(self, options: RegistryOptions | None = None) -> None:
        self.options = options or RegistryOptions()
        self.user_agent = self.options.user_agent or _default_user_agent()
        self._session: aiohttp.ClientSession | None = None
        self._working: dict[str, Endpoint] = {}  # insecure host → the endpoint that answered

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=64, limit_per_host=16),
                timeout=aiohttp.ClientTimeout(total=None, connect=30, sock_connect=30, sock_read=120),
                auto_decompress=False,  # a layer is stored as the registry sends it
                trust_env=False,
                read_bufsize=1 << 20,
                headers={"User-Agent": self.user_agent},
                cookie_jar=aiohttp.DummyCookieJar(),
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    def endpoints(self, domain: str, *, push: bool = False) -> list[Endpoint]:
        """Where `domain` is served, in the order dockerd tries them."""
        if domain == DOCKER_HUB_DOMAIN:
            mirrors = (
                [] if push else [Endpoint(URL(m), verify_tls=True, mirror=True) for m in self.options.mirrors]
            )
            return [*mirrors, Endpoint(URL(DOCKER_HUB_API))]
        if is_insecure(domain, self.options.insecure_registries):
            candidates = [
                Endpoint(URL(f"https://{domain}"), verify_tls=False),
                Endpoint(URL(f"http://{domain}"), False),
            ]
            known = self._working.get(domain)
            if known is not None:
                candidates.remove(known)
                candidates.insert(0, known)
            return candidates
        return [Endpoint(URL(f"https://{domain}"))]

    async def open(
        self,
        domain: str,
        path: str,
        credentials: Credentials = ANONYMOUS,
        *,
        actions: tuple[str, ...] = ("pull",),
        endpoint: Endpoint | None = None,
    ) -> Repository:
        """A repository on `domain` (or on `endpoint`, a mirror), its endpoint found by a ping."""
        candidates = [endpoint] if endpoint is not None else self.endpoints(domain, push="push" in actions)
        last: RegistryError | None = None
        for candidate in candidates:
            if candidate.mirror and endpoint is None:
                continue  # mirrors are tried by the caller, which falls back on any failure
            try:
                challenge = await self.ping(candidate)
            except TransportError as e:
                last = e
                continue
            if not candidate.mirror and candidate.url.host != "registry-1.docker.io":
                self._working[domain] = candidate
            return Repository(self, candidate, path, credentials, actions, challenge)
        assert last is not None
        raise last

    async def ping(self, endpoint: Endpoint, headers: dict[str, str] | None = None) -> Challenge | None:
        """GET /v2/: None when open, else the challenge the registry answers with."""
        url = endpoint.v2()
        try:
            async with self.session.get(
                url, headers=headers or {}, ssl=_ssl(endpoint), allow_redirects=True
            ) as resp:
                await resp.read()
                status, reason = resp.status, resp.reason or ""
                challenges = parse_challenges(resp.headers.getall("WWW-Authenticate", []))
        except _TRANSPORT_ERRORS as e:
            raise _transport_error("GET", url, e) from None
        if status == 401:
            for challenge in challenges:
                if challenge.scheme in ("bearer", "basic"):
                    return challenge
            return Challenge("basic", {})
        if status >= 400 and status != 401:
            raise TransportError(f'Get "{url}": received unexpected HTTP status: {status} {reason}')
        return None

    async def login(self, server_address: str, credentials: Credentials) -> str:
        """Check credentials against a registry as `docker login` does (moby registry.loginV2).

        Returns the identity token the registry handed out, if any. Raises UnauthorizedError with
        dockerd's wording when the registry refuses them.
        """
        domain = normalize_server_address(server_address or credentials.server_address)
        last: RegistryError | None = None
        for endpoint in self.endpoints(domain, push=True):
            try:
                return await self._login(endpoint, domain, credentials)
            except UnauthorizedError:
                raise
            except RegistryError as e:
                last = e
                log.info("login to %s failed, trying the next endpoint: %s", endpoint.url, e)
        assert last is not None
        raise last

    async def _login(self, endpoint: Endpoint, domain: str, credentials: Credentials) -> str:
        url = endpoint.v2()
        challenge = await self.ping(endpoint)
        if not endpoint.verify_tls:
            self._working[domain] = endpoint
        if challenge is None:
            return ""
        headers: dict[str, str] = {}
        identity = ""
        if challenge.scheme == "bearer":
            auth = _Authorizer(self, endpoint, credentials, [], challenge, login=True)
            try:
                await auth.fetch_token()
            except RegistryError as e:
                error = UnauthorizedError if e.code == "UNAUTHORIZED" else RegistryError
                raise error(f'Get "{url}": {e}') from None
            headers["Authorization"] = f"Bearer {auth.token}"
            identity = auth.refresh_token
        else:
            if not credentials.username:
                raise UnauthorizedError(f'Get "{url}": no basic auth credentials')
            headers["Authorization"] = basic_authorization(credentials.username, credentials.password)
        try:
            async with self.session.get(url, headers=headers, ssl=_ssl(endpoint)) as resp:
                await resp.read()
                status, reason = resp.status, resp.reason or ""
        except _TRANSPORT_ERRORS as e:
            raise _transport_error("GET", url, e) from None
        if status == 200:
            return identity
        message = f"login attempt to {url} failed with status: {status} {reason}"
        raise UnauthorizedError(message) if status == 401 else RegistryError(message)


def _ssl(endpoint: Endpoint) -> bool | None:
    if endpoint.url.scheme != "https":
        return None
    return None if endpoint.verify_tls else False


class _Authorizer:
    """The Authorization header for one repository session (docker/distribution's auth.Authorizer)."""

    def __init__(
        self,
        client: RegistryClient,
        endpoint: Endpoint,
        credentials: Credentials,
        scopes: list[str],
        challenge: Challenge | None,
        *,
        login: bool = False,
    ) -> None:
        self.client = client
        self.endpoint = endpoint
        self.credentials = credentials
        self.scopes = list(dict.fromkeys(scopes))
        self.challenge = challenge
        self.login = login
        self.token = ""
        self.refresh_token = ""
        self.expires = 0.0

    async def header(self) -> dict[str, str]:
        """Raises RegistryError with the reason (the caller prefixes the request)."""
        if self.challenge is None:
            return {}
        if self.challenge.scheme == "basic":
            if not self.credentials.username:
                raise RegistryError("no basic auth credentials")
            creds = self.credentials
            return {"Authorization": basic_authorization(creds.username, creds.password)}
        if self.credentials.registry_token:
            return {"Authorization": f"Bearer {self.credentials.registry_token}"}
        if not self.token or time.monotonic() >= self.expires:
            await self.fetch_token()
        return {"Authorization": f"Bearer {self.token}"}

    def update(self, challenges: list[Challenge]) -> bool:
        """After a 401: take the registry's new challenge; True if one retry may succeed.

        A Bearer challenge (an expired token, a scope the token lacks) always earns a new token;
        a Basic one only if the ping did not ask for credentials (they were never sent).
        """
        for challenge in challenges:
            if challenge.scheme == "bearer":
                scope = challenge.params.get("scope", "")
                self.scopes.extend(s for s in scope.split(" ") if s and s not in self.scopes)
                self.challenge = challenge
                self.token = ""
                return True
            if challenge.scheme == "basic":
                retry = self.challenge is None or self.challenge.scheme != "basic"
                self.challenge = challenge
                return retry
        return False

    async def fetch_token(self) -> None:
        assert self.challenge is not None
        realm = self.challenge.params.get("realm", "")
        if not realm:
            raise RegistryError("no realm specified for token auth challenge")
        service = self.challenge.params.get("service", "")
        creds = self.credentials
        session = self.client.session
        try:
            if creds.identity_token:
                form = {
                    "grant_type": "refresh_token",
                    "refresh_token": creds.identity_token,
                    "service": service,
                    "client_id": "docker",
                    "scope": " ".join(self.scopes),
                    "access_type": "offline",
                }
                request = session.post(realm, data=form)
            else:
                query: list[tuple[str, str]] = []
                if service:
                    query.append(("service", service))
                query.extend(("scope", s) for s in self.scopes)
                headers = {}
                if creds.username:
                    query.append(("account", creds.username))
                    headers["Authorization"] = basic_authorization(creds.username, creds.password)
                if self.login:
                    query.extend((("offline_token", "true"), ("client_id", "docker")))
                request = session.get(URL(realm).update_query(query), headers=headers)
            async with request as resp:
                body = await resp.content.read(MAX_CONFIG_SIZE)
                status, reason, headers = resp.status, resp.reason or "", resp.headers
        except _TRANSPORT_ERRORS as e:
            raise _transport_error("POST" if creds.identity_token else "GET", URL(realm), e) from None
        if status != 200:
            raise error_from_response(status, reason, headers, body)
        try:
            data = json.loads(body)
            token = data.get("token") or data.get("access_token")
        except (ValueError, AttributeError):
            token = None
        if not isinstance(token, str) or not token:
            raise RegistryError("authorization server did not include a token in the response")
        lifetime = data.get("expires_in")
        lifetime = (
            lifetime if isinstance(lifetime, int) and lifetime > TOKEN_MIN_LIFETIME else TOKEN_MIN_LIFETIME
        )
        self.token = token
        self.refresh_token = data.get("refresh_token") or ""
        self.expires = time.monotonic() + lifetime - 5


ByteReader = Callable[[int, int], Awaitable[bytes]]  # (offset, length) → bytes of the blob
Progress = Callable[[int], None]  # bytes done so far


MAX_TAG_PAGES = 1000  # a bound on a registry that keeps linking to more pages


def _next_page(url: URL, link: str) -> URL | None:
    """The `<...>; rel="next"` target of a Link header, resolved against `url` (RFC 5988)."""
    match = re.search(r'<([^>]*)>\s*;\s*rel="?next"?', link)
    return url.join(URL(match.group(1), encoded=True)) if match else None


class Repository:
    """One repository on one endpoint, with its authorization."""

    def __init__(
        self,
        client: RegistryClient,
        endpoint: Endpoint,
        path: str,
        credentials: Credentials,
        actions: tuple[str, ...],
        challenge: Challenge | None,
    ) -> None:
        self.client = client
        self.endpoint = endpoint
        self.path = path
        scopes = [f"repository:{path}:{','.join(actions)}"]
        self.auth = _Authorizer(client, endpoint, credentials, scopes, challenge)

    def add_scope(self, scope: str) -> None:
        if scope not in self.auth.scopes:
            self.auth.scopes.append(scope)
            self.auth.token = ""

    def url(self, suffix: str) -> URL:
        return self.endpoint.v2(f"{self.path}/{suffix}")

    @contextlib.asynccontextmanager
    async def request(
        self,
        method: str,
        url: URL,
        *,
        headers: dict[str, str] | None = None,
        data: Any = None,
        replayable: bool = True,
        follow: bool = False,
    ) -> AsyncIterator[aiohttp.ClientResponse]:
        """One authorized request; a 401 with a new challenge gets a fresh token and one retry."""
        session = self.client.session
        for attempt in (0, 1):
            try:
                auth = await self.auth.header()
            except TransportError:
                raise
            except RegistryError as e:
                # Go's url.Error around the token fetch: worded with the request, and no longer
                # a registry errcode (a pull does not turn it into "manifest for ... not found").
                raise RegistryError(f'{_go_method(method)} "{url}": {e}') from None
            try:
                resp = await session.request(
                    method,
                    url,
                    headers={**(headers or {}), **auth},
                    data=data() if callable(data) else data,
                    allow_redirects=False,
                    ssl=_ssl(self.endpoint),
                )
            except _TRANSPORT_ERRORS as e:
                raise _transport_error(method, url, e) from None
            try:
                challenges = parse_challenges(resp.headers.getall("WWW-Authenticate", []))
                if resp.status == 401 and attempt == 0 and replayable and self.auth.update(challenges):
                    continue
                if follow and resp.status in REDIRECT_STATUSES and "Location" in resp.headers:
                    redirected = await self._follow(resp, url, headers or {})
                    try:
                        yield redirected
                    finally:
                        redirected.release()
                    return
                yield resp
                return
            finally:
                resp.release()

    async def _follow(
        self, resp: aiohttp.ClientResponse, url: URL, headers: dict[str, str]
    ) -> aiohttp.ClientResponse:
        """Follow a blob redirect (a CDN, object storage); credentials never leave the registry's origin."""
        for _ in range(MAX_REDIRECTS):
            location = url.join(URL(resp.headers["Location"], encoded=True))
            resp.release()
            same_origin = location.origin() == self.endpoint.url.origin()
            extra = await self.auth.header() if same_origin else {}
            try:
                resp = await self.client.session.get(
                    location,
                    headers={**headers, **extra},
                    allow_redirects=False,
                    ssl=_ssl(self.endpoint) if same_origin else None,
                )
            except _TRANSPORT_ERRORS as e:
                raise _transport_error("GET", location, e) from None
            url = location
            if resp.status not in REDIRECT_STATUSES or "Location" not in resp.headers:
                return resp
        resp.release()
        raise RegistryError(f'Get "{url}": stopped after {MAX_REDIRECTS} redirects')

    async def _error(self, resp: aiohttp.ClientResponse) -> RegistryError:
        body = await resp.content.read(1 << 16)
        return error_from_response(resp.status, resp.reason or "", resp.headers, body)

    # Pull

    async def tags(self) -> list[str]:
        """Every tag of the repository (GET /v2/<name>/tags/list), following the Link header's
        pages as the distribution client's Tags().All() does."""
        url: URL | None = self.url("tags/list")
        found: list[str] = []
        for _ in range(MAX_TAG_PAGES):
            if url is None:
                break
            async with self.request("GET", url) as resp:
                if resp.status != 200:
                    raise await self._error(resp)
                data = await _read_capped(resp, MAX_MANIFEST_SIZE, url)
                link = resp.headers.get("Link", "")
            try:
                found.extend(str(tag) for tag in json.loads(data).get("tags") or [])
            except (ValueError, AttributeError):
                raise RegistryError(f"invalid tag list from {url}") from None
            url = _next_page(url, link)
        return found

    async def get_manifest(self, reference: str) -> tuple[Descriptor, bytes]:
        """The manifest or index `reference` (a tag or a digest) names, checked against its digest."""
        url = self.url(f"manifests/{reference}")
        async with self.request("GET", url, headers={"Accept": ACCEPT_MANIFESTS}) as resp:
            if resp.status != 200:
                raise await self._error(resp)
            data = await _read_capped(resp, MAX_MANIFEST_SIZE, url)
            content_type = resp.headers.get("Content-Type", "").split(";")[0].strip()
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        if ":" in reference and not reference.startswith("sha256:"):
            raise InvalidParameterError(f"unsupported digest algorithm: {reference.split(':')[0]}")
        if reference.startswith("sha256:") and digest != reference:
            raise VerificationError(f"manifest verification failed for digest {reference}")
        return Descriptor(
            media_type=manifest_media_type(content_type, data), digest=digest, size=len(data)
        ), data

    async def get_blob(self, descriptor: Descriptor, limit: int = MAX_CONFIG_SIZE) -> bytes:
        """A small blob (a config) in memory, checked against its descriptor."""
        if descriptor.size > limit:
            raise VerificationError(f"blob {descriptor.digest} is too big: {descriptor.size} bytes")
        chunks = [c async for c in self.blob_chunks(descriptor.digest, descriptor.size)]
        data = b"".join(chunks)
        if len(data) != descriptor.size or "sha256:" + hashlib.sha256(data).hexdigest() != descriptor.digest:
            raise VerificationError(f"blob verification failed for digest {descriptor.digest}")
        return data

    async def blob_chunks(self, digest: str, size: int, offset: int = 0) -> AsyncIterator[bytes]:
        """The blob's bytes from `offset` on, in order, resuming with Range after a broken connection.

        Stops early (raising VerificationError) if the registry sends more than `size` bytes.
        """
        url = self.url(f"blobs/{digest}")
        received = offset
        failures = 0
        while True:
            headers = {"Range": f"bytes={received}-"} if received else {}
            try:
                async with self.request("GET", url, headers=headers, follow=True) as resp:
                    skip = 0
                    if received and resp.status == 206:
                        start = _content_range_start(resp.headers.get("Content-Range", ""))
                        if start is None or start > received:
                            raise RegistryError(f"invalid Content-Range from registry for {digest}")
                        skip = received - start
                    elif received and resp.status == 200:
                        skip = received  # the registry ignored the range: drop what we have
                    elif resp.status != 200:
                        if received and resp.status == 416 and received == size:
                            return
                        raise await self._error(resp)
                    if received:
                        log.info("resuming blob %s at byte %d (HTTP %d)", digest, received, resp.status)
                    while True:
                        chunk = await resp.content.read(DOWNLOAD_CHUNK)
                        if not chunk:
                            break
                        if skip:
                            dropped = min(skip, len(chunk))
                            chunk, skip = chunk[dropped:], skip - dropped
                            if not chunk:
                                continue
                        received += len(chunk)
                        if received > size:
                            raise VerificationError(
                                f"filesystem layer verification failed for digest {digest}"
                            )
                        failures = 0
                        yield chunk
                    if received < size:
                        raise aiohttp.ClientPayloadError("response ended early")
                    return
            except RegistryError as e:
                if not isinstance(e, TransportError):
                    raise
                error: BaseException = e
            except _TRANSPORT_ERRORS as e:
                error = _transport_error("GET", url, e)
            failures += 1
            if failures > DOWNLOAD_RETRIES:
                raise error
            log.info("download of %s interrupted at byte %d (%s); retrying", digest, received, error)
            await asyncio.sleep(RETRY_DELAYS[min(failures, len(RETRY_DELAYS)) - 1])

    # Push

    async def blob_exists(self, digest: str) -> bool:
        url = self.url(f"blobs/{digest}")
        async with self.request("HEAD", url) as resp:
            if resp.status == 200:
                return True
            if resp.status == 404:
                return False
            raise await self._error(resp)

    async def start_upload(self, *, mount: str | None = None, source: str | None = None) -> URL | None:
        """POST an upload session; with `mount`/`source` try a cross-repository mount first.

        Returns None when the blob was mounted, else the upload location.
        """
        url = self.url("blobs/uploads/")
        if mount and source:
            url = url.with_query({"mount": mount, "from": source})
        async with self.request("POST", url, headers={"Content-Length": "0"}) as resp:
            if resp.status == 201 and mount:
                return None
            if resp.status != 202:
                raise await self._error(resp)
            return self._location(resp, url)

    def _location(self, resp: aiohttp.ClientResponse, base: URL) -> URL:
        location = resp.headers.get("Location")
        if not location:
            raise RegistryError(f"registry gave no upload location for {base}")
        return base.join(URL(location, encoded=True))

    async def upload_blob(
        self, location: URL, digest: str, size: int, read: ByteReader, progress: Progress
    ) -> None:
        """Send a blob into an upload session: one PUT if small, else PATCH chunks then the closing PUT."""
        octets = {"Content-Type": "application/octet-stream"}
        if size <= MONOLITHIC_UPLOAD_MAX:
            url = location.update_query({"digest": digest})
            async with self.request(
                "PUT",
                url,
                headers={**octets, "Content-Length": str(size)},
                data=lambda: _body(read, 0, size, progress),
            ) as resp:
                if resp.status != 201:
                    raise await self._error(resp)
            return
        offset = 0
        while offset < size:
            length = min(UPLOAD_CHUNK, size - offset)
            headers = {
                **octets,
                "Content-Length": str(length),
                "Content-Range": f"{offset}-{offset + length - 1}",
            }
            start = offset
            async with self.request(
                "PATCH", location, headers=headers, data=lambda s=start, n=length: _body(read, s, n, progress)
            ) as resp:
                if resp.status != 202:
                    raise await self._error(resp)
                location = self._location(resp, location)
            offset += length
        async with self.request(
            "PUT", location.update_query({"digest": digest}), headers={"Content-Length": "0"}
        ) as resp:
            if resp.status != 201:
                raise await self._error(resp)

    async def put_manifest(self, reference: str, media_type: str, data: bytes) -> str:
        url = self.url(f"manifests/{reference}")
        async with self.request("PUT", url, headers={"Content-Type": media_type}, data=data) as resp:
            if resp.status not in (200, 201):
                raise await self._error(resp)
            return resp.headers.get("Docker-Content-Digest") or "sha256:" + hashlib.sha256(data).hexdigest()


async def _body(read: ByteReader, offset: int, length: int, progress: Progress) -> AsyncIterator[bytes]:
    end = offset + length
    while offset < end:
        piece = await read(offset, min(UPLOAD_PIECE, end - offset))
        if not piece:
            raise RegistryError("blob changed while it was being pushed")
        offset += len(piece)
        yield piece
        progress(offset)


async def _read_capped(resp: aiohttp.ClientResponse, limit: int, url: URL) -> bytes:
    try:
        data = await resp.content.read(limit + 1)
        while len(data) <= limit:
            more = await resp.content.read(limit + 1 - len(data))
            if not more:
                break
            data += more
    except _TRANSPORT_ERRORS as e:
        raise _transport_error("GET", url, e) from None
    if len(data) > limit:
        raise RegistryError(f"manifest too big: more than {limit} bytes from {url}")
    return data


def _content_range_start(value: str) -> int | None:
    """`bytes 100-199/200` → 100."""
    unit, _, rest = value.partition(" ")
    if unit != "bytes":
        return None
    first = rest.split("-", 1)[0]
    return int(first) if first.isdigit() else None


def manifest_media_type(content_type: str, data: bytes) -> str:
    """A manifest's media type: the registry's Content-Type when it names one, else the document's."""
    known = MANIFEST_MEDIA_TYPES | INDEX_MEDIA_TYPES
    if content_type in known:
        return content_type
    try:
        document = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise RegistryError("manifest is not JSON") from None
    if not isinstance(document, dict):
        raise RegistryError("manifest is not a JSON object")
    declared = document.get("mediaType")
    if isinstance(declared, str) and declared in known:
        return declared
    if document.get("schemaVersion") == 1:
        raise RegistryError(
            "Docker Image Format v1 and Docker Image manifest version 2, schema 1 support has been removed"
        )
    if "manifests" in document:
        return MEDIA_TYPE_IMAGE_INDEX
    if "config" in document:
        return MEDIA_TYPE_IMAGE_MANIFEST
    raise RegistryError(f"unsupported manifest media type and no default available: {content_type}")
