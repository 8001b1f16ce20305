"""`jocker stop`: POST /containers/{id}/stop (304, already stopped, is success)."""

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

    def stop(name: str) -> None:
        client.post(f"/containers/{name}/stop", params, ok=(304,))
        print(name)

    return each(stop, args.positionals)
