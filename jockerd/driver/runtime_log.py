"""The error in a runtime's stderr or `--log` text: JSON lines, logrus lines or plain text.

A leaf of the driver with no jockerd imports and no asyncio, so jocker-shim can use it too
(on its failure path only: `json` and `re` cost ~20 ms of start-up, see jockerd/shim).
"""

from __future__ import annotations

import contextlib
import json
import re

# logrus text format: time="…" level=error msg="…"
_LOGRUS = re.compile(r'level=(?P<level>\w+)\s+msg="(?P<msg>(?:[^"\\]|\\.)*)"')


def parse_error_message(text: str) -> str:
    """The runtime's error out of its stderr or log text: JSON lines, logrus lines or plain text.

    The last error-level message wins (warnings may precede it); without one, the last line.
    """
    errors: list[str] = []
    lines: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        level, msg = "", line
        if line.startswith("{"):
            try:
                entry = json.loads(line)
            except ValueError:
                entry = None
            if isinstance(entry, dict) and "msg" in entry:
                level, msg = str(entry.get("level", "")), str(entry["msg"])
        elif m := _LOGRUS.search(line):
            level = m["level"]
            msg = m["msg"].replace('\\"', '"').replace("\\\\", "\\")
        lines.append(msg)
        if level in ("error", "fatal", "panic"):
            errors.append(msg)
    if errors:
        return errors[-1]
    return lines[-1] if lines else ""


def has_error(log_text: str) -> bool:
    """Whether a runtime log holds an error entry (plain text lines count as errors)."""
    for raw in log_text.splitlines():
        line = raw.strip()
        if not line:
            continue
        level = "error"
        if line.startswith("{"):
            with contextlib.suppress(ValueError, AttributeError):
                level = json.loads(line).get("level", "error")
        elif m := _LOGRUS.search(line):
            level = m["level"]
        if level in ("error", "fatal", "panic"):
            return True
    return False
