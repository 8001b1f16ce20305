"""`jocker-shim zygote --socket PATH`: a shim process with everything imported, forking starters.

Why: every `docker run` and `docker exec` starts a shim, and an interpreter plus the shim's
imports cost ~20 ms before the shim does anything. The daemon starts one zygote; for each new
shim it connects to the zygote's socket and sends the shim's arguments, and a fork of the zygote
does exactly what `jocker-shim ARGS` would (jockerd/shim/__main__.py: fork the real shim, wait
for its readiness). The zygote is an exec'd, single-threaded process, so its forks are as fresh
as an exec'd shim (DESIGN §5.3).

Protocol, one connection per shim: the daemon sends one JSON line, the list of arguments; the
answer is one JSON line `{"code": N, "stderr": TEXT}`, the exit status and error output the
exec'd starter would have had. Any failure of the zygote path makes the daemon fall back to
exec'ing jocker-shim (driver/shim_client.py), so the zygote is only an accelerator.

The zygote ends when its parent (the daemon) is gone, checked once a second, and never runs a
container itself: its children are starters that exit as soon as their shim is ready.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

POLL = 1.0  # seconds between checks that the daemon is still there
MAX_REQUEST = 1 << 20
SIGCHLD = 17


def serve(socket_path: str) -> int:
    import _socket
    import select

    from jockerd.runtime import fastjson  # noqa: F401 - preloaded for the forks
    from jockerd.runtime.__main__ import main as _runtime_main  # noqa: F401
    from jockerd.shim import __main__ as starter  # noqa: F401
    from jockerd.shim import ports, supervisor  # noqa: F401

    parent = os.getppid()
    listener = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    temporary = f"{socket_path}.{os.getpid()}"
    try:
        os.unlink(temporary)
    except FileNotFoundError:
        pass
    old_mask = os.umask(0o177)
    try:
        listener.bind(temporary)
    finally:
        os.umask(old_mask)
    os.replace(temporary, socket_path)
    listener.listen(64)
    # Readiness for the daemon (which waits on this line, not on the socket file), then
    # stdout is /dev/null like the other stdio.
    os.write(1, b"ready\n")
    null = os.open("/dev/null", os.O_WRONLY)
    os.dup2(null, 1)
    os.close(null)
    while True:
        ready, _, _ = select.select([listener], [], [], POLL)
        _reap()
        if os.getppid() != parent:
            listener.close()
            return 0
        if not ready:
            continue
        try:
            fd, _ = listener._accept()  # _socket's accept (the socket module is not imported)
        except OSError:
            continue
        connection = _socket.socket(fileno=fd)
        try:
            pid = os.fork()
        except OSError:
            connection.close()
            continue
        if pid == 0:  # pragma: no cover - the child
            code = 1
            try:
                listener.close()
                _start_one(connection)
                code = 0
            finally:
                os._exit(code)
        connection.close()


def _reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _start_one(connection: Any) -> None:  # a _socket.socket (typing is not imported at run time)
    """In a fork of the zygote: run the starter with the request's arguments, answer, exit."""
    from jockerd.runtime import fastjson
    from jockerd.shim import __main__ as starter

    data = b""
    while not data.endswith(b"\n") and len(data) < MAX_REQUEST:
        chunk = connection.recv(65536)
        if not chunk:
            return
        data += chunk
    args = fastjson.loads(data.decode())
    os.setsid()  # as start_new_session: a signal to the daemon's group must not reach it
    null = os.open("/dev/null", os.O_RDWR)
    errors_r, errors_w = os.pipe()
    os.dup2(null, 0)
    os.dup2(null, 1)
    os.dup2(errors_w, 2)
    os.close(errors_w)
    os.close(null)
    code = starter.main([str(a) for a in args])
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(0, 2)  # /dev/null: the pipe's last writer here is gone, the read below ends
    chunks = []
    while chunk := os.read(errors_r, 65536):
        chunks.append(chunk)
    os.close(errors_r)
    answer = {"code": code, "stderr": b"".join(chunks).decode(errors="replace")}
    connection.sendall((fastjson.dumps(answer) + "\n").encode())
    connection.close()
