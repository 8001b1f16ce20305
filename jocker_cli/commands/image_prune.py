"""`jocker image prune`: POST /images/prune (dangling only unless -a)."""

from __future__ import annotations

USAGE = "[OPTIONS]"
ARGS = (0, 0)
DANGLING = "WARNING! This will remove all dangling images."
ALL = "WARNING! This will remove all images without at least one container associated to them."


def add_arguments(parser) -> None:
    parser.add_argument(
        "-a", "--all", action="store_true", help="Remove all unused images, not just dangling ones"
    )
    parser.add_argument("--filter", action="append", default=[], metavar="filter",
                        help="Provide filter values (e.g. \"until=<timestamp>\")")  # fmt: skip
    parser.add_argument("-f", "--force", action="store_true", help="Do not prompt for confirmation")


def prune(client, filters: list[str], all_images: bool) -> tuple[int, str]:
    from jocker_cli.commands import filters_param

    filters = [*filters, f"dangling={'false' if all_images else 'true'}"]
    report = client.request("POST", "/images/prune", params={"filters": filters_param(filters)}).json() or {}
    deleted = report.get("ImagesDeleted") or []
    if not deleted:
        return 0, ""
    lines = []
    for item in deleted:
        if item.get("Untagged"):
            lines.append(f"untagged: {item['Untagged']}\n")
        if item.get("Deleted"):
            lines.append(f"deleted: {item['Deleted']}\n")
    return int(report.get("SpaceReclaimed") or 0), "Deleted Images:\n" + "".join(lines)


def run(args, client) -> int:
    from jocker_cli.commands.container_prune import confirm
    from jocker_cli.output import human_size

    if not args.force and not confirm(ALL if args.all else DANGLING):
        return 0
    space, output = prune(client, args.filter, args.all)
    if output:
        print(output)
    print("Total reclaimed space:", human_size(space))
    return 0
