"""`jocker history`: GET /images/{name}/history as docker's table."""

from __future__ import annotations

from jocker_cli.commands import add_format

USAGE = "[OPTIONS] IMAGE"
ARGS = (1, 1)
DEFAULT = "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}"
HEADERS = {"ID": "IMAGE", "CreatedSince": "CREATED", "CreatedAt": "CREATED AT", "CreatedBy": "CREATED BY",
           "Size": "SIZE", "Comment": "COMMENT"}  # fmt: skip


def add_arguments(parser) -> None:
    add_format(parser)
    parser.add_argument(
        "-H",
        "--human",
        action="store_true",
        default=True,
        help="Print sizes and dates in human readable format (default true)",
    )
    parser.add_argument("--no-trunc", action="store_true", help="Don't truncate output")
    parser.add_argument(
        "--platform", default="", metavar="string", help="Show history for the given platform"
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="Only show image IDs")


class HistoryRow:
    def __init__(self, item: dict, trunc: bool, human: bool) -> None:
        self.item = item
        self.trunc = trunc
        self.human = human

    @property
    def ID(self) -> str:
        from jocker_cli.output import truncate_id

        ident = self.item.get("Id") or ""
        return truncate_id(ident) if self.trunc and ident.startswith("sha256:") else ident

    @property
    def CreatedSince(self) -> str:
        from jocker_cli.output import since

        return since(self.item.get("Created") or 0) if self.human else self.CreatedAt

    @property
    def CreatedAt(self) -> str:
        import time

        created = self.item.get("Created") or 0
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(created)) + _offset(created)

    @property
    def CreatedBy(self) -> str:
        from jocker_cli.output import ellipsis

        text = (self.item.get("CreatedBy") or "").replace("\t", " ")
        return ellipsis(text, 45) if self.trunc else text

    @property
    def Size(self) -> str:
        from jocker_cli.output import human_size

        size = self.item.get("Size") or 0
        return human_size(size, 3) if self.human else str(size)

    @property
    def Comment(self) -> str:
        return self.item.get("Comment") or ""

    def to_json(self) -> dict:
        return {
            k: getattr(self, k) for k in ("Comment", "CreatedAt", "CreatedBy", "CreatedSince", "ID", "Size")
        }


def _offset(created: float) -> str:
    import time

    offset = time.strftime("%z", time.localtime(created))
    return "Z" if offset in ("+0000", "-0000") else offset[:3] + ":" + offset[3:]


def run(args, client) -> int:
    from jocker_cli.output import render

    items = client.get_json(f"/images/{args.positionals[0]}/history",
                            {"platform": args.platform or None})  # fmt: skip
    rows = [HistoryRow(item, not args.no_trunc, args.human) for item in items]
    render(rows, args.format, DEFAULT, headers=HEADERS, quiet=args.quiet, quiet_field="ID")
    return 0
