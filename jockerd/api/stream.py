"""Streaming responses: JSON lines flushed one object per chunk (docker-cli-flows.md §A6)."""

from __future__ import annotations

import asyncio
import fcntl
import json
import logging
import termios
import time
from collections.abc import AsyncIterator, Awaitable
from typing import Any, TypeVar

from aiohttp import web

from jockerd.errors import JockerError

log = logging.getLogger("jockerd.api")
T = TypeVar("T")


DISCONNECT_POLL = 1.0  # how often a long wait checks whether its client is still there


async def until_disconnected(request: web.Request, awaitable: Awaitable[T]) -> T:
    """`awaitable`'s result, or ConnectionResetError once the client has gone away.

    aiohttp does not cancel a handler when its client disconnects, so a long wait (the /wait a
    `docker run -d` leaves behind, an idle /events or `logs -f`) would otherwise outlive it.
    """
    task = asyncio.ensure_future(awaitable)
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=DISCONNECT_POLL)
            if done:
                return task.result()
            transport = request.transport
            if transport is None or transport.is_closing():
                raise ConnectionResetError("client went away")
    finally:
        if not task.done():
            task.cancel()


async def each_until_disconnected(request: web.Request, items: AsyncIterator[T]) -> AsyncIterator[T]:
    """The items of `items` while the client is connected (see until_disconnected)."""
    iterator = aiter(items)
    while True:
        try:
            yield await until_disconnected(request, anext(iterator))
        except StopAsyncIteration:
            return


def error_message(message: str, code: int = 0) -> dict[str, Any]:
    """An error after the 200 has gone out travels in the stream in this shape."""
    detail: dict[str, Any] = {"message": message}
    if code:
        detail["code"] = code
    return {"errorDetail": detail, "error": message}


async def json_lines(
    request: web.Request, messages: AsyncIterator[dict[str, Any]], *, status: int = 200
) -> web.StreamResponse:
    """Send each message as one JSON line as soon as it is produced.

    The first message is awaited before the headers go out, so an error found before any
    progress (a missing image, a malformed archive) is still an ordinary HTTP error.
    """
    iterator = aiter(messages)
    try:
        first = await anext(iterator)
    except StopAsyncIteration:
        first = None
    response = web.StreamResponse(status=status, headers={"Content-Type": "application/json"})
    response.enable_chunked_encoding()
    await response.prepare(request)
    try:
        if first is not None:
            await response.write(_line(first))
        async for message in iterator:
            await response.write(_line(message))
    except JockerError as e:
        await response.write(_line(error_message(str(e))))
    except (ConnectionResetError, asyncio.CancelledError):
        raise
    except Exception as e:
        # The 200 is already out: the error can only travel in the stream (docker-cli-flows §A6).
        log.exception("error while streaming %s %s", request.method, request.path)
        await response.write(_line(error_message(f"internal error: {e}")))
    await response.write_eof()
    return response


def _line(message: dict[str, Any]) -> bytes:
    return (json.dumps(message, separators=(",", ":")) + "\n").encode()


async def byte_stream(
    request: web.Request, chunks: AsyncIterator[bytes], content_type: str
) -> web.StreamResponse:
    """Stream raw bytes (an image archive); the first chunk is awaited before the headers."""
    iterator = aiter(chunks)
    try:
        first = await anext(iterator)
    except StopAsyncIteration:
        first = b""
    response = web.StreamResponse(status=200, headers={"Content-Type": content_type})
    response.enable_chunked_encoding()
    await response.prepare(request)
    if first:
        await response.write(first)
    async for chunk in iterator:
        await response.write(chunk)
    await response.write_eof()
    return response


# -- hijacked connections (attach, exec start): docker-cli-flows.md §A5 -----------------------------

UPGRADE_HEAD = (
    "HTTP/1.1 101 UPGRADED\r\nContent-Type: {content_type}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n"
)
RAW_STREAM = "application/vnd.docker.raw-stream"
MULTIPLEXED_STREAM = "application/vnd.docker.multiplexed-stream"
HIGH_WATER = 4 * 1024 * 1024  # stop reading from the client beyond this much unread stdin
HEAD_READ_TIMEOUT = 1.0  # how long the first payload waits for the client to read the 101


def _unread_by_peer(transport: asyncio.BaseTransport) -> int:
    """Bytes we sent on this socket that the peer has not read yet (SIOCOUTQ; 0 if unknown).

    On a unix socket the count drops only when the client's read() takes the bytes, which is
    what `HijackedStream` needs to know (for TCP it drops at the ACK, which is harmless).
    """
    sock = transport.get_extra_info("socket")
    if sock is None:
        return 0
    try:
        buf = fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, b"\0\0\0\0")
    except OSError:
        return 0
    return int.from_bytes(buf, "little")


class HijackedStream(asyncio.Protocol):
    """The client connection after the 101, taken over from aiohttp (its protocol is replaced).

    aiohttp's own protocol would close the transport on the client's half-close and parse stdin
    as HTTP; this one keeps writing after EOF from the client and hands stdin bytes over as is.

    The first payload waits (at most HEAD_READ_TIMEOUT) until the client has read the 101 head:
    docker-py parses the head through a buffered reader and then reads the raw socket, so bytes
    that arrived together with the head would sit in that buffer, lost (`attach(logs=True,
    stream=False)` and `exec_run` of a fast command came back empty under load).
    """

    def __init__(self, transport: asyncio.Transport) -> None:
        self.transport = transport
        self._chunks: asyncio.Queue[bytes] = asyncio.Queue()
        self._buffered = 0
        self._eof = False
        self._closed = False
        self._can_write = asyncio.Event()
        self._can_write.set()
        self._paused_reading = False
        self._head_read = False

    async def _wait_head_read(self) -> None:
        self._head_read = True
        deadline = time.monotonic() + HEAD_READ_TIMEOUT
        delay = 0.0005
        while _unread_by_peer(self.transport) and time.monotonic() < deadline and not self._closed:
            await asyncio.sleep(delay)  # no event says "the peer read it": SIOCOUTQ is polled
            delay = min(delay * 2, 0.02)

    # asyncio.Protocol

    def data_received(self, data: bytes) -> None:
        self._chunks.put_nowait(data)
        self._buffered += len(data)
        if self._buffered > HIGH_WATER and not self._paused_reading:
            self._paused_reading = True
            self.transport.pause_reading()

    def eof_received(self) -> bool:
        self._eof = True
        self._chunks.put_nowait(b"")
        return True  # keep the transport open for output (half-close)

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed = True
        self._can_write.set()
        if not self._eof:
            self._eof = True
            self._chunks.put_nowait(b"")

    def pause_writing(self) -> None:
        self._can_write.clear()

    def resume_writing(self) -> None:
        self._can_write.set()

    # ClientStream (services/attach.py)

    async def read(self) -> bytes:
        if self._eof and self._chunks.empty():
            return b""
        data = await self._chunks.get()
        self._buffered -= len(data)
        if self._paused_reading and self._buffered < HIGH_WATER // 2 and not self._closed:
            self._paused_reading = False
            self.transport.resume_reading()
        return data

    async def write(self, data: bytes) -> None:
        if not self._head_read:
            await self._wait_head_read()
        if self._closed or self.transport.is_closing():
            raise ConnectionResetError("client connection closed")
        self.transport.write(data)
        await self._can_write.wait()
        if self._closed:
            raise ConnectionResetError("client connection closed")

    async def close(self) -> None:
        if self._closed or self.transport.is_closing():
            return
        await self._can_write.wait()
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.transport.close()


async def hijack(request: web.Request, *, multiplexed: bool = False) -> HijackedStream:
    """Answer 101 ourselves and take the connection over from aiohttp.

    The handler must then run the session and end with `end_hijacked()`, so aiohttp writes no
    response of its own on this connection.
    """
    transport = request.transport
    if transport is None:
        raise ConnectionResetError("client connection closed")
    content_type = MULTIPLEXED_STREAM if multiplexed else RAW_STREAM
    head = UPGRADE_HEAD.format(content_type=content_type)
    if request.headers.get("Upgrade", "").lower() not in ("tcp", "h2c"):
        # Clients that don't ask for an upgrade (old API versions) still get the raw stream.
        head = head.replace("101 UPGRADED", "200 OK").replace("Connection: Upgrade\r\nUpgrade: tcp\r\n", "")
    stream = HijackedStream(transport)  # type: ignore[arg-type]
    transport.set_protocol(stream)
    transport.write((head + "\r\n").encode())
    return stream


def end_hijacked() -> web.StreamResponse:
    """What a hijacking handler raises at its end: aiohttp stops handling this connection."""
    raise asyncio.CancelledError()
