"""Streaming responses: JSON lines flushed one object per chunk (docker-cli-flows.md §A6)."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from jockerd.errors import JockerError

log = logging.getLogger("jockerd.api")


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
