"""ExecService: Docker's exec sessions (ContainerExec, ExecStart, ExecResize, ExecInspect).

An exec session is created against a running container and started once. Starting it runs a
jocker-shim in exec mode (state dir exec_root/shim/<container>/exec/<exec-id>) that asks the
runtime to `exec` a runtime-spec Process built from the container's own process (user, env,
capabilities, no_new_privileges, seccomp via the runtime) with the session's overrides.
The exit code is recorded before an attached client sees the end of its stream: the CLI asks
`GET /exec/ID/json` for it right after (docker-cli-flows.md §A5 point 4).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jockerd.bundle.conversion import merge_env
from jockerd.bundle.defaults import ALL_CAPABILITIES
from jockerd.bundle.users import additional_gids, read_user_db, resolve_user
from jockerd.driver.shim_client import ShimClient, ShimOptions
from jockerd.errors import ConflictError, InvalidParameterError, JockerError, NotFoundError
from jockerd.ids import new_id
from jockerd.services import attach as attaching
from jockerd.services.container_state import DockerState, is_paused, not_running
from jockerd.services.containers import Container, ContainerService

log = logging.getLogger("jockerd.exec")


def no_such_exec(exec_id: str) -> NotFoundError:
    return NotFoundError(f"No such exec instance: {exec_id}")


@dataclass
class ExecSession:
    id: str
    container: Container
    config: dict[str, Any]
    running: bool = False
    started: bool = False
    exit_code: int | None = None
    pid: int = 0
    shim: ShimClient | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)


class ExecService:
    def __init__(
        self, containers: ContainerService, exec_root: Path, shim_argv: list[str] | None = None
    ) -> None:
        self.containers = containers
        self.exec_root = exec_root
        self.shim_argv = shim_argv
        self.sessions: dict[str, ExecSession] = {}

    def _get(self, exec_id: str) -> ExecSession:
        session = self.sessions.get(exec_id)
        if session is None:
            raise no_such_exec(exec_id)
        return session

    async def create(self, ref: str, config: dict[str, Any]) -> str:
        container = self.containers.get(ref)
        if container.state is DockerState.PAUSED:
            raise is_paused(ref)
        if container.state is not DockerState.RUNNING or container.shim is None:
            raise not_running(container.id)
        if not config.get("Cmd"):
            raise InvalidParameterError("No exec command specified")
        exec_id = new_id()
        self.sessions[exec_id] = ExecSession(exec_id, container, dict(config))
        container.exec_ids.append(exec_id)
        self.containers._event(container, "exec_create: " + " ".join(config["Cmd"]), execID=exec_id)
        return exec_id

    def check_start(self, exec_id: str) -> ExecSession:
        """What must fail before the 101 goes out."""
        session = self._get(exec_id)
        if session.started:
            raise ConflictError(f"Error: Exec command {exec_id} has already run")
        container = session.container
        if container.state is DockerState.PAUSED:
            raise is_paused(container.id)
        if container.state is not DockerState.RUNNING or container.shim is None:
            raise not_running(container.id)
        session.started = True
        return session

    def _process(self, session: ExecSession) -> dict[str, Any]:
        """The container's process with the session's overrides (moby's execSetPlatformOpt)."""
        container = session.container
        record = container.record
        bundle = self.exec_root / "bundles" / record.id
        spec = json.loads((bundle / "config.json").read_text())
        process = dict(spec.get("process") or {})
        config = session.config
        process["args"] = list(config["Cmd"])
        process["terminal"] = bool(config.get("Tty"))
        env = list(config.get("Env") or [])
        process["env"] = merge_env(env, list(process.get("env") or []))
        if config.get("WorkingDir"):
            process["cwd"] = config["WorkingDir"]
        user_text = config.get("User") or record.config.get("User") or ""
        if config.get("User"):
            passwd, group = read_user_db(bundle / "rootfs")
            user = resolve_user(user_text, passwd, group)
            process["user"] = {
                "uid": user.uid,
                "gid": user.gid,
                "additionalGids": additional_gids(user),
            }
        if config.get("Privileged"):
            caps = [f"CAP_{c}" if not c.startswith("CAP_") else c for c in ALL_CAPABILITIES]
            process["capabilities"] = {k: caps for k in ("bounding", "effective", "permitted")}
        process.pop("consoleSize", None)
        size = config.get("ConsoleSize")
        if process["terminal"] and isinstance(size, list) and len(size) == 2 and size[0] and size[1]:
            process["consoleSize"] = {"height": int(size[0]), "width": int(size[1])}
        return process

    async def start(self, session: ExecSession, client: attaching.ClientStream | None, *, tty: bool) -> None:
        """Run the session; attached (client given) until its output ends, detached at once."""
        container = session.container
        record = container.record
        runtime = self.containers.runtimes.get(record.runtime)
        try:
            process = await asyncio.to_thread(self._process, session)
        except (JockerError, OSError, ValueError) as e:
            # dockerd's exec of an unknown user: the message in the stream, exit code 126
            session.exit_code = 126
            session.done.set()
            if client is None:
                raise InvalidParameterError(str(e)) from None
            tty_stream = bool(session.config.get("Tty")) or tty
            text = (str(e) + ("\r\n" if tty_stream else "\n")).encode()
            with contextlib.suppress(ConnectionError, OSError):
                await client.write(text if tty_stream else attaching.frame(1, text))
                await client.close()
            return
        config = session.config
        attached = client is not None
        stdin = bool(config.get("AttachStdin")) and attached
        options = ShimOptions(
            container_id=record.id,
            bundle=self.exec_root / "bundles" / record.id,
            state_dir=self.exec_root / "shim" / record.id / "exec" / session.id,
            runtime_argv=runtime.argv,
            runtime_root=runtime.oci.root,
            runtime_in_process=runtime.in_process,
            tty=bool(config.get("Tty")) or tty,
            stdin=stdin,
            stdin_once=True,
            console_size=_size(config.get("ConsoleSize")),
            exec_id=session.id,
            process=process,
        )
        try:
            shim = await ShimClient.start(options, shim_argv=self.shim_argv, zygote=self.containers.zygote)
        except JockerError as e:
            session.exit_code = 126  # dockerd's exit code for an exec that could not start
            session.done.set()
            if client is not None:
                with contextlib.suppress(ConnectionError, OSError):
                    await client.write(_error_frame(str(e), tty=options.tty))
                    await client.close()
            raise
        session.shim = shim
        session.running = True
        session.pid = shim.pid
        self.containers._event(container, "exec_start: " + " ".join(config["Cmd"]), execID=session.id)
        waiter = asyncio.ensure_future(self._finish(session, shim))
        if client is None:
            # The shim holds an exec's output until someone attaches (so an attached client
            # misses nothing): a detached exec is released by attaching to no stream at all.
            with contextlib.suppress(OSError, JockerError):
                _reader, writer = await shim.attach(stdin=False, stdout=False, stderr=False)
                writer.close()
            return

        async def connect() -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
            try:
                return await shim.attach(
                    stdin=stdin, stdout=bool(config.get("AttachStdout", True)),
                    stderr=bool(config.get("AttachStderr", True)),
                )  # fmt: skip
            except OSError:
                return None

        async def before_close() -> None:
            await asyncio.shield(waiter)

        await attaching.relay(client, connect, tty=options.tty, stdin=stdin, before_close=before_close)

    async def _finish(self, session: ExecSession, shim: ShimClient) -> None:
        status = await shim.wait()
        session.exit_code = status.exit_code
        session.running = False
        session.done.set()
        container = session.container
        self.containers._event(container, "exec_die", execID=session.id, exitCode=str(status.exit_code))
        await asyncio.to_thread(shutil.rmtree, shim.state_dir, True)

    async def resize(self, exec_id: str, height: int, width: int) -> None:
        session = self._get(exec_id)
        if session.shim is None or not session.running:
            raise ConflictError(f"Exec {exec_id} is not running")
        try:
            await session.shim.resize(height, width)
        except OSError:
            raise ConflictError(f"Exec {exec_id} is not running") from None

    async def inspect(self, exec_id: str) -> dict[str, Any]:
        session = self._get(exec_id)
        config = session.config
        cmd = list(config.get("Cmd") or [])
        return {
            "ID": session.id,
            "Running": session.running,
            "ExitCode": session.exit_code,
            "ProcessConfig": {
                "tty": bool(config.get("Tty")),
                "entrypoint": cmd[0] if cmd else "",
                "arguments": cmd[1:],
                "privileged": bool(config.get("Privileged")),
                **({"user": config["User"]} if config.get("User") else {}),
            },
            "OpenStdin": bool(config.get("AttachStdin")),
            "OpenStderr": bool(config.get("AttachStderr")),
            "OpenStdout": bool(config.get("AttachStdout")),
            "CanRemove": False,
            "ContainerID": session.container.id,
            "DetachKeys": config.get("DetachKeys") or "",
            "Pid": session.pid,
        }

    def forget_container(self, container_id: str) -> None:
        for exec_id, session in list(self.sessions.items()):
            if session.container.id == container_id:
                del self.sessions[exec_id]


def _size(value: Any) -> tuple[int, int] | None:
    if isinstance(value, list) and len(value) == 2 and value[0] and value[1]:
        return int(value[0]), int(value[1])
    return None


def _error_frame(message: str, *, tty: bool) -> bytes:
    """dockerd's report of an exec that could not start, written into the attached stream
    (with "\r\n" whether or not there is a terminal, as dockerd 20.10 writes it)."""
    reason = message.removeprefix("OCI runtime exec failed: ")
    text = f"OCI runtime exec failed: exec failed: {reason}: unknown\r\n"
    return text.encode() if tty else attaching.frame(1, text.encode())
