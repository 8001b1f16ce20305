"""Seccomp for jocker-runtime: the OCI `linux.seccomp` object → a libseccomp filter → the kernel.

The filter is built by libseccomp through pyseccomp (a ctypes binding), never assembled by hand.
The semantics follow runc's libcontainer/seccomp, the reference every profile is written against:

- actions: SCMP_ACT_KILL is KILL_THREAD; ERRNO and TRACE take `errnoRet` (default EPERM), and the
  default action takes `defaultErrnoRet`. A rule whose action equals the default action is
  skipped (libseccomp refuses it, and it changes nothing).
- names libseccomp does not know are skipped: profiles list syscalls newer than the library.
  An unknown action, operator, architecture or flag is an error.
- args: conditions on distinct argument indexes are ANDed in one rule; when an index repeats,
  each condition becomes its own rule (ORed), since one rule can't test an argument twice.
- the filter never sets no_new_privs itself (CTL_NNP off): `process.noNewPrivileges` is the
  spec's own switch. Without it the caller needs CAP_SYS_ADMIN when it loads the filter.

Order of use in the init process (runtime-contract.md "load the profile last"):
1. import this module while the host's filesystem is still visible (before pivot_root): pyseccomp
   dlopen()s libseccomp when it is imported;
2. `build_filter(spec["linux"]["seccomp"])` whenever convenient;
3. `load_filter(f)` (or `load(seccomp)` for 2+3) as the very last step before execve. Nothing
   here makes another syscall after seccomp(2) returns: the filter object is kept alive in
   `_LOADED` so that its finalizer (seccomp_release → free) never runs.

Import cost, measured with `python -X importtime -c "import jockerd.runtime.seccomp"` on the
development machine: about 24 ms cumulative, of which ctypes.util (it imports subprocess and
shutil) ~12 ms, typing ~4.5 ms, and pyseccomp's two find_library() calls (`ldconfig -p`) ~4 ms.
The runtime should import it only when the spec has `linux.seccomp`.
"""

from __future__ import annotations

import errno
from collections.abc import Mapping
from typing import Any

import pyseccomp

# -- vocabulary -----------------------------------------------------------------------------------

_KILL_ACTIONS = {
    "SCMP_ACT_KILL": pyseccomp.KILL_THREAD,
    "SCMP_ACT_KILL_THREAD": pyseccomp.KILL_THREAD,
    "SCMP_ACT_KILL_PROCESS": pyseccomp.KILL_PROCESS,
    "SCMP_ACT_TRAP": pyseccomp.TRAP,
    "SCMP_ACT_ALLOW": pyseccomp.ALLOW,
    "SCMP_ACT_LOG": pyseccomp.LOG,
    "SCMP_ACT_NOTIFY": pyseccomp.NOTIFY,
}
_RETURNING_ACTIONS = {"SCMP_ACT_ERRNO": pyseccomp.ERRNO, "SCMP_ACT_TRACE": pyseccomp.TRACE}
ACTIONS = (*_KILL_ACTIONS, *_RETURNING_ACTIONS)

OPERATORS = {
    "SCMP_CMP_NE": pyseccomp.NE,
    "SCMP_CMP_LT": pyseccomp.LT,
    "SCMP_CMP_LE": pyseccomp.LE,
    "SCMP_CMP_EQ": pyseccomp.EQ,
    "SCMP_CMP_GE": pyseccomp.GE,
    "SCMP_CMP_GT": pyseccomp.GT,
    "SCMP_CMP_MASKED_EQ": pyseccomp.MASKED_EQ,
}

# OCI name → libseccomp's token (the kernel's AUDIT_ARCH_* value).
ARCHITECTURES = {
    "SCMP_ARCH_X86": pyseccomp.Arch.X86,
    "SCMP_ARCH_X86_64": pyseccomp.Arch.X86_64,
    "SCMP_ARCH_X32": pyseccomp.Arch.X32,
    "SCMP_ARCH_ARM": pyseccomp.Arch.ARM,
    "SCMP_ARCH_AARCH64": pyseccomp.Arch.AARCH64,
    "SCMP_ARCH_MIPS": pyseccomp.Arch.MIPS,
    "SCMP_ARCH_MIPS64": pyseccomp.Arch.MIPS64,
    "SCMP_ARCH_MIPS64N32": pyseccomp.Arch.MIPS64N32,
    "SCMP_ARCH_MIPSEL": pyseccomp.Arch.MIPSEL,
    "SCMP_ARCH_MIPSEL64": pyseccomp.Arch.MIPSEL64,
    "SCMP_ARCH_MIPSEL64N32": pyseccomp.Arch.MIPSEL64N32,
    "SCMP_ARCH_PPC": pyseccomp.Arch.PPC,
    "SCMP_ARCH_PPC64": pyseccomp.Arch.PPC64,
    "SCMP_ARCH_PPC64LE": pyseccomp.Arch.PPC64LE,
    "SCMP_ARCH_S390": pyseccomp.Arch.S390,
    "SCMP_ARCH_S390X": pyseccomp.Arch.S390X,
    "SCMP_ARCH_PARISC": pyseccomp.Arch.PARISC,
    "SCMP_ARCH_PARISC64": pyseccomp.Arch.PARISC64,
    "SCMP_ARCH_RISCV64": pyseccomp.Arch.RISCV64,
}

# OCI flag → (libseccomp filter attribute, minimum libseccomp API level that supports it).
# API levels (seccomp_api_get(3)): 2 TSYNC, 3 LOG, 4 SPEC_ALLOW (SSB), 7 WAIT_KILLABLE_RECV.
_ATTR_CTL_WAITKILL = 10  # SCMP_FLTATR_CTL_WAITKILL (libseccomp 2.6); pyseccomp predates it
FLAGS = {
    "SECCOMP_FILTER_FLAG_TSYNC": (pyseccomp.Attr.CTL_TSYNC, 2),
    "SECCOMP_FILTER_FLAG_LOG": (pyseccomp.Attr.CTL_LOG, 3),
    "SECCOMP_FILTER_FLAG_SPEC_ALLOW": (pyseccomp.Attr.CTL_SSB, 4),
    "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV": (_ATTR_CTL_WAITKILL, 7),
}

_NR_SCMP_ERROR = -1  # what seccomp_syscall_resolve_name() returns for a name it doesn't know
_MAX_ARGS = 6

# Filters that were loaded: kept referenced so their finalizer never runs (see the module doc).
_LOADED: list[pyseccomp.SyscallFilter] = []


class SeccompError(Exception):
    """The profile can't be turned into a filter, or the kernel refused it."""


# -- building -------------------------------------------------------------------------------------


def action_value(name: str, errno_ret: int | None) -> int:
    """libseccomp's action value for an OCI action name and its optional errnoRet."""
    if name in _KILL_ACTIONS:
        return _KILL_ACTIONS[name]
    if name in _RETURNING_ACTIONS:
        return _RETURNING_ACTIONS[name](errno.EPERM if errno_ret is None else errno_ret)
    raise SeccompError(f"unknown seccomp action {name!r}")


def _condition(arg: Mapping[str, Any]) -> pyseccomp.Arg:
    op = arg.get("op")
    if op not in OPERATORS:
        raise SeccompError(f"unknown seccomp operator {op!r}")
    index = int(arg["index"])
    if not 0 <= index < _MAX_ARGS:
        raise SeccompError(f"seccomp argument index {index} out of range")
    # MASKED_EQ: value is the mask and valueTwo the datum, as libseccomp's SCMP_CMP_MASKED_EQ.
    return pyseccomp.Arg(index, OPERATORS[op], int(arg.get("value", 0)), int(arg.get("valueTwo", 0)))


def _rule_conditions(args: list[Mapping[str, Any]]) -> list[list[pyseccomp.Arg]]:
    """The condition sets of a syscall entry: one rule, or one rule per condition if an index repeats."""
    conditions = [_condition(a) for a in args]
    indexes = [int(a["index"]) for a in args]
    if len(set(indexes)) < len(indexes):
        return [[c] for c in conditions]
    return [conditions]


def _syscall_number(name: str) -> int | None:
    """The native number of a syscall (negative for libseccomp's pseudo-syscalls); None if unknown."""
    number = pyseccomp.resolve_syscall(pyseccomp.Arch.NATIVE, name)
    return None if number == _NR_SCMP_ERROR else number


def _add_architectures(flt: pyseccomp.SyscallFilter, names: list[str]) -> None:
    for name in names:
        if name not in ARCHITECTURES:
            raise SeccompError(f"unknown seccomp architecture {name!r}")
        token = ARCHITECTURES[name]
        if flt.exist_arch(token):
            continue
        try:
            flt.add_arch(token)
        except OSError as e:
            raise SeccompError(f"adding seccomp architecture {name}: {e.strerror}") from e


def _set_flags(flt: pyseccomp.SyscallFilter, names: list[str]) -> None:
    for name in names:
        if name not in FLAGS:
            raise SeccompError(f"unknown seccomp flag {name!r}")
        attr, _ = FLAGS[name]
        try:
            flt.set_attr(attr, 1)
        except OSError as e:
            raise SeccompError(f"seccomp flag {name} is not supported: {e.strerror}") from e


def build_filter(seccomp: Mapping[str, Any]) -> pyseccomp.SyscallFilter:
    """A libseccomp filter for an OCI `linux.seccomp` object (plain dict), not yet loaded."""
    default_name = seccomp.get("defaultAction")
    if not default_name:
        raise SeccompError("seccomp: defaultAction is required")
    default = action_value(default_name, seccomp.get("defaultErrnoRet"))
    syscalls = seccomp.get("syscalls") or []
    if any(s.get("action") == "SCMP_ACT_NOTIFY" for s in syscalls) and not seccomp.get("listenerPath"):
        raise SeccompError("seccomp: SCMP_ACT_NOTIFY needs listenerPath")
    try:
        flt = pyseccomp.SyscallFilter(default)
    except OSError as e:
        raise SeccompError(f"seccomp: creating the filter: {e.strerror}") from e
    flt.set_attr(pyseccomp.Attr.CTL_NNP, 0)
    try:  # report the kernel's errno from seccomp_load, not ECANCELED (libseccomp >= 2.5)
        flt.set_attr(pyseccomp.Attr.API_SYSRAWRC, 1)
    except OSError:
        pass
    _add_architectures(flt, list(seccomp.get("architectures") or []))
    _set_flags(flt, list(seccomp.get("flags") or []))
    for entry in syscalls:
        action = action_value(entry.get("action", ""), entry.get("errnoRet"))
        if action == default:
            continue
        condition_sets = _rule_conditions(list(entry.get("args") or []))
        for name in entry.get("names") or []:
            number = _syscall_number(name)
            if number is None:
                continue
            for conditions in condition_sets:
                try:
                    flt.add_rule(action, number, *conditions)
                except OSError as e:
                    raise SeccompError(f"seccomp: adding a rule for {name}: {e.strerror}") from e
    return flt


# -- loading --------------------------------------------------------------------------------------


def load_filter(flt: pyseccomp.SyscallFilter) -> None:
    """Install a built filter in the calling process (and its threads with TSYNC)."""
    _LOADED.append(flt)
    try:
        flt.load()
    except OSError as e:
        _LOADED.pop()
        hint = ""
        if e.errno == errno.EACCES:
            hint = (
                " (without noNewPrivileges a filter can only be loaded with CAP_SYS_ADMIN:"
                " load it before the capabilities are dropped)"
            )
        raise SeccompError(f"seccomp: loading the filter: {e.strerror}{hint}") from e


def load(seccomp: Mapping[str, Any]) -> None:
    """Build the filter for an OCI `linux.seccomp` object and load it into the calling process."""
    load_filter(build_filter(seccomp))


def notify_fd(flt: pyseccomp.SyscallFilter) -> int:
    """The user-notification fd of a loaded filter with SCMP_ACT_NOTIFY rules (to send to listenerPath)."""
    fd = pyseccomp._libseccomp.seccomp_notify_fd(flt._filter)
    if fd < 0:
        raise SeccompError(f"seccomp: no notification fd: {errno.errorcode.get(-fd, fd)}")
    return fd


# -- features -------------------------------------------------------------------------------------


def features() -> dict[str, Any]:
    """The `linux.seccomp` part of `features` (features-linux.json), as runc reports it."""
    try:
        api = pyseccomp.get_api()
    except NotImplementedError:
        api = 1
    return {
        "enabled": True,
        "actions": sorted(ACTIONS),
        "operators": sorted(OPERATORS),
        "archs": sorted(ARCHITECTURES),
        "knownFlags": list(FLAGS),
        "supportedFlags": [name for name, (_, level) in FLAGS.items() if api >= level],
    }
