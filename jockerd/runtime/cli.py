"""runc's command line: global options, subcommands, their flags and argument counts.

Why not argparse: importing it costs ~20 ms here (it pulls in `re` and `gettext`), paid on every
container start, and its grammar is not runc's. runc uses urfave/cli v1 on Go's `flag` package,
and callers rely on that grammar:
- `-flag` and `--flag` are the same flag; values come as `--flag value` or `--flag=value`;
  boolean flags take no value (`--detach=false` is allowed); no prefix abbreviations.
- Flags may follow the container ID (`delete ID --force`): urfave/cli moves them to the front,
  except after `--` and for `exec`, whose arguments after the ID are the command to run.
- Errors are `flag provided but not defined: -x` and `"state" requires exactly 1 argument(s)`.

`parse(argv) -> Invocation` does it with a table (`COMMANDS`) that also renders `--help`.
"""

from __future__ import annotations

from jockerd.runtime import OCI_VERSION as SPEC_VERSION

DEFAULT_ROOT = "/run/jocker-runtime"
VERSION = "0.1.0"


class UsageError(Exception):
    """Bad command line; `command` names the subcommand whose help to show (None: global)."""

    def __init__(self, message: str, command: str | None = None, exit_code: int = 1) -> None:
        super().__init__(message)
        self.command = command
        self.exit_code = exit_code


class Flag:
    __slots__ = ("default", "help", "kind", "names")

    def __init__(self, names: str, kind: str = "bool", default: object = None, help: str = "") -> None:
        self.names = tuple(names.split(","))  # "bundle,b": long name first
        self.kind = kind  # bool | str | int | list
        if default is None:  # unset: False for booleans, [] for lists, None otherwise
            default = {"bool": False, "list": []}.get(kind)
        self.default = default
        self.help = help

    @property
    def dest(self) -> str:
        return self.names[0].replace("-", "_")


class Command:
    __slots__ = ("args", "flags", "help", "max_args", "min_args", "name", "reorder")

    def __init__(
        self,
        name: str,
        help: str,
        args: str,
        flags: tuple[Flag, ...] = (),
        min_args: int = 1,
        max_args: int | None = 1,
        reorder: bool = True,
    ) -> None:
        self.name, self.help, self.args, self.flags = name, help, args, flags
        self.min_args, self.max_args, self.reorder = min_args, max_args, reorder


_CONSOLE_SOCKET = Flag(
    "console-socket",
    "str",
    help="path to an AF_UNIX socket which will receive a file descriptor referencing the master end of "
    "the console's pseudoterminal",
)
_PID_FILE = Flag("pid-file", "str", help="specify the file to write the process id to")
_BUNDLE = Flag(
    "bundle,b", "str", help="path to the root of the bundle directory, defaults to the current directory"
)
_PRESERVE_FDS = Flag(
    "preserve-fds",
    "int",
    0,
    "Pass N additional file descriptors to the container (stdio + $LISTEN_FDS + N in total)",
)
_CREATE_FLAGS = (
    _BUNDLE,
    _CONSOLE_SOCKET,
    _PID_FILE,
    Flag("no-pivot", help="do not use pivot root to jail process inside rootfs"),
    Flag("no-new-keyring", help="do not create a new session keyring for the container"),
    _PRESERVE_FDS,
)

GLOBAL_FLAGS = (
    Flag("debug", help="enable debug logging"),
    Flag("log", "str", help="set the log file to write runtime logs to (default is '/dev/stderr')"),
    Flag("log-format", "str", "text", "set the log format ('text' (default), or 'json')"),
    Flag("root", "str", DEFAULT_ROOT, "root directory for storage of container state (should be on tmpfs)"),
    Flag("criu", "str", "criu", "path to the criu binary (checkpoint/restore is not supported)"),
    Flag("systemd-cgroup", help="enable systemd cgroup support (not supported: cgroupfs is used)"),
    Flag("rootless", "str", "auto", "ignore cgroup permission errors ('true', 'false', or 'auto')"),
    Flag("help,h", help="show help"),
    Flag("version,v", help="print the version"),
)

COMMANDS = {
    c.name: c
    for c in (
        Command("create", "create a container", "<container-id>", _CREATE_FLAGS),
        Command(
            "run",
            "create and run a container",
            "<container-id>",
            (
                *_CREATE_FLAGS,
                Flag("detach,d", help="detach from the container's process"),
                Flag("keep", help="do not delete the container after it exits"),
                Flag(
                    "no-subreaper", help="disable the use of the subreaper used to reap reparented processes"
                ),
            ),
        ),
        Command("start", "executes the user defined process in a created container", "<container-id>"),
        Command("state", "output the state of a container", "<container-id>"),
        Command(
            "kill",
            "kill sends the specified signal (default: SIGTERM) to the container's init process",
            "<container-id> [signal]",
            (Flag("all,a", help="send the specified signal to all processes inside the container"),),
            max_args=2,
        ),
        Command(
            "delete",
            "delete any resources held by the container often used with detached container",
            "<container-id>",
            (Flag("force,f", help="Forcibly deletes the container if it is still running (uses SIGKILL)"),),
        ),
        Command(
            "exec",
            "execute new process inside the container",
            "<container-id> <command> [command options]",
            (
                _CONSOLE_SOCKET,
                Flag("cwd", "str", help="current working directory in the container"),
                Flag("env,e", "list", help="set environment variables"),
                Flag("tty,t", help="allocate a pseudo-TTY"),
                Flag("user,u", "str", help="UID (format: <uid>[:<gid>])"),
                Flag("additional-gids,g", "list", help="additional gids"),
                Flag("process,p", "str", help="path to the process.json"),
                Flag("detach,d", help="detach from the container's process"),
                _PID_FILE,
                Flag("process-label", "str", help="set the asm process label for the process"),
                Flag("apparmor", "str", help="set the apparmor profile for the process"),
                Flag("no-new-privs", help="set the no new privileges value for the process"),
                Flag("cap,c", "list", help="add a capability to the bounding set for the process"),
                _PRESERVE_FDS,
                Flag("cgroup", "list", help="run the process in an (existing) sub-cgroup(s)"),
                Flag("ignore-paused", help="allow exec in a paused container"),
            ),
            max_args=None,
            reorder=False,
        ),
        Command(
            "list",
            "lists containers started by jocker-runtime with the given root",
            "",
            (
                Flag("format,f", "str", "table", "select one of: table or json"),
                Flag("quiet,q", help="display only container IDs"),
            ),
            min_args=0,
            max_args=0,
        ),
        Command(
            "ps",
            "ps displays the processes running inside a container",
            "<container-id> [ps options]",
            (Flag("format,f", "str", "table", "select one of: table or json"),),
            max_args=None,
            reorder=False,
        ),
        Command("pause", "pause suspends all processes inside the container", "<container-id>"),
        Command("resume", "resumes all processes that have been previously paused", "<container-id>"),
        Command(
            "events",
            "display container events such as OOM notifications, cpu, memory, and IO usage statistics",
            "<container-id>",
            (
                Flag("interval", "str", "5s", "set the stats collection interval"),
                Flag("stats", help="display the container's stats then exit"),
            ),
        ),
        Command(
            "update",
            "update container resource constraints",
            "<container-id>",
            (
                Flag(
                    "resources,r",
                    "str",
                    help="path to a file containing the resources to update or '-' for stdin",
                ),
                Flag("blkio-weight", "int", help="Specifies per cgroup weight, range is from 10 to 1000"),
                Flag("cpu-period", "int", help="CPU CFS period to be used for hardcapping (in usecs)"),
                Flag(
                    "cpu-quota",
                    "int",
                    help="CPU CFS hardcap limit (in usecs). Allowed cpu time in a given period",
                ),
                Flag("cpu-share", "int", help="CPU shares (relative weight vs. other containers)"),
                Flag(
                    "cpu-rt-period", "int", help="CPU realtime period to be used for hardcapping (in usecs)"
                ),
                Flag("cpu-rt-runtime", "int", help="CPU realtime hardcap limit (in usecs)"),
                Flag("cpuset-cpus", "str", help="CPU(s) to use"),
                Flag("cpuset-mems", "str", help="Memory node(s) to use"),
                Flag("memory", "str", help="Memory limit (in bytes)"),
                Flag("memory-reservation", "str", help="Memory reservation or soft_limit (in bytes)"),
                Flag(
                    "memory-swap",
                    "str",
                    help="Total memory usage (memory + swap); set '-1' to enable unlimited swap",
                ),
                Flag("pids-limit", "int", help="Maximum number of pids allowed in the container"),
            ),
        ),
        Command(
            "spec",
            "create a new specification file",
            "",
            (_BUNDLE, Flag("rootless", help="generate a configuration for a rootless container")),
            min_args=0,
            max_args=0,
        ),
        Command("features", "show the enabled features", "", min_args=0, max_args=0),
    )
}


class Options:
    """Parsed flags as attributes (`opts.pid_file`), plus `args` (the positional arguments)."""

    def __init__(self, flags: tuple[Flag, ...]) -> None:
        self.args: list[str] = []
        for flag in flags:
            value = flag.default
            setattr(self, flag.dest, list(value) if isinstance(value, list) else value)

    def __repr__(self) -> str:
        return f"Options({vars(self)!r})"


class Invocation:
    __slots__ = ("command", "global_opts", "opts")

    def __init__(self, global_opts: Options, command: str | None, opts: Options | None) -> None:
        self.global_opts, self.command, self.opts = global_opts, command, opts


def _lookup(flags: tuple[Flag, ...], name: str) -> Flag | None:
    for flag in flags:
        if name in flag.names:
            return flag
    return None


def _parse_flags(flags: tuple[Flag, ...], argv: list[str], reorder: bool, command: str | None) -> Options:
    """Go-flag parsing; with `reorder`, flags may also follow positional arguments (urfave/cli)."""
    opts = Options(flags)
    i = 0
    while i < len(argv):
        token = argv[i]
        i += 1
        if token == "--":
            opts.args.extend(argv[i:])
            break
        if len(token) < 2 or token[0] != "-":
            opts.args.append(token)
            if not reorder or command is None:
                opts.args.extend(argv[i:])
                break
            continue
        name = token[2:] if token.startswith("--") else token[1:]
        name, eq, value = name.partition("=")
        flag = _lookup(flags, name)
        if flag is None:
            raise UsageError(f"flag provided but not defined: -{name}", command)
        if flag.kind == "bool":
            if eq and value.lower() not in ("true", "false", "1", "0", "t", "f"):
                raise UsageError(f'invalid boolean value "{value}" for -{name}', command)
            setattr(opts, flag.dest, (value.lower() in ("true", "1", "t")) if eq else True)
            continue
        if not eq:
            if i >= len(argv):
                raise UsageError(f"flag needs an argument: -{name}", command)
            value = argv[i]
            i += 1
        if flag.kind == "int":
            try:
                setattr(opts, flag.dest, int(value, 0))
            except ValueError:
                raise UsageError(f'invalid value "{value}" for flag -{name}: parse error', command) from None
        elif flag.kind == "list":
            getattr(opts, flag.dest).append(value)
        else:
            setattr(opts, flag.dest, value)
    return opts


def parse(argv: list[str]) -> Invocation:
    """argv without the program name → Invocation, or UsageError."""
    global_opts = _parse_flags(GLOBAL_FLAGS, argv, reorder=False, command=None)
    rest = global_opts.args
    global_opts.args = []
    if not rest or global_opts.help or global_opts.version:
        if rest and rest[0] in COMMANDS and global_opts.help:
            return Invocation(global_opts, "help", _help_opts(rest[0]))
        return Invocation(global_opts, None, None)
    name, argv = rest[0], rest[1:]
    if name in ("help", "h"):
        return Invocation(global_opts, "help", _help_opts(argv[0] if argv else None))
    command = COMMANDS.get(name)
    if command is None:
        raise UsageError(f"No help topic for '{name}'", None, exit_code=3)
    if "--help" in argv or "-h" in argv:
        head = argv[: argv.index("--")] if "--" in argv else argv
        if (command.reorder or (head and head[0] in ("--help", "-h"))) and ("--help" in head or "-h" in head):
            return Invocation(global_opts, "help", _help_opts(name))
    opts = _parse_flags(command.flags, argv, command.reorder, name)
    count = len(opts.args)
    if command.max_args is not None and command.min_args == command.max_args and count != command.min_args:
        raise UsageError(f'"{name}" requires exactly {command.min_args} argument(s)', name)
    if count < command.min_args:
        raise UsageError(f'"{name}" requires a minimum of {command.min_args} argument(s)', name)
    if command.max_args is not None and count > command.max_args:
        raise UsageError(f'"{name}" requires a maximum of {command.max_args} argument(s)', name)
    return Invocation(global_opts, name, opts)


def _help_opts(topic: str | None) -> Options:
    opts = Options(())
    opts.args = [topic] if topic else []
    return opts


def format_help(command: str | None = None, prog: str = "jocker-runtime") -> str:
    if command is None or command not in COMMANDS:
        lines = [
            "NAME:",
            f"   {prog} - Open Container Initiative runtime written in Python (runc's command line)",
            "",
            "USAGE:",
            f"   {prog} [global options] command [command options] [arguments...]",
            "",
            "VERSION:",
            f"   {VERSION}",
            f"spec: {SPEC_VERSION}",
            "",
            "COMMANDS:",
        ]
        lines += [f"   {c.name:<10}  {c.help}" for c in COMMANDS.values()]
        lines += ["", "GLOBAL OPTIONS:", *_flag_lines(GLOBAL_FLAGS)]
        return "\n".join(lines) + "\n"
    c = COMMANDS[command]
    lines = ["NAME:", f"   {prog} {c.name} - {c.help}", "", "USAGE:"]
    lines.append(f"   {prog} {c.name}{' [command options]' if c.flags else ''} {c.args}".rstrip())
    if c.flags:
        lines += ["", "OPTIONS:", *_flag_lines(c.flags)]
    return "\n".join(lines) + "\n"


def _flag_lines(flags: tuple[Flag, ...]) -> list[str]:
    out = []
    for flag in flags:
        names = ", ".join(
            ("--" if len(n) > 1 else "-") + n + ("" if flag.kind == "bool" else " value") for n in flag.names
        )
        out.append(f"   {names:<28}  {flag.help}")
    return out
