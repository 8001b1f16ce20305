"""`jocker restart`: POST /containers/{id}/restart (docker restart takes docker stop's flags)."""

from __future__ import annotations

from jocker_cli.commands.stop import add_arguments

USAGE = "[OPTIONS] CONTAINER [CONTAINER...]"
ARGS = (1, None)

__all__ = ["ARGS", "USAGE", "add_arguments", "run"]


def run(args, client) -> int:
    from jocker_cli.output import each

    params = {"signal": args.signal or None, "t": args.timeout}

    def restart(name: str) -> None:
        client.post(f"/containers/{name}/restart", params)
        print(name)

    return each(restart, args.positionals)
