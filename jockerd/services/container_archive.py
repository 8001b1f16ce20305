"""`docker cp` and `docker export` for ContainerService: dockerd's archive endpoints (moby
daemon/archive*.go) over imagestore/rootfs.py.

Which tree is read or written:
- a running (or paused) container: the overlay the shim mounted on the bundle's rootfs (the
  daemon shares the shim's mount namespace; if that mount cannot be seen, the container's
  init's root, /proc/PID/root, instead);
- any other container: a *detached* overlay mount of the same layers and upper directory
  (fsopen/fsmount: attached nowhere, gone with its fd), so a stopped or never-started
  container is copied from and to as dockerd does after mounting it.
Both are done under the container's lock, as dockerd holds the container's lock: a start
waits for a copy, so the upper directory is never in two overlay mounts at once.

Bind mounts (Binds, Mounts of type bind, the volumes the spec binds, the network files) are
read and written through their host sources, found from the container's spec; tmpfs mounts
show the rootfs's (empty) directory, as in dockerd's private view. `docker export` is the
rootfs alone, without mounts, as dockerd's.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import logging
import os
import stat
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from jockerd.bundle import users
from jockerd.errors import (
    ConflictError,
    InternalError,
    InvalidParameterError,
    JockerError,
    NotFoundError,
)
from jockerd.imagestore import layers, rootfs
from jockerd.services.container_state import DockerState

if TYPE_CHECKING:
    from jockerd.imagestore.snapshots import Snapshotter
    from jockerd.services.containers import Container

log = logging.getLogger("jockerd.containers")

EXTRACT_POINT_NOT_DIRECTORY = "extraction point is not a directory"
ROOTFS_READ_ONLY = "container rootfs is marked read-only"
VOLUME_READ_ONLY = "mounted volume is marked read-only"
PATH_EMPTY = "bad parameter: pathcannot be empty"  # moby's badParameterError lacks the space


def file_not_found(path: str, ref: str) -> NotFoundError:
    """moby's containerFileNotFound: the path and the container as the client wrote them."""
    return NotFoundError(f"Could not find the file {path} in container {ref}")


class ByteSource(Protocol):
    async def read(self, n: int = -1) -> bytes: ...


class _Reader:
    """A blocking file object over an upload body, for the extraction thread: each read waits
    for the event loop to hand over the next piece."""

    def __init__(self, body: ByteSource, loop: asyncio.AbstractEventLoop) -> None:
        self._body = body
        self._loop = loop
        self._buffer = b""
        self._eof = False

    def read(self, size: int = -1) -> bytes:
        while not self._eof and (size < 0 or len(self._buffer) < size):
            chunk = asyncio.run_coroutine_threadsafe(self._body.read(1 << 20), self._loop).result()
            if not chunk:
                self._eof = True
            self._buffer += chunk
        if size < 0:
            data, self._buffer = self._buffer, b""
        else:
            data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data


def binds_from_spec(spec: dict[str, Any]) -> list[rootfs.BindMount]:
    """The bind mounts of an OCI spec (host source → container destination)."""
    found = []
    for mount in spec.get("mounts") or []:
        options = mount.get("options") or []
        if mount.get("type") != "bind" and "bind" not in options and "rbind" not in options:
            continue
        source = str(mount.get("source") or "")
        if not source.startswith("/"):
            continue
        destination = rootfs.clean_path(str(mount.get("destination") or "/"))
        found.append(rootfs.BindMount(destination, source, "ro" not in options))
    return found


class ArchiveAndExport:
    """Mixed into ContainerService."""

    get: Callable[[str], Container]
    snapshots: Snapshotter
    exec_root: Path
    _created_specs: dict[str, dict[str, Any]]
    _generate_spec: Callable[[Any], dict[str, Any]]
    _event: Callable[..., None]

    # -- the tree

    async def _binds(self, container: Container) -> list[rootfs.BindMount]:
        record = container.record
        spec: dict[str, Any] | None = self._created_specs.get(record.id)
        bundle_spec = self.exec_root / "bundles" / record.id / "config.json"
        if spec is None and container.state.is_running():
            with contextlib.suppress(OSError, ValueError):
                spec = json.loads(await asyncio.to_thread(bundle_spec.read_bytes))
        if spec is None:
            try:
                spec = await asyncio.to_thread(self._generate_spec, record)
            except (JockerError, OSError) as e:
                log.warning(
                    "container %s: no spec for its mounts (%s); copying the rootfs only", record.id, e
                )
                return []
        return binds_from_spec(spec)

    def _open_root(self, container: Container) -> int:
        """An fd of the container's merged rootfs (see the module's docstring). Blocking."""
        record = container.record
        if container.state.is_running() and container.shim is not None:
            mountpoint = self.exec_root / "bundles" / record.id / "rootfs"
            if os.path.ismount(mountpoint):
                return os.open(mountpoint, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
            return os.open(f"/proc/{container.shim.pid}/root", os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
        return rootfs.open_overlay(self.snapshots.prepare(record.id, record.chain_ids))

    @contextlib.asynccontextmanager
    async def _root_view(self, container: Container, *, binds: bool = True) -> AsyncIterator[rootfs.RootView]:
        """The container's files, under its lock (the caller holds it)."""
        mounts = await self._binds(container) if binds else []
        fd = await asyncio.to_thread(self._open_root, container)
        view = rootfs.RootView(fd, mounts)
        try:
            yield view
        finally:
            view.close()
            os.close(fd)

    # -- docker cp

    async def stat_path(self, ref: str, path: str) -> str:
        """HEAD /containers/{id}/archive: the X-Docker-Container-Path-Stat header's value."""
        if not path:
            raise InvalidParameterError(PATH_EMPTY)
        container = self.get(ref)
        async with container.lock, self._root_view(container) as view:
            found = await asyncio.to_thread(_stat, view, path, ref)
        return rootfs.format_path_stat(found)

    async def archive_path(self, ref: str, path: str) -> tuple[str, AsyncIterator[bytes]]:
        """GET /containers/{id}/archive: (the stat header, the tar). The container stays locked
        until the tar has been read or dropped (close the iterator)."""
        if not path:
            raise InvalidParameterError(PATH_EMPTY)
        container = self.get(ref)
        await container.lock.acquire()
        context = self._root_view(container)
        try:
            view = await context.__aenter__()
            try:
                found = await asyncio.to_thread(_stat, view, path, ref)
                chunks = view.archive(rootfs.archive_path(path), found)
            except BaseException:
                await context.__aexit__(None, None, None)
                raise
        except BaseException:
            container.lock.release()
            raise
        self._event(container, "archive-path")

        async def stream() -> AsyncIterator[bytes]:
            try:
                while (chunk := await asyncio.to_thread(_next_chunk, chunks, path, ref)) is not None:
                    yield chunk
            finally:
                chunks.close()
                await context.__aexit__(None, None, None)
                container.lock.release()

        return rootfs.format_path_stat(found), stream()

    async def extract_to_dir(
        self, ref: str, path: str, body: ByteSource, *, copy_uid_gid: bool, no_overwrite_dir_non_dir: bool
    ) -> None:
        """PUT /containers/{id}/archive: extract a tar into the directory `path`."""
        if not path:
            raise InvalidParameterError(PATH_EMPTY)
        container = self.get(ref)
        record = container.record
        owner = await asyncio.to_thread(self._copy_owner, container) if copy_uid_gid else None
        readonly = bool(record.host_config.get("ReadonlyRootfs"))
        loop = asyncio.get_running_loop()
        async with container.lock, self._root_view(container) as view:
            reader = _Reader(body, loop)
            await asyncio.to_thread(
                _extract, view, path, ref, reader, readonly=readonly, owner=owner,
                no_overwrite_dir_non_dir=no_overwrite_dir_non_dir,
            )  # fmt: skip
        self._event(container, "extract-to-dir")

    def _copy_owner(self, container: Container) -> tuple[int, int] | None:
        """copyUIDGID: everything becomes the container's Config.User (resolved in its passwd and
        group), as moby's tarCopyOptions; without a User, the archive's owners are kept."""
        record = container.record
        user = str(record.config.get("User") or "")
        if not user:
            return None
        passwd = self.snapshots.read_file(record.id, record.chain_ids, "/etc/passwd")
        group = self.snapshots.read_file(record.id, record.chain_ids, "/etc/group")
        resolved = users.resolve_user(user, passwd, group)
        return resolved.uid, resolved.gid

    # -- docker export

    async def export(self, ref: str) -> AsyncIterator[bytes]:
        """GET /containers/{id}/export: the rootfs as one tar (mounts excluded, as dockerd)."""
        container = self.get(ref)
        if container.state is DockerState.DEAD:
            raise ConflictError(f"You cannot export container {ref} which is Dead")
        if container.removed or container.state is DockerState.REMOVING:
            raise ConflictError(f"You cannot export container {ref} which is being removed")
        await container.lock.acquire()
        context = self._root_view(container, binds=False)
        try:
            view = await context.__aenter__()
        except BaseException:
            container.lock.release()
            raise
        chunks = view.export()
        self._event(container, "export")

        async def stream() -> AsyncIterator[bytes]:
            try:
                while (chunk := await asyncio.to_thread(_next_chunk, chunks, "/", ref)) is not None:
                    yield chunk
            finally:
                chunks.close()
                await context.__aexit__(None, None, None)
                container.lock.release()

        return stream()


# -- blocking steps (threads) --------------------------------------------------------------------


def _stat(view: rootfs.RootView, path: str, ref: str) -> rootfs.PathStat:
    try:
        return view.stat_path(rootfs.archive_path(path))
    except FileNotFoundError:
        raise file_not_found(path, ref) from None
    except NotADirectoryError:
        raise InternalError(f"lstat {rootfs.archive_path(path)}: not a directory") from None


def _next_chunk(chunks: Iterator[bytes], path: str, ref: str) -> bytes | None:
    try:
        return next(chunks)
    except StopIteration:
        return None
    except FileNotFoundError:  # removed while being archived
        raise file_not_found(path, ref) from None


def _extract(
    view: rootfs.RootView,
    path: str,
    ref: str,
    reader: _Reader,
    *,
    readonly: bool,
    owner: tuple[int, int] | None,
    no_overwrite_dir_non_dir: bool,
) -> None:
    """moby's containerExtractToDir: the path resolved with its last link followed, a
    directory, writable (a writable bind, or a rootfs not marked read-only), then the untar."""
    try:
        parts = view.resolve(rootfs.clean_path(path), follow_final=True)
        st = view.lstat(parts)
    except (FileNotFoundError, NotADirectoryError):
        raise file_not_found(path, ref) from None
    if not stat.S_ISDIR(st.st_mode):
        raise InvalidParameterError(EXTRACT_POINT_NOT_DIRECTORY)
    bind = view.bind_for(parts)
    if bind is not None and not bind.writable:
        raise InvalidParameterError(VOLUME_READ_ONLY)
    if bind is None and readonly:
        raise InvalidParameterError(ROOTFS_READ_ONLY)
    base, rel = view.locate(parts)
    try:
        layers.extract_archive(
            reader,
            base,
            rel,
            owner=owner,
            no_overwrite_dir_non_dir=no_overwrite_dir_non_dir,  # type: ignore[arg-type]
        )
    except layers.LayerError as e:
        raise InvalidParameterError(str(e).replace("invalid layer: ", "", 1)) from None
    except OSError as e:
        if e.errno in (errno.EROFS,):
            raise InvalidParameterError(ROOTFS_READ_ONLY) from None
        raise
