"""users.py: runc's GetExecUser rules over /etc/passwd and /etc/group, and the confined reads."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from jockerd.bundle.users import (
    ExecUser,
    additional_gids,
    parse_group,
    parse_passwd,
    read_rootfs_file,
    read_user_db,
    resolve_groups,
    resolve_user,
)
from jockerd.errors import InvalidParameterError


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("", ExecUser(0, 0, (10,), "/root")),
        ("root", ExecUser(0, 0, (10,), "/root")),
        ("app", ExecUser(1000, 1000, (10, 29), "/home/app")),
        ("1000", ExecUser(1000, 1000, (10, 29), "/home/app")),
        ("app:staff", ExecUser(1000, 50, (), "/home/app")),  # explicit group: no supplementary ones
        ("app:50", ExecUser(1000, 50, (), "/home/app")),
        ("4242", ExecUser(4242, 0, (), "/")),  # a uid with no entry is fine
        ("4242:4343", ExecUser(4242, 4343, (), "/")),
        ("www-data", ExecUser(33, 33, (), "/var/www")),
        ("nobody:nogroup", ExecUser(65534, 65534, (), "/nonexistent")),
    ],
)
def test_resolve_user(spec: str, expected: ExecUser, user_db: tuple[str, str]) -> None:
    assert resolve_user(spec, *user_db) == expected


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("ghost", "unable to find user ghost: no matching entries in passwd file"),
        ("app:ghosts", "unable to find group ghosts: no matching entries in group file"),
        ("-1", "out of range"),
    ],
)
def test_resolve_user_errors(spec: str, message: str, user_db: tuple[str, str]) -> None:
    with pytest.raises(InvalidParameterError, match=message):
        resolve_user(spec, *user_db)


def test_without_files_only_numbers_resolve() -> None:
    assert resolve_user("", None, None) == ExecUser()
    assert resolve_user("12:34", None, None) == ExecUser(12, 34)
    with pytest.raises(InvalidParameterError):
        resolve_user("app", None, None)


def test_group_add_and_additional_gids(user_db: tuple[str, str]) -> None:
    group = user_db[1]
    assert resolve_groups(["audio", "50", "777"], group) == [29, 50, 777]
    with pytest.raises(InvalidParameterError, match="Unable to find group ghosts"):
        resolve_groups(["ghosts"], group)
    user = resolve_user("app", *user_db)
    assert additional_gids(user, [29, 50]) == [1000, 10, 29, 50]


def test_parsers_skip_malformed_lines() -> None:
    assert [u.name for u in parse_passwd("a:x:1:1::/:/bin/sh\nbroken\nb:x:notanumber:1::/:\n\n")] == ["a"]
    assert [g.members for g in parse_group("g:x:5:a,b\nh:x:6:\nbad")] == [("a", "b"), ()]


def test_reads_are_confined_to_the_rootfs(tmp_path: Path) -> None:
    outside = tmp_path / "host-secret"
    outside.write_text("root:x:0:0:host:/:/bin/sh\n")
    rootfs = tmp_path / "rootfs"
    (rootfs / "etc").mkdir(parents=True)
    # An absolute symlink to the "host" file resolves inside the rootfs, where it doesn't exist.
    os.symlink(str(outside), rootfs / "etc" / "passwd")
    os.symlink("../../../host-secret", rootfs / "etc" / "group")
    assert read_user_db(rootfs) == (None, None)
    (rootfs / "real").write_text("ok")
    os.symlink("/real", rootfs / "etc" / "link")
    assert read_rootfs_file(rootfs, "/etc/link") == "ok"
    assert read_rootfs_file(tmp_path / "missing", "/etc/passwd") is None
    assert read_rootfs_file(rootfs, "/etc") is None  # a directory
