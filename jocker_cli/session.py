"""The attach → wait → start choreography that run, start -a, attach and exec share.

Order matters (docker-cli-flows.md §A4/§A5): the attach stream is upgraded first, so no output
byte is lost; `/wait` is sent and its *headers* read before `/start`; the exit code is the body
of that wait. With a TTY the terminal is raw, resized after start and on SIGWINCH (with
`kill?signal=WINCH` from the sig-proxy, as docker does), and restored at the end.
"""

from __future__ import annotations

import json
import signal
import sys

from jocker_cli.client import CliError, EngineClient, Response
from jocker_cli.hijack import Session, raw_terminal, terminal_size

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing costs start-up time
    from typing import Any


def start_error_status(message: str) -> int:
    """docker run's exit code after a failed start, from the error text."""
    lowered = message.lower()
    if "executable file not found" in lowered or "no such file or directory" in lowered:
        return 127
    if "permission denied" in lowered or "is a directory" in lowered:
        return 126
    return 125


class Wait:
    """POST /containers/{id}/wait, whose headers arrive at once and body at the exit."""

    def __init__(self, client: EngineClient, container: str, condition: str | None) -> None:
        self.response: Response = client.request(
            "POST", f"/containers/{container}/wait", params={"condition": condition}
        )

    def status(self) -> int:
        try:
            body = json.loads(self.response.read() or b"{}")
        except (OSError, ValueError) as e:
            raise CliError(f"error waiting for container: {e}", 125) from None
        error = body.get("Error")
        if error and error.get("Message"):
            raise CliError(f"error waiting for container: {error['Message']}", 125)
        return int(body.get("StatusCode", 0))

    def close(self) -> None:
        self.response.close()


def resize(client: EngineClient, path: str, rows: int | None = None, cols: int | None = None) -> None:
    if rows is None or cols is None:
        rows, cols = terminal_size()
    if not rows and not cols:
        return
    try:
        client.post(f"{path}/resize", {"h": rows, "w": cols})
    except CliError:
        pass  # the process may have exited meanwhile (409): ignored, as docker does


def signal_name(number: int) -> str:
    return signal.Signals(number).name[3:]


def attached_session(
    client: EngineClient,
    stream: Any,
    *,
    tty: bool,
    stdin: bool,
    resize_path: str | None,
    kill_path: str | None,
    detach_keys: bytes,
) -> Session:
    def on_resize() -> None:
        if resize_path:
            resize(client, resize_path)

    def on_signal(number: int) -> None:
        if kill_path:
            try:
                client.post(f"{kill_path}/kill", {"signal": signal_name(number)})
            except CliError:
                pass

    return Session(
        stream,
        tty=tty,
        stdin=stdin,
        detach_keys=detach_keys,
        on_resize=on_resize if tty and resize_path else None,
        on_signal=on_signal if kill_path else None,
    )


def run_attached(
    client: EngineClient,
    container: str,
    *,
    tty: bool,
    stdin: bool,
    stdout: bool,
    stderr: bool,
    condition: str | None,
    start: bool,
    sig_proxy: bool,
    detach_keys: bytes,
    on_start_error: Any = None,
) -> int:
    """attach (101) → wait headers → start → stream → the wait's StatusCode."""
    params = {"stderr": "1" if stderr else None, "stdin": "1" if stdin else None,
              "stdout": "1" if stdout else None, "stream": "1"}  # fmt: skip
    stream = client.hijack(f"/containers/{container}/attach", params)
    if not stdin:
        stream.close_write()
    waiter = Wait(client, container, condition)
    if start:
        try:
            client.post(f"/containers/{container}/start")
        except CliError as e:
            stream.close()
            if on_start_error is not None:
                on_start_error(e, waiter)
            raise
    path = f"/containers/{container}"
    with raw_terminal(tty and stdin and sys.stdin.isatty()):
        if tty and sys.stdout.isatty():
            resize(client, path)
        session = attached_session(
            client, stream, tty=tty, stdin=stdin, resize_path=path if tty else None,
            kill_path=path if sig_proxy else None, detach_keys=detach_keys,
        )  # fmt: skip
        session.run()
    if session.detached:
        waiter.close()
        return 0
    return waiter.status()
