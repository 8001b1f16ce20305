"""C bindings for the part of libseccomp's API the runtime uses (seccomp(3), libseccomp 2.5+).

Why our own and not pyseccomp: importing pyseccomp costs ~24 ms here (ctypes, ctypes.util with
subprocess and shutil, typing, and two `ldconfig -p` runs of find_library), paid by every
container with a seccomp profile, i.e. every Docker container. This module opens the library by
its soname (libseccomp.so.2, the ABI every libseccomp 2.x has kept) through `ffi` and binds only
the calls below. The filter itself is still libseccomp's: the rules are added through its API and
it generates the BPF; nothing here assembles BPF.

Every wrapper returns what the C function returns; the ones that report -errno raise
`OSError(errno, strerror)` instead, as pyseccomp did.
"""

from __future__ import annotations

import os

from jockerd.runtime.linux.ffi import (
    Library,
    Structure,
    c_char_p,
    c_int,
    c_uint,
    c_uint32,
    c_uint64,
    c_void_p,
)

try:
    _lib = Library("libseccomp.so.2")
except OSError as e:  # ImportError, so that callers treat it like a missing binding
    raise ImportError(f"libseccomp is not installed: {e}") from None

_init = _lib.function("seccomp_init", c_void_p, c_uint32)
_release = _lib.function("seccomp_release", None, c_void_p)
_attr_set = _lib.function("seccomp_attr_set", c_int, c_void_p, c_int, c_uint32)
_arch_exist = _lib.function("seccomp_arch_exist", c_int, c_void_p, c_uint32)
_arch_add = _lib.function("seccomp_arch_add", c_int, c_void_p, c_uint32)
_rule_add_array = _lib.function("seccomp_rule_add_array", c_int, c_void_p, c_uint32, c_int, c_uint, c_void_p)
_syscall_resolve_name = _lib.function("seccomp_syscall_resolve_name", c_int, c_char_p)
_api_get = _lib.function("seccomp_api_get", c_uint)
_export_bpf = _lib.function("seccomp_export_bpf", c_int, c_void_p, c_int)
_export_pfc = _lib.function("seccomp_export_pfc", c_int, c_void_p, c_int)

EEXIST = 17
NR_SCMP_ERROR = -1  # seccomp_syscall_resolve_name() for a name it does not know


class ArgCmp(Structure):
    """struct scmp_arg_cmp: one condition on a syscall argument."""

    _fields_ = (("arg", c_uint), ("op", c_int), ("datum_a", c_uint64), ("datum_b", c_uint64))


def _check(rc: int) -> int:
    if rc < 0:
        raise OSError(-rc, os.strerror(-rc))
    return rc


def init(default_action: int) -> int:
    """seccomp_init: a new filter context (an address), or OSError(EINVAL) for a bad action."""
    ctx = _init(default_action)
    if not ctx:
        raise OSError(22, os.strerror(22))  # NULL: the action is invalid (or no memory)
    return ctx


def release(ctx: int) -> None:
    _release(ctx)


def attr_set(ctx: int, attr: int, value: int) -> None:
    _check(_attr_set(ctx, attr, value))


def arch_exist(ctx: int, arch: int) -> bool:
    rc = _arch_exist(ctx, arch)
    if rc == -EEXIST:
        return False
    _check(rc)
    return True


def arch_add(ctx: int, arch: int) -> None:
    _check(_arch_add(ctx, arch))


def rule_add_array(ctx: int, action: int, syscall: int, conditions: list[tuple[int, int, int, int]]) -> None:
    """seccomp_rule_add_array; `conditions` are (arg index, operator, datum_a, datum_b)."""
    array = (ArgCmp * len(conditions))(*conditions) if conditions else None
    _check(_rule_add_array(ctx, action, syscall, len(conditions), array))


def syscall_resolve_name(name: str) -> int:
    """The native number of a syscall (negative for libseccomp's pseudo-syscalls), or
    NR_SCMP_ERROR for a name libseccomp does not know."""
    return _syscall_resolve_name(name.encode())


def api_get() -> int:
    return _api_get()


def export_bpf(ctx: int, fd: int) -> None:
    _check(_export_bpf(ctx, fd))


def export_pfc(ctx: int, fd: int) -> None:
    _check(_export_pfc(ctx, fd))
