"""ctypes bindings for the libc calls Python 3.11's `os` lacks (mount, unshare, setns, prctl, ...).

Every wrapper raises `OSError(errno, strerror, path)` on failure, like the `os` functions do, so
callers handle both kinds of failure the same way. Imported only by `syscalls.LinuxSyscalls`.
"""

from __future__ import annotations

import ctypes
import os

from jockerd.runtime.linux import constants as C

libc = ctypes.CDLL("libc.so.6", use_errno=True)

_c_char_p = ctypes.c_char_p
_c_int = ctypes.c_int
_c_ulong = ctypes.c_ulong

libc.mount.argtypes = (_c_char_p, _c_char_p, _c_char_p, _c_ulong, _c_char_p)
libc.umount2.argtypes = (_c_char_p, _c_int)
libc.unshare.argtypes = (_c_int,)
libc.setns.argtypes = (_c_int, _c_int)
libc.sethostname.argtypes = (_c_char_p, ctypes.c_size_t)
libc.setdomainname.argtypes = (_c_char_p, ctypes.c_size_t)
libc.prctl.argtypes = (_c_int, _c_ulong, _c_ulong, _c_ulong, _c_ulong)
libc.syscall.restype = ctypes.c_long
libc.socket.argtypes = (_c_int, _c_int, _c_int)


class CapHeader(ctypes.Structure):
    _fields_ = (("version", ctypes.c_uint32), ("pid", ctypes.c_int))


class CapData(ctypes.Structure):
    _fields_ = (
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    )


libc.capset.argtypes = (ctypes.POINTER(CapHeader), ctypes.POINTER(CapData))
libc.capget.argtypes = (ctypes.POINTER(CapHeader), ctypes.POINTER(CapData))


def _check(ret: int, *paths: str) -> int:
    if ret < 0:
        errno = ctypes.get_errno()
        raise OSError(errno, os.strerror(errno), *paths)
    return ret


def _b(value: str | None) -> bytes | None:
    return None if value is None else os.fsencode(value)


def mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None) -> None:
    _check(libc.mount(_b(source), _b(target), _b(fstype), flags, _b(data)), target)


def umount2(target: str, flags: int) -> None:
    _check(libc.umount2(_b(target), flags), target)


def pivot_root(new_root: str, put_old: str) -> None:
    _check(libc.syscall(C.SYS_pivot_root, _b(new_root), _b(put_old)), new_root)


def join_session_keyring(name: str) -> None:
    """A new session keyring `name`, searchable by its possessor's user (runc's `_ses.<id>`)."""
    serial = _check(libc.syscall(C.SYS_keyctl, C.KEYCTL_JOIN_SESSION_KEYRING, _b(name)))
    buffer = ctypes.create_string_buffer(256)
    _check(libc.syscall(C.SYS_keyctl, C.KEYCTL_DESCRIBE, serial, buffer, ctypes.c_size_t(len(buffer))))
    perm = int(buffer.value.split(b";")[3], 16)  # "type;uid;gid;perm;description"
    _check(libc.syscall(C.SYS_keyctl, C.KEYCTL_SETPERM, serial, ctypes.c_uint32(perm | C.KEY_USR_SEARCH)))


def unshare(flags: int) -> None:
    _check(libc.unshare(flags))


def setns(fd: int, nstype: int) -> None:
    _check(libc.setns(fd, nstype))


def sethostname(name: str) -> None:
    raw = name.encode()
    _check(libc.sethostname(raw, len(raw)))


def setdomainname(name: str) -> None:
    raw = name.encode()
    _check(libc.setdomainname(raw, len(raw)))


def prctl(option: int, arg2: int = 0, arg3: int = 0, arg4: int = 0, arg5: int = 0) -> int:
    return _check(libc.prctl(option, arg2, arg3, arg4, arg5))


def capget() -> tuple[int, int, int]:
    """(effective, permitted, inheritable) of the calling thread as 64-bit masks."""
    header = CapHeader(C.LINUX_CAPABILITY_VERSION_3, 0)
    data = (CapData * 2)()
    _check(libc.capget(ctypes.byref(header), data))
    low, high = data[0], data[1]
    return (
        low.effective | high.effective << 32,
        low.permitted | high.permitted << 32,
        low.inheritable | high.inheritable << 32,
    )


def capset(effective: int, permitted: int, inheritable: int) -> None:
    header = CapHeader(C.LINUX_CAPABILITY_VERSION_3, 0)
    data = (CapData * 2)()
    for i in (0, 1):
        shift = 32 * i
        data[i].effective = (effective >> shift) & 0xFFFFFFFF
        data[i].permitted = (permitted >> shift) & 0xFFFFFFFF
        data[i].inheritable = (inheritable >> shift) & 0xFFFFFFFF
    _check(libc.capset(ctypes.byref(header), data))


def set_loopback_up() -> None:
    """`ip link set lo up` for a fresh network namespace: SIOCSIFFLAGS |= IFF_UP on "lo"."""
    import sys

    fd = _check(libc.socket(2, 2 | os.O_CLOEXEC, 0))  # AF_INET, SOCK_DGRAM | SOCK_CLOEXEC
    try:
        ifreq = ctypes.create_string_buffer(b"lo", 40)  # struct ifreq: ifr_name[16], ifr_flags
        _check(libc.ioctl(fd, C.SIOCGIFFLAGS, ifreq))
        flags = int.from_bytes(ifreq.raw[16:18], sys.byteorder) | C.IFF_UP
        ctypes.memmove(ctypes.addressof(ifreq) + 16, flags.to_bytes(2, sys.byteorder), 2)
        _check(libc.ioctl(fd, C.SIOCSIFFLAGS, ifreq))
    finally:
        os.close(fd)
