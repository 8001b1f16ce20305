"""A container's filesystem as `docker cp` and `docker export` see it: the merged rootfs plus the
container's bind mounts, read and written without ever leaving it.

`RootView` wraps one directory fd of the merged rootfs (the shim's overlay mount of a running
container, or a detached overlay mount of a stopped one: `open_overlay`) and the bind mounts
(container destination → host source). Paths are resolved here, in container terms, as moby's
FollowSymlinkInScope does: `..` stops at `/`, absolute symlink targets restart at the
container's root, a component that is a bind destination continues in the bind's source. Each
lookup then goes through openat2(RESOLVE_IN_ROOT) from the root fd (or the bind source's fd), so
even a path that changes under us cannot reach outside.

Writing tars follows moby's pkg/archive (go-archive) tarballer: PAX headers only where needed,
mtimes truncated to the second, numeric owners without names, hardlinks within the archive as
link entries, `security.capability` kept, sockets skipped; directory entries end in `/`.
Extraction is the layer store's extractor (`layers.extract_archive`).
"""

from __future__ import annotations

import base64
import errno
import json
import os
import stat
import tarfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from jockerd import hostfs
from jockerd.imagestore import layers

_RESOLVE = hostfs.RESOLVE_IN_ROOT | hostfs.RESOLVE_NO_MAGICLINKS
_PATH = os.O_PATH | os.O_CLOEXEC
_DIR_PATH = os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC
_DIR_READ = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC
_FILE_READ = os.O_RDONLY | os.O_NOFOLLOW | os.O_NOCTTY | os.O_NONBLOCK | os.O_CLOEXEC
MAX_SYMLINKS = 255  # moby's symlink.FollowSymlinkInScope
_CHUNK = 1 << 20
CAPABILITY_XATTR = "security.capability"

# Go's os.FileMode bits above the permissions (io/fs).
GO_MODE_DIR = 1 << 31
GO_MODE_SYMLINK = 1 << 27
GO_MODE_DEVICE = 1 << 26
GO_MODE_NAMED_PIPE = 1 << 25
GO_MODE_SOCKET = 1 << 24
GO_MODE_SETUID = 1 << 23
GO_MODE_SETGID = 1 << 22
GO_MODE_CHAR_DEVICE = 1 << 21
GO_MODE_STICKY = 1 << 20


def go_file_mode(st_mode: int) -> int:
    """A stat(2) mode as Go's os.FileMode (what the stat header's `mode` carries)."""
    mode = st_mode & 0o777
    kind = stat.S_IFMT(st_mode)
    mode |= {
        stat.S_IFDIR: GO_MODE_DIR,
        stat.S_IFLNK: GO_MODE_SYMLINK,
        stat.S_IFBLK: GO_MODE_DEVICE,
        stat.S_IFCHR: GO_MODE_DEVICE | GO_MODE_CHAR_DEVICE,
        stat.S_IFIFO: GO_MODE_NAMED_PIPE,
        stat.S_IFSOCK: GO_MODE_SOCKET,
    }.get(kind, 0)
    if st_mode & stat.S_ISUID:
        mode |= GO_MODE_SETUID
    if st_mode & stat.S_ISGID:
        mode |= GO_MODE_SETGID
    if st_mode & stat.S_ISVTX:
        mode |= GO_MODE_STICKY
    return mode


def go_time(ns: int) -> str:
    """Go's time.Time JSON (RFC3339Nano) in the daemon's local zone, as dockerd marshals mtimes."""
    seconds, fraction = divmod(ns, 1_000_000_000)
    local = datetime.fromtimestamp(seconds).astimezone()
    text = local.strftime("%Y-%m-%dT%H:%M:%S")
    digits = f"{fraction:09d}".rstrip("0")
    if digits:
        text += "." + digits
    offset = local.utcoffset()
    minutes = int(offset.total_seconds()) // 60 if offset is not None else 0
    if minutes == 0:
        return text + "Z"
    sign = "+" if minutes > 0 else "-"
    return f"{text}{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


@dataclass(frozen=True)
class PathStat:
    """moby's container.PathStat: the X-Docker-Container-Path-Stat header's JSON."""

    name: str
    size: int
    mode: int  # Go's os.FileMode
    mtime: str  # RFC3339Nano
    link_target: str = ""

    @property
    def is_dir(self) -> bool:
        return bool(self.mode & GO_MODE_DIR)

    @property
    def is_symlink(self) -> bool:
        return bool(self.mode & GO_MODE_SYMLINK)


def format_path_stat(path_stat: PathStat) -> str:
    """base64(JSON) with Go's field order and names, as setContainerPathStatHeader writes it."""
    body = {
        "name": path_stat.name,
        "size": path_stat.size,
        "mode": path_stat.mode,
        "mtime": path_stat.mtime,
        "linkTarget": path_stat.link_target,
    }
    return base64.b64encode(json.dumps(body, separators=(",", ":")).encode()).decode()


def parse_path_stat(header: str) -> PathStat:
    body = json.loads(base64.b64decode(header))
    return PathStat(body["name"], body["size"], body["mode"], body["mtime"], body.get("linkTarget", ""))


# -- docker's path rules (pkg/archive) ----------------------------------------------------------


def clean_path(path: str) -> str:
    """Go's filepath.Join("/", path): absolute, `.`/`..`/`//` resolved lexically."""
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts:
                parts.pop()
            continue
        parts.append(part)
    return "/" + "/".join(parts)


def archive_path(path: str) -> str:
    """moby's PreserveTrailingDotOrSeparator(filepath.Join("/", path), path): a trailing `/.` or
    `/` of the request survives the cleaning, because it changes what is copied."""
    cleaned = clean_path(path)
    if os.path.basename(cleaned) != "." and (path == "." or path.endswith("/.")):
        cleaned = cleaned.rstrip("/") + "/."
    if not cleaned.endswith("/") and path.endswith("/"):
        cleaned += "/"
    return cleaned


def path_base(path: str) -> str:
    """Go's filepath.Base: the last element, trailing slashes dropped; "/" for the root."""
    stripped = path.rstrip("/")
    if not stripped:
        return "/"
    return stripped.rsplit("/", 1)[-1]


def _split(path: str) -> list[str]:
    return [p for p in path.split("/") if p]


def _is_under(path: tuple[str, ...], dest: tuple[str, ...]) -> bool:
    return path[: len(dest)] == dest


# -- the view ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BindMount:
    destination: str  # in the container, absolute and clean
    source: str  # on the host
    writable: bool = True


def open_overlay(mounts: list[dict[str, Any]]) -> int:
    """A detached mount of the snapshotter's overlay description (an fd, nothing attached)."""
    (mount,) = mounts
    options = [tuple(option.split("=", 1)) for option in mount["options"] if "=" in option]
    return hostfs.mount_detached(mount["type"], [(k, v) for k, v in options])


class RootView:
    """A container's files, resolved in the container's terms. Blocking: use it from a thread.

    Owns no fd it did not open: close() closes the bind sources it opened, not `root_fd`.
    """

    def __init__(self, root_fd: int, binds: list[BindMount] | None = None) -> None:
        self.root_fd = root_fd
        self.binds = {tuple(_split(b.destination)): b for b in binds or []}
        self._opened: dict[tuple[str, ...], tuple[int, tuple[str, ...]]] = {}

    def close(self) -> None:
        for fd, _ in self._opened.values():
            os.close(fd)
        self._opened.clear()

    def __enter__(self) -> RootView:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- where a container path lives on the host

    def bind_for(self, parts: tuple[str, ...]) -> BindMount | None:
        """The bind mount holding `parts` (the deepest), if any."""
        found = [dest for dest in self.binds if _is_under(parts, dest)]
        return self.binds[max(found, key=len)] if found else None

    def locate(self, parts: tuple[str, ...]) -> tuple[int, tuple[str, ...]]:
        """(base fd, path under it) of a resolved container path: the rootfs or a bind source.

        A bind of a file is reached through its source's parent directory."""
        found = [dest for dest in self.binds if _is_under(parts, dest)]
        if not found:
            return self.root_fd, parts
        dest = max(found, key=len)
        if dest not in self._opened:
            source = self.binds[dest].source
            fd = os.open(source, _PATH)  # the host's path: followed, as mount(2) follows it
            if stat.S_ISDIR(os.fstat(fd).st_mode):
                self._opened[dest] = (fd, ())
            else:
                os.close(fd)
                parent, name = os.path.split(os.path.realpath(source))
                self._opened[dest] = (os.open(parent, _DIR_PATH), (name,))
        fd, head = self._opened[dest]
        rest = parts[len(dest) :]
        if head and rest:
            raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), "/" + "/".join(parts))
        return fd, head + rest

    def lstat(self, parts: tuple[str, ...]) -> os.stat_result:
        base, rel = self.locate(parts)
        if not rel:
            return os.fstat(base)
        parent = hostfs.openat2(base, "/".join(rel[:-1]) or ".", _DIR_PATH, _RESOLVE)
        try:
            return os.stat(rel[-1], dir_fd=parent, follow_symlinks=False)
        finally:
            os.close(parent)

    def readlink(self, parts: tuple[str, ...]) -> str:
        base, rel = self.locate(parts)
        parent = hostfs.openat2(base, "/".join(rel[:-1]) or ".", _DIR_PATH, _RESOLVE)
        try:
            return os.readlink(rel[-1], dir_fd=parent)
        finally:
            os.close(parent)

    def open(self, parts: tuple[str, ...], flags: int) -> int:
        """Open a resolved path (its last component never followed)."""
        base, rel = self.locate(parts)
        if not rel:
            return hostfs.openat2(base, ".", flags, _RESOLVE)
        parent = hostfs.openat2(base, "/".join(rel[:-1]) or ".", _DIR_PATH, _RESOLVE)
        try:
            return os.open(rel[-1], flags | os.O_NOFOLLOW, dir_fd=parent)
        finally:
            os.close(parent)

    def resolve(self, path: str, *, follow_final: bool, partial: bool = False) -> tuple[str, ...]:
        """moby's FollowSymlinkInScope over the container: the real path, without symlinks.

        A missing component raises FileNotFoundError, unless `partial`: the rest is then kept
        lexically (a broken link's target, as the stat header's linkTarget shows it).
        """
        todo = _split(path)
        done: list[str] = []
        links = 0
        while todo:
            part = todo.pop(0)
            if part == ".":
                continue
            if part == "..":
                if done:
                    done.pop()
                continue
            candidate = (*done, part)
            if not todo and not follow_final:
                done.append(part)
                break
            try:
                st = self.lstat(candidate)
            except (FileNotFoundError, NotADirectoryError):
                if not partial:
                    raise
                done.append(part)
                continue
            if not stat.S_ISLNK(st.st_mode):
                done.append(part)
                continue
            links += 1
            if links > MAX_SYMLINKS:
                raise OSError(errno.ELOOP, "too many links", path)
            target = self.readlink(candidate)
            if target.startswith("/"):
                done = []
            todo = _split(target) + todo
        return tuple(done)

    # -- docker cp

    def stat_path(self, path: str) -> PathStat:
        """moby's containerFSView.Stat of `path` (an archive_path): lstat, the final component
        not followed unless the path ends in `/` or `/.`; a symlink's linkTarget fully resolved."""
        follow = path.endswith("/") or path.endswith("/.")
        parts = self.resolve(path, follow_final=follow)
        st = self.lstat(parts)
        if follow and not stat.S_ISDIR(st.st_mode):
            raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), path)
        target = ""
        if stat.S_ISLNK(st.st_mode):
            target = "/" + "/".join(self.resolve(path, follow_final=True, partial=True))
        return PathStat(
            path_base(path), st.st_size, go_file_mode(st.st_mode), go_time(st.st_mtime_ns), target
        )

    def archive(self, path: str, path_stat: PathStat) -> Iterator[bytes]:
        """The tar GET /containers/{id}/archive sends: a directory's entries under the request's
        base name ("." for `/.`, "" for `/`), anything else as one entry named by its base."""
        follow = path.endswith("/") or path.endswith("/.")
        parts = self.resolve(path, follow_final=follow)
        base = path_base(path)
        if path_stat.is_dir:
            prefix = "" if base == "/" else base
            return _tar_stream(self, parts, lambda rel: prefix + ("/" + rel if rel else ""), top=True)
        return _tar_stream(self, parts, lambda rel: base, top=True, recurse=False)

    def export(self) -> Iterator[bytes]:
        """docker export: every entry under `/`, named relative to it ("bin/", "bin/sh")."""
        return _tar_stream(self, (), lambda rel: rel, top=False)


# -- the tarballer ---------------------------------------------------------------------------------


def _tar_info(name: str, st: os.stat_result) -> tarfile.TarInfo | None:
    info = tarfile.TarInfo(name)
    info.mode = stat.S_IMODE(st.st_mode)
    info.uid, info.gid = st.st_uid, st.st_gid
    info.uname = info.gname = ""
    info.mtime = st.st_mtime_ns // 1_000_000_000
    kind = stat.S_IFMT(st.st_mode)
    if kind == stat.S_IFREG:
        info.type, info.size = tarfile.REGTYPE, st.st_size
    elif kind == stat.S_IFDIR:
        info.type = tarfile.DIRTYPE
        if not name.endswith("/"):
            info.name = name + "/"
    elif kind == stat.S_IFLNK:
        info.type = tarfile.SYMTYPE
    elif kind in (stat.S_IFCHR, stat.S_IFBLK):
        info.type = tarfile.CHRTYPE if kind == stat.S_IFCHR else tarfile.BLKTYPE
        info.devmajor, info.devminor = os.major(st.st_rdev), os.minor(st.st_rdev)
    elif kind == stat.S_IFIFO:
        info.type = tarfile.FIFOTYPE
    else:
        return None  # sockets: go-archive skips them
    return info


def _header(info: tarfile.TarInfo) -> bytes:
    return info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")


def _file_data(fd: int, size: int) -> Iterator[bytes]:
    """Exactly `size` bytes of an fd, then the padding to 512: a file that shrank since its
    header went out is padded with zeros, one that grew is cut (as the header says)."""
    remaining = size
    while remaining:
        data = os.read(fd, min(_CHUNK, remaining)) or b"\0" * min(_CHUNK, remaining)
        remaining -= len(data)
        yield data
    if size % tarfile.BLOCKSIZE:
        yield b"\0" * (tarfile.BLOCKSIZE - size % tarfile.BLOCKSIZE)


def _tar_stream(
    view: RootView,
    start: tuple[str, ...],
    name_of: Callable[[str], str],
    *,
    top: bool,
    recurse: bool = True,
) -> Iterator[bytes]:
    """Walk `start` in lexical order (Go's WalkDir) and yield the tar in pieces of about 1 MiB.

    `name_of(rel)` names an entry from its path relative to `start` ("" for `start` itself);
    `top` says whether `start` itself is an entry. The end is Go's: two zero blocks, no padding
    to a 10 KiB record (the docker CLI reports the bytes it read).
    """
    seen: dict[tuple[int, int], str] = {}
    pending: list[bytes] = []
    pending_size = 0

    def entry(parts: tuple[str, ...], rel: str) -> Iterator[bytes]:
        st = view.lstat(parts)
        info = _tar_info(name_of(rel), st)
        if info is None:
            return
        if info.type == tarfile.REGTYPE and st.st_nlink > 1:
            key = (st.st_dev, st.st_ino)
            if key in seen:
                info.type, info.size, info.linkname = tarfile.LNKTYPE, 0, seen[key]
            else:
                seen[key] = info.name
        if info.type == tarfile.SYMTYPE:
            info.linkname = view.readlink(parts)
        if info.type == tarfile.REGTYPE:
            fd = view.open(parts, _FILE_READ)
            try:
                _add_capability(fd, info)
                yield _header(info)
                yield from _file_data(fd, info.size)
            finally:
                os.close(fd)
        else:
            yield _header(info)
        if info.type == tarfile.DIRTYPE and recurse:
            yield from children(parts, rel)

    def children(parts: tuple[str, ...], rel: str) -> Iterator[bytes]:
        fd = view.open(parts, _DIR_READ)
        try:
            listed = set(os.listdir(fd))
        finally:
            os.close(fd)
        # A bind's destination shows even where the rootfs lacks the mountpoint (dockerd creates it).
        listed.update(dest[-1] for dest in view.binds if len(dest) == len(parts) + 1 and dest[:-1] == parts)
        names = sorted(listed, key=os.fsencode)
        for name in names:
            yield from entry((*parts, name), f"{rel}/{name}" if rel else name)

    pieces = entry(start, "") if top else children(start, "")
    for piece in pieces:
        pending.append(piece)
        pending_size += len(piece)
        if pending_size >= _CHUNK:
            yield b"".join(pending)
            pending.clear()
            pending_size = 0
    pending.append(b"\0" * (2 * tarfile.BLOCKSIZE))
    yield b"".join(pending)


def _add_capability(fd: int, info: tarfile.TarInfo) -> None:
    """go-archive keeps security.capability (file capabilities) as a PAX xattr record."""
    try:
        value = os.getxattr(fd, CAPABILITY_XATTR)
    except OSError:
        return
    info.pax_headers[layers.PAX_XATTR_PREFIX + CAPABILITY_XATTR] = value.decode("utf-8", "surrogateescape")
