"""jocker cp's path rules (docker's cp.go and go-archive), without a daemon."""

from __future__ import annotations

import tarfile

import pytest

from jocker_cli.client import CliError
from jocker_cli.commands import cp


@pytest.mark.parametrize(
    ("arg", "expected"),
    [("c1:/etc", ("c1", "/etc")), ("/abs:x", ("", "/abs:x")), ("./f:x", ("", "./f:x")),
     ("plain", ("", "plain")), ("c1:", ("c1", ""))],
)  # fmt: skip
def test_split_arg(arg, expected):
    assert cp.split_arg(arg) == expected


def test_rebase_only_the_first_component():
    assert cp.rebase("a/a/b", "a", "z") == "z/a/b"
    assert cp.rebase("a", "a", "z") == "z"
    assert cp.rebase("a/", "a", "z") == "z/"
    assert cp.rebase("ab/c", "a", "z") == "ab/c"


def test_trailing_dot_and_separator():
    assert cp.preserve_trailing("/x/y", "y/.") == "/x/y/."
    assert cp.preserve_trailing("/x/y", "y/") == "/x/y/"
    assert cp.split_dir_entry("/x/y/.") == ("/x/y", ".")
    assert cp.asserts_directory("/x/") and not cp.asserts_directory("/x")


def _entry(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, link
    return info


def test_extraction_stays_in_the_destination(tmp_path):
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "planted").symlink_to(tmp_path)  # a link an earlier entry left
    ok = [_entry("."), _entry("./a"), _entry("a/b"), _entry("/abs"),
          _entry("l", tarfile.SYMTYPE, "/etc/passwd"), _entry("l2", tarfile.SYMTYPE, "a/b"),
          _entry("h", tarfile.LNKTYPE, "a/b")]  # fmt: skip
    for member in ok:
        cp.check_inside(member, str(dest))
    bad = [_entry("../x"), _entry("a/../../x"), _entry("planted/x"),
           _entry("l", tarfile.SYMTYPE, "../../etc"), _entry("h", tarfile.LNKTYPE, "../x")]  # fmt: skip
    for member in bad:
        with pytest.raises(CliError):
            cp.check_inside(member, str(dest))
