"""Layer store: each image layer unpacked once, by chain ID, into its own `diff/` directory.

Docker's overlay2 model: a layer tar is extracted standalone (never on top of its parent), whiteouts
become overlayfs whiteouts (a char device 0:0) and opaque markers become `trusted.overlay.opaque=y`,
so the snapshotter can stack the `diff/` directories as lowerdirs.

A layer comes from a registry, so its tar is hostile input. Path-string checks (tarfile's filters,
`extract()`) can be beaten by a sequence of entries such as a symlink followed by a write through it.
Here the kernel does the containment instead: every entry's parent directory is opened with
openat2(2) and RESOLVE_IN_ROOT, which resolves `..` and symlinks (absolute or relative) as if the
layer directory were `/`. The entry's own name is then created relative to that parent fd and is
never followed. Whatever the order of entries, nothing can be created, changed or linked outside the
layer directory, without chroot and without a helper process.

On-disk layout (DESIGN §5.4):
    layers/<chain-hex>/layer.json   LayerRecord, written before the directory is published
    layers/<chain-hex>/diff/        the unpacked layer (an overlay lowerdir)
    layers/tmp-<random>/            work in progress or removal in progress; published by one
                                    rename, or removed by cleanup_incomplete() after a crash
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import functools
import gzip
import hashlib
import io
import json
import logging
import os
import re
import secrets
import shutil
import stat
import tarfile
import zlib
from array import array
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from types import TracebackType
from typing import IO, BinaryIO, TypeVar, cast

import zstandard

from jockerd import hostfs
from jockerd.errors import InternalError, InvalidParameterError, NotFoundError, UnsupportedError

log = logging.getLogger(__name__)

WHITEOUT_PREFIX = ".wh."
WHITEOUT_META_PREFIX = ".wh..wh."
WHITEOUT_OPAQUE = ".wh..wh..opq"
OVERLAY_OPAQUE_XATTR = "trusted.overlay.opaque"
OVERLAY_XATTR_PREFIX = "trusted.overlay."
PAX_XATTR_PREFIX = "SCHILY.xattr."

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"

# FS_IOC_GETFLAGS/SETFLAGS are _IOR/_IOW('f', 1/2, long): these values are for 64-bit longs.
FS_IOC_GETFLAGS = 0x80086601
FS_IOC_SETFLAGS = 0x40086602
FS_IMMUTABLE_FL = 0x10
FS_APPEND_FL = 0x20

_RESOLVE = hostfs.RESOLVE_IN_ROOT | hostfs.RESOLVE_NO_MAGICLINKS
_DIR_PATH = os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC
_DIR_READ = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC
_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_REGULAR_TYPES = (tarfile.REGTYPE, tarfile.AREGTYPE, tarfile.CONTTYPE)
_NODE_TYPES = {tarfile.CHRTYPE: stat.S_IFCHR, tarfile.BLKTYPE: stat.S_IFBLK, tarfile.FIFOTYPE: stat.S_IFIFO}
_SUPPORTED_TYPES = frozenset(
    {*_REGULAR_TYPES, *_NODE_TYPES, tarfile.DIRTYPE, tarfile.SYMTYPE, tarfile.LNKTYPE}
)
_CHUNK = 1 << 20
# Failures of the host rather than of the layer: they stay OSErrors (a 500), not LayerErrors (a 400).
_HOST_ERRNOS = frozenset(
    {errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EROFS, errno.ENOMEM, errno.EMFILE, errno.ENFILE}
)
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
_HEX = re.compile(r"[0-9a-f]{64}")

_T = TypeVar("_T")


class LayerError(InvalidParameterError):
    """A layer tar that cannot be applied faithfully and safely: malformed, hostile or unsupported."""


@dataclass(frozen=True)
class AppliedLayer:
    """What applying one layer tar produced."""

    diff_id: str  # sha256 of the whole uncompressed stream, trailing padding included
    size: int  # bytes of regular file content written: Docker's layer Size
    tar_size: int  # length of the uncompressed stream


@dataclass(frozen=True)
class LayerRecord:
    """One published layer, persisted as layers/<chain-hex>/layer.json."""

    chain_id: str
    diff_id: str
    parent: str | None
    size: int
    tar_size: int


def _openat2(dir_fd: int, path: str, flags: int, resolve: int = _RESOLVE) -> int:
    return hostfs.openat2(dir_fd, path, flags, resolve)


@functools.cache
def check_openat2() -> None:
    """Fail once, early and clearly on a kernel without openat2, instead of on the first pull.

    Only success is cached (functools.cache does not cache exceptions).
    """
    root = os.open("/", _DIR_READ)
    try:
        os.close(_openat2(root, ".", _DIR_PATH))
    except OSError as e:
        if e.errno == errno.ENOSYS:
            raise UnsupportedError("kernel lacks openat2 (Linux >= 5.6 needed)") from e
        raise
    finally:
        os.close(root)


# -- compression and hashing ------------------------------------------------------------------------


def detect_compression(head: bytes) -> str:
    """Name the compression of a stream from its first bytes: "gzip", "zstd" or "none"."""
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head.startswith(ZSTD_MAGIC):
        return "zstd"
    return "none"


class _Prefixed(io.RawIOBase):
    """A stream with its already-read first bytes put back in front: sniffing works on pipes too."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        super().__init__()
        self._head = head
        self._rest = rest

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        if not self._head:
            return self._rest.read(-1 if size is None else size)
        if size is None or size < 0:
            data, self._head = self._head + self._rest.read(), b""
            return data
        data, self._head = self._head[:size], self._head[size:]
        return data

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def open_decompressed(stream: BinaryIO) -> BinaryIO:
    """Wrap `stream` in the decompressor its magic bytes call for (gzip, zstd) or pass it through."""
    head = b""
    while len(head) < len(ZSTD_MAGIC):
        more = stream.read(len(ZSTD_MAGIC) - len(head))
        if not more:
            break
        head += more
    kind = detect_compression(head)
    source = _Prefixed(head, stream)
    if kind == "gzip":
        return cast(BinaryIO, gzip.GzipFile(fileobj=source, mode="rb"))
    if kind == "zstd":
        # read_across_frames: zstd layers may hold several frames (e.g. written by parallel encoders).
        reader = zstandard.ZstdDecompressor().stream_reader(source, read_across_frames=True, closefd=False)
        return cast(BinaryIO, reader)
    return cast(BinaryIO, source)


class _HashingReader:
    """Counts and hashes every decompressed byte on its way into tarfile: the diff_id."""

    def __init__(self, source: BinaryIO) -> None:
        self._source = source
        self.digest = hashlib.sha256()
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        data = self._source.read(size)
        self.digest.update(data)
        self.size += len(data)
        return data

    def drain(self) -> None:
        """Read to EOF: the diff_id covers the padding after the tar's end blocks too."""
        while self.read(_CHUNK):
            pass


# -- the extractor ----------------------------------------------------------------------------------


def _entry_parts(name: str, *, whiteouts: bool = True) -> tuple[str, ...]:
    """Normalize an entry name to its components; absolute names count from the layer root.

    Any `..` is rejected outright, even one that would stay inside: no legitimate layer needs it and
    accepting none is simpler to reason about than clamping.
    """
    parts = tuple(part for part in name.split("/") if part not in ("", "."))
    if ".." in parts:
        raise LayerError(f"invalid layer: path escapes the layer root: {name}")
    if whiteouts and any(part.startswith(WHITEOUT_PREFIX) for part in parts[:-1]):
        raise LayerError(f"invalid layer: malformed whiteout: whiteout used as a directory: {name}")
    return parts


def _pax_ns(value: str | None) -> int | None:
    """A PAX time ("1700000000.123456789") in nanoseconds, exactly; tarfile only gives a float."""
    if value is None:
        return None
    try:
        return int(Decimal(value) * 1_000_000_000)
    except (InvalidOperation, ValueError, OverflowError):
        return None


def _times_ns(member: tarfile.TarInfo) -> tuple[int, int]:
    """(atime, mtime) for os.utime(ns=...); atime falls back to mtime as Docker does."""
    mtime = _pax_ns(member.pax_headers.get("mtime"))
    if mtime is None:
        mtime = int(member.mtime) * 1_000_000_000
    atime = _pax_ns(member.pax_headers.get("atime"))
    return (mtime if atime is None else atime), mtime


def _xattrs(member: tarfile.TarInfo) -> list[tuple[str, bytes]]:
    """The entry's SCHILY.xattr.* PAX records as (name, raw value).

    tarfile decodes PAX values as UTF-8 and falls back to surrogateescape, so encoding back the same
    way restores the original bytes exactly, binary values such as security.capability included.
    """
    found = []
    for key, value in member.pax_headers.items():
        if not key.startswith(PAX_XATTR_PREFIX):
            continue
        name = key[len(PAX_XATTR_PREFIX) :]
        if name.startswith(OVERLAY_XATTR_PREFIX):
            # overlayfs reads these from lowerdirs (opaque, redirect, metacopy); only whiteout
            # entries may produce them.
            raise LayerError(f"invalid layer: reserved xattr {name}: {member.name}")
        found.append((name, value.encode("utf-8", "surrogateescape")))
    return found


def _set_attributes(target: int | str, member: tarfile.TarInfo) -> None:
    """Owner, then mode, then xattrs of an entry; `target` is an fd or a /proc/self/fd path.

    chmod comes after chown because chown clears setuid/setgid, and xattrs after chown because
    chown drops security.capability.
    """
    os.chown(target, member.uid, member.gid)
    os.chmod(target, member.mode & 0o7777)
    for name, value in _xattrs(member):
        try:
            os.setxattr(target, name, value)
        except OSError as e:
            if e.errno != errno.EOPNOTSUPP:
                raise
            log.warning("skipping xattr %s of %s: not supported by the filesystem", name, member.name)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


class _Extractor:
    """Writes the entries of one layer tar under one root directory fd.

    Holds what must wait for the end of the tar: directory mtimes (writing children changes them)
    and the whiteouts already made (to refuse later entries that contradict them).
    """

    def __init__(
        self,
        root_fd: int,
        *,
        prefix: tuple[str, ...] = (),
        whiteouts: bool = True,
        owner: tuple[int, int] | None = None,
        no_overwrite_dir_non_dir: bool = False,
    ) -> None:
        """A layer by default. `docker cp` (extract_archive) puts every entry under `prefix` (the
        extraction point, resolved, relative to the root), writes `.wh.*` names as they are,
        may force one owner, and may refuse to replace a directory by a non-directory or back."""
        self._root = root_fd
        self._prefix = prefix
        self._layer = whiteouts
        self._owner = owner
        self._no_overwrite_dir_non_dir = no_overwrite_dir_non_dir
        self._dir_times: dict[tuple[str, ...], tuple[int, int]] = {}
        self._whiteouts: set[tuple[str, ...]] = set()
        self.size = 0

    def _check_overwrite(self, member: tarfile.TarInfo, parent: int, parts: tuple[str, ...]) -> None:
        """moby's NoOverwriteDirNonDir, in its words (paths are the container's)."""
        try:
            st = os.stat(parts[-1], dir_fd=parent, follow_symlinks=False)
        except FileNotFoundError:
            return
        path, dest = "/" + "/".join(parts), "/" + "/".join(self._prefix)
        if stat.S_ISDIR(st.st_mode) and member.type != tarfile.DIRTYPE:
            raise LayerError(f'cannot overwrite directory "{path}" with non-directory "{dest}"')
        if not stat.S_ISDIR(st.st_mode) and member.type == tarfile.DIRTYPE:
            raise LayerError(f'cannot overwrite non-directory "{path}" with directory "{dest}"')

    def add(self, tar: tarfile.TarFile, member: tarfile.TarInfo) -> None:
        parts = self._prefix + _entry_parts(member.name, whiteouts=self._layer)
        if self._owner is not None:
            member.uid, member.gid = self._owner
        if self._layer and parts and parts[-1].startswith(WHITEOUT_PREFIX):
            self._add_whiteout(member, parts)
            return
        if member.issparse():
            raise LayerError(f"invalid layer: sparse files are not supported: {member.name}")
        if member.type not in _SUPPORTED_TYPES:
            raise LayerError(f"invalid layer: unsupported tar entry type {member.type!r}: {member.name}")
        if parts in self._whiteouts:
            raise LayerError(
                f"invalid layer: entry conflicts with a whiteout of the same layer: {member.name}"
            )
        if not parts:
            self._add_root(member)
            return
        parent = self._open_dir(parts[:-1], create=True)
        try:
            name = parts[-1]
            if self._no_overwrite_dir_non_dir:
                self._check_overwrite(member, parent, parts)
            if member.type in _REGULAR_TYPES:
                self._add_file(tar, member, parent, name)
            elif member.type == tarfile.DIRTYPE:
                self._add_dir(member, parent, parts)
            elif member.type == tarfile.SYMTYPE:
                self._add_symlink(member, parent, name)
            elif member.type == tarfile.LNKTYPE:
                self._add_hardlink(member, parent, name)
            else:
                self._add_node(member, parent, name)
        finally:
            os.close(parent)

    def finish(self) -> None:
        """Set directory times last; a directory replaced since by something else keeps its own."""
        for parts, times in self._dir_times.items():
            if not parts:
                os.utime(self._root, ns=times)
                continue
            try:
                parent = self._open_dir(parts[:-1], create=False)
            except OSError as e:
                if e.errno in (errno.ENOENT, errno.ENOTDIR, errno.ELOOP):
                    continue  # a later entry put something else on the way: not our directory now
                raise
            try:
                st = os.stat(parts[-1], dir_fd=parent, follow_symlinks=False)
                if stat.S_ISDIR(st.st_mode):
                    os.utime(parts[-1], ns=times, dir_fd=parent, follow_symlinks=False)
            except FileNotFoundError:
                pass
            finally:
                os.close(parent)

    # -- resolution: the only way any entry reaches the filesystem --------------------------------

    def _open_dir(self, parts: tuple[str, ...], *, create: bool, flags: int = _DIR_PATH) -> int:
        """Open the directory at `parts` resolved inside the root, creating missing ones if asked."""
        path = "/".join(parts) or "."
        try:
            return _openat2(self._root, path, flags)
        except FileNotFoundError:
            if not create:
                raise
        self._make_parents(parts)
        return _openat2(self._root, path, flags)

    def _make_parents(self, parts: tuple[str, ...]) -> None:
        """Create missing directories one level at a time, 0755 and owned by us, as tar does.

        Each level is resolved in-root from the top again, so a symlink met on the way is followed
        the same way openat2 follows it. A dangling symlink in the way is an error, not a mkdir.
        """
        parent = os.dup(self._root)
        try:
            for depth in range(1, len(parts) + 1):
                try:
                    child = _openat2(self._root, "/".join(parts[:depth]), _DIR_PATH)
                except FileNotFoundError:
                    name = parts[depth - 1]
                    try:
                        os.mkdir(name, 0o700, dir_fd=parent)
                    except FileExistsError:
                        where = "/".join(parts[:depth])
                        raise LayerError(
                            f"invalid layer: cannot create directory {where}: dangling symlink in the way"
                        ) from None
                    child = os.open(name, _DIR_READ | os.O_NOFOLLOW, dir_fd=parent)
                    os.fchmod(child, 0o755)  # explicit: the daemon's umask is not the layer's business
                os.close(parent)
                parent = child
        finally:
            os.close(parent)

    def _create(self, make: Callable[[], _T], parent: int, name: str) -> _T:
        """Run `make`; if the name is taken, remove what is there and run it again.

        As in Docker's unpacker a later entry replaces an earlier one whatever the types (only a
        directory over a directory merges, see _add_dir).
        """
        try:
            return make()
        except FileExistsError:
            pass
        if stat.S_ISDIR(os.stat(name, dir_fd=parent, follow_symlinks=False).st_mode):
            shutil.rmtree(name, dir_fd=parent)  # fd-based walk: never follows symlinks
        else:
            os.unlink(name, dir_fd=parent)
        return make()

    # -- one method per entry kind ----------------------------------------------------------------

    def _add_root(self, member: tarfile.TarInfo) -> None:
        if member.type != tarfile.DIRTYPE:
            raise LayerError(f"invalid layer: entry replaces the layer root: {member.name}")
        _set_attributes(self._root, member)
        self._dir_times[()] = _times_ns(member)

    def _add_file(self, tar: tarfile.TarFile, member: tarfile.TarInfo, parent: int, name: str) -> None:
        fd = self._create(lambda: os.open(name, _NEW_FILE, 0o600, dir_fd=parent), parent, name)
        try:
            source = tar.extractfile(member)
            if source is None:  # only for non-regular members, which never come here
                raise LayerError(f"invalid layer: no file data: {member.name}")
            remaining = member.size
            while remaining:
                chunk = source.read(min(_CHUNK, remaining))
                if not chunk:
                    raise LayerError(f"invalid layer: truncated file data: {member.name}")
                _write_all(fd, chunk)
                remaining -= len(chunk)
            self.size += member.size
            _set_attributes(fd, member)
            os.utime(fd, ns=_times_ns(member))
        finally:
            os.close(fd)

    def _add_dir(self, member: tarfile.TarInfo, parent: int, parts: tuple[str, ...]) -> None:
        name = parts[-1]
        try:
            os.mkdir(name, 0o700, dir_fd=parent)
        except FileExistsError:
            # A directory over a directory merges: the new entry only updates its metadata.
            if not stat.S_ISDIR(os.stat(name, dir_fd=parent, follow_symlinks=False).st_mode):
                self._create(lambda: os.mkdir(name, 0o700, dir_fd=parent), parent, name)
        fd = os.open(name, _DIR_READ | os.O_NOFOLLOW, dir_fd=parent)
        try:
            _set_attributes(fd, member)
        finally:
            os.close(fd)
        self._dir_times[parts] = _times_ns(member)

    def _add_symlink(self, member: tarfile.TarInfo, parent: int, name: str) -> None:
        # The target is stored verbatim: it is only text until followed, and every later lookup
        # that follows it does so in-root.
        self._create(lambda: os.symlink(member.linkname, name, dir_fd=parent), parent, name)
        os.chown(name, member.uid, member.gid, dir_fd=parent, follow_symlinks=False)
        os.utime(name, ns=_times_ns(member), dir_fd=parent, follow_symlinks=False)

    def _add_hardlink(self, member: tarfile.TarInfo, parent: int, name: str) -> None:
        """Link to an earlier entry; the target is resolved in-root too, so "/etc/passwd" is ours.

        follow_symlinks=False makes linkat link a symlink itself, never what it points to. The link
        shares the target's inode and metadata, so the header's own metadata is not applied.
        """
        missing = LayerError(
            f"invalid layer: hardlink target not in the layer: {member.name} -> {member.linkname}"
        )
        source = self._prefix + _entry_parts(member.linkname, whiteouts=self._layer)
        if not source:
            raise LayerError(f"invalid layer: hardlink to the layer root: {member.name}")
        if source in self._whiteouts:
            raise missing
        try:
            source_parent = self._open_dir(source[:-1], create=False)
        except (FileNotFoundError, NotADirectoryError):
            raise missing from None

        def link() -> None:
            os.link(source[-1], name, src_dir_fd=source_parent, dst_dir_fd=parent, follow_symlinks=False)

        try:
            self._create(link, parent, name)
        except FileNotFoundError:
            raise missing from None
        finally:
            os.close(source_parent)

    def _add_node(self, member: tarfile.TarInfo, parent: int, name: str) -> None:
        """Char/block devices and fifos. Metadata goes through an O_PATH fd, never an open():
        opening a device node would run its driver."""
        kind = _NODE_TYPES[member.type]
        device = 0 if kind == stat.S_IFIFO else os.makedev(member.devmajor, member.devminor)
        self._create(lambda: os.mknod(name, kind | 0o600, device, dir_fd=parent), parent, name)
        fd = os.open(name, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=parent)
        try:
            if stat.S_IFMT(os.fstat(fd).st_mode) != kind:
                raise LayerError(f"invalid layer: node changed while being created: {member.name}")
            pinned = f"/proc/self/fd/{fd}"  # the exact inode just made, whatever the name now is
            _set_attributes(pinned, member)
            os.utime(pinned, ns=_times_ns(member))
        finally:
            os.close(fd)

    def _add_whiteout(self, member: tarfile.TarInfo, parts: tuple[str, ...]) -> None:
        """`.wh.name` becomes an overlay whiteout (char 0:0); `.wh..wh..opq` an opaque directory."""
        base = parts[-1]
        victim = base[len(WHITEOUT_PREFIX) :]
        if base != WHITEOUT_OPAQUE and (base.startswith(WHITEOUT_META_PREFIX) or victim in ("", ".", "..")):
            raise LayerError(f"invalid layer: malformed whiteout: {member.name}")
        if member.type not in _REGULAR_TYPES:
            raise LayerError(f"invalid layer: malformed whiteout: not a regular file: {member.name}")
        if base == WHITEOUT_OPAQUE:
            fd = self._open_dir(parts[:-1], create=True, flags=_DIR_READ)
            try:
                os.setxattr(fd, OVERLAY_OPAQUE_XATTR, b"y")
            finally:
                os.close(fd)
            return
        parent = self._open_dir(parts[:-1], create=True)
        try:
            try:
                os.mknod(victim, stat.S_IFCHR, os.makedev(0, 0), dir_fd=parent)
            except FileExistsError:
                raise LayerError(
                    f"invalid layer: whiteout conflicts with an entry of the same layer: {member.name}"
                ) from None
            os.chown(victim, member.uid, member.gid, dir_fd=parent, follow_symlinks=False)
        finally:
            os.close(parent)
        self._whiteouts.add((*parts[:-1], victim))


def apply_layer(stream: BinaryIO, target: Path) -> AppliedLayer:
    """Unpack one layer tar (gzip, zstd or plain) into the empty directory `target`.

    Raises LayerError for a malformed, hostile or unsupported layer; `target` is then left
    half-written and the caller discards it.
    """
    check_openat2()
    root_fd = os.open(target, _DIR_READ | os.O_NOFOLLOW)
    try:
        if os.listdir(root_fd):
            raise ValueError(f"layer target is not empty: {target}")
        reader = _HashingReader(open_decompressed(stream))
        extractor = _Extractor(root_fd)
        try:
            with tarfile.open(fileobj=cast(IO[bytes], reader), mode="r|", bufsize=_CHUNK) as tar:
                while (member := tar.next()) is not None:
                    # Stream mode keeps every TarInfo; a layer of millions of empty entries would
                    # hold them all in memory for nothing.
                    tar.members.clear()
                    with _blamed_on_layer(member.name):
                        extractor.add(tar, member)
            reader.drain()
            with _blamed_on_layer("directory times"):
                extractor.finish()
        except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile, zstandard.ZstdError) as e:
            raise LayerError(f"invalid layer: {e}") from e
    finally:
        os.close(root_fd)
    return AppliedLayer(
        diff_id=f"sha256:{reader.digest.hexdigest()}", size=extractor.size, tar_size=reader.size
    )


def extract_archive(
    stream: BinaryIO,
    root_fd: int,
    prefix: tuple[str, ...],
    *,
    owner: tuple[int, int] | None = None,
    no_overwrite_dir_non_dir: bool = False,
) -> int:
    """`docker cp`'s extraction: a tar (gzip, zstd or plain) under the directory `prefix` of the
    tree at `root_fd`, by the same in-root extractor as layers, so no entry (`..`, absolute
    names, symlinks followed by writes through them, hardlinks) reaches outside `root_fd`.
    `prefix` must already be resolved (no symlinks). Whiteout names are ordinary files here.
    Returns the bytes of file content written. Raises LayerError for a bad or hostile tar.
    """
    check_openat2()
    root = _openat2(root_fd, ".", _DIR_READ)  # a readable fd: the root entry sets its metadata
    try:
        extractor = _Extractor(
            root,
            prefix=prefix,
            whiteouts=False,
            owner=owner,
            no_overwrite_dir_non_dir=no_overwrite_dir_non_dir,
        )
        try:
            with tarfile.open(
                fileobj=cast(IO[bytes], open_decompressed(stream)), mode="r|", bufsize=_CHUNK
            ) as tar:
                while (member := tar.next()) is not None:
                    tar.members.clear()
                    with _blamed_on_layer(member.name):
                        extractor.add(tar, member)
            with _blamed_on_layer("directory times"):
                extractor.finish()
        except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile, zstandard.ZstdError) as e:
            raise LayerError(f"invalid layer: {e}") from e
    finally:
        os.close(root)
    return extractor.size


@contextlib.contextmanager
def _blamed_on_layer(what: str) -> Iterator[None]:
    """Turn the OS's complaints about applying `what` into a LayerError naming it.

    Errors of the host (disk full, I/O errors) stay OSErrors: the layer is not at fault.
    """
    try:
        yield
    except gzip.BadGzipFile:
        raise  # an OSError, but the stream's fault: apply_layer reports it as such
    except OSError as e:
        if e.errno in _HOST_ERRNOS:
            raise
        raise LayerError(f"invalid layer: cannot extract {what}: {e.strerror or e}") from e
    except (OverflowError, ValueError) as e:  # ids, device numbers or times out of range; NUL bytes
        raise LayerError(f"invalid layer: cannot extract {what}: {e}") from e


def chain_id(parent: str | None, diff_id: str) -> str:
    """OCI image-spec ChainID: DiffID for the first layer, then sha256("<parent> <diff_id>")."""
    if parent is None:
        return diff_id
    return "sha256:" + hashlib.sha256(f"{parent} {diff_id}".encode()).hexdigest()


# -- the store --------------------------------------------------------------------------------------


def _write_json(path: Path, data: dict[str, object]) -> None:
    """temp + fsync + rename, so a reader sees the old file or the whole new one."""
    temp = path.with_name(f".{path.name}.tmp")
    with open(temp, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2)
        f.flush()
        os.fsync(f.fileno())
    os.replace(temp, path)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, _DIR_READ)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _loosen(path: str) -> None:
    """Undo what stops even root from deleting: immutable/append-only flags; and modes, for non-root.

    Only directories and regular files are opened, never device nodes (opening runs the driver).
    """
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if not (stat.S_ISDIR(st.st_mode) or stat.S_ISREG(st.st_mode)):
        return
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        flags = array("i", [0])
        try:
            fcntl.ioctl(fd, FS_IOC_GETFLAGS, flags, True)
            if flags[0] & (FS_IMMUTABLE_FL | FS_APPEND_FL):
                flags[0] &= ~(FS_IMMUTABLE_FL | FS_APPEND_FL)
                fcntl.ioctl(fd, FS_IOC_SETFLAGS, flags)
        except OSError as e:
            if e.errno not in (errno.ENOTTY, errno.EOPNOTSUPP, errno.EINVAL):
                raise
        if stat.S_ISDIR(st.st_mode):
            os.fchmod(fd, stat.S_IMODE(st.st_mode) | 0o700)
    finally:
        os.close(fd)


def _rmtree(path: Path) -> None:
    """rm -rf of a tree with hostile content: shutil's fd-based walk never follows symlinks, and on
    a permission error the blocking inode and its directory are loosened and the step retried once."""

    def retry(
        func: Callable[..., object], failed: str, exc_info: tuple[type, BaseException, TracebackType]
    ) -> None:
        error = exc_info[1]
        if not isinstance(error, PermissionError):
            raise error
        _loosen(os.path.dirname(failed))
        _loosen(failed)
        if func in (os.rmdir, os.unlink, os.remove):
            func(failed)
        else:  # the directory could not be opened or listed: take it down whole, now it can be
            shutil.rmtree(failed)

    if path.is_symlink() or not path.is_dir():
        path.unlink(missing_ok=True)
        return
    shutil.rmtree(path, onerror=retry)


def _record_from_json(data: dict[str, object]) -> LayerRecord:
    parent = data.get("parent")
    return LayerRecord(
        chain_id=str(data["chain_id"]),
        diff_id=str(data["diff_id"]),
        parent=None if parent is None else str(parent),
        size=int(cast(int, data["size"])),
        tar_size=int(cast(int, data["tar_size"])),
    )


class LayerStore:
    """Unpacked layers under data_root/layers, keyed by chain ID, each unpacked at most once.

    A layer is unpacked into a tmp-<random> directory and published by one rename, record
    included, so a crash at any point leaves only tmp-* directories, which cleanup_incomplete()
    removes at startup. Blocking: call it from asyncio.to_thread.
    """

    def __init__(self, root: Path) -> None:
        check_openat2()
        # 0700: the diffs hold setuid binaries and device nodes that host users must not reach.
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.root = root

    def _layer_dir(self, chain_id: str) -> Path:
        if not _DIGEST.fullmatch(chain_id):
            raise InvalidParameterError(f"invalid layer chain id: {chain_id}")
        return self.root / chain_id.removeprefix("sha256:")

    def get(self, chain_id: str) -> LayerRecord | None:
        try:
            text = (self._layer_dir(chain_id) / "layer.json").read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        return _record_from_json(json.loads(text))

    def diff_dir(self, chain_id: str) -> Path:
        return self._layer_dir(chain_id) / "diff"

    def create(
        self, parent: str | None, stream: BinaryIO, expected_diff_id: str | None = None
    ) -> LayerRecord:
        """Unpack `stream` as the layer above `parent`, or return the layer already unpacked.

        With `expected_diff_id` the chain ID is known up front, so an existing layer is returned
        without reading the stream; otherwise the stream must be unpacked to learn its diff_id, and
        the copy is dropped if another create published the same chain ID first.
        """
        if expected_diff_id is not None:
            if not _DIGEST.fullmatch(expected_diff_id):
                raise InvalidParameterError(f"invalid layer diff_id: {expected_diff_id}")
            known = self.get(chain_id(parent, expected_diff_id))
            if known is not None:
                return known
        if parent is not None and self.get(parent) is None:
            raise NotFoundError(f"parent layer not found: {parent}")

        work = self.root / f"tmp-{secrets.token_hex(16)}"
        work.mkdir(mode=0o700)
        published = False
        try:
            diff = work / "diff"
            diff.mkdir()
            os.chmod(diff, 0o755)
            applied = apply_layer(stream, diff)
            if expected_diff_id is not None and applied.diff_id != expected_diff_id:
                raise LayerError(
                    f"layer diff_id mismatch: expected {expected_diff_id}, got {applied.diff_id}"
                )
            record = LayerRecord(
                chain_id=chain_id(parent, applied.diff_id),
                diff_id=applied.diff_id,
                parent=parent,
                size=applied.size,
                tar_size=applied.tar_size,
            )
            existing = self.get(record.chain_id)
            if existing is not None:
                return existing
            # No flush here: ImageStore.commit_image flushes the filesystem once before the
            # index names an image, and a layer no image names is collected at start-up.
            _write_json(work / "layer.json", asdict(record))
            try:
                os.rename(work, self._layer_dir(record.chain_id))
            except OSError as e:
                if e.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                    raise
                winner = self.get(record.chain_id)  # a concurrent create published it first
                if winner is None:
                    raise InternalError(f"layer directory exists without a record: {record.chain_id}") from e
                return winner
            published = True
            _fsync_dir(self.root)
            return record
        finally:
            if not published:
                try:
                    _rmtree(work)
                except OSError:  # do not hide why the layer failed; startup cleanup retries
                    log.exception("cannot remove %s", work)

    def remove(self, chain_id: str) -> None:
        """Delete a layer; first renamed to tmp-*, so a crash midway never leaves half a layer."""
        doomed = self.root / f"tmp-{secrets.token_hex(16)}"
        try:
            os.rename(self._layer_dir(chain_id), doomed)
        except FileNotFoundError:
            return
        _rmtree(doomed)

    def list(self) -> list[LayerRecord]:
        records = []
        for entry in os.scandir(self.root):
            if _HEX.fullmatch(entry.name) and entry.is_dir(follow_symlinks=False):
                record = self.get(f"sha256:{entry.name}")
                if record is not None:
                    records.append(record)
        return sorted(records, key=lambda record: record.chain_id)

    def cleanup_incomplete(self) -> int:
        """Remove tmp-* leftovers of a crash. Only at startup: it would also remove live work."""
        count = 0
        for entry in os.scandir(self.root):
            if entry.name.startswith("tmp-"):
                _rmtree(Path(entry.path))
                count += 1
        return count
