"""The one error type the runtime's commands raise, and the messages callers parse.

`ContainerError(message)` ends the command with exit status 1 and the message on stderr and in
the log, as runc's `fatal()` does. Messages are runc's where runc has one, because callers
(containerd, the runtime-tools harness, jockerd's driver) match on them.
"""

from __future__ import annotations

CONTAINER_NOT_EXIST = "container does not exist"
CONTAINER_EXISTS = "container with given ID already exists"
CONTAINER_NOT_RUNNING = "container not running"
CONTAINER_NOT_PAUSED = "container not paused"


class ContainerError(Exception):
    """A failed runtime operation; `str(e)` is the message shown to the caller."""

    exit_code = 1
