"""`jocker`: docker's everyday commands against jockerd.

Start-up is the cost of every command, so this module imports only the standard library it
needs to find the command, then exactly one module from jocker_cli/commands/ (each has
`add_arguments(parser)` and `run(args, client) -> int`). Global flags are docker's:
`-H/--host` (then JOCKER_HOST, DOCKER_HOST, unix:///var/run/jocker.sock), `--config`, `-D`,
`-l`, `-v/--version`. Exit codes are docker's: 125 for a usage error or a daemon error in
run/create, the container's code for run, start -a and exec, 1 for other failures.
"""

from __future__ import annotations

import os
import sys

# command → (module in jocker_cli.commands, summary, preset arguments)
COMMANDS: dict[str, tuple[str, str]] = {
    "attach": ("attach", "Attach local standard input, output, and error streams to a running container"),
    "cp": ("cp", "Copy files/folders between a container and the local filesystem"),
    "create": ("create", "Create a new container"),
    "events": ("events", "Get real time events from the server"),
    "exec": ("exec", "Execute a command in a running container"),
    "explain": ("explain", "Show what the engine did for a container, in the kernel's terms"),
    "export": ("export", "Export a container's filesystem as a tar archive"),
    "history": ("history", "Show the history of an image"),
    "images": ("images", "List images"),
    "import": ("image_import", "Import the contents from a tarball to create a filesystem image"),
    "info": ("info", "Display system-wide information"),
    "inspect": ("inspect", "Return low-level information on Docker objects"),
    "kill": ("kill", "Kill one or more running containers"),
    "load": ("load", "Load an image from a tar archive or STDIN"),
    "login": ("login", "Authenticate to a registry"),
    "logout": ("logout", "Log out from a registry"),
    "logs": ("logs", "Fetch the logs of a container"),
    "pause": ("pause", "Pause all processes within one or more containers"),
    "port": ("port", "List port mappings or a specific mapping for the container"),
    "ps": ("ps", "List containers"),
    "pull": ("pull", "Download an image from a registry"),
    "push": ("push", "Upload an image to a registry"),
    "rename": ("rename", "Rename a container"),
    "restart": ("restart", "Restart one or more containers"),
    "rm": ("rm", "Remove one or more containers"),
    "rmi": ("rmi", "Remove one or more images"),
    "run": ("run", "Create and run a new container from an image"),
    "save": ("save", "Save one or more images to a tar archive (streamed to STDOUT by default)"),
    "start": ("start", "Start one or more stopped containers"),
    "stats": ("stats", "Display a live stream of container(s) resource usage statistics"),
    "stop": ("stop", "Stop one or more running containers"),
    "tag": ("tag", "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE"),
    "top": ("top", "Display the running processes of a container"),
    "unpause": ("unpause", "Unpause all processes within one or more containers"),
    "version": ("version", "Show the jocker version information"),
    "wait": ("wait", "Block until one or more containers stop, then print their exit codes"),
    "completion": ("completion", "Generate the autocompletion script for the specified shell"),
}
COMMON = ("run", "exec", "ps", "images", "pull", "push", "login", "logout", "version", "info", "explain")
# Management commands: `jocker container ls` is `jocker ps`, and so on (docker's aliases).
MANAGEMENT: dict[str, tuple[str, dict[str, str]]] = {
    "container": ("Manage containers", {
        "attach": "attach", "cp": "cp", "create": "create", "exec": "exec", "export": "export",
        "inspect": "container_inspect",
        "kill": "kill", "logs": "logs", "ls": "ps", "list": "ps", "ps": "ps", "pause": "pause",
        "port": "port", "prune": "container_prune", "rename": "rename", "restart": "restart", "rm": "rm",
        "remove": "rm", "run": "run", "start": "start", "stats": "stats", "stop": "stop",
        "top": "top", "unpause": "unpause", "wait": "wait", "explain": "explain",
    }),
    "image": ("Manage images", {
        "history": "history", "import": "import", "inspect": "image_inspect", "load": "load",
        "ls": "images", "list": "images", "prune": "image_prune", "pull": "pull", "push": "push",
        "rm": "rmi", "remove": "rmi", "save": "save", "tag": "tag",
    }),
    "system": ("Manage jocker", {
        "df": "system_df", "events": "events", "info": "info", "prune": "system_prune",
    }),
    "network": ("Manage networks", {
        "inspect": "network_inspect", "ls": "network_ls", "list": "network_ls",
    }),
    "volume": ("Manage volumes", {
        "create": "volume_create", "inspect": "volume_inspect", "ls": "volume_ls", "list": "volume_ls",
        "prune": "volume_prune", "rm": "volume_rm", "remove": "volume_rm",
    }),
}  # fmt: skip
EXTRA: dict[str, tuple[str, str]] = {
    "container_inspect": ("inspect", "Display detailed information on one or more containers"),
    "image_inspect": ("inspect", "Display detailed information on one or more images"),
    "container_prune": ("container_prune", "Remove all stopped containers"),
    "image_prune": ("image_prune", "Remove unused images"),
    "system_df": ("system_df", "Show jocker disk usage"),
    "system_prune": ("system_prune", "Remove unused data"),
    "network_inspect": ("network_inspect", "Display detailed information on one or more networks"),
    "network_ls": ("network_ls", "List networks"),
    "volume_create": ("volume_create", "Create a volume"),
    "volume_inspect": ("volume_inspect", "Display detailed information on one or more volumes"),
    "volume_ls": ("volume_ls", "List volumes"),
    "volume_prune": ("volume_prune", "Remove unused local volumes"),
    "volume_rm": ("volume_rm", "Remove one or more volumes"),
}

GLOBAL_HELP = """\
Global Options:
      --config string      Location of client config files (default "~/.docker")
  -D, --debug              Enable debug mode
  -H, --host string        Daemon socket to connect to (default: $JOCKER_HOST, $DOCKER_HOST,
                           unix:///var/run/jocker.sock)
  -l, --log-level string   Set the logging level ("debug", "info", "warn", "error", "fatal")
                           (default "info")
  -v, --version            Print version information and quit
"""


def main_help() -> str:
    lines = ["", "Usage:  jocker [OPTIONS] COMMAND", "",
             "jocker: docker's everyday commands for jockerd, plus a look inside (explain)", "",
             "Common Commands:"]  # fmt: skip
    lines += [f"  {name:<11} {COMMANDS[name][1]}" for name in COMMON]
    lines += ["", "Management Commands:"]
    lines += [f"  {name:<11} {summary}" for name, (summary, _) in MANAGEMENT.items()]
    lines += ["", "Commands:"]
    lines += [
        f"  {name:<11} {summary}" for name, (_, summary) in sorted(COMMANDS.items()) if name not in COMMON
    ]
    lines += ["", GLOBAL_HELP, "Run 'jocker COMMAND --help' for more information on a command.", ""]
    return "\n".join(lines)


def management_help(group: str) -> str:
    summary, subs = MANAGEMENT[group]
    lines = ["", f"Usage:  jocker {group} COMMAND", "", summary, "", "Commands:"]
    for sub, target in sorted(subs.items()):
        text = EXTRA[target][1] if target in EXTRA else COMMANDS.get(target, ("", ""))[1]
        lines.append(f"  {sub:<11} {text}")
    lines += ["", f"Run 'jocker {group} COMMAND --help' for more information on a command.", ""]
    return "\n".join(lines)


class Globals:
    host: str | None = None
    config: str | None = None
    debug = False


def parse_globals(argv: list[str]) -> tuple[Globals, list[str]]:
    from jocker_cli.client import CliError

    options = Globals()
    i = 0
    while i < len(argv):
        arg = argv[i]
        if not arg.startswith("-") or arg == "-":
            break
        name, has_value, value = arg.partition("=")
        if name in ("-H", "--host", "--config", "-l", "--log-level", "-c", "--context"):
            if not has_value:
                i += 1
                if i >= len(argv):
                    raise CliError(f"flag needs an argument: {name}\nSee 'jocker --help'.", 125)
                value = argv[i]
            if name in ("-H", "--host"):
                options.host = value
            elif name == "--config":
                options.config = value
            elif name in ("-c", "--context") and value != "default":
                raise CliError("jocker has no contexts: use --host or JOCKER_HOST", 125)
        elif name in ("-D", "--debug"):
            options.debug = True
        elif name in ("-v", "--version"):
            return options, ["--version"]
        elif name in ("-h", "--help"):
            return options, ["--help"]
        elif arg.startswith("-H") and len(arg) > 2:
            options.host = arg[2:]
        else:
            raise CliError(f"unknown flag: {name}\nSee 'jocker --help'.", 125)
        i += 1
    return options, argv[i:]


def resolve_command(rest: list[str]) -> tuple[str, str, str, list[str]] | None:
    """(module, summary, display name, arguments) for the command line after the globals."""
    name = rest[0]
    if name in MANAGEMENT:
        subs = MANAGEMENT[name][1]
        if len(rest) < 2 or rest[1] in ("-h", "--help", "help"):
            sys.stdout.write(management_help(name))
            return None
        sub = rest[1]
        if sub not in subs:
            from jocker_cli.client import CliError

            raise CliError(f"jocker: '{name} {sub}' is not a jocker command.\nSee 'jocker {name} --help'", 1)
        target = subs[sub]
        module, summary = EXTRA[target] if target in EXTRA else COMMANDS[target]
        return module, summary, f"{name} {sub}", rest[2:]
    if name in COMMANDS:
        module, summary = COMMANDS[name]
        return module, summary, name, rest[1:]
    return None


def main(argv: list[str] | None = None) -> int:
    from jocker_cli.client import CliError

    argv = sys.argv[1:] if argv is None else argv
    client = None
    try:
        options, rest = parse_globals(argv)
        if rest == ["--version"]:
            from jocker_cli.commands.version import client_version

            print(f"jocker version {client_version()}")
            return 0
        if not rest or rest[0] in ("--help", "help"):
            sys.stdout.write(main_help())
            return 0
        resolved = resolve_command(rest)
        if resolved is None:
            if rest[0] in MANAGEMENT:
                return 0
            print(f"jocker: '{rest[0]}' is not a jocker command.\nSee 'jocker --help'", file=sys.stderr)
            return 1
        module_name, summary, display, args = resolved
        import importlib

        from jocker_cli.commands import CommandParser

        module = importlib.import_module(f"jocker_cli.commands.{module_name}")
        parser = CommandParser(display, summary, module)
        parsed = parser.parse(args)
        if parsed is None:
            return 0
        parsed.command_name = display
        parsed.config_dir = options.config
        if getattr(module, "NO_CLIENT", False):
            return int(module.run(parsed, None) or 0)
        from jocker_cli.client import EngineClient

        client = EngineClient(options.host)
        return int(module.run(parsed, client) or 0)
    except CliError as e:
        if e.message:
            print(e.message, file=sys.stderr)
        return e.status
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # stdout went away (`jocker ps | head`): quiet, as Go programs are.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except OSError:
            pass
        return 1
    finally:
        if client is not None:
            client.close()


if __name__ == "__main__":
    raise SystemExit(main())
