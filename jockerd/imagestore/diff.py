"""A container's changes, read from its overlay upper directory: `docker diff` and `docker commit`.

overlayfs records a deletion as a 0:0 character device and a replaced directory as an opaque
one (xattr trusted.overlay.opaque=y). Image layers carry the same facts the AUFS way: a
`.wh.<name>` entry and a `.wh..wh..opq` entry (image-spec layer.md "Whiteouts"), so the layer
tar written here translates one into the other, as dockerd's overlay2 driver does.
"""

from __future__ import annotations

import os
import stat
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

OPAQUE_XATTR = "trusted.overlay.opaque"
WHITEOUT_PREFIX = ".wh."
OPAQUE_MARKER = ".wh..wh..opq"

# docker diff's kinds (moby archive.ChangeType)
MODIFIED, ADDED, DELETED = 0, 1, 2

# Mount targets the runtime creates in the rootfs. dockerd keeps them in a per-container "-init"
# layer below the writable one, so neither `docker diff` nor `docker commit` sees them; here they
# are left out when they are empty placeholders that no image layer has.
INIT_PATHS = frozenset({
    "/etc/hosts", "/etc/hostname", "/etc/resolv.conf", "/etc/mtab", "/.dockerenv",
    "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/dev/console", "/proc", "/sys",
})  # fmt: skip


def _is_whiteout(st: os.stat_result) -> bool:
    return stat.S_ISCHR(st.st_mode) and st.st_rdev == 0


def _is_opaque(path: Path) -> bool:
    try:
        return os.getxattr(path, OPAQUE_XATTR, follow_symlinks=False) == b"y"
    except OSError:
        return False


def _walk(upper: Path) -> Iterator[tuple[str, Path, os.stat_result]]:
    """(container path, host path, lstat) of every entry of the upper dir, parents first."""
    stack = [(upper, "")]
    while stack:
        directory, prefix = stack.pop()
        try:
            names = sorted(os.listdir(directory))
        except OSError:
            continue
        subdirs = []
        for name in names:
            host = directory / name
            st = os.lstat(host)
            yield f"{prefix}/{name}", host, st
            if stat.S_ISDIR(st.st_mode):
                subdirs.append((host, f"{prefix}/{name}"))
        stack.extend(reversed(subdirs))


def _placeholder(path: str, st: os.stat_result, lowers: list[Path]) -> bool:
    """An init path the runtime made (an empty file or directory no image layer has)."""
    if path not in INIT_PATHS or any(os.path.lexists(lower / path.lstrip("/")) for lower in lowers):
        return False
    return (stat.S_ISREG(st.st_mode) and st.st_size == 0) or stat.S_ISDIR(st.st_mode)


def changes(upper: Path, lowers: list[Path]) -> list[tuple[str, int]]:
    """[(path, kind)] sorted by path: what `GET /containers/{id}/changes` reports."""

    def in_lowers(path: str) -> bool:
        return any(os.path.lexists(lower / path.lstrip("/")) for lower in lowers)

    out = []
    hidden: list[str] = []
    for path, host, st in _walk(upper):
        if _placeholder(path, st, lowers) or any(path.startswith(h + "/") for h in hidden):
            hidden.append(path)
            continue
        if _is_whiteout(st):
            out.append((path, DELETED))
        elif stat.S_ISDIR(st.st_mode) and not _is_opaque(host) and in_lowers(path):
            out.append((path, MODIFIED))
        else:
            out.append((path, MODIFIED if in_lowers(path) else ADDED))
    # A directory copied up only to hold placeholders is not a change of its own.
    kept = {path for path, _ in out}
    out = [
        (path, kind)
        for path, kind in out
        if not (
            kind == MODIFIED
            and any(h.startswith(path + "/") for h in hidden)
            and not any(k.startswith(path + "/") for k in kept)
        )
    ]
    return sorted(out)


def write_layer(upper: Path, out: BinaryIO, lowers: list[Path] | None = None) -> None:
    """The upper dir as an image layer tar (uncompressed), whiteouts in the AUFS form."""
    hidden: list[str] = []
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        for path, host, st in _walk(upper):
            if _placeholder(path, st, lowers or []) or any(path.startswith(h + "/") for h in hidden):
                hidden.append(path)
                continue
            name = path.lstrip("/")
            if _is_whiteout(st):
                parent, _, base = name.rpartition("/")
                info = tarfile.TarInfo(
                    f"{parent}/{WHITEOUT_PREFIX}{base}" if parent else WHITEOUT_PREFIX + base
                )
                info.mtime = int(st.st_mtime)
                tar.addfile(info)
                continue
            info = tar.gettarinfo(str(host), arcname=name)
            info.uname = info.gname = ""
            if info.isreg():
                with open(host, "rb") as f:
                    tar.addfile(info, f)
            else:
                tar.addfile(info)
            if stat.S_ISDIR(st.st_mode) and _is_opaque(host):
                marker = tarfile.TarInfo(f"{name}/{OPAQUE_MARKER}")
                marker.mtime = int(st.st_mtime)
                tar.addfile(marker)
