"""Attach plumbing: the hijacked client connection ⇄ a shim's attach socket.

The API layer hands the service a ClientStream (the taken-over HTTP connection, see
api/stream.py); the shim speaks stdcopy frames (jockerd/shim/__init__.py). This module copies
between the two: output frames to the client (raw payloads with a TTY, frames without), and
the client's raw stdin to the shim, with half-close passed on in both directions
(docker-cli-flows.md §A5).
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from collections.abc import Awaitable, Callable
from typing import Protocol

HEADER = struct.Struct(">BxxxI")


class ClientStream(Protocol):
    """A hijacked client connection (the API's HijackedStream satisfies it)."""

    async def read(self) -> bytes: ...  # stdin bytes from the client; b"" at EOF

    async def write(self, data: bytes) -> None: ...  # ConnectionError once the client is gone

    async def close(self) -> None: ...  # FIN, then close


def frame(stream: int, data: bytes) -> bytes:
    return HEADER.pack(stream, len(data)) + data


async def copy_output(
    reader: asyncio.StreamReader, client: ClientStream, *, tty: bool, stdout: bool = True, stderr: bool = True
) -> None:
    """Frames from the shim to the client until the shim closes the stream."""
    while True:
        try:
            header = await reader.readexactly(HEADER.size)
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        stream, size = HEADER.unpack(header)
        try:
            payload = await reader.readexactly(size)
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        if (stream == 1 and not stdout) or (stream == 2 and not stderr):
            continue
        await client.write(payload if tty else header + payload)


async def copy_input(client: ClientStream, writer: asyncio.StreamWriter | None) -> None:
    """The client's stdin to the shim; EOF is passed on as a half-close (stdin-once closes it)."""
    while True:
        data = await client.read()
        if not data:
            break
        if writer is None:
            continue  # no stdin attached: the bytes go nowhere, as with dockerd
        writer.write(data)
        await writer.drain()
    if writer is not None and writer.can_write_eof():
        with contextlib.suppress(OSError):
            writer.write_eof()


async def relay(
    client: ClientStream,
    connect: Callable[[], Awaitable[tuple[asyncio.StreamReader, asyncio.StreamWriter] | None]],
    *,
    tty: bool,
    stdin: bool,
    stdout: bool = True,
    stderr: bool = True,
    before_close: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Run one attach session to its end: output EOF (the process is done) or the client gone.

    `connect` may wait (attach before start); None means there will be no process to attach to.
    `before_close` runs after the output ended and before the client sees EOF (exec records its
    exit code there, so `GET /exec/ID/json` right after EOF has it).
    """
    reader_task: asyncio.Task[None] | None = None
    writer: asyncio.StreamWriter | None = None
    try:
        connected = await connect()
        if connected is None:
            return
        reader, writer = connected
        reader_task = asyncio.ensure_future(copy_input(client, writer if stdin else None))
        await copy_output(reader, client, tty=tty, stdout=stdout, stderr=stderr)
        if before_close is not None:
            await before_close()
    except ConnectionError:
        pass  # the client went away: the container carries on (detach)
    finally:
        if reader_task is not None:
            reader_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionError, OSError):
                await reader_task
        if writer is not None:
            writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await client.close()
