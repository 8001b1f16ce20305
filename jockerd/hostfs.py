"""The daemon side's libc doorway: the filesystem syscalls the stdlib lacks.

- openat2(2) with RESOLVE_IN_ROOT, so layer unpacking resolves every path as if the layer
  directory were `/` (symlinks and `..` cannot leave it) without chroot or a fork;
- syncfs(2), so a whole image is flushed once before the index names it, instead of an
  fsync per file;
- umount2(2), for the one mount the daemon may have to clean up itself: a container's rootfs
  whose shim was killed before it could unmount it;
- mount(2), for local volumes created with mount options, and the new mount API (fsopen,
  fsconfig, fsmount) for detached overlay mounts.

The runtime has its own doorway (runtime/linux); this one serves the daemon's stores and
imports nothing from jockerd, so any daemon-side package may use it.
"""

from __future__ import annotations

import ctypes
import errno
import os
from collections.abc import Callable
from pathlib import Path

# Syscalls added since Linux 5.1 share one number on every architecture but alpha.
SYS_OPENAT2 = 437
RESOLVE_NO_MAGICLINKS = 0x02
RESOLVE_IN_ROOT = 0x10
OPENAT2_RETRIES = 16


class OpenHow(ctypes.Structure):
    _fields_ = [("flags", ctypes.c_uint64), ("mode", ctypes.c_uint64), ("resolve", ctypes.c_uint64)]


_libc = ctypes.CDLL("libc.so.6", use_errno=True)  # a private handle: the argtypes below are ours
_libc.syscall.restype = ctypes.c_long
_libc.syscall.argtypes = [
    ctypes.c_long,
    ctypes.c_int,
    ctypes.c_char_p,
    ctypes.POINTER(OpenHow),
    ctypes.c_size_t,
]
_libc.syncfs.argtypes = [ctypes.c_int]
_libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
MNT_DETACH = 2


def openat2(dir_fd: int, path: str, flags: int, resolve: int) -> int:
    """openat2(2); raises OSError like os.open does.

    EAGAIN is retried: with RESOLVE_IN_ROOT the kernel returns it when a rename raced the lookup.
    """
    how = OpenHow(flags, 0, resolve)
    raw = os.fsencode(path)
    attempts = 0
    while True:
        fd = _libc.syscall(SYS_OPENAT2, dir_fd, raw, ctypes.byref(how), ctypes.sizeof(how))
        if fd >= 0:
            return int(fd)
        err = ctypes.get_errno()
        attempts += 1
        if err not in (errno.EAGAIN, errno.EINTR) or attempts >= OPENAT2_RETRIES:
            raise OSError(err, os.strerror(err), path)


def syncfs(path: Path) -> None:
    """Flush every dirty page of the filesystem holding `path`."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        if _libc.syncfs(fd) != 0:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err), str(path))
    finally:
        os.close(fd)


def umount2(path: Path, flags: int = MNT_DETACH) -> bool:
    """Unmount `path` (lazily by default); False if nothing was mounted there."""
    if _libc.umount2(os.fsencode(path), flags) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOENT):
        return False
    raise OSError(err, os.strerror(err), str(path))


# The new mount API (Linux 5.2): a filesystem mounted *detached*, reachable only through its fd.
# The daemon uses it to look into a stopped container's overlay without attaching the mount
# anywhere; the mount goes away with the last fd (services/container_archive.py).
SYS_FSOPEN = 430
SYS_FSCONFIG = 431
SYS_FSMOUNT = 432
FSOPEN_CLOEXEC = 0x1
FSCONFIG_SET_STRING = 1
FSCONFIG_CMD_CREATE = 6
FSMOUNT_CLOEXEC = 0x1


def _check(result: int, what: str) -> int:
    if result < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err), what)
    return int(result)


# A second handle: _libc.syscall's argtypes are openat2's; these calls pass longs and pointers.
_raw = ctypes.CDLL("libc.so.6", use_errno=True)
_raw.syscall.restype = ctypes.c_long
_long = ctypes.c_long


FSCONFIG_VALUE_MAX = 255  # fsconfig copies at most 256 bytes of a string value, with its NUL


def mount_detached(fstype: str, options: list[tuple[str, str]]) -> int:
    """fsopen + fsconfig (one string per option) + fsmount: the root fd of a detached mount.

    The caller closes the fd; the mount is then gone (nothing to unmount, nothing visible in
    any mount table meanwhile). An overlay `lowerdir` longer than fsconfig takes (a few
    layers' paths) is given one layer at a time (`lowerdir+`, Linux 6.8), or, where the kernel
    lacks that, as short /proc/self/fd paths of the layers opened here.
    """
    syscall = _raw.syscall
    name = ctypes.c_char_p(fstype.encode())
    fs_fd = _check(syscall(_long(SYS_FSOPEN), name, _long(FSOPEN_CLOEXEC)), f"fsopen {fstype}")
    held: list[int] = []

    def set_string(key: str, value: str) -> None:
        args = (ctypes.c_char_p(key.encode()), ctypes.c_char_p(os.fsencode(value)), _long(0))
        _check(syscall(_long(SYS_FSCONFIG), _long(fs_fd), _long(FSCONFIG_SET_STRING), *args), key)

    try:
        for key, value in options:
            if key == "lowerdir" and len(os.fsencode(value)) > FSCONFIG_VALUE_MAX:
                _set_lowers(set_string, value.split(":"), held)
            else:
                set_string(key, value)
        create = (_long(FSCONFIG_CMD_CREATE), None, None, _long(0))
        _check(syscall(_long(SYS_FSCONFIG), _long(fs_fd), *create), f"fsconfig create {fstype}")
        return _check(syscall(_long(SYS_FSMOUNT), _long(fs_fd), _long(FSMOUNT_CLOEXEC), _long(0)), "fsmount")
    finally:
        os.close(fs_fd)
        for fd in held:
            os.close(fd)


def _set_lowers(set_string: Callable[[str, str], None], lowers: list[str], held: list[int]) -> None:
    try:
        set_string("lowerdir+", lowers[0])
    except OSError as e:
        if e.errno != errno.EINVAL:
            raise
        # No lowerdir+ here: the same layers through short paths (kept open until created).
        for path in lowers:
            held.append(os.open(path, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC))
        set_string("lowerdir", ":".join(f"/proc/self/fd/{fd}" for fd in held))
        return
    for path in lowers[1:]:
        set_string("lowerdir+", path)


_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]


def mount(source: str, target: Path, fstype: str, flags: int = 0, data: str = "") -> None:
    """mount(2). The daemon mounts local volumes created with `type`/`device`/`o` options."""
    result = _libc.mount(
        os.fsencode(source), os.fsencode(target), fstype.encode() or None, flags, data.encode() or None
    )
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err), str(target))
