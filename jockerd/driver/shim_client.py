"""ShimClient: the daemon's side of jocker-shim (argv, files, two sockets; see jockerd/shim).

`ShimClient.start(options)` writes mounts.json (start mode) or process.json (exec mode) into
the shim's state dir, starts `jocker-shim` in a new session and waits for its readiness: in
start mode the container is then *created* (the daemon attaches, then runs `runtime start`),
in exec mode the process runs. A failure raises the OciRuntimeError kind that the runtime's
message calls for (oci_runtime.error_kind), with the runtime's own words.

Exec mode: the shim holds the process's output until the first attach, so nothing is lost
between the process's start and the daemon's attach. Attach once after start(); a detached
exec attaches with no streams (`attach(stdin=False, stdout=False, stderr=False)`) and closes
the connection, which lets the shim read and drop the output.

After a daemon restart, `ShimClient.adopt(state_dir)` rebuilds the client from the files.

`wait()` holds a connection to control.sock: the shim keeps those open until it exits, which it
does right after writing `exit`, so the EOF is the signal (no polling while the shim lives; a
poll every 100 ms only while control.sock cannot be reached). If the shim died without writing
`exit` (SIGKILL), wait() returns exit code 255 with error "shim died": moby's code for an exit
status it could not learn (daemon restore), and the container's processes may still be
running (the daemon should kill them through the runtime and `delete` it).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import socket
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from jockerd.driver.oci_runtime import DEFAULT_TIMEOUT, OciRuntimeInternalError, error_kind
from jockerd.errors import ConflictError, InternalError, NotFoundError

MAX_SOCKET_PATH = 107  # sizeof(sun_path) - 1
POLL_INTERVAL = 0.1
# Files a previous run of a shim in the same state dir may have left; start() removes them.
_STALE = (
    "exit",
    "exit.tmp",
    "init.pid",
    "init.pid.tmp",
    "shim.pid",
    "shim.pid.tmp",
    "runtime.pid",
    "attach.sock",
    "control.sock",
    "console.sock",
    "ports.json",
    "published.json",
)


@dataclass(frozen=True)
class ExitStatus:
    exit_code: int
    oom_killed: bool
    finished_at: str  # RFC3339Nano UTC, e.g. "2026-11-25T11:50:00.123456789Z"
    error: str = ""


@dataclass
class ShimOptions:
    container_id: str
    bundle: Path
    state_dir: Path
    runtime_argv: list[str]
    runtime_root: Path
    mounts: list[dict[str, Any]] = field(default_factory=list)  # OCI mounts for the rootfs
    log_path: Path | None = None
    log_max_size: int = 0
    log_max_file: int = 1
    tty: bool = False
    stdin: bool = False
    stdin_once: bool = False
    console_size: tuple[int, int] | None = None  # (height, width)
    exec_id: str | None = None  # exec mode when set
    process: dict[str, Any] | None = None  # exec mode: runtime-spec Process
    # The runtime is this installation's jocker-runtime: the shim may run it in a fork of
    # itself instead of a new interpreter (shim --runtime-in-process).
    runtime_in_process: bool = False
    # Published ports (start mode): {"endpoint": "NAME (ID)", "bindings": [...]}, written to
    # ports.json for the shim's proxy (jockerd/shim/ports.py); None: nothing is published.
    ports: dict[str, Any] | None = None


def _default_shim_argv() -> list[str]:
    launcher = Path(sys.executable).parent / "jocker-shim"
    return [str(launcher)] if os.access(launcher, os.X_OK) else [sys.executable, "-m", "jockerd.shim"]


def format_time(ns: int) -> str:
    """Go's time.RFC3339Nano in UTC, as the shim writes `finished_at`."""
    seconds, fraction = divmod(ns, 1_000_000_000)
    text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
    return text + ("." + f"{fraction:09d}".rstrip("0") if fraction else "") + "Z"


def shim_args(options: ShimOptions) -> list[str]:
    """jocker-shim's arguments for `options` (after the shim's own argv)."""
    o = options
    exec_mode = o.exec_id is not None
    args = [
        "exec" if exec_mode else "start",
        "--id",
        o.container_id,
        "--bundle",
        str(Path(o.bundle).absolute()),
        "--state-dir",
        str(Path(o.state_dir).absolute()),
        "--runtime",
        json.dumps(list(o.runtime_argv)),
        "--runtime-root",
        str(Path(o.runtime_root).absolute()),
    ]
    if exec_mode:
        args += ["--exec-id", str(o.exec_id), "--process", str(Path(o.state_dir).absolute() / "process.json")]
    elif o.log_path is not None:
        args += ["--log-path", str(Path(o.log_path).absolute())]
        args += ["--log-max-size", str(o.log_max_size), "--log-max-file", str(o.log_max_file)]
    if o.tty:
        args.append("--tty")
    if o.stdin:
        args.append("--stdin")
    if o.stdin_once:
        args.append("--stdin-once")
    if o.console_size is not None:
        args += ["--console-size", f"{o.console_size[0]},{o.console_size[1]}"]
    if o.runtime_in_process:
        args.append("--runtime-in-process")
    if o.ports is not None and not exec_mode:
        args += ["--ports", str(Path(o.state_dir).absolute() / "ports.json")]
    return args


def _prepare_state_dir(options: ShimOptions) -> None:
    state_dir = Path(options.state_dir)
    state_dir.mkdir(parents=True, exist_ok=True, mode=0o711)
    for name in _STALE:
        with contextlib.suppress(FileNotFoundError):
            (state_dir / name).unlink()
    if options.exec_id is not None:
        if options.process is None:
            raise ValueError("exec mode needs a process")
        process = {**options.process, "terminal": options.tty}
        if options.tty and options.console_size is not None:
            # The process runs at once: its pty must have the size before it starts (the shim's
            # TIOCSWINSZ after the runtime returns would come too late for a quick process).
            height, width = options.console_size
            process["consoleSize"] = {"height": height, "width": width}
        _write(state_dir / "process.json", json.dumps(process))
    else:
        _write(state_dir / "mounts.json", json.dumps(options.mounts))
        if options.ports is not None:
            _write(state_dir / "ports.json", json.dumps(options.ports))


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)


def _read_pid_file(path: Path) -> tuple[int, str] | None:
    try:
        pid, _, started = path.read_text().strip().partition(" ")
        return int(pid), started
    except (FileNotFoundError, ValueError):
        return None


def _start_time(pid: int) -> tuple[str, str] | None:
    """(state letter, start time) of a process from /proc/PID/stat, or None if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = stat[stat.rindex(b")") + 2 :].split()
    return fields[0].decode(), fields[19].decode()


async def _open_unix(path: Path) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """open_unix_connection, reaching a path too long for sun_path through its directory's fd."""
    if len(os.fsencode(path)) <= MAX_SOCKET_PATH:
        return await asyncio.open_unix_connection(str(path))
    dir_fd = os.open(path.parent, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        return await asyncio.open_unix_connection(f"/proc/self/fd/{dir_fd}/{path.name}")
    finally:
        os.close(dir_fd)


async def _closed_stream() -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A reader already at EOF (and a writer nobody reads): attach to a finished process."""
    ours, theirs = socket.socketpair()
    theirs.close()
    return await asyncio.open_unix_connection(sock=ours)


async def remove_state(state_dir: Path) -> None:
    """Remove a shim's state dir (once its shim is gone)."""
    await asyncio.to_thread(shutil.rmtree, state_dir, True)


ZYGOTE_START_TIMEOUT = 10.0
SHIM_DIED = "shim died"  # ExitStatus.error when a shim vanished without writing `exit`


class ShimZygote:
    """A `jocker-shim zygote` (jockerd/shim/zygote.py): starts shims by fork instead of exec.

    Only an accelerator: when it cannot answer, `run()` returns None and the caller execs
    jocker-shim as usual; the next call starts a new zygote.
    """

    def __init__(self, shim_argv: list[str], socket_path: Path) -> None:
        self.shim_argv = list(shim_argv)
        self.socket_path = Path(socket_path)
        self._proc: asyncio.subprocess.Process | None = None
        self._lock = asyncio.Lock()

    async def _ensure(self) -> bool:
        async with self._lock:
            if self._proc is not None and self._proc.returncode is None:
                return True
            self.socket_path.unlink(missing_ok=True)
            self._proc = await asyncio.create_subprocess_exec(
                *self.shim_argv, "zygote", "--socket", str(self.socket_path),
                stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.DEVNULL, start_new_session=True,
            )  # fmt: skip
            assert self._proc.stdout is not None
            try:  # "ready" once it listens; EOF if it died first
                line = await asyncio.wait_for(self._proc.stdout.readline(), ZYGOTE_START_TIMEOUT)
            except TimeoutError:
                line = b""
            return line == b"ready\n"

    async def run(self, args: list[str]) -> tuple[int, str] | None:
        """The starter's (exit code, stderr) for these shim arguments, or None (use exec)."""
        try:
            if not await self._ensure():
                return None
            reader, writer = await asyncio.open_unix_connection(str(self.socket_path))
        except OSError:
            return None
        try:
            writer.write((json.dumps(args) + "\n").encode())
            await writer.drain()
            line = await reader.readline()
        except OSError:
            return None
        finally:
            writer.close()
        if not line:
            return None
        answer = json.loads(line)
        return int(answer["code"]), str(answer.get("stderr", ""))

    async def close(self) -> None:
        if self._proc is not None and self._proc.returncode is None:
            self._proc.terminate()
            with contextlib.suppress(ProcessLookupError, asyncio.TimeoutError):
                await asyncio.wait_for(self._proc.wait(), 5)
        self.socket_path.unlink(missing_ok=True)


class ShimClient:
    """One jocker-shim, known by its state dir."""

    shim_argv: ClassVar[list[str]] = _default_shim_argv()

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = Path(state_dir)
        self._shim: tuple[int, str] | None = None
        self._init: tuple[int, str] | None = None

    def __repr__(self) -> str:
        return f"ShimClient({str(self.state_dir)!r})"

    @classmethod
    async def start(
        cls, options: ShimOptions, *, shim_argv: list[str] | None = None, zygote: ShimZygote | None = None
    ) -> ShimClient:
        """Spawn the shim; return once the process is created (start mode) or running (exec mode).

        Raises the OciRuntimeError kind of the runtime's message (error_kind) on failure.
        Cancelled (or timed out after 120 s), the shim may still finish its create: adopt()
        its state dir to find out and clean up.
        """
        argv = [*(shim_argv or cls.shim_argv), *shim_args(options)]
        await asyncio.to_thread(_prepare_state_dir, options)
        answer = None
        if zygote is not None and not shim_argv:
            answer = await zygote.run(shim_args(options))
        if answer is not None:
            code, message = answer
            if code != 0:
                message = message.strip() or f"jocker-shim exit status {code}"
                kind = (
                    error_kind(message, root=Path(options.runtime_root), id=options.container_id)
                    if code == 1
                    else OciRuntimeInternalError
                )
                raise kind(argv, code, message, verb="exec" if options.exec_id is not None else "create")
            return await asyncio.to_thread(cls.adopt, options.state_dir)
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,  # a SIGINT to the daemon's group must not reach it
        )
        try:
            _, err = await asyncio.wait_for(proc.communicate(), DEFAULT_TIMEOUT * 2)
        except BaseException:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
            raise
        code = proc.returncode or 0
        if code != 0:
            message = err.decode(errors="replace").strip() or f"jocker-shim exit status {code}"
            kind = (
                error_kind(message, root=Path(options.runtime_root), id=options.container_id)
                if code == 1
                else OciRuntimeInternalError
            )
            raise kind(argv, code, message, verb="exec" if options.exec_id is not None else "create")
        return await asyncio.to_thread(cls.adopt, options.state_dir)

    @classmethod
    def adopt(cls, state_dir: Path) -> ShimClient:
        """Reconnect to an existing shim dir after a daemon restart (no I/O beyond reading files)."""
        client = cls(state_dir)
        client._shim = _read_pid_file(client.state_dir / "shim.pid")
        client._init = _read_pid_file(client.state_dir / "init.pid")
        return client

    @property
    def pid(self) -> int:
        """The container's (or the exec'd) process pid, from init.pid."""
        if self._init is None:
            self._init = _read_pid_file(self.state_dir / "init.pid")
            if self._init is None:
                raise NotFoundError(f"no init.pid in {self.state_dir}")
        return self._init[0]

    def shim_alive(self) -> bool:
        """Whether shim.pid names a live process with the same start time."""
        if self._shim is None:
            self._shim = _read_pid_file(self.state_dir / "shim.pid")
            if self._shim is None:
                return False
        pid, started = self._shim
        now = _start_time(pid)
        return now is not None and now[1] == started and now[0] not in ("Z", "X")

    def published_ports(self) -> list[dict[str, Any]]:
        """What the shim bound for the ports it publishes (published.json; [] if none)."""
        try:
            data = json.loads((self.state_dir / "published.json").read_text())
        except FileNotFoundError:
            return []
        except ValueError as e:
            raise InternalError(f"invalid published.json in {self.state_dir}: {e}") from None
        return list(data)

    def exit_status(self) -> ExitStatus | None:
        """The `exit` file's status, if the shim has written it."""
        try:
            data = json.loads((self.state_dir / "exit").read_text())
        except FileNotFoundError:
            return None
        except ValueError as e:
            raise InternalError(f"invalid exit file in {self.state_dir}: {e}") from None
        return ExitStatus(
            exit_code=int(data["exit_code"]),
            oom_killed=bool(data.get("oom_killed", False)),
            finished_at=str(data.get("finished_at", "")),
            error=str(data.get("error", "")),
        )

    async def wait(self) -> ExitStatus:
        """The exit status once the shim is done (its `exit` file exists).

        A shim that died without writing it gives exit code 255 and error "shim died".
        """
        while True:
            status = await asyncio.to_thread(self.exit_status)
            if status is not None:
                return status
            if not await asyncio.to_thread(self.shim_alive):
                status = await asyncio.to_thread(self.exit_status)  # it may have just finished
                return status or ExitStatus(255, False, format_time(time.time_ns()), SHIM_DIED)
            try:
                reader, writer = await _open_unix(self.state_dir / "control.sock")
            except OSError:
                await asyncio.sleep(POLL_INTERVAL)
                continue
            try:
                while await reader.read(4096):  # the shim sends nothing unasked: EOF = it exited
                    pass
            except OSError:
                pass
            finally:
                writer.close()

    async def attach(
        self, *, stdin: bool, stdout: bool, stderr: bool
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """Connect to attach.sock; the reader yields stdcopy frames, the writer takes raw stdin
        (write_eof() = stdin EOF). Once the process has exited, the reader is at EOF."""
        try:
            reader, writer = await _open_unix(self.state_dir / "attach.sock")
        except (FileNotFoundError, ConnectionRefusedError, ConnectionResetError):
            return await _closed_stream()
        request = {"stdin": stdin, "stdout": stdout, "stderr": stderr}
        try:
            writer.write(json.dumps(request).encode() + b"\n")
            await writer.drain()
            ack = await reader.readline()
        except (ConnectionResetError, BrokenPipeError):
            writer.close()
            return await _closed_stream()
        if ack:
            reply = json.loads(ack)
            if not reply.get("ok"):
                writer.close()
                raise InternalError(f"attach refused by the shim: {reply.get('error', '')}")
        return reader, writer

    async def resize(self, height: int, width: int) -> None:
        await self._request({"op": "resize", "height": height, "width": width})

    async def close_stdin(self) -> None:
        """Close the process's stdin once what attach clients sent so far is written to it."""
        await self._request({"op": "close_stdin"})

    async def ping(self) -> None:
        await self._request({"op": "ping"})

    async def start_process(self) -> None:
        """Let the created process run (start mode): the shim runs `RUNTIME start` itself.

        Raises the OciRuntimeError kind of the runtime's message, as OciRuntime.start would.
        """
        try:
            await self._request({"op": "start"})
        except InternalError as e:
            message = str(e).removeprefix("shim start: ")
            kind = error_kind(message)
            raise kind(["start"], 1, message, verb="start") from None

    async def _request(self, request: dict[str, Any]) -> None:
        try:
            reader, writer = await _open_unix(self.state_dir / "control.sock")
        except (FileNotFoundError, ConnectionRefusedError, ConnectionResetError) as e:
            raise ConflictError(f"the shim of {self.state_dir.name} is not running: {e}") from None
        try:
            writer.write(json.dumps(request).encode() + b"\n")
            await writer.drain()
            line = await reader.readline()
        except (ConnectionResetError, BrokenPipeError) as e:
            raise ConflictError(f"the shim of {self.state_dir.name} is not running: {e}") from None
        finally:
            writer.close()
        if not line:
            raise ConflictError(f"the shim of {self.state_dir.name} is not running")
        reply = json.loads(line)
        if not reply.get("ok"):
            raise InternalError(f"shim {request['op']}: {reply.get('error', '')}")


__all__ = ["ExitStatus", "ShimClient", "ShimOptions", "format_time", "remove_state", "shim_args"]
