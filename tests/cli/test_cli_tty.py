"""`jocker run -it busybox sh` and `jocker exec -it` in a real terminal (a pty this test drives):
raw mode, the console size at create, resize after start and on SIGWINCH, the exit code."""

from __future__ import annotations

import os
import sys

import pytest

from tests.compat.test_tty import Terminal, check_interactive_shell

pytestmark = [pytest.mark.root]


def jocker_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "jocker_cli", *args]


def test_run_it_resize_exit_code(d):
    term = Terminal({**d.env, "PYTHONPATH": os.getcwd()}, jocker_argv("run", "-it", "--rm", "busybox", "sh"))
    check_interactive_shell(term, d)


def test_exec_it(d):
    d.docker_ok("run", "-d", "--name", "tty-host", "busybox", "sleep", "1000")
    term = Terminal(
        {**d.env, "PYTHONPATH": os.getcwd()}, jocker_argv("exec", "-it", "tty-host", "sh"), rows=25, cols=90
    )
    term.expect(b"# ")
    term.type(b"stty size; tty\r")
    term.expect(b"25 90")
    term.expect(b"/dev/pts/")
    term.type(b"exit 2\r")
    assert term.wait() == 2
    d.docker_ok("rm", "-f", "tty-host")
