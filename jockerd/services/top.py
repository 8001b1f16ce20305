"""`docker top`: the host's `ps`, narrowed to a container's processes (moby daemon/top_unix.go).

dockerd 20.10 splits `ps_args` on single spaces (default "-ef"), runs `ps ARGS -qPID,PID…`
(and `ps ARGS` alone if that fails: some options, such as f, do not mix with q), takes the
titles from the first line, finds the PID column and keeps the rows whose PID is one of the
container's (thread rows, PID "-", follow their process). Each row is split on ASCII
whitespace into at most len(titles) fields, the last field keeping the rest (CMD with spaces).

Every error is a 500, with dockerd's wording:
- `specifying "user=PID" is not allowed` (a column renamed to PID but not the pid column),
- `option --no-headers is not allowed` (parsing needs the header),
- `ps: <first line of ps's stderr>` (or `ps: exit status N`),
- `Couldn't find PID field in ps output`, `Unexpected pid 'X': strconv.Atoi: …`.
"""

from __future__ import annotations

import asyncio
import re
import signal

from jockerd.errors import InternalError

DEFAULT_PS_ARGS = "-ef"
_NO_HEADER = (
    "--no-header",
    "--no-headers",
    "--no-heading",
    "--no-headings",
    "--noheader",
    "--noheaders",
    "--noheading",
    "--noheadings",
)
# Go's \s is [\t\n\f\r ]; spelled out so Python's Unicode whitespace does not match more.
_RENAMED_PID = re.compile(r"[\t\n\f\r ]+([^\t\n\f\r ]*)=[\t\n\f\r ]*(PID[^\t\n\f\r ]*)")
_ASCII_SPACE = re.compile(r"[\t\n\f\r ]+")
_GO_INT = re.compile(r"[+-]?[0-9]+\Z")


def validate_ps_args(ps_args: str) -> None:
    """moby's validatePSArgs: only the pid column may be titled PID…"""
    for key, value in _RENAMED_PID.findall(ps_args):
        if key != "pid":
            raise InternalError(f'specifying "{key}={value}" is not allowed')


def _fields(line: str) -> list[str]:
    """strings.FieldsFunc on ASCII whitespace (moby's fieldsASCII)."""
    return [f for f in _ASCII_SPACE.split(line) if f]


def _row(fields: list[str], width: int) -> list[str]:
    """appendProcess2ProcList: as many fields as titles, the overhanging ones joined by a space."""
    return [*fields[: width - 1], " ".join(fields[width - 1 :])]


def parse_ps_output(output: str, pids: list[int]) -> tuple[list[str], list[list[str]]]:
    """`ps` output → (titles, rows of the processes in `pids`), as moby's parsePSOutput."""
    lines = output.split("\n")
    titles = _fields(lines[0])
    if "PID" not in titles:
        raise InternalError("Couldn't find PID field in ps output")
    pid_index = titles.index("PID")
    wanted = set(pids)
    processes: list[list[str]] = []
    previous_wanted = False  # thread rows ("-" as PID, ps -m / H) belong to the row above
    for line in lines[1:]:
        if not line:
            continue
        fields = _fields(line)
        if pid_index >= len(fields):
            continue
        pid = fields[pid_index]
        if pid == "-":
            if previous_wanted:
                processes.append(_row(fields, len(titles)))
            continue
        if not _GO_INT.match(pid):
            raise InternalError(f"Unexpected pid '{pid}': strconv.Atoi: parsing \"{pid}\": invalid syntax")
        previous_wanted = int(pid) in wanted
        if previous_wanted:
            processes.append(_row(fields, len(titles)))
    return titles, processes


def _exit_status(returncode: int) -> str:
    """Go's exec.ExitError text: "exit status N", or "signal: killed" for a signal."""
    if returncode >= 0:
        return f"exit status {returncode}"
    try:
        description = signal.strsignal(-returncode) or f"signal {-returncode}"
    except ValueError:
        description = f"signal {-returncode}"
    return f"signal: {description[:1].lower()}{description[1:]}"


async def _ps(args: list[str]) -> tuple[int, bytes, bytes]:
    try:
        proc = await asyncio.create_subprocess_exec(
            "ps",
            *args,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
    except FileNotFoundError:
        raise InternalError('ps: exec: "ps": executable file not found in $PATH') from None
    out, err = await proc.communicate()
    return proc.returncode or 0, out, err


async def top(pids: list[int], ps_args: str = DEFAULT_PS_ARGS) -> tuple[list[str], list[list[str]]]:
    """(Titles, Processes) of `docker top` for a container whose processes are `pids` (the
    runtime's `ps`). `ps_args` is the query's `ps_args` as given ("" means "-ef")."""
    ps_args = ps_args or DEFAULT_PS_ARGS
    validate_ps_args(ps_args)
    args = ps_args.split(" ")
    for arg in args:
        if arg in _NO_HEADER:
            raise InternalError(f"option {arg} is not allowed")
    returncode, out, err = await _ps([*args, "-q" + ",".join(str(p) for p in pids)])
    if returncode != 0:
        returncode, out, err = await _ps(args)
        if returncode != 0:
            first = err.split(b"\n", 1)[0].decode(errors="replace")
            raise InternalError(f"ps: {first or _exit_status(returncode)}")
    return parse_ps_output(out.decode(errors="replace"), pids)
