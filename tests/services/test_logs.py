"""Reading Docker json-file logs (services/logs.py) from real files in tmp_path.

Expected behaviour is moby 20.10's jsonfilelog reader: rotated files oldest first, `tail` counted
over all lines before the since and stream filters, `until` ending the read, follow across
rotations until the container is done; the wire bytes are compared with traces 12 and 13.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Iterable
from pathlib import Path

import pytest

from jockerd.errors import InternalError, InvalidParameterError
from jockerd.services.logs import (
    LogEntry,
    format_entry,
    format_time_fixed,
    parse_tail,
    parse_timestamp,
    read_logs,
)

BASE = 1795498000  # 2026-11-24T05:26:40Z


def go_time(ts_ns: int) -> str:
    """Go's RFC3339Nano in UTC, as the shim writes it (trailing zeros of the fraction trimmed)."""
    seconds, nanos = divmod(ts_ns, 1_000_000_000)
    text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
    return text + (f".{nanos:09d}".rstrip("0") if nanos else "") + "Z"


def line(stream: str, text: str, ts_ns: int) -> bytes:
    return (json.dumps({"log": text, "stream": stream, "time": go_time(ts_ns)}) + "\n").encode()


def write(path: Path, records: Iterable[tuple[str, str, float]]) -> None:
    """Append (stream, text, seconds-after-BASE) records."""
    with open(path, "ab") as f:
        for stream, text, offset in records:
            f.write(line(stream, text, BASE * 10**9 + round(offset * 1e9)))


def numbered(
    prefix: str, count: int, start: float = 0, stream: str = "stdout"
) -> list[tuple[str, str, float]]:
    return [(stream, f"{prefix}{i}\n", start + i) for i in range(count)]


async def collect(path: Path, **kwargs) -> list[LogEntry]:
    kwargs.setdefault("stdout", True)
    kwargs.setdefault("stderr", True)
    return [entry async for entry in read_logs(path, **kwargs)]


def texts(entries: list[LogEntry]) -> list[str]:
    return [e.data.decode() for e in entries]


@pytest.fixture
def log_path(tmp_path: Path) -> Path:
    return tmp_path / "c-json.log"


# -- reading what is there ------------------------------------------------------------------------


async def test_entries_and_their_fields(log_path: Path) -> None:
    write(log_path, [("stdout", "line1\n", 0.123456789), ("stderr", "errline\n", 1), ("stdout", "é\n", 2.5)])
    entries = await collect(log_path)
    assert texts(entries) == ["line1\n", "errline\n", "é\n"]
    assert entries[0] == LogEntry(
        stream="stdout",
        data=b"line1\n",
        time="2026-11-24T05:26:40.123456789Z",
        timestamp=pytest.approx(BASE + 0.123456789),
    )
    assert entries[1].stream == "stderr" and entries[1].time == "2026-11-24T05:26:41Z"
    assert entries[2].data == "é\n".encode()


async def test_stream_choice(log_path: Path) -> None:
    write(log_path, [("stdout", "o1\n", 0), ("stderr", "e1\n", 1), ("stdout", "o2\n", 2)])
    assert texts(await collect(log_path, stderr=False)) == ["o1\n", "o2\n"]
    assert texts(await collect(log_path, stdout=False)) == ["e1\n"]
    with pytest.raises(InvalidParameterError, match=r"^You must choose at least one stream$"):
        read_logs(log_path, stdout=False, stderr=False)  # raised at call time, before any I/O


async def test_missing_file_is_empty(log_path: Path) -> None:
    assert await collect(log_path) == []
    assert await collect(log_path, tail=3) == []


async def test_rotated_files_are_read_oldest_first(log_path: Path) -> None:
    write(Path(f"{log_path}.2"), numbered("a", 2))
    write(Path(f"{log_path}.1"), numbered("b", 2, 10))
    write(log_path, numbered("c", 2, 20))
    assert texts(await collect(log_path, max_files=3)) == ["a0\n", "a1\n", "b0\n", "b1\n", "c0\n", "c1\n"]
    # max-file 2 reads FILE.1 only; the default (1) only FILE, as dockerd's openRotatedFiles.
    assert texts(await collect(log_path, max_files=2)) == ["b0\n", "b1\n", "c0\n", "c1\n"]
    assert texts(await collect(log_path)) == ["c0\n", "c1\n"]


async def test_tail(log_path: Path) -> None:
    write(log_path, numbered("l", 7))
    assert texts(await collect(log_path, tail=3)) == ["l4\n", "l5\n", "l6\n"]
    assert texts(await collect(log_path, tail=7)) == [f"l{i}\n" for i in range(7)]
    assert texts(await collect(log_path, tail=100)) == [f"l{i}\n" for i in range(7)]
    assert texts(await collect(log_path, tail=1)) == ["l6\n"]
    assert await collect(log_path, tail=0) == []
    assert len(await collect(log_path, tail=None)) == 7


async def test_tail_spans_rotated_files(log_path: Path) -> None:
    write(Path(f"{log_path}.2"), numbered("a", 3))
    write(Path(f"{log_path}.1"), numbered("b", 3, 10))
    write(log_path, numbered("c", 2, 20))
    got = texts(await collect(log_path, tail=4, max_files=3))
    assert got == ["b1\n", "b2\n", "c0\n", "c1\n"]
    got = texts(await collect(log_path, tail=6, max_files=3))
    assert got == ["a2\n", "b0\n", "b1\n", "b2\n", "c0\n", "c1\n"]


async def test_tail_over_a_large_file(log_path: Path) -> None:
    """More than one backwards block (64 KiB) to scan."""
    write(log_path, [("stdout", f"{i:05d} " + "x" * 200 + "\n", i / 1000) for i in range(2000)])
    got = await collect(log_path, tail=1500)
    assert len(got) == 1500 and got[0].data.startswith(b"00500 ") and got[-1].data.startswith(b"01999 ")


async def test_tail_counts_lines_of_both_streams_before_filtering(log_path: Path) -> None:
    """dockerd tails the files first, then drops the other stream and entries before since."""
    write(
        log_path, [("stdout", "o1\n", 0), ("stdout", "o2\n", 1), ("stderr", "e1\n", 2), ("stderr", "e2\n", 3)]
    )
    assert texts(await collect(log_path, tail=3, stderr=False)) == ["o2\n"]
    assert texts(await collect(log_path, tail=3, since=BASE + 2)) == ["e1\n", "e2\n"]


async def test_since_and_until_are_inclusive(log_path: Path) -> None:
    write(log_path, numbered("t", 6))
    assert texts(await collect(log_path, since=BASE + 2)) == ["t2\n", "t3\n", "t4\n", "t5\n"]
    assert texts(await collect(log_path, until=BASE + 2)) == ["t0\n", "t1\n", "t2\n"]
    assert texts(await collect(log_path, since=BASE + 1.5, until=BASE + 3.5)) == ["t2\n", "t3\n"]
    assert await collect(log_path, since=BASE + 100) == []


async def test_until_stops_at_the_first_later_entry(log_path: Path) -> None:
    """dockerd returns at the first entry after until, even if earlier ones follow it."""
    write(log_path, [("stdout", "a\n", 0), ("stdout", "late\n", 10), ("stdout", "b\n", 1)])
    assert texts(await collect(log_path, until=BASE + 5)) == ["a\n"]


async def test_partial_last_line_is_not_an_entry(log_path: Path) -> None:
    write(log_path, numbered("l", 2))
    with open(log_path, "ab") as f:
        f.write(line("stdout", "partial\n", BASE * 10**9)[:20])
    assert texts(await collect(log_path)) == ["l0\n", "l1\n"]
    assert texts(await collect(log_path, tail=1)) == ["l1\n"]


async def test_undecodable_lines_are_skipped(log_path: Path) -> None:
    write(log_path, numbered("a", 1))
    with open(log_path, "ab") as f:
        f.write(b'not json\n\n{"log":"x\\n","stream":"stdout","time":"yesterday"}\n')
    write(log_path, numbered("b", 1, 5))
    assert texts(await collect(log_path)) == ["a0\n", "b0\n"]


async def test_payloads_that_are_not_utf8_come_back(log_path: Path) -> None:
    """A shim that decodes output with surrogateescape gets the original bytes back."""
    text = b"\xff\xfe raw\n".decode("utf-8", "surrogateescape")
    with open(log_path, "wb") as f:
        f.write(
            (json.dumps({"log": text, "stream": "stdout", "time": go_time(BASE * 10**9)}) + "\n").encode()
        )
    assert (await collect(log_path))[0].data == b"\xff\xfe raw\n"


# -- follow -----------------------------------------------------------------------------------------


async def _gather(aiter, into: list[LogEntry]) -> None:
    async for entry in aiter:
        into.append(entry)


async def wait_until(condition, timeout: float = 5) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(0.01)


async def test_follow_streams_appends_and_stops_when_done(log_path: Path) -> None:
    write(log_path, numbered("old", 3))
    done = asyncio.Event()
    got: list[LogEntry] = []
    task = asyncio.create_task(
        _gather(read_logs(log_path, stdout=True, stderr=True, follow=True, done=done), got)
    )
    await wait_until(lambda: len(got) == 3)
    for i in range(5):
        write(log_path, [("stdout", f"new{i}\n", 10 + i)])
        await wait_until(lambda i=i: len(got) == 4 + i)
    assert not task.done()
    # Lines written just before the container is reported stopped are still read.
    write(log_path, numbered("last", 3, 20))
    done.set()
    await asyncio.wait_for(task, 5)
    assert texts(got) == [
        *(f"old{i}\n" for i in range(3)),
        *(f"new{i}\n" for i in range(5)),
        "last0\n",
        "last1\n",
        "last2\n",
    ]


async def test_follow_latency_is_low(log_path: Path) -> None:
    log_path.touch()
    done = asyncio.Event()
    got: list[LogEntry] = []
    task = asyncio.create_task(
        _gather(read_logs(log_path, stdout=True, stderr=True, follow=True, done=done), got)
    )
    await asyncio.sleep(0.1)
    t0 = time.monotonic()
    write(log_path, numbered("x", 1))
    await wait_until(lambda: got)
    assert time.monotonic() - t0 < 0.5
    done.set()
    await asyncio.wait_for(task, 5)


async def test_follow_with_a_callable_done(log_path: Path) -> None:
    stopped = False
    write(log_path, numbered("a", 1))
    got: list[LogEntry] = []
    task = asyncio.create_task(
        _gather(read_logs(log_path, stdout=True, stderr=True, follow=True, done=lambda: stopped), got)
    )
    await wait_until(lambda: len(got) == 1)
    write(log_path, numbered("b", 1, 5))
    stopped = True
    await asyncio.wait_for(task, 5)
    assert texts(got) == ["a0\n", "b0\n"]


async def test_follow_of_a_stopped_container_returns_what_is_there(log_path: Path) -> None:
    """dockerd does not follow a container that is not running (follow && running)."""
    write(log_path, numbered("a", 2))
    got = await asyncio.wait_for(collect(log_path, follow=True, done=lambda: True), 5)
    assert texts(got) == ["a0\n", "a1\n"]


async def test_follow_completes_a_partial_line(log_path: Path) -> None:
    data = line("stdout", "split\n", BASE * 10**9)
    with open(log_path, "wb") as f:
        f.write(data[:15])
    done = asyncio.Event()
    got: list[LogEntry] = []
    task = asyncio.create_task(
        _gather(read_logs(log_path, stdout=True, stderr=True, follow=True, done=done), got)
    )
    await asyncio.sleep(0.15)
    assert got == []
    with open(log_path, "ab") as f:
        f.write(data[15:])
    await wait_until(lambda: got)
    done.set()
    await asyncio.wait_for(task, 5)
    assert texts(got) == ["split\n"]


async def test_follow_with_tail_zero_only_new_lines(log_path: Path) -> None:
    write(log_path, numbered("old", 3))
    with open(log_path, "ab") as f:  # a line being written when the read starts: it is new
        f.write(line("stdout", "half\n", (BASE + 5) * 10**9)[:10])
    done = asyncio.Event()
    got: list[LogEntry] = []
    reader = read_logs(log_path, stdout=True, stderr=True, tail=0, follow=True, done=done)
    task = asyncio.create_task(_gather(reader, got))
    await asyncio.sleep(0.15)
    with open(log_path, "ab") as f:
        f.write(line("stdout", "half\n", (BASE + 5) * 10**9)[10:])
    write(log_path, numbered("new", 1, 10))
    await wait_until(lambda: len(got) == 2)
    done.set()
    await asyncio.wait_for(task, 5)
    assert texts(got) == ["half\n", "new0\n"]


async def test_follow_with_tail(log_path: Path) -> None:
    """Trace 13: `logs -f --tail 5`: the last five lines, then what comes."""
    write(log_path, [*numbered("line", 8, 0)[1:], ("stderr", "errline\n", 8), ("stdout", "late\n", 9)])
    done = asyncio.Event()
    got: list[LogEntry] = []
    task = asyncio.create_task(
        _gather(read_logs(log_path, stdout=True, stderr=True, tail=5, follow=True, done=done), got)
    )
    await wait_until(lambda: len(got) == 5)
    write(log_path, [("stdout", "late2\n", 12)])
    await wait_until(lambda: len(got) == 6)
    done.set()
    await asyncio.wait_for(task, 5)
    assert texts(got) == ["line5\n", "line6\n", "line7\n", "errline\n", "late\n", "late2\n"]


async def test_follow_across_rotations(log_path: Path) -> None:
    """The shim renames FILE to FILE.1 (FILE.1 to FILE.2) and creates a new FILE."""
    write(log_path, numbered("g0-", 2))
    done = asyncio.Event()
    got: list[LogEntry] = []
    task = asyncio.create_task(
        _gather(read_logs(log_path, stdout=True, stderr=True, follow=True, done=done, max_files=3), got)
    )
    await wait_until(lambda: len(got) == 2)
    expected = ["g0-0\n", "g0-1\n"]
    for generation in range(1, 4):
        # Lines written right before the rename are read from the renamed file.
        write(log_path, numbered(f"g{generation - 1}-", 1, 100 * generation)[:1])
        expected.append(f"g{generation - 1}-0\n")
        if Path(f"{log_path}.1").exists():
            os.replace(f"{log_path}.1", f"{log_path}.2")
        os.rename(log_path, f"{log_path}.1")
        await asyncio.sleep(0.02)  # a moment with no FILE at all
        write(log_path, numbered(f"g{generation}-", 2, 100 * generation + 10))
        expected += [f"g{generation}-0\n", f"g{generation}-1\n"]
        count = len(expected)
        await wait_until(lambda count=count: len(got) == count)
    done.set()
    await asyncio.wait_for(task, 5)
    assert texts(got) == expected


async def test_follow_rotation_right_before_done(log_path: Path) -> None:
    """Rotated and stopped between two polls: both the old file's rest and the new file's lines."""
    write(log_path, numbered("a", 1))
    stopped = False
    got: list[LogEntry] = []
    task = asyncio.create_task(
        _gather(
            read_logs(log_path, stdout=True, stderr=True, follow=True, done=lambda: stopped, max_files=2), got
        )
    )
    await wait_until(lambda: got)
    write(log_path, numbered("b", 1, 1))
    os.rename(log_path, f"{log_path}.1")
    write(log_path, numbered("c", 1, 2))
    stopped = True
    await asyncio.wait_for(task, 5)
    assert texts(got) == ["a0\n", "b0\n", "c0\n"]


async def test_follow_waits_for_the_file(log_path: Path) -> None:
    done = asyncio.Event()
    got: list[LogEntry] = []
    task = asyncio.create_task(
        _gather(read_logs(log_path, stdout=True, stderr=True, follow=True, done=done), got)
    )
    await asyncio.sleep(0.1)
    write(log_path, numbered("a", 1))
    await wait_until(lambda: got)
    done.set()
    await asyncio.wait_for(task, 5)


async def test_follow_after_truncation(log_path: Path) -> None:
    """max-file 1: the file is truncated in place; reading starts over (moby #39235)."""
    write(log_path, numbered("a", 3))
    done = asyncio.Event()
    got: list[LogEntry] = []
    task = asyncio.create_task(
        _gather(read_logs(log_path, stdout=True, stderr=True, follow=True, done=done), got)
    )
    await wait_until(lambda: len(got) == 3)
    with open(log_path, "wb") as f:
        f.write(line("stdout", "b0\n", (BASE + 9) * 10**9))
    await wait_until(lambda: len(got) == 4)
    done.set()
    await asyncio.wait_for(task, 5)
    assert texts(got)[-1] == "b0\n"


async def test_follow_until_in_the_future_stops_then(log_path: Path) -> None:
    now = time.time()
    with open(log_path, "wb") as f:
        f.write(line("stdout", "before\n", int((now - 1) * 1e9)))
    got = await asyncio.wait_for(collect(log_path, follow=True, until=now + 0.3), 5)
    assert texts(got) == ["before\n"]
    assert time.time() - now >= 0.3


async def test_follow_until_in_the_past_ends_at_once(log_path: Path) -> None:
    write(log_path, [("stdout", "a\n", 0), ("stdout", "b\n", 10)])
    got = await asyncio.wait_for(collect(log_path, follow=True, until=BASE + 5), 5)
    assert texts(got) == ["a\n"]


async def test_leaving_the_loop_closes_the_files(log_path: Path) -> None:
    write(log_path, numbered("a", 3))
    fds_before = len(os.listdir("/proc/self/fd"))
    reader = read_logs(log_path, stdout=True, stderr=True, follow=True)
    async for _ in reader:
        break
    await reader.aclose()
    assert len(os.listdir("/proc/self/fd")) == fds_before


# -- the wire -----------------------------------------------------------------------------------------


def test_format_entry_stdcopy_frames_as_trace_12() -> None:
    out = LogEntry("stdout", b"line1\n", "2026-11-24T05:20:26.1Z", 0)
    err = LogEntry("stderr", b"errline\n", "2026-11-24T05:20:26.1Z", 0)
    assert format_entry(out, timestamps=False, tty=False) == bytes.fromhex("0100000000000006") + b"line1\n"
    assert format_entry(err, timestamps=False, tty=False) == bytes.fromhex("0200000000000008") + b"errline\n"


def test_format_entry_tty_is_raw() -> None:
    entry = LogEntry("stdout", b"tty-out\r\n", "2026-11-24T05:20:26Z", 0)
    assert format_entry(entry, timestamps=False, tty=True) == b"tty-out\r\n"
    assert format_entry(entry, timestamps=True, tty=True) == b"2026-11-24T05:20:26.000000000Z tty-out\r\n"


def test_format_entry_timestamps_are_fixed_width() -> None:
    """jsonmessage.RFC3339NanoFixed: nine fractional digits, then a space, in the frame."""
    entry = LogEntry("stdout", b"hi\n", "2026-11-25T11:50:00.1234Z", 0)
    payload = b"2026-11-25T11:50:00.123400000Z hi\n"
    assert (
        format_entry(entry, timestamps=True, tty=False)
        == b"\x01\0\0\0" + len(payload).to_bytes(4, "big") + payload
    )


def test_format_entry_empty_payload_writes_nothing() -> None:
    assert (
        format_entry(LogEntry("stdout", b"", "2026-11-25T11:50:00Z", 0), timestamps=False, tty=False) == b""
    )


@pytest.mark.parametrize(
    ("written", "fixed"),
    [
        ("2026-11-25T11:50:00.123456789Z", "2026-11-25T11:50:00.123456789Z"),
        ("2026-11-25T11:50:00Z", "2026-11-25T11:50:00.000000000Z"),
        ("2026-11-25T11:50:00.5Z", "2026-11-25T11:50:00.500000000Z"),
        ("2026-11-25T11:50:00.5+01:00", "2026-11-25T11:50:00.500000000+01:00"),
        ("2026-11-25T11:50:00.5+00:00", "2026-11-25T11:50:00.500000000Z"),
    ],
)
def test_format_time_fixed(written: str, fixed: str) -> None:
    assert format_time_fixed(written) == fixed


async def test_time_offsets_are_honoured(log_path: Path) -> None:
    with open(log_path, "wb") as f:
        f.write(b'{"log":"x\\n","stream":"stdout","time":"2026-11-24T06:26:40.5+01:00"}\n')
    (entry,) = await collect(log_path)
    assert entry.timestamp == pytest.approx(BASE + 0.5)


# -- query values -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("", 0),
        (None, 0),
        ("0", 0),
        ("1795498015", 1795498015),
        ("1795498015.123456789", 1795498015.123456789),
        ("1795498015.5", 1795498015.5),
        ("1795498015.000000001", 1795498015.000000001),
        ("-5", -5),
    ],
)
def test_parse_timestamp(value: str | None, seconds: float) -> None:
    assert parse_timestamp(value) == pytest.approx(seconds, abs=1e-9)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("abc", 'strconv.ParseInt: parsing "abc": invalid syntax'),
        ("10m", 'strconv.ParseInt: parsing "10m": invalid syntax'),
        ("1.x", 'strconv.ParseInt: parsing "x": invalid syntax'),
        ("99999999999999999999", 'strconv.ParseInt: parsing "99999999999999999999": value out of range'),
    ],
)
def test_parse_timestamp_errors_are_gos(value: str, message: str) -> None:
    with pytest.raises(InternalError) as info:
        parse_timestamp(value)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("value", "count"),
    [("all", None), (None, None), ("5", 5), ("0", 0), ("+3", 3), ("-1", None), ("x", None), (" 5", None)],
)
def test_parse_tail(value: str | None, count: int | None) -> None:
    assert parse_tail(value) == count
