"""`Syscalls`: every kernel call the init and tenant processes make, behind one seam.

- `LinuxSyscalls` does the calls (C bindings from `libc.py` for what `os` lacks, the stdlib for the
  rest). The runtime builds one per process.
- `RecordingSyscalls` is the test double (in `recording`, loaded on first access of this
  module's attribute: the runtime never needs it): it records every call that changes
  something, in order, and answers path queries from a small in-memory tree, so unit tests can
  assert the mount / pivot_root / mask sequence of `init_process` without root (youki's
  `TestHelperSyscall`).

Methods keep the C names (rubber-docker `linux.c`).
"""

from __future__ import annotations

import os

TYPE_CHECKING = False  # typing costs a `re` import on every container start: keep it for type checkers
if TYPE_CHECKING:
    from typing import NoReturn, Protocol

    # The seam's interface, for type checkers only: a class with some fifty methods costs start-up
    # time to create, and nothing checks it at run time.
    class Syscalls(Protocol):
        # -- namespaces
        def unshare(self, flags: int) -> None: ...
        def setns(self, fd: int, nstype: int) -> None: ...

        # -- mounts and roots
        def mount(
            self, source: str | None, target: str, fstype: str | None, flags: int, data: str | None
        ) -> None: ...
        def umount2(self, target: str, flags: int) -> None: ...
        def pivot_root(self, new_root: str, put_old: str) -> None: ...
        def chroot(self, path: str) -> None: ...
        def chdir(self, path: str) -> None: ...
        def fchdir(self, fd: int) -> None: ...
        def getcwd(self) -> str: ...

        # -- files
        def open(self, path: str, flags: int, mode: int = 0o777) -> int: ...
        def close(self, fd: int) -> None: ...
        def write(self, fd: int, data: bytes) -> int: ...
        def read_file(self, path: str) -> str: ...
        def write_file(self, path: str, data: str) -> None: ...
        def lstat(self, path: str) -> os.stat_result: ...
        def stat(self, path: str) -> os.stat_result: ...
        def readlink(self, path: str) -> str: ...
        def statvfs_flags(self, path: str) -> int: ...
        def mkdir(self, path: str, mode: int) -> None: ...
        def mknod(self, path: str, mode: int, device: int) -> None: ...
        def symlink(self, target: str, path: str) -> None: ...
        def unlink(self, path: str) -> None: ...
        def chown(self, path: str, uid: int, gid: int) -> None: ...
        def chmod(self, path: str, mode: int) -> None: ...
        def access(self, path: str, mode: int) -> bool: ...
        def dup2(self, fd: int, fd2: int) -> None: ...
        def ioctl(self, fd: int, request: int, arg: bytes | int) -> bytes | int: ...

        # -- identity, limits, process attributes
        def sethostname(self, name: str) -> None: ...
        def setdomainname(self, name: str) -> None: ...
        def prctl(self, option: int, arg2: int = 0, arg3: int = 0, arg4: int = 0, arg5: int = 0) -> int: ...
        def capget(self) -> tuple[int, int, int]: ...
        def capset(self, effective: int, permitted: int, inheritable: int) -> None: ...
        def setgroups(self, gids: list[int]) -> None: ...
        def setresgid(self, rgid: int, egid: int, sgid: int) -> None: ...
        def setresuid(self, ruid: int, euid: int, suid: int) -> None: ...
        def umask(self, mask: int) -> int: ...
        def setrlimit(self, resource: int, soft: int, hard: int) -> None: ...
        def setsid(self) -> None: ...
        def set_loopback_up(self) -> None: ...
        def join_session_keyring(self, name: str) -> None: ...
        def restore_signals(self) -> None: ...

        # -- the end of the road
        def cloexec_fds_from(self, low: int) -> None: ...
        def execve(self, path: str, args: list[str], env: list[str]) -> NoReturn: ...


RLIM_INFINITY = -1


class LinuxSyscalls:
    """The real thing. `libc` (C bindings) is loaded on first use of a call `os` does not have."""

    def __init__(self) -> None:
        self._libc = None

    @property
    def libc(self):
        if self._libc is None:
            from jockerd.runtime.linux import libc

            self._libc = libc
        return self._libc

    def unshare(self, flags: int) -> None:
        if hasattr(os, "unshare"):  # Python >= 3.12
            os.unshare(flags)
        else:
            self.libc.unshare(flags)

    def setns(self, fd: int, nstype: int) -> None:
        if hasattr(os, "setns"):  # Python >= 3.12
            os.setns(fd, nstype)
        else:
            self.libc.setns(fd, nstype)

    def mount(
        self, source: str | None, target: str, fstype: str | None, flags: int, data: str | None
    ) -> None:
        self.libc.mount(source, target, fstype, flags, data)

    def umount2(self, target: str, flags: int) -> None:
        self.libc.umount2(target, flags)

    def pivot_root(self, new_root: str, put_old: str) -> None:
        self.libc.pivot_root(new_root, put_old)

    def chroot(self, path: str) -> None:
        os.chroot(path)

    def chdir(self, path: str) -> None:
        os.chdir(path)

    def fchdir(self, fd: int) -> None:
        os.fchdir(fd)

    def getcwd(self) -> str:
        return os.getcwd()

    def open(self, path: str, flags: int, mode: int = 0o777) -> int:
        return os.open(path, flags, mode)

    def close(self, fd: int) -> None:
        os.close(fd)

    def write(self, fd: int, data: bytes) -> int:
        return os.write(fd, data)

    def read_file(self, path: str) -> str:
        with open(path) as f:
            return f.read()

    def write_file(self, path: str, data: str) -> None:
        fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
        try:
            os.write(fd, data.encode())
        finally:
            os.close(fd)

    def lstat(self, path: str) -> os.stat_result:
        return os.lstat(path)

    def stat(self, path: str) -> os.stat_result:
        return os.stat(path)

    def readlink(self, path: str) -> str:
        return os.readlink(path)

    def statvfs_flags(self, path: str) -> int:
        return os.statvfs(path).f_flag

    def mkdir(self, path: str, mode: int) -> None:
        os.mkdir(path, mode)

    def mknod(self, path: str, mode: int, device: int) -> None:
        os.mknod(path, mode, device)

    def symlink(self, target: str, path: str) -> None:
        os.symlink(target, path)

    def unlink(self, path: str) -> None:
        os.unlink(path)

    def chown(self, path: str, uid: int, gid: int) -> None:
        os.chown(path, uid, gid)

    def chmod(self, path: str, mode: int) -> None:
        os.chmod(path, mode)

    def access(self, path: str, mode: int) -> bool:
        return os.access(path, mode)

    def dup2(self, fd: int, fd2: int) -> None:
        os.dup2(fd, fd2)

    def ioctl(self, fd: int, request: int, arg: bytes | int) -> bytes | int:
        import fcntl

        return fcntl.ioctl(fd, request, arg)

    def sethostname(self, name: str) -> None:
        self.libc.sethostname(name)

    def setdomainname(self, name: str) -> None:
        self.libc.setdomainname(name)

    def prctl(self, option: int, arg2: int = 0, arg3: int = 0, arg4: int = 0, arg5: int = 0) -> int:
        return self.libc.prctl(option, arg2, arg3, arg4, arg5)

    def capget(self) -> tuple[int, int, int]:
        return self.libc.capget()

    def capset(self, effective: int, permitted: int, inheritable: int) -> None:
        self.libc.capset(effective, permitted, inheritable)

    def setgroups(self, gids: list[int]) -> None:
        os.setgroups(gids)

    def setresgid(self, rgid: int, egid: int, sgid: int) -> None:
        os.setresgid(rgid, egid, sgid)

    def setresuid(self, ruid: int, euid: int, suid: int) -> None:
        os.setresuid(ruid, euid, suid)

    def umask(self, mask: int) -> int:
        return os.umask(mask)

    def setrlimit(self, resource: int, soft: int, hard: int) -> None:
        """With the errors of `resource.setrlimit`, which callers report."""
        try:
            self.libc.setrlimit(resource, soft, hard)
        except OSError as e:
            if e.errno == 22:  # EINVAL
                raise ValueError("current limit exceeds maximum limit") from None
            if e.errno == 1:  # EPERM
                raise ValueError("not allowed to raise maximum limit") from None
            raise

    def setsid(self) -> None:
        os.setsid()

    def set_loopback_up(self) -> None:
        self.libc.set_loopback_up()

    def join_session_keyring(self, name: str) -> None:
        self.libc.join_session_keyring(name)

    def restore_signals(self) -> None:
        """Python starts with SIGPIPE and SIGXFSZ ignored, and ignored signals survive execve."""
        import _signal  # `signal` would import `enum`

        for signum in (13, 25):  # SIGPIPE, SIGXFSZ
            _signal.signal(signum, _signal.SIG_DFL)

    def cloexec_fds_from(self, low: int) -> None:
        """Mark every open fd >= `low` close-on-exec (runc's CloseExecFrom): execve closes them,
        and no syscall is needed at the last moment, when a seccomp profile may be loaded.
        close_range(2) does it in one call; older kernels get runc's walk of /proc/self/fd."""
        try:
            self.libc.cloexec_range(low)
            return
        except OSError:  # ENOSYS (< 5.9) or EINVAL (no CLOSE_RANGE_CLOEXEC before 5.11)
            pass
        try:
            fds = [int(name) for name in os.listdir("/proc/self/fd")]
        except OSError:  # no /proc: every possible fd below the limit
            import resource

            fds = list(range(low, resource.getrlimit(resource.RLIMIT_NOFILE)[0]))
        for fd in fds:
            if fd >= low:
                try:
                    os.set_inheritable(fd, False)
                except OSError:  # the directory fd listdir used, or never open
                    pass

    def execve(self, path: str, args: list[str], env: list[str]) -> NoReturn:
        environ = {}
        for entry in env:
            key, _, value = entry.partition("=")
            environ[key] = value
        os.execve(path, args, environ)


def __getattr__(name: str) -> object:
    """`RecordingSyscalls` for the tests that import it from here (PEP 562)."""
    if name == "RecordingSyscalls":
        from jockerd.runtime.linux.recording import RecordingSyscalls

        return RecordingSyscalls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
