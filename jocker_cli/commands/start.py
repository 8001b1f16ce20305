"""`jocker start`: POST /containers/{id}/start; with -a the run choreography (attach, wait
next-exit, start) and the container's exit code."""

from __future__ import annotations

import sys

from jocker_cli.client import CliError

USAGE = "[OPTIONS] CONTAINER [CONTAINER...]"
ARGS = (1, None)


def add_arguments(parser) -> None:
    parser.add_argument(
        "-a", "--attach", action="store_true", help="Attach STDOUT/STDERR and forward signals"
    )
    parser.add_argument(
        "--detach-keys",
        default="",
        metavar="string",
        help="Override the key sequence for detaching a container",
    )
    parser.add_argument("-i", "--interactive", action="store_true", help="Attach container's STDIN")


def run(args, client) -> int:
    from jocker_cli.hijack import parse_detach_keys
    from jocker_cli.output import each
    from jocker_cli.session import run_attached

    if args.attach or args.interactive:
        if len(args.positionals) > 1:
            raise CliError("you cannot start and attach multiple containers at once")
        name = args.positionals[0]
        info = client.get_json(f"/containers/{name}/json")
        config = info.get("Config") or {}
        tty = bool(config.get("Tty"))
        stdin = bool(args.interactive and config.get("OpenStdin"))
        if (info.get("State") or {}).get("Running"):
            raise CliError(f"Error response from daemon: container {info['Id']} is already running")
        if tty and stdin and not sys.stdin.isatty():
            raise CliError("the input device is not a TTY")

        def failed(error: CliError, waiter) -> None:
            waiter.close()

        return run_attached(
            client, info["Id"], tty=tty, stdin=stdin, stdout=True, stderr=True, condition="next-exit",
            start=True, sig_proxy=True, detach_keys=parse_detach_keys(args.detach_keys), on_start_error=failed,  # noqa: E501
        )  # fmt: skip

    def start(name: str) -> None:
        client.post(f"/containers/{name}/start", ok=(304,))
        print(name)

    return each(start, args.positionals)
