"""`jocker save`: GET /images/get?names=… to a file (-o) or stdout (never a terminal)."""

from __future__ import annotations

import os
import sys

from jocker_cli.client import CliError
from jocker_cli.output import write_archive

USAGE = "[OPTIONS] IMAGE [IMAGE...]"
ARGS = (1, None)


def add_arguments(parser) -> None:
    parser.add_argument(
        "-o", "--output", default="", metavar="string", help="Write to a file, instead of STDOUT"
    )
    parser.add_argument(
        "--platform",
        action="append",
        default=[],
        metavar="stringSlice",
        help="Save only the given platform(s)",
    )


def run(args, client) -> int:
    if not args.output and sys.stdout.isatty():
        raise CliError("cowardly refusing to save to a terminal. Use the -o flag or redirect")
    response = client.transfer("GET", "/images/get", params={"names": args.positionals})
    if args.output:
        directory = os.path.dirname(os.path.abspath(args.output))
        if not os.path.isdir(directory):
            raise CliError(
                f'failed to save image: invalid output path: directory "{directory}" does not exist'
            )
    write_archive(response, args.output)
    return 0
