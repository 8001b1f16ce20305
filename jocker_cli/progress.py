"""JSON progress streams (pull, push, load, import) shown as docker shows them.

On a terminal each layer gets its own line, redrawn in place (cursor up, clear line, cursor
down) with a bar computed from `progressDetail` ("[=====>     ]  32.77kB/300.3kB"), as
docker's jsonmessage does. Elsewhere, messages that carry progress numbers are dropped and the
others print as plain "ID: status" lines. An `error` in the stream ends it with that message.
"""

from __future__ import annotations

import os
import sys

from jocker_cli.client import CliError

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing costs start-up time
    from collections.abc import Callable, Iterable
    from typing import Any


def progress_text(detail: dict[str, Any] | None, width: int) -> str:
    from jocker_cli.output import human_size

    detail = detail or {}
    current = int(detail.get("current") or 0)
    total = int(detail.get("total") or 0)
    units = detail.get("units") or ""
    if current <= 0 and total <= 0:
        return ""
    if total <= 0:
        return f"{human_size(current):>8}" if not units else f"{current} {units}"
    percentage = min(int(current / total * 100) // 2, 50)
    bar = ""
    if width > 110:
        bar = "[" + "=" * percentage + ">" + " " * max(50 - percentage, 0) + "] "
    if units:
        numbers = f"{current}/{total} {units}" if current <= total else f"{current} {units}"
    else:
        numbers = (
            f"{human_size(current):>8}/{human_size(total)}"
            if current <= total
            else f"{human_size(current):>8}"
        )
    return bar + numbers


def display(
    messages: Iterable[dict[str, Any]],
    out: Any = None,
    *,
    terminal: bool | None = None,
    aux: Callable[[dict[str, Any]], None] | None = None,
) -> None:
    out = out or sys.stdout
    if terminal is None:
        terminal = out.isatty()
    width = 200
    if terminal:
        try:
            width = os.get_terminal_size(out.fileno()).columns
        except OSError:
            width = 200
    ids: dict[str, int] = {}
    for message in messages:
        if message.get("error") or message.get("errorDetail"):
            detail = message.get("errorDetail") or {}
            raise CliError(detail.get("message") or message.get("error") or "unknown error", 1,
                           http_status=int(detail.get("code") or 0))  # fmt: skip
        if "aux" in message:
            if aux is not None:
                aux(message["aux"])
            continue
        has_progress = "progressDetail" in message
        progress = progress_text(message.get("progressDetail"), width) if has_progress else ""
        ident = message.get("id") or ""
        diff = 0
        if ident and has_progress:
            if ident not in ids:
                ids[ident] = len(ids)
                if terminal:
                    out.write("\n")
            diff = len(ids) - ids[ident]
            if terminal:
                out.write(f"\x1b[{diff}A")
        else:
            ids = {}
        endl = ""
        if terminal and not message.get("stream") and has_progress:
            out.write("\x1b[2K\r")
            endl = "\r"
        elif has_progress and progress:
            continue  # no bars off a terminal
        text = ""
        if ident:
            text += f"{ident}: "
        if has_progress and terminal:
            text += f"{message.get('status', '')} {progress}{endl}"
        elif message.get("stream"):
            text += f"{message['stream']}{endl}"
        else:
            text += f"{message.get('status', '')}{endl}\n"
        out.write(text)
        if ident and terminal and diff:
            out.write(f"\x1b[{diff}B")
        out.flush()
