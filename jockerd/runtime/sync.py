"""Parent/child messages over a socketpair, one JSON object per line (runc `sync.go`, youki channels).

Two channels per create or exec, so the two children never interleave writes on one socket:
`launcher` ⇄ intermediate process, and `launcher` ⇄ init (or tenant) process.

| # | from → to              | type             | fields    | meaning                                      |
|---|------------------------|------------------|-----------|----------------------------------------------|
| 1 | inter. → launcher      | `id_map_request` |           | new user namespace: write my uid/gid maps    |
| 2 | launcher → inter.      | `id_map_done`    |           | written; become root in the namespace        |
| 3 | inter. → launcher      | `pid`            | `pid`     | forked the init/tenant (host pid); exiting   |
| 4 | launcher → init/tenant | `run`            | (`tasks`) | join the cgroup (`tasks`), unshare cgroupns  |
| 5 | init → launcher        | `hooks`          |           | mounts done: run prestart + createRuntime    |
| 6 | launcher → init        | `hooks_done`     |           | go on (createContainer hooks, pivot_root...) |
| 7 | init/tenant → launcher | `ready`          |           | next: wait on exec.fifo (init) / execve      |
| * | child → launcher       | `error`          | `message` | failed; the child exits 1, launcher cleans up |

1-2 only with a new user namespace, 1-3 only with an intermediate (`launcher._needs_intermediate`),
5-6 only when the spec has prestart or createRuntime hooks.
The init closes its end after 7; a tenant keeps it (close-on-exec) until execve, so the launcher
of `exec` reads EOF at execve, or an `error` sent after 7.
The init reads 4 before it sends 5 or 7 (and before mounting a cgroup filesystem), so the
launcher sends 4 without waiting and the messages never cross.
EOF where a message is expected means the peer died: the launcher reports it as an error.
"""

from __future__ import annotations

import os

from jockerd.runtime import fastjson
from jockerd.runtime.errors import ContainerError


class SyncError(ContainerError):
    """The peer broke the protocol (died, or sent an unexpected message)."""


class Channel:
    """One end of a socketpair speaking JSON lines."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._buffer = b""

    def fileno(self) -> int:
        return self.fd

    def send(self, type: str, **fields: object) -> None:
        data = (fastjson.dumps({"type": type, **fields}) + "\n").encode()
        while data:
            data = data[os.write(self.fd, data) :]

    def recv(self) -> dict | None:
        """The next message, or None at EOF."""
        while b"\n" not in self._buffer:
            try:
                chunk = os.read(self.fd, 4096)
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                return None
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        message = fastjson.loads(line)
        if not isinstance(message, dict) or "type" not in message:
            raise SyncError(f"invalid sync message: {line!r}")
        return message

    def expect(self, *types: str, peer: str = "child") -> dict:
        """The next message, which must be one of `types`; `error` from the peer is raised."""
        message = self.recv()
        if message is None:
            raise SyncError(f"{peer} process exited without reporting (waiting for {'/'.join(types)})")
        if message["type"] == "error":
            raise ContainerError(str(message.get("message", "unknown error")))
        if message["type"] not in types:
            raise SyncError(f"unexpected sync message {message['type']!r} (waiting for {'/'.join(types)})")
        return message

    def close(self) -> None:
        if self.fd >= 0:
            try:
                os.close(self.fd)
            finally:
                self.fd = -1


def channel_pair() -> tuple[Channel, Channel]:
    """(parent end, child end); both close-on-exec, so execve closes the child's end.

    socketpair(2) through libc, which every path that needs channels loads anyway: the
    `_socket` extension would cost ~0.4 ms to load (`socket`, `enum` and `selectors` more)."""
    from jockerd.runtime.linux import libc

    a, b = libc.socketpair_cloexec()
    return Channel(a), Channel(b)
