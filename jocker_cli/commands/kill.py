"""`jocker kill`: POST /containers/{id}/kill (no signal: the daemon's SIGKILL)."""

from __future__ import annotations

USAGE = "[OPTIONS] CONTAINER [CONTAINER...]"
ARGS = (1, None)


def add_arguments(parser) -> None:
    parser.add_argument(
        "-s", "--signal", default="", metavar="string", help="Signal to send to the container"
    )


def run(args, client) -> int:
    from jocker_cli.output import each

    def kill(name: str) -> None:
        client.post(f"/containers/{name}/kill", {"signal": args.signal or None})
        print(name)

    return each(kill, args.positionals)
