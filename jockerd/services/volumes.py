"""VolumeService: Docker's volumes with the local driver (moby volume/service, volume/local).

A volume is a directory, data_root/volumes/<name>/_data, that containers bind-mount. Its record
(store/volumes.py) survives restarts; which containers use it (the references that make `rm`
answer 409 and `ls -f dangling=true` skip it) is rebuilt from the container records when the
daemon starts, never stored. A volume created with the local driver's `type`/`device`/`o`
options (`--opt type=tmpfs --opt device=tmpfs --opt o=size=10m`) is mounted on _data when a
running container first needs it and unmounted when the last one stops, as the local driver
does. Wording on the wire is moby's (`create x/y: "x/y" includes invalid characters…`,
`remove v: volume is in use - [<id>]`, `get v: no such volume`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import shutil
import stat
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jockerd import hostfs
from jockerd.errors import (
    ConflictError,
    InternalError,
    InvalidParameterError,
    NotFoundError,
    UnavailableError,
)
from jockerd.ids import new_id
from jockerd.mount_flags import parse_mount_options
from jockerd.services.disk_usage import dir_size
from jockerd.services.events import EventBus
from jockerd.services.filters import labels_match
from jockerd.store.volumes import VolumeRecord, VolumeStore

log = logging.getLogger("jockerd.volumes")

LOCAL_DRIVER = "local"
# moby volume.AnonymousLabel: set on the volumes a container creates without a name; prune
# (API >= 1.42) removes only these unless `all=true`.
ANONYMOUS_LABEL = "com.docker.volume.anonymous"
RESTRICTED_NAME_CHARS = "[a-zA-Z0-9][a-zA-Z0-9_.-]"
_NAME = re.compile(rf"^{RESTRICTED_NAME_CHARS}+$")
# The local driver's options (volume/local/local_unix.go validOpts, mandatoryOpts).
LOCAL_OPTIONS = ("type", "o", "device", "size")
_REQUIRED_OPTIONS = {"device": ("type",), "type": ("device",), "o": ("device",)}
LIST_FILTERS = {"dangling", "driver", "label", "name"}
PRUNE_FILTERS = {"label", "label!"}
CLUSTER_UPDATE_ONLY = "volume update only valid for cluster volumes, but swarm is not enabled"


# -- moby's rules, pure -----------------------------------------------------------------------------


def check_name(name: str) -> None:
    """The local driver's name rule, in its words (the caller adds `create NAME: `)."""
    if len(name) == 1:
        raise InvalidParameterError(
            "volume name is too short, names should be at least two alphanumeric characters"
        )
    if not _NAME.match(name):
        raise InvalidParameterError(
            f'"{name}" includes invalid characters for a local volume name, only '
            f'"{RESTRICTED_NAME_CHARS}" are allowed. If you intended to pass a host directory, '
            "use absolute path"
        )


def check_options(options: dict[str, str]) -> None:
    """The local driver's validateOpts: known keys, the ones each requires, no quota support."""
    for key in options:
        if key not in LOCAL_OPTIONS:
            raise InvalidParameterError(f'invalid option: "{key}"')
    for key, required in _REQUIRED_OPTIONS.items():
        for other in required if key in options else ():
            if other not in options:
                raise InvalidParameterError(f'missing required option: "{other}"')
    if "size" in options:
        raise InvalidParameterError("quota size requested but no quota support")


def needs_mount(options: dict[str, str] | None) -> bool:
    """The local driver mounts a volume only when it was given a device or a type."""
    return bool(options and (options.get("device") or options.get("type")))


def check_list_filters(filters: dict[str, list[str]]) -> bool | None:
    """Validate `docker volume ls` filters; the wanted `dangling` value (None: either)."""
    for key in filters:
        if key not in LIST_FILTERS:
            raise InvalidParameterError(f"invalid filter '{key}'")
    dangling = filters.get("dangling")
    if not dangling:
        return None
    if "true" in dangling or "1" in dangling:
        return True
    if "false" in dangling or "0" in dangling:
        return False
    raise InvalidParameterError(f"invalid filter 'dangling={dangling[0]}'")


def list_matches(record: VolumeRecord, filters: dict[str, list[str]], in_use: bool) -> bool:
    dangling = check_list_filters(filters)
    if dangling is not None and dangling == in_use:
        return False
    if filters.get("driver") and record.driver not in filters["driver"]:
        return False
    if filters.get("name") and not any(_search(p, record.name) for p in filters["name"]):
        return False
    return labels_match(record.labels or {}, {"label": filters.get("label", [])})


def prune_filters(filters: dict[str, list[str]], *, anonymous_only: bool) -> dict[str, list[str]]:
    """dockerd's prune rules: label/label! and, from API 1.42, `all`; without `all=true` only
    anonymous volumes are candidates there (the label is added as a filter)."""
    accepted = PRUNE_FILTERS | ({"all"} if anonymous_only else set())
    for key in filters:
        if key not in accepted:
            raise InvalidParameterError(f"invalid filter '{key}'")
    out = {k: list(v) for k, v in filters.items() if k != "all"}
    if anonymous_only:
        values = filters.get("all", [])
        for value in values:
            if value not in ("true", "1", "false", "0"):
                raise InvalidParameterError(f"invalid filter 'all={value}'")
        if not any(v in ("true", "1") for v in values):
            out["label"] = [*out.get("label", []), ANONYMOUS_LABEL]
    return out


def _search(pattern: str, text: str) -> bool:
    try:
        return re.search(pattern, text) is not None
    except re.error:
        return False


def _sorted(mapping: dict[str, str] | None) -> dict[str, str] | None:
    """Go's encoding/json writes a map's keys sorted."""
    return None if mapping is None else dict(sorted(mapping.items()))


def _created_at() -> str:
    """The local driver's CreatedAt: RFC 3339 in seconds (UTC here)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- copy-up --------------------------------------------------------------------------------------


def mount_error(source: str, target: Path, flags: int, data: str, error: OSError) -> str:
    """moby's mount.mountError text: "mount SRC:TARGET[, flags: 0xN][, data: D]: <errno text>"."""
    out = f"mount {source}:{target}" if source else f"mount {target}"
    if flags:
        out += f", flags: {flags:#x}"
    if data:
        out += f", data: {data}"
    return f"{out}: {(error.strerror or str(error)).lower()}"  # Go's Errno texts are lowercase


def copy_up(rootfs: Path, destination: str, target: Path) -> bool:
    """dockerd's copyExistingContents: if `target` (a volume's _data) is empty, copy what the
    container's rootfs holds at `destination` into it, owners, modes, times, links and device
    nodes kept, then give `target` the owner and mode of that directory. `destination` is
    resolved inside `rootfs` (openat2 RESOLVE_IN_ROOT: the image's symlinks cannot lead out).
    Whether anything was done."""
    if any(os.scandir(target)):
        return False
    root_fd = os.open(rootfs, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        try:
            fd = hostfs.openat2(
                root_fd,
                destination.lstrip("/") or ".",
                os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC,
                hostfs.RESOLVE_IN_ROOT | hostfs.RESOLVE_NO_MAGICLINKS,
            )
        except (FileNotFoundError, NotADirectoryError):
            return False
    finally:
        os.close(root_fd)
    try:
        source = f"/proc/self/fd/{fd}"
        links: dict[tuple[int, int], str] = {}
        _copy_tree(source, str(target), links)
        st = os.fstat(fd)
        os.lchown(target, st.st_uid, st.st_gid)
        os.chmod(target, stat.S_IMODE(st.st_mode))
    finally:
        os.close(fd)
    return True


def _copy_tree(source: str, target: str, links: dict[tuple[int, int], str]) -> None:
    with os.scandir(source) as entries:
        for entry in entries:
            src = os.path.join(source, entry.name)
            dst = os.path.join(target, entry.name)
            st = entry.stat(follow_symlinks=False)
            mode = st.st_mode
            if stat.S_ISDIR(mode):
                os.mkdir(dst, 0o700)
                _copy_tree(src, dst, links)
            elif (st.st_dev, st.st_ino) in links and not stat.S_ISLNK(mode):
                os.link(links[(st.st_dev, st.st_ino)], dst)
                continue
            elif stat.S_ISREG(mode):
                shutil.copyfile(src, dst, follow_symlinks=False)
            elif stat.S_ISLNK(mode):
                os.symlink(os.readlink(src), dst)
            elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode) or stat.S_ISFIFO(mode):
                os.mknod(dst, mode, st.st_rdev)
            else:
                continue  # sockets are not copied
            if st.st_nlink > 1 and not stat.S_ISDIR(mode):
                links[(st.st_dev, st.st_ino)] = dst
            os.chown(dst, st.st_uid, st.st_gid, follow_symlinks=False)
            if not stat.S_ISLNK(mode):
                os.chmod(dst, stat.S_IMODE(mode))
            os.utime(dst, ns=(st.st_atime_ns, st.st_mtime_ns), follow_symlinks=False)


# -- the service ----------------------------------------------------------------------------------


class VolumeService:
    def __init__(self, store: VolumeStore, events: EventBus) -> None:
        self.store = store
        self.events = events
        self.records: dict[str, VolumeRecord] = {}
        self.refs: dict[str, set[str]] = {}  # volume name → IDs of the containers using it
        self.active: dict[str, set[str]] = {}  # mounted volume → running containers using it
        self._lock = asyncio.Lock()

    # -- restore

    async def restore(self) -> None:
        for record in await asyncio.to_thread(self.store.load_all):
            self.records[record.name] = record

    async def unmount_unused(self) -> None:
        """After the containers are restored: unmount what no running container uses any more
        (the daemon died while the last user stopped)."""
        for name, record in self.records.items():
            if needs_mount(record.options) and not self.active.get(name):
                with contextlib.suppress(OSError):
                    await asyncio.to_thread(hostfs.umount2, self.store.data_dir(name))

    # -- wire shape

    def _view(self, record: VolumeRecord, *, usage: dict[str, int] | None = None) -> dict[str, Any]:
        # volume.Volume's fields in their order (the JSON dockerd writes); UsageData only in df.
        out: dict[str, Any] = {
            "CreatedAt": record.created_at,
            "Driver": record.driver,
            "Labels": _sorted(record.labels),
            "Mountpoint": str(self.store.data_dir(record.name)),
            "Name": record.name,
            "Options": _sorted(record.options),
            "Scope": "local",
        }
        if usage is not None:
            out["UsageData"] = usage
        return out

    def event(self, name: str, action: str, **attributes: str) -> None:
        self.events.publish("volume", action, name, {"driver": LOCAL_DRIVER, **attributes})

    def get(self, name: str) -> VolumeRecord:
        record = self.records.get(name)
        if record is None:
            raise NotFoundError(f"get {name}: no such volume")
        return record

    def mountpoint(self, name: str) -> Path:
        return self.store.data_dir(name)

    # -- the API's verbs

    async def create(
        self,
        name: str = "",
        driver: str = "",
        options: dict[str, str] | None = None,
        labels: dict[str, str] | None = None,
        *,
        reference: str | None = None,
        cluster: bool = False,
    ) -> dict[str, Any]:
        """POST /volumes/create, and a container's volumes (`reference`: its ID)."""
        if cluster:
            raise UnavailableError(
                'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" '
                "to connect this node to swarm and try again."
            )
        driver = driver or LOCAL_DRIVER
        async with self._lock:
            if not name:
                name = new_id()
            existing = self.records.get(name)
            if existing is not None:
                if driver != existing.driver:
                    raise ConflictError(
                        f"create {name}: driver '{existing.driver}' already created volume '{name}': "
                        "volume name must be unique"
                    )
                record = existing
            else:
                if driver != LOCAL_DRIVER:
                    raise NotFoundError(
                        f'create {name}: error looking up volume plugin {driver}: plugin "{driver}" not found'
                    )
                try:
                    check_name(name)
                    check_options(options or {})
                except InvalidParameterError as e:
                    raise InvalidParameterError(f"create {name}: {e}") from None
                record = VolumeRecord(
                    name=name,
                    driver=driver,
                    created_at=_created_at(),
                    labels=dict(labels) if labels else None,
                    options=dict(options) if options else None,
                )
                await asyncio.to_thread(self.store.save, record)
                self.records[name] = record
            if reference:
                self.refs.setdefault(name, set()).add(reference)
        self.event(name, "create")
        return self._view(record)

    async def inspect(self, name: str) -> dict[str, Any]:
        return self._view(self.get(name))

    async def list(self, filters: dict[str, list[str]]) -> dict[str, Any]:
        check_list_filters(filters)
        volumes = [
            self._view(record)
            for name, record in sorted(self.records.items())
            if list_matches(record, filters, bool(self.refs.get(name)))
        ]
        return {"Volumes": volumes, "Warnings": None}

    async def remove(self, name: str, *, force: bool = False) -> None:
        async with self._lock:
            record = self.records.get(name)
            if record is None:
                if force:
                    return
                raise NotFoundError(f"get {name}: no such volume")
            users = self.refs.get(name)
            if users:
                raise ConflictError(f"remove {name}: volume is in use - [{', '.join(sorted(users))}]")
            await self._delete(record)

    async def _delete(self, record: VolumeRecord) -> None:
        if needs_mount(record.options):
            with contextlib.suppress(OSError):
                await asyncio.to_thread(hostfs.umount2, self.store.data_dir(record.name))
        await asyncio.to_thread(self.store.delete, record.name)
        self.records.pop(record.name, None)
        self.refs.pop(record.name, None)
        self.active.pop(record.name, None)
        self.event(record.name, "destroy")

    async def prune(self, filters: dict[str, list[str]], *, anonymous_only: bool) -> dict[str, Any]:
        wanted = prune_filters(filters, anonymous_only=anonymous_only)
        deleted: list[str] = []
        reclaimed = 0
        async with self._lock:
            for name, record in sorted(self.records.items()):
                if self.refs.get(name) or record.driver != LOCAL_DRIVER:
                    continue
                if record.options:
                    continue  # dockerd never prunes a local volume with mount options (moby#42564)
                if not labels_match(record.labels or {}, wanted):
                    continue
                size = await asyncio.to_thread(dir_size, self.store.data_dir(name))
                await self._delete(record)
                deleted.append(name)
                reclaimed += size
        self.events.publish("volume", "prune", "", {"reclaimed": str(reclaimed)})
        return {"VolumesDeleted": deleted or None, "SpaceReclaimed": reclaimed}

    async def update(self, name: str, body: dict[str, Any]) -> None:
        """PUT /volumes/{name}: cluster volumes only, and this node is in no swarm."""
        raise UnavailableError(CLUSTER_UPDATE_ONLY)

    async def disk_usage(self) -> list[dict[str, Any]]:
        """`docker system df`'s Volumes: each with UsageData {Size, RefCount}."""
        out = []
        for name, record in sorted(self.records.items()):
            size = await asyncio.to_thread(dir_size, self.store.data_dir(name))
            out.append(self._view(record, usage={"Size": size, "RefCount": len(self.refs.get(name, ()))}))
        return out

    # -- containers' use

    def add_ref(self, name: str, container_id: str) -> None:
        if name in self.records:
            self.refs.setdefault(name, set()).add(container_id)

    def release(self, name: str, container_id: str) -> None:
        users = self.refs.get(name)
        if users is not None:
            users.discard(container_id)
            if not users:
                del self.refs[name]

    def is_anonymous(self, name: str) -> bool:
        record = self.records.get(name)
        return record is not None and ANONYMOUS_LABEL in (record.labels or {})

    async def remove_unused(self, names: Iterable[str]) -> None:
        """`docker rm -v` and --rm: remove these volumes unless another container uses them."""
        for name in names:
            with contextlib.suppress(ConflictError, NotFoundError):
                await self.remove(name)

    def mark_active(self, name: str, container_id: str) -> None:
        """A running container uses this volume (restore: the mount outlived the daemon)."""
        if name in self.records:
            self.active.setdefault(name, set()).add(container_id)

    async def mount(self, name: str, container_id: str) -> Path:
        """The directory to bind for a starting container; the local driver's mount if needed."""
        record = self.get(name)
        path = self.store.data_dir(name)
        async with self._lock:
            users = self.active.setdefault(name, set())
            if needs_mount(record.options) and not users:
                await self._mount(record, path)
            users.add(container_id)
        return path

    async def _mount(self, record: VolumeRecord, path: Path) -> None:
        """The local driver's mount: mount(2) with `device`, `type` and `o` (flags and data)."""
        options = record.options or {}
        flags, data = parse_mount_options(options.get("o") or "")
        try:
            await asyncio.to_thread(
                hostfs.mount, options.get("device") or "none", path, options.get("type") or "", flags, data
            )
        except OSError as e:
            raise InternalError(
                f"error while mounting volume '{path}': failed to mount local volume: "
                + mount_error(options.get("device") or "", path, flags, data, e)
            ) from None

    async def unmount(self, name: str, container_id: str) -> None:
        record = self.records.get(name)
        async with self._lock:
            users = self.active.get(name)
            if users is None:
                return
            users.discard(container_id)
            if users:
                return
            del self.active[name]
            if record is not None and needs_mount(record.options):
                try:
                    await asyncio.to_thread(hostfs.umount2, self.store.data_dir(name), 0)
                except OSError as e:
                    log.warning("unmount of volume %s: %s", name, e)
                    with contextlib.suppress(OSError):
                        await asyncio.to_thread(hostfs.umount2, self.store.data_dir(name))
