"""`jocker rm`: DELETE /containers/{id} (-f → force=1, -v → v=1, -l → link=1).

As with docker, `rm -f` of a container that does not exist prints the error and exits 0.
"""

from __future__ import annotations

import sys

from jocker_cli.client import CliError

USAGE = "[OPTIONS] CONTAINER [CONTAINER...]"
ARGS = (1, None)


def add_arguments(parser) -> None:
    parser.add_argument(
        "-f", "--force", action="store_true", help="Force the removal of a running container (uses SIGKILL)"
    )
    parser.add_argument("-l", "--link", action="store_true", help="Remove the specified link")
    parser.add_argument(
        "-v", "--volumes", action="store_true", help="Remove anonymous volumes associated with the container"
    )


def run(args, client) -> int:
    params = {"force": "1" if args.force else None, "v": "1" if args.volumes else None,
              "link": "1" if args.link else None}  # fmt: skip
    status = 0
    for name in args.positionals:
        name = name.strip("/")
        try:
            client.delete(f"/containers/{name}", params)
            print(name)
        except CliError as e:
            print(e.message, file=sys.stderr)
            if not (args.force and e.not_found):
                status = 1
    return status
