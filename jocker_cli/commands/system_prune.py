"""`jocker system prune`: stopped containers, then dangling (or, with -a, unused) images.
jockerd has no networks, volumes or build cache to prune yet."""

from __future__ import annotations

USAGE = "[OPTIONS]"
ARGS = (0, 0)


def add_arguments(parser) -> None:
    parser.add_argument(
        "-a", "--all", action="store_true", help="Remove all unused images not just dangling ones"
    )
    parser.add_argument("--filter", action="append", default=[], metavar="filter",
                        help="Provide filter values (e.g. \"label=<key>=<value>\")")  # fmt: skip
    parser.add_argument("-f", "--force", action="store_true", help="Do not prompt for confirmation")
    parser.add_argument("--volumes", action="store_true", help="Prune anonymous volumes")


def run(args, client) -> int:
    from jocker_cli.commands import container_prune, image_prune
    from jocker_cli.output import human_size

    items = ["all stopped containers"]
    if args.volumes:
        items.append("all anonymous volumes not used by at least one container")
    items.append(
        "all images without at least one container associated to them" if args.all else "all dangling images"
    )
    warning = "WARNING! This will remove:\n" + "".join(f"  - {item}\n" for item in items)
    if not args.force and not container_prune.confirm(warning.rstrip("\n")):
        return 0
    total = 0
    for space, output in (container_prune.prune(client, args.filter),
                          image_prune.prune(client, args.filter, args.all)):  # fmt: skip
        total += space
        if output:
            print(output)
    print("Total reclaimed space:", human_size(total))
    return 0
