"""`jocker unpause`: POST /containers/{id}/unpause."""

from __future__ import annotations

USAGE = "CONTAINER [CONTAINER...]"
ARGS = (1, None)


def add_arguments(parser) -> None:
    pass


def run(args, client) -> int:
    from jocker_cli.output import each

    def unpause(name: str) -> None:
        client.post(f"/containers/{name}/unpause")
        print(name)

    return each(unpause, args.positionals)
