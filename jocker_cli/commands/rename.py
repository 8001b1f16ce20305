"""`jocker rename`: POST /containers/{id}/rename?name= (prints nothing)."""

from __future__ import annotations

from jocker_cli.client import CliError

USAGE = "CONTAINER NEW_NAME"
ARGS = (2, 2)


def add_arguments(parser) -> None:
    pass


def run(args, client) -> int:
    old, new = (a.strip() for a in args.positionals)
    if not new:
        raise CliError("Error: neither old nor new names may be empty")
    client.post(f"/containers/{old}/rename", {"name": new})
    return 0
