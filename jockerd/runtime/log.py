"""Logging for the runtime CLI, in runc's (logrus') formats.

- No `--log`: messages go to stderr as `time="..." level=error msg="..."` (logrus' text format).
- `--log FILE`: messages go to FILE, as text or (`--log-format json`) as
  `{"level":"error","msg":"...","time":"..."}` lines, which containerd reads back on failure; a
  fatal error is then also printed plainly on stderr (runc `fatalWithCode`).
- `--debug` adds debug-level messages.

A module-level logger, configured once by `__main__`: each runtime process runs one command.
"""

from __future__ import annotations

import os
import sys
import time

from jockerd.runtime import fastjson

_LEVELS = {"debug": 0, "info": 1, "warning": 2, "error": 3}


class _Logger:
    def __init__(self) -> None:
        self.path: str | None = None
        self.json = False
        self.level = _LEVELS["info"]
        self.fd = 2

    def configure(self, path: str | None, fmt: str, debug: bool) -> None:
        self.path = path or None
        self.json = fmt == "json"
        self.level = _LEVELS["debug" if debug else "info"]
        if self.path:
            self.fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)

    @property
    def to_stderr(self) -> bool:
        return self.path is None

    def log(self, level: str, msg: str) -> None:
        if _LEVELS[level] < self.level:
            return
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        name = "warning" if level == "warning" else level
        if self.json:
            line = fastjson.dumps({"level": name, "msg": msg, "time": now})
        else:
            line = f"time={_quote(now)} level={name} msg={_quote(msg)}"
        try:
            os.write(self.fd, (line + "\n").encode(errors="replace"))
        except OSError:
            pass


def _quote(text: str) -> str:
    """Go's strconv.Quote for the characters logrus' text format escapes."""
    return fastjson.dumps(text).replace("\\u001b", "\\x1b")


logger = _Logger()


def configure(path: str | None, fmt: str = "text", debug: bool = False) -> None:
    logger.configure(path, fmt, debug)


def debug(msg: str) -> None:
    logger.log("debug", msg)


def info(msg: str) -> None:
    logger.log("info", msg)


def warning(msg: str) -> None:
    logger.log("warning", msg)


def error(msg: str) -> None:
    logger.log("error", msg)


def fatal(msg: str) -> None:
    """Log an error, and print it on stderr too when the log goes elsewhere (runc's fatal())."""
    logger.log("error", msg)
    if not logger.to_stderr:
        try:
            sys.stderr.write(msg + "\n")
            sys.stderr.flush()
        except OSError:
            pass
