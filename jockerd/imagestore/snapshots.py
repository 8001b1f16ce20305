"""Snapshotter: a container's writable layer over its image's unpacked layers (overlayfs).

It returns mount *descriptions* (OCI mounts) and mounts nothing: the shim mounts them on the
bundle's rootfs before the runtime's `create` (containerd's snapshotter contract). It also
answers reads through the merged view without mounting it (`read_file`), which is how the
daemon resolves users against /etc/passwd before the rootfs is mounted.

Layout, per snapshot key (the container ID), under `root` (data_root/containers):

    <key>/init/    dockerd's init layer: the topmost lowerdir, under the container's changes
    <key>/upper/   the container's changes (overlay upperdir)
    <key>/work/    overlay workdir

The init layer is what every Docker container has whatever its image (moby's
daemon/initlayer): /.dockerenv, /etc/mtab → /proc/mounts, and the mountpoints the runtime
fills (/etc/hosts, /etc/hostname, /etc/resolv.conf, /dev/console, /dev/pts, /dev/shm, /proc,
/sys). Programs test for /.dockerenv to know they run in a container; /etc/mtab is what mount(8)
and df read. Being a lower layer, it never shows in `docker diff` or a commit, as in Docker.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
from pathlib import Path
from typing import Any

from jockerd.imagestore.layers import LayerStore

# Overlay's whiteout: a character device 0:0 in an upper layer hides the lower entry.
OPAQUE_XATTR = "trusted.overlay.opaque"

# moby daemon/initlayer Setup: path → "dir", "file", or a symlink's target.
INIT_LAYER: dict[str, str] = {
    "dev/pts": "dir",
    "dev/shm": "dir",
    "proc": "dir",
    "sys": "dir",
    ".dockerenv": "file",
    "etc/resolv.conf": "file",
    "etc/hosts": "file",
    "etc/hostname": "file",
    "dev/console": "file",
    "etc/mtab": "/proc/mounts",
}


def make_init_layer(root: Path) -> None:
    """Write the init layer into the empty directory `root` (dirs and files 0755, as moby)."""
    for relative, kind in INIT_LAYER.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
        if kind == "dir":
            path.mkdir(mode=0o755, exist_ok=True)
        elif kind == "file":
            path.touch(mode=0o755)
            os.chmod(path, 0o755)  # touch's mode goes through the umask
        elif not os.path.lexists(path):
            os.symlink(kind, path)


class Snapshotter:
    def __init__(self, layers: LayerStore, root: Path) -> None:
        self.layers = layers
        self.root = root

    def upper_dir(self, key: str) -> Path:
        return self.root / key / "upper"

    def lower_dirs(self, chain_ids: list[str]) -> list[Path]:
        """The image's layer directories, topmost first (overlay's lowerdir order)."""
        return [self.layers.diff_dir(chain) for chain in reversed(chain_ids)]

    def init_dir(self, key: str) -> Path:
        return self.root / key / "init"

    def container_lowers(self, key: str, chain_ids: list[str]) -> list[Path]:
        """What lies under the container's changes: its init layer, then the image's layers."""
        return [self.init_dir(key), *self.lower_dirs(chain_ids)]

    def _ensure_init_layer(self, key: str) -> None:
        init = self.init_dir(key)
        if init.is_dir():
            return
        staging = self.root / key / "init.tmp"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(mode=0o755)
        make_init_layer(staging)
        staging.rename(init)  # whole or absent, if the daemon dies halfway

    def prepare(self, key: str, chain_ids: list[str]) -> list[dict[str, Any]]:
        """Create the writable layer (kept if it exists) and describe the overlay mount."""
        base = self.root / key
        for name in ("upper", "work"):
            (base / name).mkdir(parents=True, exist_ok=True, mode=0o755)
        self._ensure_init_layer(key)
        lowers = self.container_lowers(key, chain_ids)
        options = [
            "lowerdir=" + ":".join(str(p) for p in lowers),
            f"upperdir={base / 'upper'}",
            f"workdir={base / 'work'}",
        ]
        if len(",".join(options)) >= 4000:
            # mount(2) takes one page of options; deep images need shorter paths (not yet done).
            raise OSError(f"too many layers for one overlay mount: {len(lowers)}")
        return [{"type": "overlay", "source": "overlay", "destination": "/", "options": options}]

    def remove(self, key: str) -> None:
        """Drop the writable layer (the rootfs must be unmounted by now).

        Raises OSError when something cannot be deleted (an immutable file, a busy mount), so
        the caller can say so instead of leaking the directory; what is already gone is fine.
        """
        for name in ("upper", "work", "init", "init.tmp", "empty"):
            path = self.root / key / name
            if os.path.lexists(path):
                shutil.rmtree(path)
        with contextlib.suppress(OSError):
            (self.root / key).rmdir()  # best effort: it may hold more than the layer

    def read_file(self, key: str, chain_ids: list[str], path: str, limit: int = 1 << 20) -> str | None:
        """A regular file of the merged view (upper, then lowers top-down), or None.

        Follows overlay's rules for whiteouts (a 0:0 char device hides the path) and opaque
        directories; symlinks are not followed (/etc/passwd is a regular file in images).
        """
        parts = [p for p in path.split("/") if p and p not in (".", "..")]
        for layer in [self.upper_dir(key), *self.container_lowers(key, chain_ids)]:
            found = _lookup(layer, parts)
            if found is _HIDDEN:
                return None
            if isinstance(found, Path):
                with open(found, "rb") as f:
                    return f.read(limit).decode("utf-8", "replace")
        return None


_HIDDEN = object()


def _lookup(layer: Path, parts: list[str]) -> Path | object | None:
    """The path in one layer: a Path (a regular file), _HIDDEN (whited out/opaque), or None."""
    current = layer
    for index, part in enumerate(parts):
        current = current / part
        try:
            st = os.lstat(current)
        except (FileNotFoundError, NotADirectoryError):
            return None
        if stat.S_ISCHR(st.st_mode) and st.st_rdev == 0:
            return _HIDDEN
        last = index == len(parts) - 1
        if last:
            return current if stat.S_ISREG(st.st_mode) else _HIDDEN
        if not stat.S_ISDIR(st.st_mode):
            return _HIDDEN
        try:
            if os.getxattr(current, OPAQUE_XATTR, follow_symlinks=False) == b"y":
                # Below this directory, lower layers are hidden: only this layer counts.
                rest = _lookup(current, parts[index + 1 :])
                return rest if rest is not None else _HIDDEN
        except OSError:
            pass
    return None
