"""The json-file log driver's writer: Docker's `<id>-json.log`, byte for byte.

One JSON object per line, keys in Docker's order (moby daemon/logger/jsonfilelog):

    {"log":"hi\\n","stream":"stdout","time":"2026-11-25T11:50:00.123456789Z"}

- Output is cut at each "\\n", which stays in "log". A line longer than 16 KiB is written as
  16 KiB entries without "\\n" and a last one with it (the copier's buffer size, moby
  daemon/logger/copier.go). Bytes after the last "\\n" wait for more output, and are written as
  they are (no "\\n") when the stream ends: concatenating the "log" fields of a stream gives
  back its bytes (invalid UTF-8 aside).
- Strings are escaped as moby's jsonlog writer does: `"` `\\` `\\n` `\\r` `\\t`, other control
  characters and `<` `>` `&` U+2028 U+2029 as `\\u00XX`, each invalid UTF-8 byte as `\\ufffd`;
  everything else is written as UTF-8.
- "time" is when the shim read the output, Go's RFC3339Nano in UTC (trailing zeros of the
  fraction dropped, as Go's time.RFC3339Nano does).
- With a tty the single stream is "stdout".
- Rotation (max-size/max-file): before writing an entry, if the file has reached max-size, it
  is renamed to FILE.1 (FILE.1 to FILE.2, …, the oldest beyond max-file dropped); with
  max-file 1 the file is truncated instead (moby daemon/logger/loggerutils/logfile.go).
"""

from __future__ import annotations

import _json
import codecs
import os
import time

MAX_ENTRY = 16 * 1024  # moby's copier buffer: longer lines become several entries
_STREAMS = {1: "stdout", 2: "stderr"}
# Lone surrogates never come out of a valid UTF-8 decode, so they can stand for things in text:
_INVALID = "\udcff"  # an invalid input byte (written as \ufffd)
_NEWLINE = "\udcfe"  # the end of an entry, while a block of lines is escaped in one go
_HEAD = '{"log":"'


def _invalid_byte(error: UnicodeError) -> tuple[str, int]:
    """Decode error handler: one marker per invalid byte (Go's utf8.DecodeRune steps by one)."""
    assert isinstance(error, UnicodeDecodeError)
    return _INVALID, error.start + 1


codecs.register_error("jocker-json-log", _invalid_byte)

# What Go escapes and _json.encode_basestring does not (it also writes \b and \f short).
_GO_ONLY = (
    ("<", "\\u003c"),
    (">", "\\u003e"),
    ("&", "\\u0026"),
    ("\u2028", "\\u2028"),
    ("\u2029", "\\u2029"),
    (_INVALID, "\\ufffd"),
)
_ESCAPES = {i: f"\\u{i:04x}" for i in range(0x20)}
_ESCAPES.update({ord('"'): '\\"', ord("\\"): "\\\\", ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t"})
_ESCAPES.update({ord(raw): escaped for raw, escaped in _GO_ONLY})


def _escape_text(text: str) -> str:
    if "\b" in text or "\f" in text:  # rare: the slower table does Go's \u0008 and \u000c
        return text.translate(_ESCAPES)
    body = _json.encode_basestring(text)[1:-1]
    for raw, escaped in _GO_ONLY:
        if raw in body:
            body = body.replace(raw, escaped)
    return body


def escape(data: bytes) -> str:
    """The body of a JSON string holding `data`, escaped as moby's jsonlog writer does."""
    return _escape_text(data.decode("utf-8", "jocker-json-log"))


def format_time(ns: int) -> str:
    """Go's time.RFC3339Nano of a time.time_ns() value, in UTC: 2026-11-25T11:50:00.1234Z."""
    seconds, fraction = divmod(ns, 1_000_000_000)
    t = time.gmtime(seconds)
    text = f"{t[0]:04d}-{t[1]:02d}-{t[2]:02d}T{t[3]:02d}:{t[4]:02d}:{t[5]:02d}"
    if fraction:
        text += "." + f"{fraction:09d}".rstrip("0")
    return text + "Z"


def split_entries(data: bytes) -> tuple[list[bytes], bytes]:
    """(complete entries, rest): lines with their "\\n", lines over 16 KiB cut into pieces."""
    entries: list[bytes] = []
    start = 0
    size = len(data)
    while start < size:
        end = data.find(b"\n", start)
        if end < 0:
            break
        end += 1
        while end - start > MAX_ENTRY:  # the content alone fills the copier's buffer
            entries.append(data[start : start + MAX_ENTRY])
            start += MAX_ENTRY
        entries.append(data[start:end])
        start = end
    while size - start >= MAX_ENTRY:
        entries.append(data[start : start + MAX_ENTRY])
        start += MAX_ENTRY
    return entries, data[start:]


class JsonFileLog:
    """Appends a process's output to `path` in json-file format, rotating by size."""

    def __init__(self, path: str, max_size: int = 0, max_file: int = 1) -> None:
        self.path = path
        self.max_size = max_size
        self.max_file = max(1, max_file)
        self._partial = {1: b"", 2: b""}
        self._fd = self._open()
        self.size = os.fstat(self._fd).st_size

    def _open(self) -> int:
        return os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o640)

    def write(self, stream: int, data: bytes, now_ns: int | None = None) -> None:
        """Log `data` read from `stream` (1 stdout, 2 stderr) at `now_ns` (default: now)."""
        partial = self._partial[stream]
        buffer = partial + data if partial else data
        cut = buffer.rfind(b"\n") + 1
        rest = buffer[cut:]
        if not cut and len(rest) < MAX_ENTRY:
            self._partial[stream] = rest
            return
        tail = self._tail(stream, now_ns)
        if cut:
            complete = buffer[:cut]
            if cut <= MAX_ENTRY or max(map(len, complete.split(b"\n"))) < MAX_ENTRY:
                # The common case, in a few C calls whatever the number of lines: the block is
                # escaped at once, each newline then becomes the end of one entry and the head
                # of the next.
                text = complete.decode("utf-8", "jocker-json-log").replace("\n", _NEWLINE)
                block = _HEAD + _escape_text(text).replace(_NEWLINE, "\\n" + tail + _HEAD)
                self._append_entries(block[: -len(_HEAD)])
            else:
                entries, _ = split_entries(complete)
                self._append_entries("".join(_HEAD + escape(entry) + tail for entry in entries))
        while len(rest) >= MAX_ENTRY:
            self._append_entries(_HEAD + escape(rest[:MAX_ENTRY]) + tail)
            rest = rest[MAX_ENTRY:]
        self._partial[stream] = rest

    def flush(self, now_ns: int | None = None) -> None:
        """The end of the streams: write what is left after the last newline."""
        for stream, rest in self._partial.items():
            if rest:
                self._partial[stream] = b""
                self._append_entries(_HEAD + escape(rest) + self._tail(stream, now_ns))

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    @staticmethod
    def _tail(stream: int, now_ns: int | None) -> str:
        now = format_time(time.time_ns() if now_ns is None else now_ns)
        return f'","stream":"{_STREAMS[stream]}","time":"{now}"}}\n'

    def _append_entries(self, text: str) -> None:
        raw = text.encode()
        if not self.max_size or self.size + len(raw) <= self.max_size:
            self._append(raw)
            return
        lines = raw.split(b"\n")
        lines.pop()  # after the last newline
        batch: list[bytes] = []
        projected = self.size
        for line in lines:
            if projected >= self.max_size:
                self._append(b"".join(batch))
                batch = []
                self._rotate()
                projected = 0
            batch.append(line + b"\n")
            projected += len(line) + 1
        self._append(b"".join(batch))

    def _append(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            n = os.write(self._fd, view)
            view = view[n:]
            self.size += n

    def _rotate(self) -> None:
        if self.max_file < 2:
            os.ftruncate(self._fd, 0)
            self.size = 0
            return
        for i in range(self.max_file - 1, 0, -1):  # FILE.(n-2) → FILE.(n-1), …, FILE → FILE.1
            try:
                os.rename(f"{self.path}.{i - 1}" if i > 1 else self.path, f"{self.path}.{i}")
            except FileNotFoundError:
                pass
        os.close(self._fd)
        self._fd = self._open()
        self.size = 0
