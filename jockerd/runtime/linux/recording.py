"""`RecordingSyscalls`, the test double of `syscalls.Syscalls`.

It records every call that changes something, in order, as a tuple `(name, *args)`, and answers
path queries (`lstat`, `readlink`, `read_file`, `getcwd`, ..., not recorded) from a small
in-memory tree, so unit tests can replay the whole `init_process` step sequence without root.
"""

from __future__ import annotations

import os
import stat as _stat

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import NoReturn

_DIR = _stat.S_IFDIR | 0o755
_FILE = _stat.S_IFREG | 0o644
_LINK = _stat.S_IFLNK | 0o777
_CHR = _stat.S_IFCHR | 0o666


def _fake_stat(mode: int) -> os.stat_result:
    return os.stat_result((mode, 0, 0, 1, 0, 0, 0, 0, 0, 0))


class RecordingSyscalls:
    """Test double: records mutating calls and serves queries from an in-memory tree.

    `tree` maps absolute paths to "dir", "file", "chr" or "link:<target>"; parents of every entry
    are directories implicitly. mkdir/mknod/symlink/unlink/mount-target creation update it, so a
    whole `init_process` step sequence can run against it.
    """

    def __init__(self, tree: dict[str, str] | None = None, files: dict[str, str] | None = None) -> None:
        self.calls: list[tuple] = []
        self.tree: dict[str, str] = {"/": "dir"}
        self.files: dict[str, str] = dict(files or {})  # read_file() answers
        self.cwd = "/"
        self._fds = 100
        self._fd_paths: dict[int, str] = {}
        for path, kind in (tree or {}).items():
            self.add(path, kind)

    # -- the fake tree
    def add(self, path: str, kind: str) -> None:
        path = os.path.normpath(path)
        parent = os.path.dirname(path)
        while parent not in self.tree:
            self.tree[parent] = "dir"
            parent = os.path.dirname(parent)
        self.tree[path] = kind

    def names(self) -> list[str]:
        return [call[0] for call in self.calls]

    def of(self, name: str) -> list[tuple]:
        return [call for call in self.calls if call[0] == name]

    def _kind(self, path: str) -> str:
        path = os.path.normpath(os.path.join(self.cwd, path))
        if path in self.tree:
            return self.tree[path]
        if any(p.startswith(path + "/") for p in self.tree):
            return "dir"
        raise FileNotFoundError(2, "No such file or directory", path)

    def _record(self, *call: object) -> None:
        self.calls.append(tuple(call))

    # -- Syscalls
    def unshare(self, flags: int) -> None:
        self._record("unshare", flags)

    def setns(self, fd: int, nstype: int) -> None:
        self._record("setns", fd, nstype)

    def mount(
        self, source: str | None, target: str, fstype: str | None, flags: int, data: str | None
    ) -> None:
        self._kind(target)
        self._record("mount", source, target, fstype, flags, data)

    def umount2(self, target: str, flags: int) -> None:
        self._record("umount2", target, flags)

    def pivot_root(self, new_root: str, put_old: str) -> None:
        self._record("pivot_root", new_root, put_old)
        self._reroot(os.path.normpath(os.path.join(self.cwd, new_root)))

    def chroot(self, path: str) -> None:
        self._record("chroot", path)
        self._reroot(os.path.normpath(os.path.join(self.cwd, path)))

    def _reroot(self, root: str) -> None:
        """The tree as seen from `root` (what pivot_root and chroot do to path lookups)."""
        if root == "/":
            return
        tree = {"/": "dir"}
        for path, kind in self.tree.items():
            if path.startswith(root + "/"):
                tree[path[len(root) :]] = kind
        self.tree = tree
        self.cwd = "/"

    def chdir(self, path: str) -> None:
        self._record("chdir", path)
        self.cwd = os.path.normpath(os.path.join(self.cwd, path))

    def fchdir(self, fd: int) -> None:
        self._record("fchdir", fd)
        self.cwd = self._fd_paths.get(fd, self.cwd)

    def getcwd(self) -> str:
        return self.cwd

    def open(self, path: str, flags: int, mode: int = 0o777) -> int:
        self._record("open", path, flags)
        if flags & os.O_CREAT:
            self.add(path, "file")
        self._fds += 1
        self._fd_paths[self._fds] = path
        return self._fds

    def close(self, fd: int) -> None:
        self._record("close", fd)

    def write(self, fd: int, data: bytes) -> int:
        self._record("write", fd, data)
        return len(data)

    def read_file(self, path: str) -> str:
        if path in self.files:
            return self.files[path]
        raise FileNotFoundError(2, "No such file or directory", path)

    def write_file(self, path: str, data: str) -> None:
        self._record("write_file", path, data)

    def lstat(self, path: str) -> os.stat_result:
        kind = self._kind(path)
        return _fake_stat(
            {"dir": _DIR, "file": _FILE, "chr": _CHR}.get(kind, _LINK if kind.startswith("link:") else _FILE)
        )

    def stat(self, path: str) -> os.stat_result:
        kind = self._kind(path)
        if kind.startswith("link:"):
            return self.stat(os.path.join(os.path.dirname(path), kind[5:]))
        return self.lstat(path)

    def readlink(self, path: str) -> str:
        kind = self._kind(path)
        if not kind.startswith("link:"):
            raise OSError(22, "Invalid argument", path)
        return kind[5:]

    def statvfs_flags(self, path: str) -> int:
        return 0

    def mkdir(self, path: str, mode: int) -> None:
        if os.path.normpath(path) in self.tree:
            raise FileExistsError(17, "File exists", path)
        self._kind(os.path.dirname(os.path.normpath(path)))
        self._record("mkdir", path, mode)
        self.add(path, "dir")

    def mknod(self, path: str, mode: int, device: int) -> None:
        self._record("mknod", path, mode, device)
        self.add(path, "chr" if _stat.S_ISCHR(mode) else "file")

    def symlink(self, target: str, path: str) -> None:
        self._record("symlink", target, path)
        self.add(path, "link:" + target)

    def unlink(self, path: str) -> None:
        self._kind(path)
        self._record("unlink", path)
        del self.tree[os.path.normpath(path)]

    def chown(self, path: str, uid: int, gid: int) -> None:
        self._record("chown", path, uid, gid)

    def chmod(self, path: str, mode: int) -> None:
        self._record("chmod", path, mode)

    def access(self, path: str, mode: int) -> bool:
        try:
            return not self._kind(path).startswith("dir")
        except FileNotFoundError:
            return False

    def dup2(self, fd: int, fd2: int) -> None:
        self._record("dup2", fd, fd2)

    def ioctl(self, fd: int, request: int, arg: bytes | int) -> bytes | int:
        self._record("ioctl", fd, request)
        return arg

    def sethostname(self, name: str) -> None:
        self._record("sethostname", name)

    def setdomainname(self, name: str) -> None:
        self._record("setdomainname", name)

    def prctl(self, option: int, arg2: int = 0, arg3: int = 0, arg4: int = 0, arg5: int = 0) -> int:
        self._record("prctl", option, arg2)
        return 0

    def capget(self) -> tuple[int, int, int]:
        full = (1 << 41) - 1
        return (full, full, 0)

    def capset(self, effective: int, permitted: int, inheritable: int) -> None:
        self._record("capset", effective, permitted, inheritable)

    def setgroups(self, gids: list[int]) -> None:
        self._record("setgroups", list(gids))

    def setresgid(self, rgid: int, egid: int, sgid: int) -> None:
        self._record("setresgid", rgid, egid, sgid)

    def setresuid(self, ruid: int, euid: int, suid: int) -> None:
        self._record("setresuid", ruid, euid, suid)

    def umask(self, mask: int) -> int:
        self._record("umask", mask)
        return 0o022

    def setrlimit(self, resource: int, soft: int, hard: int) -> None:
        self._record("setrlimit", resource, soft, hard)

    def setsid(self) -> None:
        self._record("setsid")

    def set_loopback_up(self) -> None:
        self._record("set_loopback_up")

    def join_session_keyring(self, name: str) -> None:
        self._record("join_session_keyring", name)

    def restore_signals(self) -> None:
        self._record("restore_signals")

    def cloexec_fds_from(self, low: int) -> None:
        self._record("cloexec_fds_from", low)

    def execve(self, path: str, args: list[str], env: list[str]) -> NoReturn:  # type: ignore[misc]
        self._record("execve", path, list(args), list(env))  # a fake: returns
