"""Resolve Docker's `user[:group]` and `--group-add` against the image's /etc/passwd and /etc/group.

The rules are runc's libcontainer/user GetExecUser, which Docker uses (conversion.md "Parsed
Fields" asks the same): numbers are taken as they are when no entry names them, names must
exist, the first matching entry wins, and supplementary groups come from /etc/group only when
the user was named without a group. Docker then lists the primary gid first in additionalGids.

`read_user_db(rootfs)` is the only file access of the bundle package besides device stats and
seccomp profiles: it opens the files with openat2(RESOLVE_IN_ROOT), so a symlinked
/etc/passwd in an image resolves inside the rootfs, never on the host.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from jockerd.errors import InvalidParameterError
from jockerd.hostfs import RESOLVE_IN_ROOT, RESOLVE_NO_MAGICLINKS, openat2

MAX_ID = 2**31 - 1
NO_PASSWD_ENTRIES = "no matching entries in passwd file"
NO_GROUP_ENTRIES = "no matching entries in group file"
MAX_DB_SIZE = 16 * 1024 * 1024


@dataclass(frozen=True)
class PasswdEntry:
    name: str
    uid: int
    gid: int
    home: str


@dataclass(frozen=True)
class GroupEntry:
    name: str
    gid: int
    members: tuple[str, ...]


@dataclass(frozen=True)
class ExecUser:
    """What the process runs as: uid, primary gid, supplementary gids (in file order), home."""

    uid: int = 0
    gid: int = 0
    sgids: tuple[int, ...] = ()
    home: str = "/"


def _fields(text: str | None, count: int) -> Iterator[list[str]]:
    for line in (text or "").splitlines():
        line = line.strip()
        if not line:
            continue
        parts = line.split(":")
        yield parts + [""] * (count - len(parts))


def _int(value: str) -> int | None:
    try:
        return int(value)
    except ValueError:
        return None


def parse_passwd(text: str | None) -> list[PasswdEntry]:
    """Entries of an /etc/passwd (name:password:uid:gid:gecos:home:shell); malformed lines are skipped."""
    out = []
    for name, _pw, uid, gid, _gecos, home, *_ in _fields(text, 7):
        if (u := _int(uid)) is not None and (g := _int(gid)) is not None:
            out.append(PasswdEntry(name, u, g, home))
    return out


def parse_group(text: str | None) -> list[GroupEntry]:
    """Entries of an /etc/group (name:password:gid:member,member); malformed lines are skipped."""
    out = []
    for name, _pw, gid, members, *_ in _fields(text, 4):
        if (g := _int(gid)) is not None:
            out.append(GroupEntry(name, g, tuple(m for m in members.split(",") if m)))
    return out


def _numeric_id(value: int, what: str) -> int:
    if not 0 <= value <= MAX_ID:
        raise InvalidParameterError(f"{what} {value} out of range")
    return value


def resolve_user(spec: str, passwd: str | None, group: str | None) -> ExecUser:
    """The user Docker runs `spec` ("", "name", "uid", "name:group", "uid:gid", ...) as."""
    user_arg, _, group_arg = spec.partition(":")
    uid_arg, gid_arg = _int(user_arg), _int(group_arg)
    users = parse_passwd(passwd)

    if user_arg == "":
        match = next((u for u in users if u.uid == 0), None)
    elif uid_arg is not None:
        match = next((u for u in users if u.uid == uid_arg), None)
    else:
        match = next((u for u in users if u.name == user_arg), None)

    uid, gid, home, name = 0, 0, "/", ""
    if match is not None:
        uid, gid, home, name = match.uid, match.gid, match.home, match.name
    elif user_arg:
        if uid_arg is None:
            raise InvalidParameterError(f"unable to find user {user_arg}: {NO_PASSWD_ENTRIES}")
        uid = _numeric_id(uid_arg, "uid")

    sgids: tuple[int, ...] = ()
    if group_arg:
        groups = parse_group(group)
        if gid_arg is not None:
            found = next((g for g in groups if g.gid == gid_arg), None)
        else:
            found = next((g for g in groups if g.name == group_arg), None)
        if found is not None:
            gid = found.gid
        elif gid_arg is None:
            raise InvalidParameterError(f"unable to find group {group_arg}: {NO_GROUP_ENTRIES}")
        else:
            gid = _numeric_id(gid_arg, "gid")
    elif name:
        sgids = tuple(g.gid for g in parse_group(group) if name in g.members)
    return ExecUser(uid, gid, sgids, home or "/")


def resolve_groups(group_add: Iterable[str], group: str | None) -> list[int]:
    """The gids of `--group-add` values: group names or numbers (numbers need no entry)."""
    groups = parse_group(group)
    out: list[int] = []
    for value in group_add:
        found = next((g for g in groups if g.name == value), None)
        if found is None and (number := _int(value)) is not None:
            found = next((g for g in groups if g.gid == number), GroupEntry(value, number, ()))
        if found is None:
            raise InvalidParameterError(f"Unable to find group {value}: {NO_GROUP_ENTRIES}")
        out.append(_numeric_id(found.gid, "gid"))
    return out


def additional_gids(user: ExecUser, extra: Iterable[int] = ()) -> list[int]:
    """Docker's additionalGids: the primary gid, then the supplementary ones, then --group-add."""
    out: list[int] = []
    for gid in (user.gid, *user.sgids, *extra):
        if gid not in out:
            out.append(gid)
    return out


# -- the file reads -------------------------------------------------------------------------------


def read_rootfs_file(rootfs: Path, path: str) -> str | None:
    """A text file of the rootfs, resolved inside it (symlinks can't leave it); None if absent.

    O_NONBLOCK and the regular-file check keep a FIFO or device at that path from blocking us.
    """
    try:
        root_fd = os.open(rootfs, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    try:
        fd = openat2(
            root_fd,
            path.lstrip("/"),
            os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK,
            RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
        )
    except (FileNotFoundError, NotADirectoryError):
        return None
    finally:
        os.close(root_fd)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        with open(fd, "rb", closefd=False) as f:
            return f.read(MAX_DB_SIZE).decode("utf-8", "replace")
    finally:
        os.close(fd)


def read_user_db(rootfs: Path) -> tuple[str | None, str | None]:
    """The rootfs' /etc/passwd and /etc/group contents (None where a file is missing)."""
    return read_rootfs_file(rootfs, "/etc/passwd"), read_rootfs_file(rootfs, "/etc/group")
