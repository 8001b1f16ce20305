"""`jocker system df`: GET /system/df summarized per type as docker's disk-usage table."""

from __future__ import annotations

from jocker_cli.commands import add_format

USAGE = "[OPTIONS]"
ARGS = (0, 0)
DEFAULT = "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}"
HEADERS = {
    "Type": "TYPE",
    "TotalCount": "TOTAL",
    "Active": "ACTIVE",
    "Size": "SIZE",
    "Reclaimable": "RECLAIMABLE",
}


def add_arguments(parser) -> None:
    add_format(parser)
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="Show detailed information on space usage"
    )


class UsageRow:
    def __init__(
        self, kind: str, total: int, active: int, size: int, reclaimable: int, percent: bool
    ) -> None:
        self.Type = kind
        self.TotalCount = str(total)
        self.Active = str(active)
        self._size = size
        self._reclaimable = reclaimable
        self._percent = percent

    @property
    def Size(self) -> str:
        from jocker_cli.output import human_size

        return human_size(self._size)

    @property
    def Reclaimable(self) -> str:
        from jocker_cli.output import human_size

        text = human_size(self._reclaimable)
        if self._percent and self._size > 0:
            text += f" ({self._reclaimable * 100 // self._size}%)"
        return text

    def to_json(self) -> dict:
        return {k: getattr(self, k) for k in ("Active", "Reclaimable", "Size", "TotalCount", "Type")}


def _active(state: str) -> bool:
    return any(word in (state or "") for word in ("running", "paused", "restarting"))


def summarize(usage: dict) -> list[UsageRow]:
    images = usage.get("Images") or []
    total = int(usage.get("LayersSize") or 0)
    used = sum(
        (i.get("Size") or 0) - (i.get("SharedSize") or 0)
        for i in images
        if i.get("Containers") and i.get("Size", -1) != -1 and i.get("SharedSize", -1) != -1
    )
    rows = [UsageRow("Images", len(images), sum(1 for i in images if i.get("Containers", 0) > 0), total,
                     total - used, True)]  # fmt: skip
    containers = usage.get("Containers") or []
    size = sum(c.get("SizeRw") or 0 for c in containers)
    reclaim = sum(c.get("SizeRw") or 0 for c in containers if not _active(c.get("State", "")))
    active = sum(1 for c in containers if _active(c.get("State", "")))
    rows.append(UsageRow("Containers", len(containers), active, size, reclaim, True))
    volumes = usage.get("Volumes") or []
    data = [v.get("UsageData") or {} for v in volumes]
    size = sum(d.get("Size", 0) for d in data if d.get("Size", -1) != -1)
    reclaim = sum(d.get("Size", 0) for d in data if d.get("RefCount", 0) == 0 and d.get("Size", -1) != -1)
    rows.append(UsageRow("Local Volumes", len(volumes), sum(1 for d in data if d.get("RefCount", 0) > 0),
                         size, reclaim, True))  # fmt: skip
    cache = usage.get("BuildCache") or []
    size = sum(b.get("Size", 0) for b in cache if not b.get("Shared"))
    in_use = sum(b.get("Size", 0) for b in cache if b.get("InUse") and not b.get("Shared"))
    rows.append(UsageRow("Build Cache", len(cache), sum(1 for b in cache if b.get("InUse")), size,
                         size - in_use, False))  # fmt: skip
    return rows


def run(args, client) -> int:
    from jocker_cli.output import render

    usage = client.get_json("/system/df")
    if args.verbose:
        return verbose(usage)
    render(summarize(usage), args.format, DEFAULT, headers=HEADERS)
    return 0


def verbose(usage: dict) -> int:
    import sys

    from jocker_cli.commands.images import rows_for
    from jocker_cli.commands.ps import ContainerRow
    from jocker_cli.output import human_size, render

    out = sys.stdout
    out.write("Images space usage:\n\n")
    rows = [row for image in usage.get("Images") or [] for row in rows_for(image, digests=False, trunc=True)]
    render(rows, "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t{{.SharedSize}}"
           "\t{{.UniqueSize}}\t{{.Containers}}", "",
           headers={"Repository": "REPOSITORY", "Tag": "TAG", "ID": "IMAGE ID", "CreatedSince": "CREATED",
                    "Size": "SIZE", "SharedSize": "SHARED SIZE", "UniqueSize": "UNIQUE SIZE",
                    "Containers": "CONTAINERS"})  # fmt: skip
    out.write("\nContainers space usage:\n\n")
    containers = [ContainerRow(c, True) for c in usage.get("Containers") or []]

    class Local:
        def __init__(self, row: ContainerRow) -> None:
            self.row = row

        def template_field(self, name: str):
            if name == "Size":
                return human_size(self.row.c.get("SizeRw") or 0)
            return getattr(self.row, name)

    render([Local(c) for c in containers],
           "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t{{.RunningFor}}\t{{.Status}}"  # noqa: E501
           "\t{{.Names}}", "",
           headers={"ID": "CONTAINER ID", "Image": "IMAGE", "Command": "COMMAND", "LocalVolumes": "LOCAL VOLUMES",  # noqa: E501
                    "Size": "SIZE", "RunningFor": "CREATED", "Status": "STATUS", "Names": "NAMES"})  # fmt: skip  # noqa: E501
    out.write("\nLocal Volumes space usage:\n\n")
    out.write(
        "VOLUME NAME   LINKS     SIZE\n"
        + "".join(
            f"{v.get('Name')}   {(v.get('UsageData') or {}).get('RefCount', 0)}   "
            f"{human_size((v.get('UsageData') or {}).get('Size', 0))}\n"
            for v in usage.get("Volumes") or []
        )
    )
    out.write("\nBuild cache usage: 0B\n\n")
    out.write("CACHE ID   CACHE TYPE   SIZE      CREATED   LAST USED   USAGE     SHARED\n")
    return 0
