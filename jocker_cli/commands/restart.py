"""`jocker restart`: POST /containers/{id}/restart."""

from __future__ import annotations

USAGE = "[OPTIONS] CONTAINER [CONTAINER...]"
ARGS = (1, None)


def add_arguments(parser) -> None:
    parser.add_argument(
        "-s", "--signal", default="", metavar="string", help="Signal to send to the container"
    )
    parser.add_argument(
        "-t",
        "--timeout",
        type=int,
        default=None,
        metavar="int",
        help="Seconds to wait before killing the container",
    )


def run(args, client) -> int:
    from jocker_cli.output import each

    params = {"signal": args.signal or None, "t": args.timeout}

    def restart(name: str) -> None:
        client.post(f"/containers/{name}/restart", params)
        print(name)

    return each(restart, args.positionals)
