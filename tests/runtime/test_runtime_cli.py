"""runc's command-line grammar (urfave/cli v1 on Go's flag package), parsed by `cli.parse`."""

from __future__ import annotations

import subprocess

import pytest

from jockerd.runtime import cli
from jockerd.runtime.commands import parse_bytes, parse_duration, parse_signal
from jockerd.runtime.errors import ContainerError


def test_global_flags_before_the_command() -> None:
    inv = cli.parse(["--root", "/r", "--log", "/l", "--log-format", "json", "--debug", "state", "c1"])
    g = inv.global_opts
    assert (g.root, g.log, g.log_format, g.debug) == ("/r", "/l", "json", True)
    assert inv.command == "state"
    assert inv.opts.args == ["c1"]


def test_defaults() -> None:
    inv = cli.parse(["create", "c1"])
    assert inv.global_opts.root == "/run/jocker-runtime"
    assert inv.global_opts.log_format == "text"
    assert inv.opts.bundle is None
    assert inv.opts.preserve_fds == 0
    assert inv.opts.no_pivot is False


@pytest.mark.parametrize(
    "argv",
    [
        ["create", "--bundle", "/b", "--pid-file", "/p", "c1"],
        ["create", "-b", "/b", "--pid-file=/p", "c1"],
        ["create", "-bundle", "/b", "-pid-file", "/p", "c1"],  # Go flags: one dash works too
        ["create", "c1", "--bundle", "/b", "--pid-file", "/p"],  # urfave/cli reorders flags
        ["create", "--bundle=/b", "c1", "--pid-file=/p"],
    ],
)
def test_create_flag_forms(argv: list[str]) -> None:
    inv = cli.parse(argv)
    assert (inv.opts.bundle, inv.opts.pid_file, inv.opts.args) == ("/b", "/p", ["c1"])


def test_bool_flags() -> None:
    assert cli.parse(["delete", "-f", "c1"]).opts.force is True
    assert cli.parse(["delete", "c1", "--force"]).opts.force is True
    assert cli.parse(["delete", "--force=false", "c1"]).opts.force is False
    assert cli.parse(["run", "-d", "--no-pivot", "c1"]).opts.detach is True


def test_kill_takes_an_optional_signal_and_all() -> None:
    inv = cli.parse(["kill", "--all", "c1", "KILL"])
    assert (inv.opts.all, inv.opts.args) == (True, ["c1", "KILL"])
    assert cli.parse(["kill", "c1"]).opts.args == ["c1"]


def test_exec_stops_parsing_at_the_container_id() -> None:
    inv = cli.parse(["exec", "-t", "--env", "A=1", "-e", "B=2", "c1", "sh", "-c", "ls -l", "--help"])
    assert inv.opts.tty is True
    assert inv.opts.env == ["A=1", "B=2"]
    assert inv.opts.args == ["c1", "sh", "-c", "ls -l", "--help"]


def test_double_dash_ends_flags() -> None:
    assert cli.parse(["delete", "--", "-weird-id"]).opts.args == ["-weird-id"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["state"], '"state" requires exactly 1 argument(s)'),
        (["state", "a", "b"], '"state" requires exactly 1 argument(s)'),
        (["create"], '"create" requires exactly 1 argument(s)'),
        (["kill"], '"kill" requires a minimum of 1 argument(s)'),
        (["kill", "a", "KILL", "x"], '"kill" requires a maximum of 2 argument(s)'),
        (["delete", "--bogus", "c1"], "flag provided but not defined: -bogus"),
        (["--bogus", "state", "c1"], "flag provided but not defined: -bogus"),
        (["create", "--bundle"], "flag needs an argument: -bundle"),
        (["create", "--preserve-fds", "x", "c1"], 'invalid value "x" for flag -preserve-fds: parse error'),
        (["list", "extra"], '"list" requires exactly 0 argument(s)'),
    ],
)
def test_usage_errors(argv: list[str], message: str) -> None:
    with pytest.raises(cli.UsageError) as info:
        cli.parse(argv)
    assert str(info.value) == message
    assert info.value.exit_code == 1


def test_unknown_command_exits_3_like_runc() -> None:
    with pytest.raises(cli.UsageError) as info:
        cli.parse(["bogus"])
    assert info.value.exit_code == 3
    assert str(info.value) == "No help topic for 'bogus'"


def test_help_and_version() -> None:
    assert cli.parse(["--help"]).command is None
    assert cli.parse(["--version"]).global_opts.version is True
    assert cli.parse(["create", "--help"]).command == "help"
    assert cli.parse(["help", "kill"]).opts.args == ["kill"]
    text = cli.format_help("create")
    assert "--bundle value, -b value" in text and "--pid-file value" in text


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("KILL", 9),
        ("SIGKILL", 9),
        ("kill", 9),
        ("9", 9),
        ("TERM", 15),
        ("SIGUSR1", 10),
        ("RTMIN+2", 36),
        ("SIGRTMAX", 64),
    ],
)
def test_parse_signal(text: str, number: int) -> None:
    assert parse_signal(text) == number


@pytest.mark.parametrize("text", ["FOO", "0", "65", "SIGRTMIN+40"])
def test_parse_signal_rejects(text: str) -> None:
    with pytest.raises(ContainerError, match="unknown signal"):
        parse_signal(text)


def test_parse_duration_and_bytes() -> None:
    assert parse_duration("5s") == 5
    assert parse_duration("500ms") == 0.5
    assert parse_bytes("64m") == 64 << 20
    assert parse_bytes("-1") == -1
    assert parse_bytes(None) is None


def test_main_exit_codes_and_messages(jocker_argv: list[str], tmp_path) -> None:
    """The real entry point: exit 1 with runc's logrus-style line on stderr, nothing on stdout."""
    root = ["--root", str(tmp_path)]
    result = subprocess.run([*jocker_argv, *root, "state", "nosuch"], capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stdout == ""
    assert 'level=error msg="container does not exist"' in result.stderr
    result = subprocess.run([*jocker_argv, *root, "bogus"], capture_output=True, text=True)
    assert result.returncode == 3
    result = subprocess.run([*jocker_argv, *root, "state"], capture_output=True, text=True)
    assert result.returncode == 1
    assert "Incorrect Usage" in result.stderr
    result = subprocess.run(
        [*jocker_argv, *root, "delete", "--force", "nosuch"], capture_output=True, text=True
    )
    assert result.returncode == 0
    log = tmp_path / "log.json"
    result = subprocess.run(
        [*jocker_argv, *root, "--log", str(log), "--log-format", "json", "kill", "nosuch"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert result.stderr == "container does not exist\n"  # runc: plain on stderr when --log is set
    import json

    line = json.loads(log.read_text().splitlines()[-1])
    assert line["level"] == "error" and line["msg"] == "container does not exist" and line["time"]
    result = subprocess.run([*jocker_argv, *root, "list", "--format", "json"], capture_output=True, text=True)
    assert (result.returncode, result.stdout) == (0, "null\n")


def test_import_time_stays_stdlib_only(jocker_argv: list[str]) -> None:
    """`--help` imports no third-party module and none of the heavy stdlib ones."""
    result = subprocess.run(
        [*jocker_argv[:0], __import__("sys").executable, "-IS", "-X", "importtime", jocker_argv[0], "--help"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0
    modules = {line.split("|")[-1].strip() for line in result.stderr.splitlines() if "|" in line}
    for heavy in ("typing", "re", "json", "enum", "argparse", "subprocess", "socket", "pydantic", "aiohttp"):
        assert heavy not in modules, f"{heavy} imported by jocker-runtime --help"
