"""`jocker container prune`: POST /containers/prune."""

from __future__ import annotations

USAGE = "[OPTIONS]"
ARGS = (0, 0)
WARNING = "WARNING! This will remove all stopped containers."


def add_arguments(parser) -> None:
    parser.add_argument("--filter", action="append", default=[], metavar="filter",
                        help="Provide filter values (e.g. \"until=<timestamp>\")")  # fmt: skip
    parser.add_argument("-f", "--force", action="store_true", help="Do not prompt for confirmation")


def confirm(warning: str) -> bool:
    import sys

    sys.stdout.write(f"{warning}\nAre you sure you want to continue? [y/N] ")
    sys.stdout.flush()
    answer = sys.stdin.readline().strip().lower()
    return answer in ("y", "yes")


def prune(client, filters: list[str]) -> tuple[int, str]:
    from jocker_cli.commands import filters_param

    report = (
        client.request("POST", "/containers/prune", params={"filters": filters_param(filters)}).json() or {}
    )
    deleted = report.get("ContainersDeleted") or []
    if not deleted:
        return 0, ""
    return int(report.get("SpaceReclaimed") or 0), "Deleted Containers:\n" + "".join(
        d + "\n" for d in deleted
    )


def run(args, client) -> int:
    from jocker_cli.output import human_size

    if not args.force and not confirm(WARNING):
        return 0
    space, output = prune(client, args.filter)
    if output:
        print(output)
    print("Total reclaimed space:", human_size(space))
    return 0
