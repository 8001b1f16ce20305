"""Seccomp for jocker-runtime: the OCI `linux.seccomp` object → a libseccomp filter → the kernel.

The filter is built by libseccomp (`linux.libseccomp`, a small binding of its C API), never
assembled by hand. The semantics follow runc's libcontainer/seccomp, the reference every profile
is written against:

- actions: SCMP_ACT_KILL is KILL_THREAD; ERRNO and TRACE take `errnoRet` (default EPERM), and the
  default action takes `defaultErrnoRet`. A rule whose action equals the default action is
  skipped (libseccomp refuses it, and it changes nothing).
- names libseccomp does not know are skipped: profiles list syscalls newer than the library.
  An unknown action, operator, architecture or flag is an error.
- args: conditions on distinct argument indexes are ANDed in one rule; when an index repeats,
  each condition becomes its own rule (ORed), since one rule can't test an argument twice.
- the filter never sets no_new_privs itself (CTL_NNP off): `process.noNewPrivileges` is the
  spec's own switch. Without it the caller needs CAP_SYS_ADMIN when it loads the filter.

Building and loading are apart, as crun does it: libseccomp generates the BPF program
(`Filter.program()`, seccomp_export_bpf) and `load_program` hands it to seccomp(2) with the
filter flags libseccomp's own seccomp_load would pass. So the program can be built in one
process and loaded in another: the launcher builds it in a background thread
(`ProgramBuild`, libseccomp runs without the GIL), in parallel with the init's set-up, and the
init only loads it (libseccomp's build and BPF generation take ~15 ms for Docker's default
profile here; loading, well under 1 ms).

Order of use in the init process (runtime-contract.md "load the profile last"): receive or build
the program whenever convenient; `load_program` as the very last step before execve (or earlier,
without no_new_privs, while CAP_SYS_ADMIN is still there). Nothing here makes another syscall
after seccomp(2) returns.

Import cost: this module and the binding, ~1 ms (pyseccomp cost ~24 ms: ctypes.util, typing,
two `ldconfig -p`). The runtime still imports it only when the spec has `linux.seccomp`.
"""

from __future__ import annotations

import errno
import os

from jockerd.runtime.linux import constants as C
from jockerd.runtime.linux import libseccomp

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any, BinaryIO

# -- vocabulary -----------------------------------------------------------------------------------

# libseccomp's action values (seccomp.h: SCMP_ACT_*).
ACT_KILL_PROCESS = 0x80000000
ACT_KILL_THREAD = 0x00000000
ACT_TRAP = 0x00030000
ACT_NOTIFY = 0x7FC00000
ACT_LOG = 0x7FFC0000
ACT_ALLOW = 0x7FFF0000
ACT_ERRNO = 0x00050000  # | errno
ACT_TRACE = 0x7FF00000  # | message

_KILL_ACTIONS = {
    "SCMP_ACT_KILL": ACT_KILL_THREAD,
    "SCMP_ACT_KILL_THREAD": ACT_KILL_THREAD,
    "SCMP_ACT_KILL_PROCESS": ACT_KILL_PROCESS,
    "SCMP_ACT_TRAP": ACT_TRAP,
    "SCMP_ACT_ALLOW": ACT_ALLOW,
    "SCMP_ACT_LOG": ACT_LOG,
    "SCMP_ACT_NOTIFY": ACT_NOTIFY,
}
_RETURNING_ACTIONS = {"SCMP_ACT_ERRNO": ACT_ERRNO, "SCMP_ACT_TRACE": ACT_TRACE}
ACTIONS = (*_KILL_ACTIONS, *_RETURNING_ACTIONS)

OPERATORS = {  # enum scmp_compare
    "SCMP_CMP_NE": 1,
    "SCMP_CMP_LT": 2,
    "SCMP_CMP_LE": 3,
    "SCMP_CMP_EQ": 4,
    "SCMP_CMP_GE": 5,
    "SCMP_CMP_GT": 6,
    "SCMP_CMP_MASKED_EQ": 7,
}

# OCI name → libseccomp's token: the kernel's AUDIT_ARCH_* value (linux/audit.h), an ELF machine
# number with the 64-bit and little-endian bits.
_LE, _64, _N32 = 0x40000000, 0x80000000, 0x20000000
_EM = {"386": 3, "MIPS": 8, "PARISC": 15, "PPC": 20, "PPC64": 21, "S390": 22, "ARM": 40}
_EM |= {"X86_64": 62, "AARCH64": 183, "RISCV": 243}
ARCHITECTURES = {
    "SCMP_ARCH_X86": _EM["386"] | _LE,
    "SCMP_ARCH_X86_64": _EM["X86_64"] | _64 | _LE,
    "SCMP_ARCH_X32": _EM["X86_64"] | _LE,
    "SCMP_ARCH_ARM": _EM["ARM"] | _LE,
    "SCMP_ARCH_AARCH64": _EM["AARCH64"] | _64 | _LE,
    "SCMP_ARCH_MIPS": _EM["MIPS"],
    "SCMP_ARCH_MIPS64": _EM["MIPS"] | _64,
    "SCMP_ARCH_MIPS64N32": _EM["MIPS"] | _64 | _N32,
    "SCMP_ARCH_MIPSEL": _EM["MIPS"] | _LE,
    "SCMP_ARCH_MIPSEL64": _EM["MIPS"] | _64 | _LE,
    "SCMP_ARCH_MIPSEL64N32": _EM["MIPS"] | _64 | _LE | _N32,
    "SCMP_ARCH_PPC": _EM["PPC"],
    "SCMP_ARCH_PPC64": _EM["PPC64"] | _64,
    "SCMP_ARCH_PPC64LE": _EM["PPC64"] | _64 | _LE,
    "SCMP_ARCH_S390": _EM["S390"],
    "SCMP_ARCH_S390X": _EM["S390"] | _64,
    "SCMP_ARCH_PARISC": _EM["PARISC"],
    "SCMP_ARCH_PARISC64": _EM["PARISC"] | _64,
    "SCMP_ARCH_RISCV64": _EM["RISCV"] | _64 | _LE,
}

# libseccomp filter attributes (enum scmp_filter_attr).
ATTR_CTL_NNP = 3
ATTR_CTL_TSYNC = 4
ATTR_CTL_LOG = 6
ATTR_CTL_SSB = 7
ATTR_API_SYSRAWRC = 9
ATTR_CTL_WAITKILL = 10  # libseccomp 2.6

# OCI flag → (libseccomp filter attribute, minimum libseccomp API level that supports it, the
# seccomp(2) flag that attribute makes seccomp_load pass). API levels (seccomp_api_get(3)):
# 2 TSYNC, 3 LOG, 4 SPEC_ALLOW (SSB), 7 WAIT_KILLABLE_RECV.
FLAGS = {
    "SECCOMP_FILTER_FLAG_TSYNC": (ATTR_CTL_TSYNC, 2, C.SECCOMP_FILTER_FLAG_TSYNC),
    "SECCOMP_FILTER_FLAG_LOG": (ATTR_CTL_LOG, 3, C.SECCOMP_FILTER_FLAG_LOG),
    "SECCOMP_FILTER_FLAG_SPEC_ALLOW": (ATTR_CTL_SSB, 4, C.SECCOMP_FILTER_FLAG_SPEC_ALLOW),
    "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV": (
        ATTR_CTL_WAITKILL,
        7,
        C.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV,
    ),
}

_MAX_ARGS = 6

# Listener fds of loaded filters with SCMP_ACT_NOTIFY rules (close-on-exec: nothing uses them yet).
_LISTENERS: list[int] = []


class SeccompError(Exception):
    """The profile can't be turned into a filter, or the kernel refused it."""


class Program:
    """A BPF program libseccomp generated, and the seccomp(2) flags to load it with."""

    __slots__ = ("bpf", "flags")

    def __init__(self, bpf: bytes, flags: int) -> None:
        self.bpf = bpf
        self.flags = flags


class Filter:
    """A libseccomp filter context being built (seccomp_init ... seccomp_rule_add)."""

    def __init__(self, default_action: int) -> None:
        self.ctx = libseccomp.init(default_action)
        # What libseccomp's seccomp_load would pass to seccomp(2), from the attributes set.
        self.kernel_flags = 0
        self.wait_killable = False
        self.notify_used = False

    def __del__(self) -> None:
        self.release()

    def release(self) -> None:
        ctx, self.ctx = getattr(self, "ctx", 0), 0
        if ctx:
            libseccomp.release(ctx)

    def exist_arch(self, arch: int) -> bool:
        return libseccomp.arch_exist(self.ctx, arch)

    def add_arch(self, arch: int) -> None:
        libseccomp.arch_add(self.ctx, arch)

    def set_attr(self, attr: int, value: int) -> None:
        libseccomp.attr_set(self.ctx, attr, value)

    def add_rule(self, action: int, syscall: int, conditions: list[tuple[int, int, int, int]]) -> None:
        libseccomp.rule_add_array(self.ctx, action, syscall, conditions)
        if action == ACT_NOTIFY:
            self.notify_used = True

    def export_pfc(self, file: BinaryIO) -> None:
        """libseccomp's human-readable rendering of the filter, to a file opened for writing."""
        file.flush()
        libseccomp.export_pfc(self.ctx, file.fileno())

    def program(self) -> Program:
        """The BPF program libseccomp generates for this filter (seccomp_export_bpf through a
        memfd), with the flags libseccomp's seccomp_load would pass to seccomp(2): its
        sys_filter_load, minus the TSYNC_ESRCH refinement (error reporting for threads that
        cannot sync: the runtime's loaders are single-threaded)."""
        fd = os.memfd_create("seccomp-bpf", os.MFD_CLOEXEC)
        try:
            libseccomp.export_bpf(self.ctx, fd)
            size = os.lseek(fd, 0, os.SEEK_CUR)
            bpf = os.pread(fd, size, 0)
        finally:
            os.close(fd)
        flags = self.kernel_flags
        if self.notify_used:
            flags |= C.SECCOMP_FILTER_FLAG_NEW_LISTENER
            if self.wait_killable:
                flags |= C.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
        return Program(bpf, flags)


# -- building -------------------------------------------------------------------------------------


def action_value(name: str, errno_ret: int | None) -> int:
    """libseccomp's action value for an OCI action name and its optional errnoRet."""
    if name in _KILL_ACTIONS:
        return _KILL_ACTIONS[name]
    if name in _RETURNING_ACTIONS:
        return _RETURNING_ACTIONS[name] | ((errno.EPERM if errno_ret is None else errno_ret) & 0xFFFF)
    raise SeccompError(f"unknown seccomp action {name!r}")


def _condition(arg: Mapping[str, Any]) -> tuple[int, int, int, int]:
    op = arg.get("op")
    if op not in OPERATORS:
        raise SeccompError(f"unknown seccomp operator {op!r}")
    index = int(arg["index"])
    if not 0 <= index < _MAX_ARGS:
        raise SeccompError(f"seccomp argument index {index} out of range")
    # MASKED_EQ: value is the mask and valueTwo the datum, as libseccomp's SCMP_CMP_MASKED_EQ.
    return (index, OPERATORS[op], int(arg.get("value", 0)), int(arg.get("valueTwo", 0)))


def _rule_conditions(args: list[Mapping[str, Any]]) -> list[list[tuple[int, int, int, int]]]:
    """The condition sets of a syscall entry: one rule, or one rule per condition if an index repeats."""
    conditions = [_condition(a) for a in args]
    indexes = [c[0] for c in conditions]
    if len(set(indexes)) < len(indexes):
        return [[c] for c in conditions]
    return [conditions]


def _syscall_number(name: str) -> int | None:
    """The native number of a syscall (negative for libseccomp's pseudo-syscalls); None if unknown."""
    number = libseccomp.syscall_resolve_name(name)
    return None if number == libseccomp.NR_SCMP_ERROR else number


def _add_architectures(flt: Filter, names: list[str]) -> None:
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


def _set_flags(flt: Filter, names: list[str]) -> None:
    for name in names:
        if name not in FLAGS:
            raise SeccompError(f"unknown seccomp flag {name!r}")
        attr, _, kernel_flag = FLAGS[name]
        try:
            flt.set_attr(attr, 1)
        except OSError as e:
            raise SeccompError(f"seccomp flag {name} is not supported: {e.strerror}") from e
        if kernel_flag == C.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV:
            flt.wait_killable = True  # passed only along with a listener (libseccomp)
        else:
            flt.kernel_flags |= kernel_flag


def build_filter(seccomp: Mapping[str, Any]) -> Filter:
    """A libseccomp filter for an OCI `linux.seccomp` object (plain dict), not yet loaded."""
    default_name = seccomp.get("defaultAction")
    if not default_name:
        raise SeccompError("seccomp: defaultAction is required")
    default = action_value(default_name, seccomp.get("defaultErrnoRet"))
    syscalls = seccomp.get("syscalls") or []
    if any(s.get("action") == "SCMP_ACT_NOTIFY" for s in syscalls) and not seccomp.get("listenerPath"):
        raise SeccompError("seccomp: SCMP_ACT_NOTIFY needs listenerPath")
    try:
        flt = Filter(default)
    except OSError as e:
        raise SeccompError(f"seccomp: creating the filter: {e.strerror}") from e
    flt.set_attr(ATTR_CTL_NNP, 0)
    try:  # report the kernel's errno from seccomp_load, not ECANCELED (libseccomp >= 2.5)
        flt.set_attr(ATTR_API_SYSRAWRC, 1)
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
                    flt.add_rule(action, number, conditions)
                except OSError as e:
                    raise SeccompError(f"seccomp: adding a rule for {name}: {e.strerror}") from e
    return flt


def build_program(seccomp: Mapping[str, Any]) -> Program:
    """`build_filter`, then the BPF program libseccomp generates for it."""
    flt = build_filter(seccomp)
    try:
        return flt.program()
    except OSError as e:
        raise SeccompError(f"seccomp: generating the filter program: {e.strerror}") from e
    finally:
        flt.release()


class ProgramBuild:
    """`build_program` in a background thread of the launcher, for a child it forks meanwhile.

    The thread writes the program (or the error) to a pipe, framed, and the child reads it
    (`receive`) when it needs the filter, so libseccomp's ~15 ms (Docker's default profile)
    overlap the namespace and mount set-up. A program is at most BPF_MAXINSNS (4096)
    instructions, 32 KiB, less than a pipe holds: the thread never blocks on the write.

    fds: both ends are close-on-exec and stay open in the launcher until `close`, which first
    waits for the thread, so that a child forked in between finds the same pipe under the same
    numbers. The child closes its copy of the write end (`receive`), so that the launcher's
    death reads as EOF instead of a hang.

    Fork safety: the thread runs only libseccomp calls (malloc is fork-safe in glibc) and
    Python code whose modules are already imported, so a child forked while it runs inherits
    no lock it would need."""

    def __init__(self, seccomp: Mapping[str, Any]) -> None:
        import _thread

        self.read_fd, self.write_fd = os.pipe2(os.O_CLOEXEC)
        self._done = _thread.allocate_lock()
        self._done.acquire()
        _thread.start_new_thread(self._build, (seccomp,))

    def _build(self, seccomp: Mapping[str, Any]) -> None:
        try:
            try:
                program = build_program(seccomp)
                frame = b"P" + program.flags.to_bytes(4, "little") + len(program.bpf).to_bytes(4, "little")
                frame += program.bpf
            except Exception as e:  # SeccompError, or anything unexpected: the child reports it
                text = str(e) if isinstance(e, SeccompError) else f"seccomp: {type(e).__name__}: {e}"
                message = text.encode()
                frame = b"E" + bytes(4) + len(message).to_bytes(4, "little") + message
            while frame:
                frame = frame[os.write(self.write_fd, frame) :]
        except OSError:
            pass  # the pipe is gone or full of nobody's data: the child reports the EOF
        finally:
            self._done.release()

    def close(self) -> None:
        """In the launcher, once the child that reads the program has been forked."""
        with self._done:
            os.close(self.write_fd)
            os.close(self.read_fd)

    def receive(self) -> Program:
        """In the child: the program, or the build's SeccompError."""
        os.close(self.write_fd)
        try:
            header = _read_exactly(self.read_fd, 9)
            payload = _read_exactly(self.read_fd, int.from_bytes(header[5:9], "little"))
        finally:
            os.close(self.read_fd)
        if header[:1] == b"E":
            raise SeccompError(payload.decode(errors="replace"))
        return Program(payload, int.from_bytes(header[1:5], "little"))


def _read_exactly(fd: int, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = os.read(fd, size - len(data))
        if not chunk:
            raise SeccompError("seccomp: the runtime exited before building the filter")
        data += chunk
    return data


# -- loading --------------------------------------------------------------------------------------


def load_program(program: Program) -> None:
    """Install a generated program in the calling process (and its threads with TSYNC)."""
    from jockerd.runtime.linux import libc

    try:
        listener = libc.seccomp_set_mode_filter(program.bpf, program.flags)
    except OSError as e:
        hint = ""
        if e.errno == errno.EACCES:
            hint = (
                " (without noNewPrivileges a filter can only be loaded with CAP_SYS_ADMIN:"
                " load it before the capabilities are dropped)"
            )
        raise SeccompError(f"seccomp: loading the filter: {e.strerror}{hint}") from e
    if program.flags & C.SECCOMP_FILTER_FLAG_NEW_LISTENER:
        _LISTENERS.append(listener)


def load_filter(flt: Filter) -> None:
    """Install a built filter in the calling process."""
    try:
        program = flt.program()
    except OSError as e:
        raise SeccompError(f"seccomp: generating the filter program: {e.strerror}") from e
    load_program(program)


def load(seccomp: Mapping[str, Any]) -> None:
    """Build the filter for an OCI `linux.seccomp` object and load it into the calling process."""
    load_program(build_program(seccomp))


# -- features -------------------------------------------------------------------------------------


def features() -> dict[str, Any]:
    """The `linux.seccomp` part of `features` (features-linux.json), as runc reports it."""
    api = libseccomp.api_get()
    return {
        "enabled": True,
        "actions": sorted(ACTIONS),
        "operators": sorted(OPERATORS),
        "archs": sorted(ARCHITECTURES),
        "knownFlags": list(FLAGS),
        "supportedFlags": [name for name, (_, level, _) in FLAGS.items() if api >= level],
    }
