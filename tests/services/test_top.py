"""`docker top` (services/top.py) against real processes and the host's procps `ps`.

Expected behaviour and wording are moby 20.10's daemon/top_unix.go; the default output shape is
trace 15's: {"Titles":["UID","PID","PPID","C","STIME","TTY","TIME","CMD"],"Processes":[[…,"sleep 1000"]]}.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator

import pytest

from jockerd.errors import InternalError
from jockerd.services.top import parse_ps_output, top, validate_ps_args

pytestmark = pytest.mark.skipif(shutil.which("ps") is None, reason="needs ps")


@pytest.fixture
def sleepers() -> Iterator[list[subprocess.Popen[bytes]]]:
    procs = [subprocess.Popen(["sleep", "1000", "7"]), subprocess.Popen(["sleep", "999"])]
    try:
        yield procs
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()


async def test_default_ps_args(sleepers: list[subprocess.Popen[bytes]]) -> None:
    first = sleepers[0]
    titles, processes = await top([first.pid])
    assert titles == ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"]
    assert len(processes) == 1
    (row,) = processes
    assert len(row) == len(titles)
    assert row[1] == str(first.pid)
    assert row[2] == str(os.getpid())
    assert row[-1] == "sleep 1000 7"  # the CMD column keeps its spaces
    assert all(isinstance(v, str) for v in row)
    assert await top([first.pid], "") == (titles, processes)


async def test_only_the_containers_pids(sleepers: list[subprocess.Popen[bytes]]) -> None:
    pids = [p.pid for p in sleepers]
    _, processes = await top(pids)
    assert sorted(int(row[1]) for row in processes) == sorted(pids)
    _, processes = await top([])
    assert processes == []


async def test_bsd_style_args(sleepers: list[subprocess.Popen[bytes]]) -> None:
    titles, processes = await top([sleepers[1].pid], "aux")
    assert titles[:3] == ["USER", "PID", "%CPU"] and titles[-1] == "COMMAND"
    assert [row[1] for row in processes] == [str(sleepers[1].pid)]
    assert processes[0][-1] == "sleep 999"


async def test_custom_columns(sleepers: list[subprocess.Popen[bytes]]) -> None:
    titles, processes = await top([sleepers[0].pid], "-o pid,args")
    assert titles == ["PID", "COMMAND"]
    assert processes == [[str(sleepers[0].pid), "sleep 1000 7"]]
    # The pid column may be titled PID explicitly.
    titles, _ = await top([sleepers[0].pid], "-o pid=PID,comm")
    assert titles == ["PID", "COMMAND"]


async def test_options_that_do_not_mix_with_q_are_retried_without(
    sleepers: list[subprocess.Popen[bytes]],
) -> None:
    """`ps -ef -qPID f` fails (forest and quick-pid); dockerd runs `ps -ef f` then."""
    pid = sleepers[0].pid
    titles, processes = await top([pid], "-ef f")
    assert "PID" in titles
    assert [row[titles.index("PID")] for row in processes] == [str(pid)]


async def test_no_pid_column() -> None:
    with pytest.raises(InternalError) as info:
        await top([os.getpid()], "-o comm")
    assert str(info.value) == "Couldn't find PID field in ps output"
    assert info.value.status == 500


async def test_a_column_renamed_pid_is_refused() -> None:
    with pytest.raises(InternalError) as info:
        await top([os.getpid()], "-o user=PID")
    assert str(info.value) == 'specifying "user=PID" is not allowed'
    validate_ps_args("-o pid=PID")  # the pid column itself is fine
    validate_ps_args("-ef")


@pytest.mark.parametrize("option", ["--no-headers", "--noheading"])
async def test_no_headers_is_refused(option: str) -> None:
    with pytest.raises(InternalError) as info:
        await top([os.getpid()], f"-ef {option}")
    assert str(info.value) == f"option {option} is not allowed"


async def test_ps_failure_reports_its_first_stderr_line() -> None:
    result = subprocess.run(["ps", "--bogus"], capture_output=True, text=True, check=False)
    assert result.returncode != 0
    with pytest.raises(InternalError) as info:
        await top([os.getpid()], "--bogus")
    assert str(info.value) == "ps: " + result.stderr.split("\n", 1)[0]


# -- parsing, as moby's parsePSOutput -----------------------------------------------------------------


def test_thread_rows_follow_their_process() -> None:
    output = (
        "  PID   TID COMMAND\n"
        "    1     - init\n"
        "    -     1 -\n"
        "   42     - app\n"
        "    -    42 -\n"
        "    -    43 -\n"
        "   50     - other\n"
        "    -    50 -\n"
    )
    titles, processes = parse_ps_output(output, [42])
    assert titles == ["PID", "TID", "COMMAND"]
    assert processes == [["42", "-", "app"], ["-", "42", "-"], ["-", "43", "-"]]


def test_fields_split_on_ascii_whitespace_only() -> None:
    output = "PID CMD\n7 a\u00a0b  c\td\n"
    assert parse_ps_output(output, [7]) == (["PID", "CMD"], [["7", "a\u00a0b c d"]])


def test_unexpected_pid() -> None:
    with pytest.raises(InternalError) as info:
        parse_ps_output("PID CMD\nx sh\n", [1])
    assert str(info.value) == "Unexpected pid 'x': strconv.Atoi: parsing \"x\": invalid syntax"


def test_empty_output_has_no_pid_field() -> None:
    with pytest.raises(InternalError, match="Couldn't find PID field in ps output"):
        parse_ps_output("", [1])
