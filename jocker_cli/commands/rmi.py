"""`jocker rmi`: DELETE /images/{name}; prints each `Untagged:` / `Deleted:` entry."""

from __future__ import annotations

USAGE = "[OPTIONS] IMAGE [IMAGE...]"
ARGS = (1, None)


def add_arguments(parser) -> None:
    parser.add_argument("-f", "--force", action="store_true", help="Force removal of the image")
    parser.add_argument("--no-prune", action="store_true", help="Do not delete untagged parents")


def run(args, client) -> int:
    from jocker_cli.output import each

    params = {"force": "1" if args.force else None, "noprune": "1" if args.no_prune else None}

    def remove(name: str) -> None:
        for item in client.request("DELETE", f"/images/{name}", params=params).json() or []:
            if item.get("Untagged"):
                print(f"Untagged: {item['Untagged']}")
            if item.get("Deleted"):
                print(f"Deleted: {item['Deleted']}")

    return each(remove, args.positionals)
