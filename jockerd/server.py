"""`jockerd`: parse dockerd's flags, take the data-root lock, serve the API on unix sockets.

Start-up order matters:
1. the data-root lock (flock on data_root/jockerd.lock) so a second daemon on the same data
   refuses to start before it touches anything;
2. recovery of the stores (a crash may have left partial blobs or layers);
3. each socket is bound under a temporary name, given mode 0660 and its group, then renamed
   into place and only then listened on, so there is no moment when it is wider than 0660;
   a stale socket from a crash is simply replaced, a live one makes start-up fail;
4. the pidfile, removed again on SIGTERM/SIGINT with the sockets and the lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import signal
import socket
import sys
from pathlib import Path

from aiohttp import web

from jockerd import API_VERSION, __version__
from jockerd.api.app import create_app
from jockerd.config import DaemonConfig, build_parser, load_config
from jockerd.daemon import Daemon

log = logging.getLogger("jockerd")

LOG_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warn": logging.WARNING,
    "error": logging.ERROR,
    "fatal": logging.CRITICAL,
}


class StartupError(Exception):
    """A reason not to start, printed as one line."""


def acquire_lock(data_root: Path) -> int:
    data_root.mkdir(parents=True, exist_ok=True, mode=0o711)
    path = data_root / "jockerd.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        holder = ""
        with contextlib.suppress(OSError):
            holder = path.read_text().strip()
        who = f" (pid {holder})" if holder else ""
        raise StartupError(
            f"another jockerd{who} is already running with data root {data_root}; "
            "stop it or use a different --data-root"
        ) from None
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    return fd


def _socket_in_use(path: Path) -> bool:
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(str(path))
    except OSError:
        return False
    else:
        return True
    finally:
        probe.close()


def bind_socket(path: Path, gid: int) -> socket.socket:
    """A listening unix socket at `path`, mode 0660, group `gid`, with no wider window."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() or path.is_symlink():
        if _socket_in_use(path):
            raise StartupError(f"{path} is in use by another daemon")
        log.info("replacing stale socket %s", path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old_umask = os.umask(0o177)  # the socket file is born 0600 ...
    try:
        sock.bind(str(tmp))
    finally:
        os.umask(old_umask)
    os.chown(tmp, 0, gid)
    os.chmod(tmp, 0o660)  # ... widened only to 0660, never more
    os.replace(tmp, path)
    sock.listen(128)
    sock.setblocking(False)
    return sock


def check_pidfile(path: Path) -> None:
    """Refuse to start when the pidfile names a live process (dockerd's rule)."""
    try:
        pid = int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return
    if pid == os.getpid():
        return
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return
    except PermissionError:
        pass
    raise StartupError(f"pid file found, ensure jockerd is not running or delete {path}")


def write_pidfile(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(f"{os.getpid()}\n")
    os.replace(tmp, path)


async def serve(config: DaemonConfig) -> None:
    check_pidfile(config.pidfile_path)
    try:
        daemon = Daemon(config)
    except ValueError as e:  # a configuration the daemon cannot honour (an unknown default runtime)
        raise StartupError(str(e)) from None
    await daemon.restore()
    app = create_app(daemon.backends())
    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1)
    await runner.setup()
    paths = config.socket_paths()
    sockets = []
    wrote_pidfile = False
    try:
        gid = config.socket_gid()
        for path in paths:
            sock = bind_socket(path, gid)
            sockets.append(sock)
            await web.SockSite(runner, sock).start()
        write_pidfile(config.pidfile_path)
        wrote_pidfile = True
        log.info("jockerd %s (API %s) listening on %s", __version__, API_VERSION, ", ".join(map(str, paths)))
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        log.info("shutting down")
    finally:
        await daemon.close()
        await runner.cleanup()
        for sock, path in zip(sockets, paths, strict=False):
            sock.close()
            path.unlink(missing_ok=True)
        if wrote_pidfile:  # a daemon that failed to start must not remove another one's pidfile
            config.pidfile_path.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.version:
        print(f"jockerd version {__version__}, API {API_VERSION}")
        return 0
    try:
        config = load_config(args)
        config.socket_paths()
        config.socket_gid()  # an unknown --group fails here, before anything is touched
    except ValueError as e:
        print(f"jockerd: {e}", file=sys.stderr)
        return 1
    logging.basicConfig(
        level=LOG_LEVELS.get(config.log_level, logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if config.log_level != "debug":
        # aiohttp logs a traceback at ERROR for every malformed HTTP message a client sends;
        # that is the client's fault, answered with a 400, and must not flood the daemon's log.
        logging.getLogger("aiohttp.server").setLevel(logging.CRITICAL)
    if os.geteuid() != 0:
        print("jockerd: must run as root", file=sys.stderr)
        return 1
    try:
        lock_fd = acquire_lock(config.data_root)
    except StartupError as e:
        print(f"jockerd: {e}", file=sys.stderr)
        return 1
    try:
        asyncio.run(serve(config))
    except StartupError as e:
        print(f"jockerd: {e}", file=sys.stderr)
        return 1
    finally:
        os.close(lock_fd)
    return 0
