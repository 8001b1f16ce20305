"""`jocker volume rm`: DELETE /volumes/{name}; prints each name removed."""

from __future__ import annotations

USAGE = "[OPTIONS] VOLUME [VOLUME...]"
ARGS = (1, None)


def add_arguments(parser) -> None:
    parser.add_argument("-f", "--force", action="store_true", help="Force the removal of one or more volumes")


def run(args, client) -> int:
    from jocker_cli.output import each

    params = {"force": "1" if args.force else None}

    def remove(name: str) -> None:
        client.request("DELETE", f"/volumes/{name}", params=params)
        print(name)

    return each(remove, args.positionals)
