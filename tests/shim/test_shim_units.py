"""The shim's pure parts without root: stdcopy, the json-file writer, argv, imports, ShimClient files.

The json-file escaping is checked against a reference written from moby's jsonlog writer rules
(byte by byte: Go's utf8.DecodeRune, `\\ufffd` per invalid byte, `\\u00XX` for control
characters but \\n \\r \\t, HTML characters and U+2028/U+2029 escaped).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from jockerd.driver.shim_client import ExitStatus, ShimClient, ShimOptions, format_time, shim_args
from jockerd.errors import InternalError, InvalidParameterError
from jockerd.shim import stdcopy
from jockerd.shim.__main__ import UsageError, parse
from jockerd.shim.logs import MAX_ENTRY, JsonFileLog, escape, split_entries
from jockerd.shim.logs import format_time as shim_format_time

REPO = Path(__file__).resolve().parents[2]

# -- stdcopy ---------------------------------------------------------------------------------------


def test_frame_header() -> None:
    assert stdcopy.frame(1, b"hi") == b"\x01\x00\x00\x00\x00\x00\x00\x02hi"
    assert stdcopy.frame(2, b"") == b"\x02\x00\x00\x00\x00\x00\x00\x00"
    with pytest.raises(ValueError):
        stdcopy.header(7, 1)


def test_decoder_reassembles_frames_split_anywhere() -> None:
    frames = [(1, b"out"), (2, b"err" * 1000), (1, b""), (1, os.urandom(70000))]
    stream = b"".join(stdcopy.frame(s, d) for s, d in frames)
    decoder = stdcopy.FrameDecoder()
    got = []
    for i in range(0, len(stream), 7):
        got += decoder.feed(stream[i : i + 7])
    assert got == frames
    assert decoder.pending == 0
    assert stdcopy.demux(stream) == (b"out" + frames[3][1], b"err" * 1000)


def test_decoder_rejects_garbage_and_cut_streams() -> None:
    with pytest.raises(ValueError):
        stdcopy.FrameDecoder().feed(b"hello world!")
    with pytest.raises(ValueError):
        stdcopy.demux(stdcopy.frame(1, b"abc")[:-1])


# -- json-file -------------------------------------------------------------------------------------


def go_escape(data: bytes) -> str:
    """moby's jsonlog string writer, byte by byte (the reference for `escape`)."""
    out = []
    i = 0
    while i < len(data):
        b = data[i]
        if b < 0x80:
            c = chr(b)
            if c in '"\\':
                out.append("\\" + c)
            elif c == "\n":
                out.append("\\n")
            elif c == "\r":
                out.append("\\r")
            elif c == "\t":
                out.append("\\t")
            elif b < 0x20 or c in "<>&":
                out.append(f"\\u{b:04x}")
            else:
                out.append(c)
            i += 1
            continue
        for size in (2, 3, 4):
            try:
                c = data[i : i + size].decode("utf-8")
            except UnicodeDecodeError:
                continue
            out.append(f"\\u{ord(c):04x}" if c in "\u2028\u2029" else c)
            i += size
            break
        else:
            out.append("\\ufffd")
            i += 1
    return "".join(out)


@pytest.mark.parametrize(
    "data",
    [
        b"plain",
        b'quote " backslash \\ slash /',
        b"<script>&amp;</script>",
        b"\x00\x01\x08\x0c\x1f\x7f tab\t cr\r",
        "é ü 日本 🐳 \u2028 \u2029 \ufffd".encode(),
        b"\xff\xfe bad \xe2\x82 cut \xed\xa0\x80 surrogate \xc0\xaf overlong",
        b"backslash-b \\b and real \x08",
    ],
)
def test_escape_matches_moby(data: bytes) -> None:
    assert escape(data) == go_escape(data)


def test_escape_matches_moby_on_random_bytes() -> None:
    rng = random.Random(7)
    for _ in range(200):
        alphabet = b'ab\n\\"<\x00\x08\xc3\xa9\xe2\x80\xa8\xff'
        data = bytes(rng.choice(alphabet) for _ in range(rng.randint(0, 60)))
        assert escape(data) == go_escape(data), data


def test_format_time_is_go_rfc3339nano() -> None:
    assert shim_format_time(0) == "1970-01-01T00:00:00Z"
    assert shim_format_time(1_700_000_000_123_456_789) == "2023-11-14T22:13:20.123456789Z"
    assert shim_format_time(1_700_000_000_120_000_000) == "2023-11-14T22:13:20.12Z"
    assert format_time(1_700_000_000_120_000_000) == "2023-11-14T22:13:20.12Z"


def test_split_entries_at_16k() -> None:
    entries, rest = split_entries(b"a\n" + b"x" * 40000 + b"\n" + b"y" * MAX_ENTRY + b"\nz")
    assert [len(e) for e in entries] == [2, MAX_ENTRY, MAX_ENTRY, 40000 - 2 * MAX_ENTRY + 1, MAX_ENTRY, 1]
    assert entries[-1] == b"\n"
    assert rest == b"z"
    entries, rest = split_entries(b"q" * (MAX_ENTRY + 5))
    assert ([len(e) for e in entries], rest) == ([MAX_ENTRY], b"q" * 5)


def read_log(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_log_entries_split_at_newlines_across_writes(tmp_path: Path) -> None:
    log = JsonFileLog(str(tmp_path / "log"))
    now = 1_700_000_000_000_000_001
    log.write(1, b"one\ntw", now)
    log.write(2, b"err ", now)
    log.write(1, b"o\nthree", now)
    log.write(2, b"line\n", now)
    log.flush(now)
    log.close()
    entries = read_log(tmp_path / "log")
    assert [(e["stream"], e["log"]) for e in entries] == [
        ("stdout", "one\n"),
        ("stdout", "two\n"),
        ("stderr", "err line\n"),
        ("stdout", "three"),
    ]
    first = (tmp_path / "log").read_text().splitlines()[0]
    assert first == '{"log":"one\\n","stream":"stdout","time":"2023-11-14T22:13:20.000000001Z"}'


def test_log_long_lines_and_odd_bytes(tmp_path: Path) -> None:
    data = b"<&>\xff\x08\n" + "é".encode() * 20000 + b"\n" + b"\\n\n"
    log = JsonFileLog(str(tmp_path / "log"))
    for i in range(0, len(data), 1000):
        log.write(1, data[i : i + 1000])
    log.close()
    lines = (tmp_path / "log").read_text().splitlines()
    entries = split_entries(data)[0]
    assert len(lines) == len(entries) == 5
    for line, entry in zip(lines, entries, strict=True):
        assert line.startswith('{"log":"' + go_escape(entry) + '","stream":"stdout","time":"')


@pytest.mark.parametrize("max_file", [1, 2, 4])
def test_log_rotation(tmp_path: Path, max_file: int) -> None:
    path = tmp_path / "c-json.log"
    log = JsonFileLog(str(path), max_size=500, max_file=max_file)
    for i in range(100):
        log.write(1, f"line {i}\n".encode())
    log.write(1, b"".join(f"batch {i}\n".encode() for i in range(100)))
    log.close()
    files = [Path(f"{path}.{i}") for i in range(max_file - 1, 0, -1)] + [path]
    assert all(f.exists() for f in files)
    assert not Path(f"{path}.{max_file}").exists()
    entries = [e["log"] for f in files for e in read_log(f)]
    expected = [f"line {i}\n" for i in range(100)] + [f"batch {i}\n" for i in range(100)]
    assert entries == expected[-len(entries) :]
    for f in files:
        assert f.stat().st_size < 500 + 100  # rotation happens before the entry that would pass it


# -- argv --------------------------------------------------------------------------------------------

BASE = ["--id", "c1", "--bundle", "/b", "--state-dir", "/s", "--runtime-root", "/r"]
BASE += ["--runtime", '["/usr/sbin/runc"]']


def test_parse_start() -> None:
    flags = ["--tty", "--stdin", "--console-size=24,80", "--log-path", "/l", "--log-max-size", "9"]
    o = parse(["start", *BASE, *flags])
    assert o is not None
    assert (o.mode, o.id, o.bundle, o.state_dir, o.runtime, o.runtime_root) == (
        "start",
        "c1",
        "/b",
        "/s",
        ["/usr/sbin/runc"],
        "/r",
    )
    assert (o.tty, o.stdin, o.stdin_once, o.console_size, o.log_path, o.log_max_size, o.log_max_file) == (
        True,
        True,
        False,
        (24, 80),
        "/l",
        9,
        1,
    )
    assert parse(["--help"]) is None


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["run", *BASE],
        ["exec", *BASE],  # exec needs --process
        ["start", *BASE[:-2]],
        ["start", *BASE, "--bundle", "relative"],
        ["start", *BASE, "--runtime", "runc"],
        ["start", *BASE, "--runtime", "[]"],
        ["start", *BASE, "--console-size", "24"],
        ["start", *BASE, "--log-max-file", "0"],
        ["start", *BASE, "--bogus"],
        ["start", *BASE, "--id"],
    ],
)
def test_parse_refuses(argv: list[str]) -> None:
    with pytest.raises(UsageError):
        parse(argv)


def test_usage_error_exit_status() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "jockerd.shim", "start"], capture_output=True, text=True, cwd=REPO
    )
    assert result.returncode == 2
    assert "missing flags" in result.stderr


def test_shim_imports_little() -> None:
    """Start-up is on every `docker run`: none of the expensive modules may load."""
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); "
        "import jockerd.shim.__main__, jockerd.runtime.linux.libc; print(' '.join(sys.modules))"
    )
    result = subprocess.run([sys.executable, "-IS", "-c", code, str(REPO)], capture_output=True, text=True)
    loaded = set(result.stdout.split())
    assert "jockerd.shim.supervisor" in loaded
    banned = {"asyncio", "json", "re", "enum", "socket", "signal", "typing", "dataclasses", "selectors"}
    banned |= {"subprocess", "argparse", "datetime", "pydantic", "jockerd.models"}
    banned |= {"jockerd.driver.oci_runtime", "jockerd.driver.runtime_log"}
    assert loaded & banned == set()


# -- ShimClient without a shim ---------------------------------------------------------------------


def options(tmp_path: Path, **kw) -> ShimOptions:
    return ShimOptions(
        container_id="c1",
        bundle=tmp_path / "bundle",
        state_dir=tmp_path / "shim",
        runtime_argv=["/usr/sbin/runc"],
        runtime_root=tmp_path / "root",
        **kw,
    )


def test_shim_args(tmp_path: Path) -> None:
    log = tmp_path / "log"
    start = shim_args(options(tmp_path, log_path=log, log_max_size=10, tty=True, console_size=(5, 6)))
    assert start[:3] == ["start", "--id", "c1"]
    assert start[start.index("--runtime") + 1] == '["/usr/sbin/runc"]'
    assert start[start.index("--console-size") + 1] == "5,6"
    assert "--tty" in start and "--stdin" not in start
    assert start[start.index("--log-max-size") + 1] == "10"
    process = {"args": ["true"]}
    exec_ = shim_args(options(tmp_path, exec_id="e1", process=process, stdin=True, stdin_once=True))
    assert exec_[0] == "exec"
    assert exec_[exec_.index("--process") + 1] == str(tmp_path / "shim" / "process.json")
    assert "--log-path" not in exec_ and "--stdin-once" in exec_
    assert parse(start[:]) is not None and parse(exec_) is not None


def write_pid(path: Path, pid: int, started: str | None = None) -> None:
    if started is None:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
        started = stat[stat.rindex(b")") + 2 :].split()[19].decode()
    path.write_text(f"{pid} {started}")


async def test_adopt_reads_the_files(tmp_path: Path) -> None:
    state = tmp_path / "shim"
    state.mkdir()
    write_pid(state / "shim.pid", os.getpid())
    write_pid(state / "init.pid", os.getpid())
    client = ShimClient.adopt(state)
    assert client.pid == os.getpid()
    assert client.shim_alive()
    assert client.exit_status() is None
    write_pid(state / "shim.pid", os.getpid(), "1")
    assert not ShimClient.adopt(state).shim_alive()
    status = {"exit_code": 3, "oom_killed": True, "finished_at": "2026-11-25T11:50:00.1Z", "error": ""}
    (state / "exit").write_text(json.dumps(status))
    expected = ExitStatus(3, True, "2026-11-25T11:50:00.1Z")
    assert client.exit_status() == expected
    assert await asyncio.wait_for(client.wait(), 5) == expected


async def test_wait_on_a_dead_shim(tmp_path: Path) -> None:
    state = tmp_path / "shim"
    state.mkdir()
    proc = subprocess.Popen(["true"])
    proc.wait()
    write_pid(state / "shim.pid", proc.pid, "1")
    status = await asyncio.wait_for(ShimClient.adopt(state).wait(), 5)
    assert (status.exit_code, status.oom_killed, status.error) == (255, False, "shim died")
    assert status.finished_at.endswith("Z")


async def test_attach_without_a_shim_reads_eof(tmp_path: Path) -> None:
    (tmp_path / "shim").mkdir()
    reader, writer = await ShimClient.adopt(tmp_path / "shim").attach(stdin=True, stdout=True, stderr=True)
    assert await asyncio.wait_for(reader.read(), 5) == b""
    writer.close()


FAKE_SHIM = """import sys
sys.stderr.write(sys.argv[1])
sys.exit(int(sys.argv[2]))
"""


@pytest.mark.parametrize(
    ("message", "code", "kind"),
    [
        ('exec: "nope": executable file not found in $PATH', 1, InvalidParameterError),
        ("something odd", 1, InternalError),
        ("usage", 2, InternalError),
    ],
)
async def test_start_failure_kinds(tmp_path: Path, message: str, code: int, kind: type) -> None:
    fake = [sys.executable, "-c", FAKE_SHIM, message, str(code)]
    with pytest.raises(kind) as caught:
        await ShimClient.start(options(tmp_path, mounts=[{"type": "tmpfs"}]), shim_argv=fake)
    assert message in str(caught.value)
    assert json.loads((tmp_path / "shim" / "mounts.json").read_text()) == [{"type": "tmpfs"}]
