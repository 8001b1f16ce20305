"""`jocker load`: POST /images/load (chunked tar upload; quiet=1 when stdout is not a terminal)."""

from __future__ import annotations

import sys

from jocker_cli.client import CliError

USAGE = "[OPTIONS]"
ARGS = (0, 0)


def add_arguments(parser) -> None:
    parser.add_argument(
        "-i", "--input", default="", metavar="string", help="Read from tar archive file, instead of STDIN"
    )
    parser.add_argument(
        "--platform",
        action="append",
        default=[],
        metavar="stringSlice",
        help="Load only the given platform(s)",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="Suppress the load output")


def chunks(stream, size: int = 1 << 20):
    while True:
        data = stream.read(size)
        if not data:
            return
        yield data


def run(args, client) -> int:
    from jocker_cli.progress import display

    if args.input:
        try:
            source = open(args.input, "rb")  # noqa: SIM115 - closed below
        except OSError as e:
            raise CliError(f"open {args.input}: {(e.strerror or str(e)).lower()}") from None
    else:
        if sys.stdin.isatty():
            raise CliError("requested load from stdin, but stdin is empty")
        source = sys.stdin.buffer
    quiet = args.quiet or not sys.stdout.isatty()
    try:
        response = client.transfer(
            "POST", "/images/load", params={"quiet": "1" if quiet else "0"}, data=chunks(source),
            headers={"Content-Type": "application/x-tar"},
        )  # fmt: skip
        display(response.iter_json(), sys.stdout)
    finally:
        if source is not sys.stdin.buffer:
            source.close()
    return 0
