"""`jocker wait`: POST /containers/{id}/wait (no condition), prints each exit code."""

from __future__ import annotations

USAGE = "CONTAINER [CONTAINER...]"
ARGS = (1, None)


def add_arguments(parser) -> None:
    pass


def run(args, client) -> int:
    from jocker_cli.client import CliError
    from jocker_cli.output import each

    def wait(name: str) -> None:
        body = client.request("POST", f"/containers/{name}/wait").json() or {}
        error = body.get("Error")
        if error and error.get("Message"):
            raise CliError(error["Message"])
        print(body.get("StatusCode", 0))

    return each(wait, args.positionals)
