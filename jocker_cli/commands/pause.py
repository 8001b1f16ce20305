"""`jocker pause`: POST /containers/{id}/pause (the cgroup freezer)."""

from __future__ import annotations

USAGE = "CONTAINER [CONTAINER...]"
ARGS = (1, None)


def add_arguments(parser) -> None:
    pass


def run(args, client) -> int:
    from jocker_cli.output import each

    def pause(name: str) -> None:
        client.post(f"/containers/{name}/pause")
        print(name)

    return each(pause, args.positionals)
