"""`jocker export`: GET /containers/{id}/export (the container's filesystem as a tar) to a file
(-o) or stdout (never a terminal), as docker export."""

from __future__ import annotations

import os
import sys

from jocker_cli.client import CliError
from jocker_cli.output import write_archive

USAGE = "[OPTIONS] CONTAINER"
ARGS = (1, 1)


def add_arguments(parser) -> None:
    parser.add_argument(
        "-o", "--output", default="", metavar="string", help="Write to a file, instead of STDOUT"
    )


def run(args, client) -> int:
    if not args.output and sys.stdout.isatty():
        raise CliError("cowardly refusing to save to a terminal. Use the -o flag or redirect")
    (container,) = args.positionals
    if args.output:
        directory = os.path.dirname(os.path.abspath(args.output))
        if not os.path.isdir(directory):
            raise CliError(
                f'failed to export container: invalid output path: directory "{directory}" does not exist'
            )
    response = client.request("GET", f"/containers/{container}/export")
    write_archive(response, args.output)
    return 0
