"""jocker's default seccomp profile, and the resolver that turns a profile into `linux.seccomp`.

The default profile allows what Docker's default profile allows, on every architecture and for
every capability set; tests/bundle/test_bundle_seccomp.py proves it against moby's profile JSON
(../shared/reference/moby-default-seccomp.json), kept there as reference data only. The data
here is this project's own: a base allow-list plus `Rule`s, each saying which capability,
architecture or kernel it depends on.

Resolving (moby's setupSeccomp semantics) keeps a rule when:
- every capability of `caps` is in the bounding set and none of `without_caps` is;
- the architecture (libseccomp's "native" name: amd64, x86, arm64, ...) is in `arches` (if
  given) and not in `not_arches`;
- the kernel is at least `min_kernel` (if given) and below `max_kernel` (if given).
The result is a plain OCI `linux.seccomp` dict: defaultAction, defaultErrnoRet, architectures
(the native one and its compat ABIs), syscalls[{names, action, errnoRet?, args?}].

`seccomp_from_profile()` does the same for a Docker-format profile a user passes with
`--security-opt seccomp=<file>` (archMap, includes/excludes, name or names).
"""

from __future__ import annotations

import errno
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from jockerd.errors import InvalidParameterError

ALLOW = "SCMP_ACT_ALLOW"
ERRNO = "SCMP_ACT_ERRNO"

Kernel = tuple[int, int]

# Native architecture → the seccomp architectures a filter for it lists (itself first, then the
# compat ABIs a process on it may use). An architecture missing here gets an empty list, which
# libseccomp reads as "the native one only".
COMPAT_ARCHITECTURES: dict[str, tuple[str, ...]] = {
    "SCMP_ARCH_X86_64": ("SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"),
    "SCMP_ARCH_AARCH64": ("SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"),
    "SCMP_ARCH_MIPS64": ("SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64N32"),
    "SCMP_ARCH_MIPS64N32": ("SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64"),
    "SCMP_ARCH_MIPSEL64": ("SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64N32"),
    "SCMP_ARCH_MIPSEL64N32": ("SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64"),
    "SCMP_ARCH_S390X": ("SCMP_ARCH_S390X", "SCMP_ARCH_S390"),
    "SCMP_ARCH_RISCV64": ("SCMP_ARCH_RISCV64",),
    "SCMP_ARCH_LOONGARCH64": ("SCMP_ARCH_LOONGARCH64",),
}

# libseccomp's native names (what profiles' "arches" say) → the seccomp architecture.
NATIVE_ARCHITECTURES = {
    "x86": "SCMP_ARCH_X86",
    "amd64": "SCMP_ARCH_X86_64",
    "x32": "SCMP_ARCH_X32",
    "arm": "SCMP_ARCH_ARM",
    "arm64": "SCMP_ARCH_AARCH64",
    "mips": "SCMP_ARCH_MIPS",
    "mipsel": "SCMP_ARCH_MIPSEL",
    "mips64": "SCMP_ARCH_MIPS64",
    "mips64n32": "SCMP_ARCH_MIPS64N32",
    "mipsel64": "SCMP_ARCH_MIPSEL64",
    "mipsel64n32": "SCMP_ARCH_MIPSEL64N32",
    "ppc": "SCMP_ARCH_PPC",
    "ppc64": "SCMP_ARCH_PPC64",
    "ppc64le": "SCMP_ARCH_PPC64LE",
    "s390": "SCMP_ARCH_S390",
    "s390x": "SCMP_ARCH_S390X",
    "riscv64": "SCMP_ARCH_RISCV64",
    "loong64": "SCMP_ARCH_LOONGARCH64",
}

# Other spellings of an architecture (uname -m, Go's GOARCH) → the native name above.
ARCH_ALIASES = {
    "x86_64": "amd64",
    "386": "x86",
    "i386": "x86",
    "i686": "x86",
    "aarch64": "arm64",
    "armv7l": "arm",
    "armv6l": "arm",
    "mipsle": "mipsel",
    "mips64le": "mipsel64",
    "mips64p32": "mips64n32",
    "mips64p32le": "mipsel64n32",
    "loongarch64": "loong64",
}


def native_arch(arch: str) -> str:
    """libseccomp's native name for an architecture given as uname -m, GOARCH or native name."""
    return ARCH_ALIASES.get(arch, arch)


def parse_kernel(release: str) -> Kernel:
    """(major, minor) of a kernel release such as "6.1.0-18-amd64" or "4.8"."""
    parts = release.split("-", 1)[0].split(".")
    try:
        return int(parts[0]), int(parts[1]) if len(parts) > 1 else 0
    except ValueError:
        raise InvalidParameterError(f"invalid kernel version {release!r}") from None


@dataclass(frozen=True)
class Rule:
    """Syscalls, the action they get, and the conditions under which the rule is in the filter."""

    names: tuple[str, ...]
    action: str = ALLOW
    errno_ret: int | None = None
    args: tuple[Mapping[str, Any], ...] = ()
    caps: tuple[str, ...] = ()
    without_caps: tuple[str, ...] = ()
    arches: tuple[str, ...] = ()
    not_arches: tuple[str, ...] = ()
    min_kernel: Kernel | None = None
    max_kernel: Kernel | None = None


def _names(text: str) -> tuple[str, ...]:
    """Syscall names from a whitespace-separated block."""
    return tuple(text.split())


def arg(index: int, op: str, value: int, value_two: int | None = None) -> dict[str, Any]:
    """One OCI seccomp argument condition."""
    out: dict[str, Any] = {"index": index, "value": value, "op": op}
    if value_two is not None:
        out["valueTwo"] = value_two
    return out


# -- the default profile --------------------------------------------------------------------------

DEFAULT_ACTION = ERRNO
DEFAULT_ERRNO_RET = errno.EPERM

# Allowed for every container: no capability or architecture needed.
ALWAYS_ALLOWED = _names(
    """
    _llseek _newselect accept accept4 access adjtimex alarm bind brk cachestat capget capset chdir chmod
    chown chown32 clock_adjtime clock_adjtime64 clock_getres clock_getres_time64 clock_gettime
    clock_gettime64 clock_nanosleep clock_nanosleep_time64 close close_range connect copy_file_range
    creat dup dup2 dup3 epoll_create epoll_create1 epoll_ctl epoll_ctl_old epoll_pwait epoll_pwait2
    epoll_wait epoll_wait_old eventfd eventfd2 execve execveat exit exit_group faccessat faccessat2
    fadvise64 fadvise64_64 fallocate fanotify_mark fchdir fchmod fchmodat fchmodat2 fchown fchown32
    fchownat fcntl fcntl64 fdatasync fgetxattr flistxattr flock fork fremovexattr fsetxattr fstat
    fstat64 fstatat64 fstatfs fstatfs64 fsync ftruncate ftruncate64 futex futex_requeue futex_time64
    futex_wait futex_waitv futex_wake futimesat get_robust_list get_thread_area getcpu getcwd getdents
    getdents64 getegid getegid32 geteuid geteuid32 getgid getgid32 getgroups getgroups32 getitimer
    getpeername getpgid getpgrp getpid getppid getpriority getrandom getresgid getresgid32 getresuid
    getresuid32 getrlimit getrusage getsid getsockname getsockopt gettid gettimeofday getuid getuid32
    getxattr getxattrat inotify_add_watch inotify_init inotify_init1 inotify_rm_watch io_cancel
    io_destroy io_getevents io_pgetevents io_pgetevents_time64 io_setup io_submit ioctl ioprio_get
    ioprio_set ipc kill landlock_add_rule landlock_create_ruleset landlock_restrict_self lchown lchown32
    lgetxattr link linkat listen listmount listxattr listxattrat llistxattr lremovexattr lseek lsetxattr
    lstat lstat64 madvise map_shadow_stack membarrier memfd_create memfd_secret mincore mkdir mkdirat
    mknod mknodat mlock mlock2 mlockall mmap mmap2 mprotect mq_getsetattr mq_notify mq_open
    mq_timedreceive mq_timedreceive_time64 mq_timedsend mq_timedsend_time64 mq_unlink mremap mseal
    msgctl msgget msgrcv msgsnd msync munlock munlockall munmap name_to_handle_at nanosleep newfstatat
    open openat openat2 pause pidfd_open pidfd_send_signal pipe pipe2 pkey_alloc pkey_free pkey_mprotect
    poll ppoll ppoll_time64 prctl pread64 preadv preadv2 prlimit64 process_mrelease pselect6
    pselect6_time64 pwrite64 pwritev pwritev2 read readahead readlink readlinkat readv recv recvfrom
    recvmmsg recvmmsg_time64 recvmsg remap_file_pages removexattr removexattrat rename renameat
    renameat2 restart_syscall riscv_hwprobe rmdir rseq rt_sigaction rt_sigpending rt_sigprocmask
    rt_sigqueueinfo rt_sigreturn rt_sigsuspend rt_sigtimedwait rt_sigtimedwait_time64 rt_tgsigqueueinfo
    sched_get_priority_max sched_get_priority_min sched_getaffinity sched_getattr sched_getparam
    sched_getscheduler sched_rr_get_interval sched_rr_get_interval_time64 sched_setaffinity
    sched_setattr sched_setparam sched_setscheduler sched_yield seccomp select semctl semget semop
    semtimedop semtimedop_time64 send sendfile sendfile64 sendmmsg sendmsg sendto set_robust_list
    set_thread_area set_tid_address setfsgid setfsgid32 setfsuid setfsuid32 setgid setgid32 setgroups
    setgroups32 setitimer setpgid setpriority setregid setregid32 setresgid setresgid32 setresuid
    setresuid32 setreuid setreuid32 setrlimit setsid setsockopt setuid setuid32 setxattr setxattrat
    shmat shmctl shmdt shmget shutdown sigaltstack signalfd signalfd4 sigprocmask sigreturn socketcall
    socketpair splice stat stat64 statfs statfs64 statmount statx symlink symlinkat sync sync_file_range
    syncfs sysinfo tee tgkill time timer_create timer_delete timer_getoverrun timer_gettime
    timer_gettime64 timer_settime timer_settime64 timerfd_create timerfd_gettime timerfd_gettime64
    timerfd_settime timerfd_settime64 times tkill truncate truncate64 ugetrlimit umask uname unlink
    unlinkat uretprobe utime utimensat utimensat_time64 utimes vfork vmsplice wait4 waitid waitpid write
    writev
    """
)

AF_ALG = 38
AF_VSOCK = 40
PER_LINUX = 0x0000
PER_LINUX32 = 0x0008
UNAME26 = 0x0020000
PERSONALITY_QUERY = 0xFFFFFFFF
# CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET
CLONE_NAMESPACE_FLAGS = (
    0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000
)

DEFAULT_RULES: tuple[Rule, ...] = (
    Rule(ALWAYS_ALLOWED),
    # ptrace was unsafe to allow before 4.8 (seccomp could be bypassed through it).
    Rule(("process_vm_readv", "process_vm_writev", "ptrace"), min_kernel=(4, 8)),
    # Every socket family but AF_ALG and AF_VSOCK.
    Rule(("socket",), args=(arg(0, "SCMP_CMP_LT", AF_ALG),)),
    Rule(("socket",), args=(arg(0, "SCMP_CMP_EQ", AF_ALG + 1),)),
    Rule(("socket",), args=(arg(0, "SCMP_CMP_GT", AF_VSOCK),)),
    # personality(2) only to query or to pick the usual Linux personas.
    *(
        Rule(("personality",), args=(arg(0, "SCMP_CMP_EQ", persona),))
        for persona in (PER_LINUX, PER_LINUX32, UNAME26, UNAME26 | PER_LINUX32, PERSONALITY_QUERY)
    ),
    # Architecture-specific calls.
    Rule(("sync_file_range2", "swapcontext"), arches=("ppc64le",)),
    Rule(
        (
            "arm_fadvise64_64",
            "arm_sync_file_range",
            "sync_file_range2",
            "breakpoint",
            "cacheflush",
            "set_tls",
        ),
        arches=("arm", "arm64"),
    ),
    Rule(("arch_prctl",), arches=("amd64", "x32")),
    Rule(("modify_ldt",), arches=("amd64", "x32", "x86")),
    Rule(("s390_pci_mmio_read", "s390_pci_mmio_write", "s390_runtime_instr"), arches=("s390", "s390x")),
    Rule(("riscv_flush_icache",), arches=("riscv64",)),
    # Calls that need a capability the container may or may not have.
    Rule(("open_by_handle_at",), caps=("CAP_DAC_READ_SEARCH",)),
    Rule(
        _names(
            """
            bpf clone clone3 fanotify_init fsconfig fsmount fsopen fspick lookup_dcookie
            lsm_get_self_attr lsm_list_modules lsm_set_self_attr mount mount_setattr move_mount
            open_tree perf_event_open quotactl quotactl_fd setdomainname sethostname setns syslog
            umount umount2 unshare
            """
        ),
        caps=("CAP_SYS_ADMIN",),
    ),
    # Without CAP_SYS_ADMIN: clone(2) but not into new namespaces (flags are the 2nd argument on s390).
    Rule(
        ("clone",),
        args=(arg(0, "SCMP_CMP_MASKED_EQ", CLONE_NAMESPACE_FLAGS),),
        without_caps=("CAP_SYS_ADMIN",),
        not_arches=("s390", "s390x"),
    ),
    Rule(
        ("clone",),
        args=(arg(1, "SCMP_CMP_MASKED_EQ", CLONE_NAMESPACE_FLAGS),),
        without_caps=("CAP_SYS_ADMIN",),
        arches=("s390", "s390x"),
    ),
    # clone3 can't be filtered on its flags (they sit in memory): ENOSYS makes libc fall back to clone.
    Rule(("clone3",), action=ERRNO, errno_ret=errno.ENOSYS, without_caps=("CAP_SYS_ADMIN",)),
    Rule(("reboot",), caps=("CAP_SYS_BOOT",)),
    Rule(("chroot",), caps=("CAP_SYS_CHROOT",)),
    Rule(("delete_module", "init_module", "finit_module"), caps=("CAP_SYS_MODULE",)),
    Rule(("acct",), caps=("CAP_SYS_PACCT",)),
    Rule(
        ("kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv", "process_vm_writev", "ptrace"),
        caps=("CAP_SYS_PTRACE",),
    ),
    Rule(("iopl", "ioperm"), caps=("CAP_SYS_RAWIO",)),
    Rule(("settimeofday", "stime", "clock_settime", "clock_settime64"), caps=("CAP_SYS_TIME",)),
    Rule(("vhangup",), caps=("CAP_SYS_TTY_CONFIG",)),
    Rule(("get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node"), caps=("CAP_SYS_NICE",)),
    Rule(("syslog",), caps=("CAP_SYSLOG",)),
    Rule(("bpf",), caps=("CAP_BPF",)),
    Rule(("perf_event_open",), caps=("CAP_PERFMON",)),
)


# -- resolving ------------------------------------------------------------------------------------


def _applies(rule: Rule, caps: frozenset[str], arch: str, kernel: Kernel | None) -> bool:
    if rule.caps and not all(c in caps for c in rule.caps):
        return False
    if any(c in caps for c in rule.without_caps):
        return False
    if rule.arches and arch not in rule.arches:
        return False
    if arch in rule.not_arches:
        return False
    # An unknown kernel counts as a new one.
    if rule.min_kernel is not None and kernel is not None and kernel < rule.min_kernel:
        return False
    return not (rule.max_kernel is not None and (kernel is None or kernel >= rule.max_kernel))


def _syscall(rule: Rule) -> dict[str, Any]:
    out: dict[str, Any] = {"names": list(rule.names), "action": rule.action}
    if rule.errno_ret is not None:
        out["errnoRet"] = rule.errno_ret
    if rule.args:
        out["args"] = [dict(a) for a in rule.args]
    return out


def resolve(
    rules: Iterable[Rule],
    *,
    default_action: str,
    default_errno_ret: int | None,
    architectures: list[str],
    capabilities: Iterable[str],
    arch: str,
    kernel: Kernel | None,
) -> dict[str, Any]:
    """The OCI `linux.seccomp` object of the rules that apply to these capabilities and host."""
    caps = frozenset(capabilities)
    native = native_arch(arch)
    seccomp: dict[str, Any] = {"defaultAction": default_action}
    if default_errno_ret is not None:
        seccomp["defaultErrnoRet"] = default_errno_ret
    if architectures:
        seccomp["architectures"] = architectures
    seccomp["syscalls"] = [_syscall(r) for r in rules if _applies(r, caps, native, kernel)]
    return seccomp


def default_seccomp(capabilities: Iterable[str], arch: str, kernel: Kernel | None = None) -> dict[str, Any]:
    """jocker's default profile for a container with these (bounding) capabilities on `arch`.

    `arch` is uname -m, GOARCH or libseccomp's native name; `kernel` the host's (major, minor),
    None for "recent enough".
    """
    seccomp_arch = NATIVE_ARCHITECTURES.get(native_arch(arch), "")
    return resolve(
        DEFAULT_RULES,
        default_action=DEFAULT_ACTION,
        default_errno_ret=DEFAULT_ERRNO_RET,
        architectures=list(COMPAT_ARCHITECTURES.get(seccomp_arch, ())),
        capabilities=capabilities,
        arch=arch,
        kernel=kernel,
    )


# -- Docker-format profiles (--security-opt seccomp=...) ------------------------------------------


def _profile_kernel(value: Any) -> Kernel | None:
    return None if value in (None, "") else parse_kernel(str(value))


def _rule_from_profile(entry: Mapping[str, Any]) -> Rule:
    names = list(entry.get("names") or [])
    if entry.get("name"):
        if names:
            raise InvalidParameterError(
                "'name' and 'names' were specified in the seccomp profile, use either 'name' or 'names'"
            )
        names = [entry["name"]]
    includes = entry.get("includes") or {}
    excludes = entry.get("excludes") or {}
    return Rule(
        names=tuple(names),
        action=entry.get("action", ""),
        errno_ret=entry.get("errnoRet"),
        args=tuple(entry.get("args") or ()),
        caps=tuple(includes.get("caps") or ()),
        without_caps=tuple(excludes.get("caps") or ()),
        arches=tuple(includes.get("arches") or ()),
        not_arches=tuple(excludes.get("arches") or ()),
        min_kernel=_profile_kernel(includes.get("minKernel")),
        max_kernel=_profile_kernel(excludes.get("minKernel")),
    )


def seccomp_from_profile(
    profile: Mapping[str, Any], capabilities: Iterable[str], arch: str, kernel: Kernel | None = None
) -> dict[str, Any] | None:
    """The OCI `linux.seccomp` object for a Docker-format profile; None if the profile is empty."""
    if not profile.get("defaultAction") and not profile.get("syscalls"):
        return None
    if profile.get("architectures") and profile.get("archMap"):
        raise InvalidParameterError(
            "'architectures' and 'archMap' were specified in the seccomp profile, use either "
            "'architectures' or 'archMap'"
        )
    architectures = list(profile.get("architectures") or [])
    seccomp_arch = NATIVE_ARCHITECTURES.get(native_arch(arch))
    for entry in profile.get("archMap") or []:
        if entry.get("architecture") == seccomp_arch:
            architectures = [entry["architecture"], *(entry.get("subArchitectures") or [])]
            break
    seccomp = resolve(
        (_rule_from_profile(e) for e in profile.get("syscalls") or []),
        default_action=profile.get("defaultAction", ""),
        default_errno_ret=profile.get("defaultErrnoRet"),
        architectures=architectures,
        capabilities=capabilities,
        arch=arch,
        kernel=kernel,
    )
    for key in ("listenerPath", "listenerMetadata", "flags"):
        if profile.get(key):
            seccomp[key] = profile[key]
    return seccomp
