"""EngineClient: the CLI's one way to reach jockerd (the facade the tests share).

Host: `--host`, then JOCKER_HOST, then DOCKER_HOST, then unix:///var/run/jocker.sock. The first
request of a run negotiates the API version as the docker CLI does (HEAD /_ping, GET /_ping when
HEAD fails; min(client max, Api-Version); 1.24 when the header is missing; the client max when
both fail) and every path then carries `/vX.Y/`.

Two transports behind one interface (docs/conventions.md says why):
- requests-unixsocket for transfers: uploads (load, import), downloads (save) and the progress
  streams of pull and push, where its ~200 ms import is lost in the transfer;
- a small HTTP/1.1 speaker on a plain AF_UNIX socket for everything else (ps, inspect, run…),
  where start-up time is the whole cost of a command. It is also what hijack.py upgrades.

Errors become CliError with Docker's wording: `Error response from daemon: <message>`.
"""

from __future__ import annotations

import _thread
import json
import os
import socket

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing costs start-up time
    from collections.abc import Iterable, Iterator
    from typing import Any

DEFAULT_HOST = "unix:///var/run/jocker.sock"
CLIENT_API_VERSION = "1.51"
FALLBACK_API_VERSION = "1.24"
USER_AGENT = "jocker-cli/0.1.0 (linux)"


class CliError(Exception):
    """A message for stderr and the exit status; `daemon` marks errors the daemon answered."""

    def __init__(self, message: str, status: int = 1, *, http_status: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.http_status = http_status

    @property
    def not_found(self) -> bool:
        return self.http_status == 404


def resolve_host(flag: str | None) -> str:
    return flag or os.environ.get("JOCKER_HOST") or os.environ.get("DOCKER_HOST") or DEFAULT_HOST


_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~")


def quote(text: str, safe: str = "") -> str:
    """Percent-encoding (urllib.parse.quote without its import cost)."""
    keep = _UNRESERVED | frozenset(safe.encode())
    return "".join(chr(b) if b in keep else f"%{b:02X}" for b in text.encode())


def urlencode(params: dict[str, Any]) -> str:
    """A query string; list values repeat the key (urlencode(doseq=True))."""
    pairs = []
    for key, value in params.items():
        for item in value if isinstance(value, (list, tuple)) else [value]:
            pairs.append(f"{quote(str(key))}={quote(str(item))}")
    return "&".join(pairs)


def version_tuple(version: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in version.split("."))
    except ValueError:
        return (0,)


def daemon_error(status: int, reason: str, content_type: str, body: bytes) -> CliError:
    """Docker's rendering of an error response (docker-cli-flows.md §A3)."""
    text = body.decode("utf-8", "replace")
    message = None
    if content_type.split(";")[0].strip() == "application/json":
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        if isinstance(data, dict):
            message = data.get("message")
            if not message:
                message = f"API returned a {status} ({reason}) but provided no error-message"
    if message is None:
        message = text.strip() or f"{status} {reason}"
    return CliError(f"Error response from daemon: {message}", http_status=status)


# -- the small transport ---------------------------------------------------------------------------


class Response:
    """A response whose body is read on demand (chunked or sized), from either transport."""

    def __init__(self, status: int, reason: str, headers: dict[str, str], reader: Any, conn: Any = None):
        self.status = status
        self.reason = reason
        self.headers = headers
        self._reader = reader  # a _BodyReader, or a requests.Response
        self._conn = conn
        self._body: bytes | None = None

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    def read(self) -> bytes:
        if self._body is None:
            if hasattr(self._reader, "read_all"):
                self._body = self._reader.read_all()
                self.release()
            else:
                self._body = self._reader.content
        return self._body

    def json(self) -> Any:
        return json.loads(self.read() or b"null")

    def iter_chunks(self, size: int = 65536) -> Iterator[bytes]:
        if hasattr(self._reader, "read_some"):
            while True:
                data = self._reader.read_some(size)
                if not data:
                    break
                yield data
            self.release()
        else:
            yield from self._reader.iter_content(size)

    def iter_lines(self) -> Iterator[bytes]:
        if hasattr(self._reader, "readline"):
            while True:
                line = self._reader.readline()
                if not line:
                    break
                if line.strip():
                    yield line
            self.release()
        else:
            for line in self._reader.iter_lines():
                if line.strip():
                    yield line

    def iter_json(self) -> Iterator[dict[str, Any]]:
        """JSON-lines streams (progress, events, stats). Objects may also be concatenated."""
        decoder = json.JSONDecoder()
        for line in self.iter_lines():
            text = line.decode("utf-8", "replace").strip()
            while text:
                obj, end = decoder.raw_decode(text)
                yield obj
                text = text[end:].lstrip()

    def release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.done(self)

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()
        elif hasattr(self._reader, "close"):
            self._reader.close()


class _BodyReader:
    """Reads one response body from a buffered socket file: Content-Length, chunked or to EOF."""

    def __init__(self, rfile: Any, headers: dict[str, str], method: str, status: int) -> None:
        self.rfile = rfile
        self.chunked = "chunked" in headers.get("transfer-encoding", "").lower()
        length = headers.get("content-length")
        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            self.remaining: int | None = 0
        elif self.chunked:
            self.remaining = None
        elif length is not None:
            self.remaining = int(length)
        else:
            self.remaining = -1  # until the connection closes
        self.chunk_left = 0
        self.finished = self.remaining == 0
        self.buffer = b""

    @property
    def reusable(self) -> bool:
        return self.finished and self.remaining != -1

    def read_some(self, size: int = 65536) -> bytes:
        if self.buffer:
            data, self.buffer = self.buffer[:size], self.buffer[size:]
            return data
        if self.finished:
            return b""
        if self.chunked:
            if self.chunk_left == 0:
                line = self.rfile.readline()
                if not line:
                    self.finished = True
                    return b""
                self.chunk_left = int(line.split(b";")[0].strip() or b"0", 16)
                if self.chunk_left == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    self.finished = True
                    return b""
            data = self.rfile.read1(min(size, self.chunk_left))
            if not data:
                self.finished = True
                return b""
            self.chunk_left -= len(data)
            if self.chunk_left == 0:
                self.rfile.readline()
            return data
        if self.remaining == -1:
            data = self.rfile.read1(size)
            if not data:
                self.finished = True
            return data
        assert self.remaining is not None
        data = self.rfile.read1(min(size, self.remaining))
        self.remaining -= len(data)
        if not data or self.remaining == 0:
            self.finished = True
        return data

    def readline(self) -> bytes:
        parts = []
        while True:
            data = self.read_some(65536)
            if not data:
                break
            index = data.find(b"\n")
            if index >= 0:
                parts.append(data[: index + 1])
                self.buffer = data[index + 1 :] + self.buffer
                break
            parts.append(data)
        return b"".join(parts)

    def read_all(self) -> bytes:
        parts = []
        while True:
            data = self.read_some(1 << 20)
            if not data:
                return b"".join(parts)
            parts.append(data)


class _Connection:
    """One keep-alive HTTP/1.1 connection on the daemon's socket."""

    def __init__(self, client: EngineClient, sock: socket.socket) -> None:
        self.client = client
        self.sock = sock
        self.rfile = sock.makefile("rb")

    def send(self, method: str, target: str, headers: dict[str, str], body: Any) -> None:
        lines = [f"{method} {target} HTTP/1.1", "Host: api.moby.localhost", f"User-Agent: {USER_AGENT}"]
        chunks: Iterable[bytes] | None = None
        if body is None:
            if method in ("POST", "PUT"):
                headers.setdefault("Content-Length", "0")
        elif isinstance(body, bytes):
            headers["Content-Length"] = str(len(body))
        else:
            headers["Transfer-Encoding"] = "chunked"
            chunks = body
        lines += [f"{k}: {v}" for k, v in headers.items()]
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        if isinstance(body, bytes):
            self.sock.sendall(head + body)
            return
        self.sock.sendall(head)
        if chunks is not None:
            for chunk in chunks:
                if chunk:
                    self.sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.sock.sendall(b"0\r\n\r\n")

    def read_head(self) -> tuple[int, str, dict[str, str]]:
        line = self.rfile.readline(65537)
        if not line:
            raise ConnectionError("the daemon closed the connection")
        parts = line.decode("latin-1").rstrip("\r\n").split(" ", 2)
        status = int(parts[1])
        reason = parts[2] if len(parts) > 2 else ""
        headers: dict[str, str] = {}
        while True:
            line = self.rfile.readline(65537)
            if line in (b"\r\n", b"\n", b""):
                break
            key, _, value = line.decode("latin-1").partition(":")
            headers[key.strip().lower()] = value.strip()
        return status, reason, headers

    def done(self, response: Response) -> None:
        reader = response._reader
        if isinstance(reader, _BodyReader) and reader.reusable and not reader.buffer:
            self.client._idle(self)
        else:
            self.close()

    def close(self) -> None:
        try:
            self.rfile.close()
            self.sock.close()
        except OSError:
            pass


# -- the client ------------------------------------------------------------------------------------


class EngineClient:
    def __init__(self, host: str | None = None, *, api_version: str | None = None) -> None:
        self.host = resolve_host(host)
        if not self.host.startswith("unix://"):
            raise CliError(f"unsupported host {self.host!r}: jocker speaks to jockerd over unix:// sockets")
        self.socket_path = self.host[len("unix://") :]
        self._version = api_version or os.environ.get("DOCKER_API_VERSION") or None
        self._ping_headers: dict[str, str] = {}
        self._pool: list[_Connection] = []
        self._lock = _thread.allocate_lock()
        self._session: Any = None

    # -- connections

    def connect(self) -> socket.socket:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(self.socket_path)
        except OSError as e:
            sock.close()
            raise self.connection_error(e) from None
        return sock

    def connection_error(self, error: OSError) -> CliError:
        if isinstance(error, PermissionError):
            return CliError(
                f"permission denied while trying to connect to the jocker daemon socket at {self.host}"
            )
        return CliError(f"Cannot connect to the jocker daemon at {self.host}. Is jockerd running?")

    def _get_conn(self) -> tuple[_Connection, bool]:
        """An idle kept-alive connection (True) or a new one (False)."""
        with self._lock:
            if self._pool:
                return self._pool.pop(), True
        return _Connection(self, self.connect()), False

    def _idle(self, conn: _Connection) -> None:
        with self._lock:
            self._pool.append(conn)

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, []
        for conn in pool:
            conn.close()
        if self._session is not None:
            self._session.close()

    # -- version negotiation

    @property
    def api_version(self) -> str:
        if self._version is None:
            self.ping()
        assert self._version is not None
        return self._version

    def ping(self) -> dict[str, str]:
        """HEAD /_ping (GET when HEAD fails), as the docker CLI does at the start of every run."""
        headers: dict[str, str] | None = None
        for method in ("HEAD", "GET"):
            response = self._raw(method, "/_ping")
            response.read()
            if 200 <= response.status < 300:
                headers = response.headers
                break
        if self._version is None:
            if headers is None:
                self._version = CLIENT_API_VERSION
            else:
                server = headers.get("api-version") or FALLBACK_API_VERSION
                self._version = min(server, CLIENT_API_VERSION, key=version_tuple)
        self._ping_headers = headers or {}
        return self._ping_headers

    def at_least(self, version: str) -> bool:
        return version_tuple(self.api_version) >= version_tuple(version)

    def path(self, path: str, params: dict[str, Any] | None = None) -> str:
        target = f"/v{self.api_version}{path}"
        if params:
            query = {k: v for k, v in params.items() if v is not None}
            if query:
                target += "?" + urlencode(query)
        return target

    # -- requests

    def _raw(self, method: str, target: str, *, body: Any = None, headers: dict[str, str] | None = None):
        attempts = 2
        while True:
            conn, reused = self._get_conn()
            try:
                conn.send(method, target, dict(headers or {}), body)
                status, reason, response_headers = conn.read_head()
                break
            except (TimeoutError, ConnectionError, BrokenPipeError, ValueError, IndexError) as e:
                conn.close()
                attempts -= 1
                # A kept-alive connection the daemon closed meanwhile: one retry on a new one.
                if attempts == 0 or not reused or not (body is None or isinstance(body, bytes)):
                    raise CliError(f"error during connect: {e}") from None
        reader = _BodyReader(conn.rfile, response_headers, method, status)
        response = Response(status, reason, response_headers, reader, conn)
        if reader.finished:
            response.release()
        return response

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
        data: Any = None,
        headers: dict[str, str] | None = None,
        ok: tuple[int, ...] = (),
    ) -> Response:
        """One API call; an error status becomes a CliError (except the ones listed in `ok`)."""
        headers = dict(headers or {})
        body = data
        if json_body is not None:
            body = json.dumps(json_body, separators=(",", ":")).encode()
            headers["Content-Type"] = "application/json"
        response = self._raw(method, self.path(path, params), body=body, headers=headers)
        if response.status >= 400 and response.status not in ok:
            raise daemon_error(response.status, response.reason, response.content_type, response.read())
        return response

    def get_json(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return self.request("GET", path, params=params).json()

    def post(
        self, path: str, params: dict[str, Any] | None = None, json_body: Any = None, **kw: Any
    ) -> Response:
        response = self.request("POST", path, params=params, json_body=json_body, **kw)
        response.read()
        return response

    def delete(self, path: str, params: dict[str, Any] | None = None) -> Response:
        response = self.request("DELETE", path, params=params)
        response.read()
        return response

    # -- the transfer transport (requests-unixsocket)

    def transfer(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        data: Any = None,
        json_body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        """A streamed request through requests-unixsocket: uploads, downloads, progress streams."""
        if self._session is None:
            import requests_unixsocket

            self._session = requests_unixsocket.Session()
        url = "http+unix://" + quote(self.socket_path, safe="") + self.path(path, params)
        all_headers = {"User-Agent": USER_AGENT, **(headers or {})}
        import requests

        try:
            reply = self._session.request(
                method, url, data=data, json=json_body, headers=all_headers, stream=True, timeout=None
            )
        except requests.ConnectionError as e:
            raise self.connection_error(OSError(str(e))) from None
        lowered = {k.lower(): v for k, v in reply.headers.items()}
        if reply.status_code >= 400:
            raise daemon_error(
                reply.status_code, reply.reason or "", lowered.get("content-type", ""), reply.content
            )
        return Response(reply.status_code, reply.reason or "", lowered, reply)

    # -- hijacked streams

    def hijack(self, path: str, params: dict[str, Any] | None = None, json_body: Any = None):
        """POST with `Upgrade: tcp`; the socket once the daemon answered 101 (hijack.py)."""
        from jocker_cli.hijack import upgrade

        return upgrade(self, self.path(path, params), json_body)
