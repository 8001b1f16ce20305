"""C bindings for the libc calls Python 3.11's `os` lacks (mount, unshare, setns, prctl, ...).

Every wrapper raises `OSError(errno, strerror, path)` on failure, like the `os` functions do, so
callers handle both kinds of failure the same way. Imported by `syscalls.LinuxSyscalls` (and the
shim). The bindings use `ffi` (ctypes' objects without the `ctypes` package: see there why).
"""

from __future__ import annotations

import os

from jockerd.runtime.linux import constants as C
from jockerd.runtime.linux.ffi import (
    Library,
    Structure,
    byref,
    c_char,
    c_char_p,
    c_int,
    c_long,
    c_size_t,
    c_uint32,
    c_uint64,
    c_ulong,
    c_ushort,
    c_void_p,
    get_errno,
)

libc = Library("libc.so.6")

_mount = libc.function("mount", c_int, c_char_p, c_char_p, c_char_p, c_ulong, c_char_p)
_umount2 = libc.function("umount2", c_int, c_char_p, c_int)
_unshare = libc.function("unshare", c_int, c_int)
_setns = libc.function("setns", c_int, c_int, c_int)
_sethostname = libc.function("sethostname", c_int, c_char_p, c_size_t)
_setdomainname = libc.function("setdomainname", c_int, c_char_p, c_size_t)
_prctl = libc.function("prctl", c_int, c_int, c_ulong, c_ulong, c_ulong, c_ulong)
_syscall = libc.function("syscall", c_long)  # variadic: arguments converted per call
_socket = libc.function("socket", c_int, c_int, c_int, c_int)
_socketpair = libc.function("socketpair", c_int, c_int, c_int, c_int, c_void_p)
_ioctl = libc.function("ioctl", c_int, c_int, c_ulong, c_void_p)
_capset = libc.function("capset", c_int, c_void_p, c_void_p)
_capget = libc.function("capget", c_int, c_void_p, c_void_p)
_setrlimit = libc.function("setrlimit", c_int, c_int, c_void_p)


class SockFprog(Structure):
    """struct sock_fprog: a classic BPF program (seccomp's filter)."""

    _fields_ = (("len", c_ushort), ("filter", c_char_p))


class Rlimit(Structure):
    _fields_ = (("cur", c_uint64), ("max", c_uint64))


class CapHeader(Structure):
    _fields_ = (("version", c_uint32), ("pid", c_int))


class CapData(Structure):
    _fields_ = (
        ("effective", c_uint32),
        ("permitted", c_uint32),
        ("inheritable", c_uint32),
    )


def _check(ret: int, *paths: str) -> int:
    if ret < 0:
        errno = get_errno()
        raise OSError(errno, os.strerror(errno), *paths)
    return ret


def _b(value: str | None) -> bytes | None:
    return None if value is None else os.fsencode(value)


def mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None) -> None:
    _check(_mount(_b(source), _b(target), _b(fstype), flags, _b(data)), target)


def umount2(target: str, flags: int) -> None:
    _check(_umount2(_b(target), flags), target)


def pivot_root(new_root: str, put_old: str) -> None:
    _check(_syscall(C.SYS_pivot_root, _b(new_root), _b(put_old)), new_root)


def join_session_keyring(name: str) -> None:
    """A new session keyring `name`, searchable by its possessor's user (runc's `_ses.<id>`)."""
    serial = _check(_syscall(C.SYS_keyctl, C.KEYCTL_JOIN_SESSION_KEYRING, _b(name)))
    buffer = (c_char * 256)()
    _check(_syscall(C.SYS_keyctl, C.KEYCTL_DESCRIBE, serial, buffer, c_size_t(len(buffer))))
    perm = int(buffer.value.split(b";")[3], 16)  # "type;uid;gid;perm;description"
    _check(_syscall(C.SYS_keyctl, C.KEYCTL_SETPERM, serial, c_uint32(perm | C.KEY_USR_SEARCH)))


def unshare(flags: int) -> None:
    _check(_unshare(flags))


def setns(fd: int, nstype: int) -> None:
    _check(_setns(fd, nstype))


def sethostname(name: str) -> None:
    raw = name.encode()
    _check(_sethostname(raw, len(raw)))


def setdomainname(name: str) -> None:
    raw = name.encode()
    _check(_setdomainname(raw, len(raw)))


def prctl(option: int, arg2: int = 0, arg3: int = 0, arg4: int = 0, arg5: int = 0) -> int:
    return _check(_prctl(option, arg2, arg3, arg4, arg5))


def capget() -> tuple[int, int, int]:
    """(effective, permitted, inheritable) of the calling thread as 64-bit masks."""
    header = CapHeader(C.LINUX_CAPABILITY_VERSION_3, 0)
    data = (CapData * 2)()
    _check(_capget(byref(header), data))
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
    _check(_capset(byref(header), data))


def seccomp_set_mode_filter(program: bytes, flags: int) -> int:
    """seccomp(SECCOMP_SET_MODE_FILTER, flags, &prog) for a classic BPF `program` (8-byte
    struct sock_filter instructions, as libseccomp's seccomp_export_bpf writes them). The
    kernel's return value: 0, or the listener fd with SECCOMP_FILTER_FLAG_NEW_LISTENER."""
    fprog = SockFprog(len(program) // 8, program)
    return _check(_syscall(C.SYS_seccomp, C.SECCOMP_SET_MODE_FILTER, c_ulong(flags), byref(fprog)))


def setrlimit(resource: int, soft: int, hard: int) -> None:
    """setrlimit(2); -1 is RLIM_INFINITY. (The `resource` module's would cost a ~0.3 ms import.)"""
    limit = Rlimit(soft & 0xFFFFFFFFFFFFFFFF, hard & 0xFFFFFFFFFFFFFFFF)
    _check(_setrlimit(resource, byref(limit)))


def cloexec_range(low: int) -> None:
    """close_range(low, ~0U, CLOSE_RANGE_CLOEXEC): every fd >= `low` close-on-exec in one call
    (Linux 5.11; OSError ENOSYS or EINVAL before)."""
    _check(_syscall(C.SYS_close_range, c_uint32(low), c_uint32(0xFFFFFFFF), c_uint32(C.CLOSE_RANGE_CLOEXEC)))


def socketpair_cloexec() -> tuple[int, int]:
    """socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC): two connected stream sockets."""
    fds = (c_int * 2)()
    _check(_socketpair(1, 1 | os.O_CLOEXEC, 0, fds))  # AF_UNIX, SOCK_STREAM; SOCK_CLOEXEC == O_CLOEXEC
    return fds[0], fds[1]


def set_loopback_up() -> None:
    """`ip link set lo up` for a fresh network namespace: SIOCSIFFLAGS |= IFF_UP on "lo"."""
    import sys

    fd = _check(_socket(2, 2 | os.O_CLOEXEC, 0))  # AF_INET, SOCK_DGRAM | SOCK_CLOEXEC
    try:
        ifreq = (c_char * 40)()  # struct ifreq: ifr_name[16], ifr_flags
        ifreq.value = b"lo"
        _check(_ioctl(fd, C.SIOCGIFFLAGS, ifreq))
        flags = int.from_bytes(ifreq.raw[16:18], sys.byteorder) | C.IFF_UP
        ifreq[16:18] = flags.to_bytes(2, sys.byteorder)
        _check(_ioctl(fd, C.SIOCSIFFLAGS, ifreq))
    finally:
        os.close(fd)
