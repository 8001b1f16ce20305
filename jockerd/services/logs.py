"""`docker logs`: reading Docker json-file logs, as dockerd's jsonfilelog reader does.

The shim writes one JSON object per line, `{"log":"hi\\n","stream":"stdout","time":"…Z"}`, with
`time` in Go's RFC3339Nano (trailing zeros of the fraction trimmed), and rotates FILE to FILE.1
(FILE.1 to FILE.2 …) before it creates a new FILE. This module reads those files back:

- `read_logs` yields `LogEntry`s: the rotated files oldest first (FILE.{max_files-1} … FILE.1,
  as moby's openRotatedFiles), then FILE; with `follow`, new lines as they are appended, across
  rotations, until `done` says the container stopped and everything written has been read.
- `format_entry` renders one entry for the wire: a stdcopy frame, or raw bytes with a tty.
- `parse_timestamp` / `parse_tail` read the `since`/`until` and `tail` query values.

Semantics copied from moby 20.10 (daemon/logs.go, loggerutils/logfile.go, follow.go) that a
caller may not expect:
- `tail` counts lines of the files, whatever their stream, *before* the `since` filter and the
  stream filter (tailFiles runs first; the stdout/stderr choice is made when writing). So
  `tail=5&stdout=1&stderr=0` gives the stdout lines among the last 5 lines, not 5 stdout lines.
- `since` keeps entries at or after it; `until` ends the read at the first entry after it.
- A line that is not valid JSON is skipped (dockerd retries and eventually reports an error);
  a last line without its newline yet is not an entry until the newline arrives.

Follow polls (every FOLLOW_POLL_INTERVAL seconds; services may not use inotify through ctypes),
and reads as fast as it can while there is data.
"""

from __future__ import annotations

import asyncio
import calendar
import json
import logging
import os
import re
import struct
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from jockerd.errors import InternalError, InvalidParameterError

log = logging.getLogger(__name__)

FOLLOW_POLL_INTERVAL = 0.05
_CHUNK = 64 * 1024
_BATCH_BYTES = 1024 * 1024  # read at most this much per thread hop
_STREAM_IDS = {"stdout": 1, "stderr": 2}
_GO_INT64 = 2**63

# RFC3339 with an optional fraction of 1-9 digits, as Go's time.Time JSON unmarshalling accepts.
_RFC3339 = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})\Z")
_GO_INT = re.compile(r"[+-]?[0-9]+\Z")

Done = Callable[[], bool] | asyncio.Event | None


@dataclass(frozen=True)
class LogEntry:
    stream: str  # "stdout" | "stderr"
    data: bytes  # the "log" payload, utf-8 encoded
    time: str  # the RFC3339Nano string as written
    timestamp: float  # parsed, seconds since epoch


# -- query values ---------------------------------------------------------------------------------


def _go_parse_int(text: str, func: str = "ParseInt") -> int:
    """strconv.ParseInt(text, 10, 64), with Go's error wording."""
    if not _GO_INT.match(text):
        raise InternalError(f'strconv.{func}: parsing "{text}": invalid syntax')
    value = int(text)
    if not -_GO_INT64 <= value < _GO_INT64:
        raise InternalError(f'strconv.{func}: parsing "{text}": value out of range')
    return value


def parse_timestamp(value: str | None) -> float:
    """A `since`/`until` query value → unix seconds (0 when empty: no bound).

    moby's timetypes.ParseTimestamps: "SECONDS[.FRACTION]", the fraction scaled to nanoseconds
    whatever its length ("1795498015.5" is half a second). dockerd passes its strconv error
    through unclassified, so a bad value is a 500 with Go's wording. For `until`, dockerd also
    treats "0" as no bound; 0 means that here anyway.
    """
    if not value:
        return 0.0
    seconds_text, dot, fraction = value.partition(".")
    seconds = _go_parse_int(seconds_text)
    if not dot:
        return float(seconds)
    nanos = _go_parse_int(fraction)
    nanos = int(nanos * 10.0 ** (9 - len(fraction)))
    return seconds + nanos / 1e9


def parse_tail(value: str | None) -> int | None:
    """The `tail` query value → a line count, or None for all ("all", anything strconv.Atoi
    rejects, or a negative number: dockerd reads everything then)."""
    if value is None or not _GO_INT.match(value):
        return None
    count = int(value)
    if count < 0 or count >= _GO_INT64:
        return None
    return count


def check_streams(stdout: bool, stderr: bool) -> None:
    """dockerd's check, before anything is read (a 400)."""
    if not (stdout or stderr):
        raise InvalidParameterError("You must choose at least one stream")


# -- time ---------------------------------------------------------------------------------------


def _parse_time(text: str) -> tuple[int, int, str] | None:
    """RFC3339(Nano) → (unix seconds, nanoseconds, zone as Go prints it), None if malformed."""
    m = _RFC3339.match(text)
    if m is None:
        return None
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    fraction, zone = m.group(7) or "", m.group(8)
    try:
        seconds = calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0))
    except (ValueError, OverflowError):
        return None
    if not (1 <= month <= 12 and 1 <= day <= 31 and hour < 24 and minute < 60 and second < 60):
        return None
    if zone != "Z":
        sign = -1 if zone[0] == "-" else 1
        offset = sign * (int(zone[1:3]) * 3600 + int(zone[4:6]) * 60)
        seconds -= offset
        if offset == 0:
            zone = "Z"  # Go formats a zero offset as Z
    return seconds, int(fraction.ljust(9, "0")) if fraction else 0, zone


def format_time_fixed(text: str) -> str:
    """jsonmessage.RFC3339NanoFixed of a log time: always 9 fractional digits ("…00.100000000Z"),
    what dockerd puts before each line with `timestamps=1`."""
    parsed = _parse_time(text)
    if parsed is None:
        return text
    _, nanos, zone = parsed
    return f"{text[:19]}.{nanos:09d}{zone}"


def format_entry(entry: LogEntry, *, timestamps: bool, tty: bool) -> bytes:
    """One entry as dockerd writes it: a stdcopy frame (stream 1 stdout / 2 stderr, three zero
    bytes, big-endian u32 length) unless `tty`, the payload prefixed by the fixed-width time and
    a space with `timestamps`. An empty payload writes nothing (Go's stdWriter with a nil line)."""
    payload = entry.data
    if timestamps:
        payload = format_time_fixed(entry.time).encode() + b" " + payload
    if not payload:
        return b""
    if tty:
        return payload
    return struct.pack(">BxxxI", _STREAM_IDS.get(entry.stream, 1), len(payload)) + payload


# -- decoding -------------------------------------------------------------------------------------


def _decode_line(line: bytes) -> LogEntry | None:
    """One json-file line → an entry; None (logged) for a line dockerd could not decode."""
    if not line.strip():
        return None
    try:
        obj = json.loads(line)
        text, stream, when = obj.get("log", ""), obj.get("stream", ""), obj["time"]
        if not isinstance(text, str) or not isinstance(stream, str) or not isinstance(when, str):
            raise ValueError("log, stream and time must be strings")
    except (ValueError, KeyError, AttributeError) as e:
        log.warning("skipping an undecodable log line: %s: %r", e, line[:200])
        return None
    parsed = _parse_time(when)
    if parsed is None:
        log.warning("skipping a log line with a bad time: %r", when)
        return None
    try:
        data = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        data = text.encode("utf-8", "replace")
    return LogEntry(stream=stream, data=data, time=when, timestamp=parsed[0] + parsed[1] / 1e9)


@dataclass
class _Filter:
    streams: frozenset[str]
    since: float
    until: float
    ended: bool = False  # an entry after `until` was seen: stop reading

    def apply(self, lines: list[bytes]) -> list[LogEntry]:
        out = []
        for line in lines:
            entry = _decode_line(line)
            if entry is None:
                continue
            if self.since and entry.timestamp < self.since:
                continue
            if self.until and entry.timestamp > self.until:
                self.ended = True
                break
            if entry.stream in self.streams:
                out.append(entry)
        return out


# -- files (blocking; run in a thread) ------------------------------------------------------------


class _Reader:
    """An open log file read forward in whole lines; the partial last line is kept back."""

    def __init__(self, file: BinaryIO, start: int = 0) -> None:
        self.file = file
        self.pos = start
        self.pending = b""
        file.seek(start)

    @property
    def ino(self) -> tuple[int, int]:
        st = os.fstat(self.file.fileno())
        return st.st_dev, st.st_ino

    def read_lines(self, budget: int = _BATCH_BYTES) -> tuple[list[bytes], bool]:
        """Complete lines from the current position (about `budget` bytes at most), and whether
        the end of the file was reached."""
        if os.fstat(self.file.fileno()).st_size < self.pos:
            # Truncated in place (moby follow.go #39235): start over.
            self.file.seek(0)
            self.pos, self.pending = 0, b""
        lines: list[bytes] = []
        read = 0
        while read < budget:
            chunk = self.file.read(_CHUNK)
            if not chunk:
                return lines, True
            self.pos += len(chunk)
            read += len(chunk)
            data = self.pending + chunk
            *complete, self.pending = data.split(b"\n")
            lines.extend(complete)
        return lines, False

    def close(self) -> None:
        self.file.close()


def _open(path: Path) -> BinaryIO | None:
    try:
        return open(path, "rb")  # closed by _Reader.close
    except FileNotFoundError:
        return None


def _open_all(path: Path, max_files: int) -> tuple[list[BinaryIO], BinaryIO | None]:
    """The rotated files (oldest first) and the current one, consistently: if a rotation
    happened while they were being opened (FILE.1 is the file we opened as FILE), retry."""
    for _ in range(10):
        current = _open(path)
        rotated = [f for i in range(max_files - 1, 0, -1) if (f := _open(Path(f"{path}.{i}")))]
        if current is None:
            return rotated, None
        st = os.fstat(current.fileno())
        if not any(
            (s := os.fstat(f.fileno())).st_ino == st.st_ino and s.st_dev == st.st_dev for f in rotated
        ):
            return rotated, current
        for f in [*rotated, current]:
            f.close()
    raise InternalError(f"log file {path} keeps rotating while it is opened")


def _last_newline_end(file: BinaryIO, size: int) -> int:
    """The offset just past the last newline before `size` (0 if there is none)."""
    pos = size
    while pos > 0:
        n = min(_CHUNK, pos)
        file.seek(pos - n)
        i = file.read(n).rfind(b"\n")
        if i >= 0:
            return pos - n + i + 1
        pos -= n
    return 0


def _tail_start(file: BinaryIO, end: int, count: int) -> tuple[int, int]:
    """Where the last `count` lines of file[0:end] start (end is just past a newline or 0), and
    how many lines that is: fewer than `count` when the file has fewer (then the offset is 0)."""
    found = 0
    pos = end
    while pos > 0:
        n = min(_CHUNK, pos)
        file.seek(pos - n)
        block = file.read(n)
        i = len(block)
        while (i := block.rfind(b"\n", 0, i)) >= 0:
            offset = pos - n + i
            if offset == end - 1:
                continue  # the newline ending the last line
            found += 1
            if found == count:
                return offset + 1, count
        pos -= n
    return 0, found + 1 if end > 0 else 0


def _plan(path: Path, max_files: int, tail: int | None) -> tuple[list[_Reader], _Reader | None]:
    """Open the files and place each reader where reading starts: the rotated files' readers in
    order, and the current file's. Files entirely before the tail are closed and left out."""
    rotated, current = _open_all(path, max_files)
    files = [*rotated, *([current] if current else [])]
    ends = []
    for f in files:
        size = os.fstat(f.fileno()).st_size
        ends.append(_last_newline_end(f, size))
    starts = [0] * len(files)
    first = 0
    if tail == 0:
        first = len(files)
        if current:
            starts[-1] = ends[-1]  # follow from the end; a partial line there is read when complete
    elif tail is not None:
        remaining = tail
        first = len(files)
        for i in range(len(files) - 1, -1, -1):
            if remaining <= 0:
                break
            starts[i], n = _tail_start(files[i], ends[i], remaining)
            remaining -= n
            first = i
    for f in files[:first]:
        if f is not current:
            f.close()
    readers = [_Reader(f, starts[i]) for i, f in enumerate(files) if i >= first and f is not current]
    return readers, _Reader(current, starts[-1]) if current else None


# -- the reader -----------------------------------------------------------------------------------


def _is_done(done: Done) -> bool:
    if done is None:
        return False
    if isinstance(done, asyncio.Event):
        return done.is_set()
    return bool(done())


async def _pause(done: Done, seconds: float) -> None:
    if isinstance(done, asyncio.Event):
        try:
            await asyncio.wait_for(done.wait(), seconds)
        except TimeoutError:
            pass
    else:
        await asyncio.sleep(seconds)


def read_logs(
    path: Path,
    *,
    stdout: bool,
    stderr: bool,
    since: float = 0,
    until: float = 0,
    tail: int | None = None,
    follow: bool = False,
    done: Done = None,
    max_files: int = 1,
) -> AsyncIterator[LogEntry]:
    """The entries of the json-file log at `path`, as dockerd's jsonfilelog reader returns them.

    `tail`: the last N lines (None: all; 0: none, then `follow` still streams new ones), counted
    over both streams before `since` and the stream choice apply (see the module docstring).
    `since`/`until`: unix seconds, 0 for no bound; `until` ends the read at the first later
    entry, and with `follow` also once the clock passes it. `follow`: keep reading new lines,
    across rotations, until `done` (a callable or an asyncio.Event) reports the container
    stopped; then what was written before is read to the end, and the iterator ends. Without
    `done`, follow runs until the consumer stops iterating. `max_files`: the container's
    max-file; rotated files FILE.1 … FILE.{max_files-1} are read.

    The stream check ("You must choose at least one stream") is raised here, at call time, before
    anything is read or sent. Use as `async for entry in read_logs(...)`; closing the iterator
    (or leaving the loop) closes the files.
    """
    check_streams(stdout, stderr)
    streams = frozenset(s for s, wanted in (("stdout", stdout), ("stderr", stderr)) if wanted)
    flt = _Filter(streams, since, until)
    return _read(Path(path), flt, tail, follow, done, max(1, max_files))


def _step(reader: _Reader, flt: _Filter) -> tuple[list[LogEntry], bool]:
    lines, at_end = reader.read_lines()
    return flt.apply(lines) if lines else [], at_end


async def _drain(reader: _Reader, flt: _Filter) -> AsyncIterator[LogEntry]:
    """Everything currently in `reader`, filtered; stops early when `until` is passed."""
    while not flt.ended:
        entries, at_end = await asyncio.to_thread(_step, reader, flt)
        for entry in entries:
            yield entry
        if at_end:
            return


def _rotated(path: Path, reader: _Reader) -> bool | None:
    """Whether FILE is no longer the file `reader` reads: True (a new FILE exists), None (FILE is
    gone and not recreated yet), False (same file)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return (st.st_dev, st.st_ino) != reader.ino


async def _read(
    path: Path, flt: _Filter, tail: int | None, follow: bool, done: Done, max_files: int
) -> AsyncIterator[LogEntry]:
    readers, current = await asyncio.to_thread(_plan, path, max_files, tail)
    try:
        for reader in readers:
            async for entry in _drain(reader, flt):
                yield entry
            reader.close()
        readers = []
        if current is not None:
            async for entry in _drain(current, flt):
                yield entry
        if not follow or flt.ended:
            return
        while not flt.ended:
            # Sampled before the final read: once the container is seen stopped, one more pass
            # reads everything it wrote.
            finished = _is_done(done) or (flt.until and time.time() > flt.until)
            if current is None:
                opened = await asyncio.to_thread(_open, path)
                if opened is not None:
                    current = _Reader(opened)
            if current is not None:
                async for entry in _drain(current, flt):
                    yield entry
                rotated = await asyncio.to_thread(_rotated, path, current)
                if rotated:
                    # Renamed to FILE.1 and a new FILE created: read what is left of the old
                    # one, then continue with the new one from its start.
                    async for entry in _drain(current, flt):
                        yield entry
                    if current.pending:
                        log.warning("log file %s rotated with an unterminated last line", path)
                    current.close()
                    opened = await asyncio.to_thread(_open, path)
                    current = _Reader(opened) if opened is not None else None
                    continue  # read the new file before deciding to stop or sleep
            if finished:
                return
            await _pause(done, FOLLOW_POLL_INTERVAL)
    finally:
        for reader in readers:
            reader.close()
        if current is not None:
            current.close()
