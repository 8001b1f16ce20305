"""OciRuntime: a typed async wrapper over a runc-compatible CLI (go-runc's role in containerd).

This is the only place the daemon runs an OCI runtime. `argv` is how to start it:
`["jocker-runtime"]`, `["/usr/sbin/runc"]`, `["crun"]` or `[python, "-m", "jockerd.runtime"]`.
Global flags always come before the verb, and every path passed is absolute.

argv this module relies on (runc 1.1 and crun 1.8 spell them the same way; G = the globals
`--root ROOT [--log LOG --log-format FMT]`):

| method         | argv after `ARGV G`                                                 | stdout read       |
|----------------|---------------------------------------------------------------------|-------------------|
| create         | `create --bundle B --pid-file P [--console-socket S] [--no-pivot] ID`| - (container's)   |
| start          | `start ID`                                                          |                   |
| state          | `state ID`                                                          | OCI State JSON    |
| kill           | `kill [--all] ID SIG` (SIG: name as KILL/SIGKILL, or a number)      |                   |
| delete         | `delete [--force] ID`                                               |                   |
| exec           | `exec --process F [--detach] --pid-file P [--console-socket S] ID`  | - (the process')  |
| pause / resume | `pause ID` / `resume ID`                                            |                   |
| ps             | `ps --format json ID`                                               | JSON list of pids |
| update         | `update --resources - ID` (LinuxResources JSON on stdin)            |                   |
| events_stats   | `events --stats ID`                                                 | `{"type","data"}` |
| features       | `features`                                                          | Features JSON     |
| list           | `list --format json`                                                | JSON list or null |
| version        | `--version` (no globals)                                            | "NAME version X"  |

Files: `--pid-file` holds the decimal pid (no newline needed); `--process` is a runtime-spec
Process JSON written by this module; `--log` lines are JSON (`{"level","msg","time"}`) when
`--log-format json`.

stdio: verbs whose output is parsed run with pipes. `create` and `exec` hand the caller's
stdin/stdout/stderr fds (or /dev/null) to the runtime, because the container process inherits
them: a pipe of ours would never see EOF while the container lives. Their error text is then
read from the runtime's `--log` file: a per-call one in a scratch directory, or the tail
written during the call to `log` when one is configured (json format assumed for parsing;
plain text lines are used as they are).

Errors: a non-zero exit raises an `OciRuntimeError` (a `JockerError` and a `RuntimeError`)
with the command, exit code and the runtime's error message, of the kind its wording says
(checked against runc 1.1.5 and crun 1.8.1 on this machine):
- NotFound: "container does not exist" (runc), "error opening file `ROOT/ID/status`" (crun),
  any "does not exist" / "not found" message.
- Conflict (wrong state): "already exists", "not running", "not paused", "not stopped",
  "cannot start an already running container", "the container `ID` is not in `created` or
  `stopped` state", "kill container: No such process", "cannot open `…/exec.fifo`" (crun's
  second start), jocker-runtime's "cannot VERB container ID: container is STATE".
- InvalidParameter: "executable file not found" (moby maps it the same way, exit 127).
- Unsupported: the runtime lacks the verb ("unknown command" crun, "No help topic" runc).
- Internal: everything else, timeouts included.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import tempfile
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

from jockerd.driver.runtime_log import has_error as _has_error
from jockerd.driver.runtime_log import parse_error_message
from jockerd.errors import (
    ConflictError,
    InternalError,
    InvalidParameterError,
    JockerError,
    NotFoundError,
    UnsupportedError,
)

DEFAULT_TIMEOUT = 60.0

# Checked in this order, on the lowercased message; the first match decides the kind.
_CONFLICT = (
    "already exists",
    "already running",
    "already paused",
    "not running",
    "not paused",
    "not stopped",
    "not created",
    "is paused",
    "not in `created`",
    "stopped container",
    "has stopped",
    "no such process",
    "exec.fifo",
    "cannot start",
    "cannot delete",
    "cannot kill",
    "cannot pause",
    "cannot resume",
    "cannot exec",
    ": container is ",
)
_INVALID = ("executable file not found",)
_UNSUPPORTED = ("unknown command", "no help topic")
_NOT_FOUND = ("does not exist", "not found", "no such container")


class OciRuntimeError(JockerError, RuntimeError):
    """A runtime invocation failed: `command` exited with `exit_code` saying `stderr_message`."""

    def __init__(
        self, command: Sequence[str], exit_code: int, stderr_message: str, *, verb: str = ""
    ) -> None:
        self.command = list(command)
        self.exit_code = exit_code
        self.stderr_message = stderr_message
        self.verb = verb
        super().__init__(f"OCI runtime {verb} failed: {stderr_message}" if verb else stderr_message)


class OciRuntimeNotFoundError(OciRuntimeError, NotFoundError):
    pass


class OciRuntimeConflictError(OciRuntimeError, ConflictError):
    pass


class OciRuntimeInvalidParameterError(OciRuntimeError, InvalidParameterError):
    pass


class OciRuntimeUnsupportedError(OciRuntimeError, UnsupportedError):
    pass


class OciRuntimeInternalError(OciRuntimeError, InternalError):
    pass


def error_kind(message: str, *, root: Path | None = None, id: str | None = None) -> type[OciRuntimeError]:
    """The OciRuntimeError subclass for a runtime's error message (see the module docstring)."""
    text = message.lower()
    if any(p in text for p in _CONFLICT):
        return OciRuntimeConflictError
    if any(p in text for p in _INVALID):
        return OciRuntimeInvalidParameterError
    if any(p in text for p in _UNSUPPORTED):
        return OciRuntimeUnsupportedError
    if any(p in text for p in _NOT_FOUND):
        return OciRuntimeNotFoundError
    # crun names the missing state file: "error opening file `ROOT/ID/status`: No such file …"
    if root is not None and id and f"{root}/{id}".lower() in text and "no such file" in text:
        return OciRuntimeNotFoundError
    return OciRuntimeInternalError


def _read_from(path: Path, offset: int) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            return f.read().decode(errors="replace")
    except FileNotFoundError:
        return ""


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _read_pid(path: Path) -> int:
    return int(path.read_text().strip())


class OciRuntime:
    """One runtime executable with one state root; methods are named after runc's subcommands."""

    def __init__(
        self,
        argv: Sequence[str],
        root: Path,
        *,
        log: Path | None = None,
        log_format: str = "json",
        timeout: float | None = DEFAULT_TIMEOUT,
    ) -> None:
        if not argv:
            raise ValueError("empty runtime argv")
        self.argv = list(argv)
        self.root = Path(root).absolute()
        self.log = Path(log).absolute() if log is not None else None
        self.log_format = log_format
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"OciRuntime({self.argv!r}, root={str(self.root)!r})"

    def _globals(self, log: Path | None) -> list[str]:
        flags = ["--root", str(self.root)]
        if log is not None:
            flags += ["--log", str(log), "--log-format", self.log_format if log == self.log else "json"]
        return flags

    # -- verbs ---------------------------------------------------------------------------------

    async def create(
        self,
        id: str,
        bundle: Path,
        *,
        pid_file: Path | None = None,
        console_socket: Path | None = None,
        stdin: int | None = None,
        stdout: int | None = None,
        stderr: int | None = None,
        no_pivot: bool = False,
    ) -> int:
        """Create the container (status `created`); its init pid, from the pid file."""
        async with self._scratch() as tmp:
            pid_path = Path(pid_file).absolute() if pid_file is not None else tmp / "pid"
            args = ["create", "--bundle", str(Path(bundle).absolute()), "--pid-file", str(pid_path)]
            if console_socket is not None:
                args += ["--console-socket", str(Path(console_socket).absolute())]
            if no_pivot:
                args.append("--no-pivot")
            args.append(id)
            await self._run_with_stdio(args, id, tmp, (stdin, stdout, stderr), timeout=self.timeout)
            return await self._pid(pid_path, args)

    async def start(self, id: str) -> None:
        await self._run(["start", id], id)

    async def state(self, id: str) -> dict[str, Any]:
        """The OCI State: ociVersion, id, status, pid, bundle, annotations (+ runtime extras)."""
        return self._json(await self._run(["state", id], id), "state")

    async def kill(self, id: str, signal: int | str, *, all: bool = False) -> None:
        sig = str(int(signal)) if isinstance(signal, int) else signal
        args = ["kill", *(["--all"] if all else []), id, sig]
        await self._run(args, id)

    async def delete(self, id: str, *, force: bool = False) -> None:
        await self._run(["delete", *(["--force"] if force else []), id], id)

    async def exec(
        self,
        id: str,
        process: dict[str, Any],
        *,
        detach: bool = True,
        pid_file: Path | None = None,
        console_socket: Path | None = None,
        tty: bool = False,
        stdin: int | None = None,
        stdout: int | None = None,
        stderr: int | None = None,
    ) -> int:
        """Run a tenant process (a runtime-spec Process) in the container.

        Detached: returns its pid once it runs. Attached: waits for it and returns its exit
        status (no timeout); a failure of the runtime itself still raises OciRuntimeError.
        """
        async with self._scratch() as tmp:
            process_path = tmp / "process.json"
            body = json.dumps({**process, "terminal": tty})
            await asyncio.to_thread(process_path.write_text, body)
            pid_path = Path(pid_file).absolute() if pid_file is not None else tmp / "pid"
            args = ["exec", "--process", str(process_path)]
            if detach:
                args.append("--detach")
            args += ["--pid-file", str(pid_path)]
            if console_socket is not None:
                args += ["--console-socket", str(Path(console_socket).absolute())]
            args.append(id)
            stdio = (stdin, stdout, stderr)
            if detach:
                await self._run_with_stdio(args, id, tmp, stdio, timeout=self.timeout)
                return await self._pid(pid_path, args)
            return await self._run_with_stdio(args, id, tmp, stdio, timeout=None, check=False)

    async def pause(self, id: str) -> None:
        await self._run(["pause", id], id)

    async def resume(self, id: str) -> None:
        await self._run(["resume", id], id)

    async def ps(self, id: str) -> list[int]:
        """Pids of the container's processes, as the host sees them."""
        pids = self._json(await self._run(["ps", "--format", "json", id], id), "ps")
        return [int(p) for p in pids or []]

    async def update(self, id: str, resources: dict[str, Any]) -> None:
        """Apply runtime-spec LinuxResources to a running container."""
        await self._run(["update", "--resources", "-", id], id, input=json.dumps(resources).encode())

    async def events_stats(self, id: str) -> dict[str, Any]:
        """One stats sample (runc's `events --stats` "data": cpu, memory, pids, blkio …)."""
        event = self._json(await self._run(["events", "--stats", id], id), "events")
        return event.get("data", {}) if isinstance(event, dict) else {}

    async def features(self) -> dict[str, Any]:
        return self._json(await self._run(["features"]), "features")

    async def list(self) -> list[dict[str, Any]]:
        return self._json(await self._run(["list", "--format", "json"]), "list") or []

    async def version(self) -> str:
        """The version word of `--version`'s first line ("runc version 1.1.5" → "1.1.5")."""
        out = (await self._run(["--version"], globals=False)).decode(errors="replace")
        first = out.strip().splitlines()[0] if out.strip() else ""
        _, sep, rest = first.partition("version")
        return rest.strip() if sep else first.strip()

    # -- plumbing ------------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def _scratch(self) -> AsyncIterator[Path]:
        """A private directory for one call's pid file, process.json and log."""
        path = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="oci-runtime-"))
        try:
            yield path
        finally:
            await asyncio.to_thread(shutil.rmtree, path, True)

    def _json(self, out: bytes, verb: str) -> Any:
        try:
            return json.loads(out or b"null")
        except ValueError as e:
            text = out[:200].decode(errors="replace")
            message = f"invalid json from {verb}: {text!r}"
            raise OciRuntimeInternalError(self.argv, 0, message, verb=verb) from e

    async def _pid(self, path: Path, args: list[str]) -> int:
        try:
            return await asyncio.to_thread(_read_pid, path)
        except (OSError, ValueError) as e:
            raise OciRuntimeInternalError(
                [*self.argv, *args], 0, f"no pid in pid file {path}: {e}", verb=args[0]
            ) from e

    def _fail(self, cmd: list[str], verb: str, code: int, message: str, id: str | None) -> OciRuntimeError:
        message = message or f"exit status {code}"
        return error_kind(message, root=self.root, id=id)(cmd, code, message, verb=verb)

    async def _wait(self, proc: asyncio.subprocess.Process, coro: Any, timeout: float | None) -> Any:
        """Await `coro` (the process' completion); kill and reap the runtime on timeout or cancel."""
        try:
            return await asyncio.wait_for(coro, timeout)
        except BaseException:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
            raise

    async def _run(
        self, args: list[str], id: str | None = None, *, input: bytes | None = None, globals: bool = True
    ) -> bytes:
        """Run a verb whose stdio is ours (pipes); its stdout, or OciRuntimeError."""
        cmd = [*self.argv, *(self._globals(self.log) if globals else []), *args]
        proc = await asyncio.create_subprocess_exec(
            *cmd,
            stdin=asyncio.subprocess.PIPE if input is not None else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            out, err = await self._wait(proc, proc.communicate(input), self.timeout)
        except TimeoutError:
            raise self._fail(cmd, args[0], -1, f"timed out after {self.timeout}s", None) from None
        if proc.returncode != 0:
            message = parse_error_message(err.decode(errors="replace"))
            raise self._fail(cmd, args[0], proc.returncode or 0, message, id)
        return out

    async def _run_with_stdio(
        self,
        args: list[str],
        id: str,
        tmp: Path,
        stdio: tuple[int | None, int | None, int | None],
        *,
        timeout: float | None,
        check: bool = True,
    ) -> int:
        """Run a verb whose stdio the container inherits; errors come from the --log file.

        Returns the exit status; with `check`, a non-zero one raises. Without it (attached
        exec), only an error-level log entry raises: any other status is the process'.
        """
        log = self.log if self.log is not None else tmp / "runtime.log"
        offset = await asyncio.to_thread(_size, log) if self.log is not None else 0
        cmd = [*self.argv, *self._globals(log), *args]
        stdin, stdout, stderr = (asyncio.subprocess.DEVNULL if fd is None else fd for fd in stdio)
        proc = await asyncio.create_subprocess_exec(*cmd, stdin=stdin, stdout=stdout, stderr=stderr)
        try:
            code = await self._wait(proc, proc.wait(), timeout)
        except TimeoutError:
            raise self._fail(cmd, args[0], -1, f"timed out after {timeout}s", None) from None
        if code == 0:
            return 0
        text = await asyncio.to_thread(_read_from, log, offset)
        message = parse_error_message(text)
        if check or _has_error(text):
            raise self._fail(cmd, args[0], code, message, id)
        return code


__all__ = [
    "DEFAULT_TIMEOUT",
    "OciRuntime",
    "OciRuntimeConflictError",
    "OciRuntimeError",
    "OciRuntimeInternalError",
    "OciRuntimeInvalidParameterError",
    "OciRuntimeNotFoundError",
    "OciRuntimeUnsupportedError",
    "error_kind",
    "parse_error_message",
]
