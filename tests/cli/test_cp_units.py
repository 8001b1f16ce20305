"""jocker cp's path rules (docker's cp.go and go-archive), without a daemon."""

from __future__ import annotations

import pytest

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
