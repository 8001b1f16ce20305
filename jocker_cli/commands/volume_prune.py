"""`jocker volume prune`: POST /volumes/prune (anonymous volumes only unless -a)."""

from __future__ import annotations

USAGE = "[OPTIONS]"
ARGS = (0, 0)
ANONYMOUS = "WARNING! This will remove anonymous local volumes not used by at least one container."
ALL = "WARNING! This will remove all local volumes not used by at least one container."


def add_arguments(parser) -> None:
    parser.add_argument(
        "-a", "--all", action="store_true", help="Remove all unused volumes, not just anonymous ones"
    )
    parser.add_argument("--filter", action="append", default=[], metavar="filter",
                        help="Provide filter values (e.g. \"label=<label>\")")  # fmt: skip
    parser.add_argument("-f", "--force", action="store_true", help="Do not prompt for confirmation")


def prune(client, filters: list[str], all_volumes: bool) -> tuple[int, str]:
    from jocker_cli.commands import filters_param

    if all_volumes:
        filters = [*filters, "all=true"]
    report = client.request("POST", "/volumes/prune", params={"filters": filters_param(filters)}).json() or {}
    deleted = report.get("VolumesDeleted") or []
    if not deleted:
        return int(report.get("SpaceReclaimed") or 0), ""
    return int(report.get("SpaceReclaimed") or 0), "Deleted Volumes:\n" + "".join(d + "\n" for d in deleted)


def run(args, client) -> int:
    from jocker_cli.commands.container_prune import confirm
    from jocker_cli.output import human_size

    if not args.force and not confirm(ALL if args.all else ANONYMOUS):
        return 0
    space, output = prune(client, args.filter, args.all)
    if output:
        print(output)
    print("Total reclaimed space:", human_size(space))
    return 0
