"""Docker's stdcopy framing: how one byte stream carries a process's stdout and stderr.

Each frame is an 8-byte header, then the payload: byte 0 is the stream (0 stdin, 1 stdout,
2 stderr, 3 systemerr), bytes 1-3 are zero, bytes 4-7 the payload length as a big-endian u32
(moby pkg/stdcopy). attach.sock speaks it, and the Engine API's non-tty attach and logs use it.

Imports nothing, so it is cheap everywhere: jocker-shim frames output with it on every read, and the daemon
side (driver, API streams) can reuse it.
"""

from __future__ import annotations

STDIN = 0
STDOUT = 1
STDERR = 2
SYSTEMERR = 3
HEADER_SIZE = 8
MAX_PAYLOAD = 0xFFFFFFFF


def header(stream: int, size: int) -> bytes:
    """The 8-byte header of a frame of `size` payload bytes."""
    if not 0 <= stream <= SYSTEMERR:
        raise ValueError(f"invalid stdcopy stream: {stream}")
    if not 0 <= size <= MAX_PAYLOAD:
        raise ValueError(f"invalid stdcopy frame size: {size}")
    return bytes((stream, 0, 0, 0)) + size.to_bytes(4, "big")


def frame(stream: int, data: bytes) -> bytes:
    """One frame carrying `data` on `stream`."""
    return header(stream, len(data)) + data


class FrameDecoder:
    """Incremental decoder: feed() bytes as they arrive, get the complete frames back.

    A frame split across reads is kept until its end arrives; `pending` says how many bytes
    are held. At the end of the stream, `pending != 0` means the stream was cut mid-frame.
    """

    def __init__(self) -> None:
        self._buffer = bytearray()

    @property
    def pending(self) -> int:
        return len(self._buffer)

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        buffer = self._buffer
        buffer += data
        frames: list[tuple[int, bytes]] = []
        start = 0
        while len(buffer) - start >= HEADER_SIZE:
            stream = buffer[start]
            if stream > SYSTEMERR or buffer[start + 1 : start + 4] != b"\0\0\0":
                raise ValueError(f"invalid stdcopy header: {bytes(buffer[start : start + HEADER_SIZE])!r}")
            size = int.from_bytes(buffer[start + 4 : start + 8], "big")
            end = start + HEADER_SIZE + size
            if end > len(buffer):
                break
            frames.append((stream, bytes(buffer[start + HEADER_SIZE : end])))
            start = end
        del buffer[:start]
        return frames


def demux(data: bytes) -> tuple[bytes, bytes]:
    """(stdout, stderr) of a complete framed stream; ValueError if it ends mid-frame."""
    decoder = FrameDecoder()
    out = {STDOUT: bytearray(), STDERR: bytearray()}
    for stream, payload in decoder.feed(data):
        out.setdefault(stream, bytearray()).extend(payload)
    if decoder.pending:
        raise ValueError(f"stdcopy stream cut mid-frame ({decoder.pending} bytes left)")
    return bytes(out[STDOUT]), bytes(out[STDERR])
