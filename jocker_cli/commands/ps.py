"""`jocker ps`: GET /containers/json, printed with docker's container formatter."""

from __future__ import annotations

from jocker_cli.commands import add_format, filters_param

USAGE = "[OPTIONS]"
ARGS = (0, 0)
DEFAULT = "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}"
HEADERS = {
    "ID": "CONTAINER ID", "Image": "IMAGE", "Command": "COMMAND", "CreatedAt": "CREATED AT",
    "RunningFor": "CREATED", "Ports": "PORTS", "State": "STATE", "Status": "STATUS", "Size": "SIZE",
    "Names": "NAMES", "Labels": "LABELS", "Mounts": "MOUNTS", "LocalVolumes": "LOCAL VOLUMES",
    "Networks": "NETWORKS", "Platform": "PLATFORM",
}  # fmt: skip


def add_arguments(parser) -> None:
    parser.add_argument(
        "-a", "--all", action="store_true", help="Show all containers (default shows just running)"
    )
    parser.add_argument(
        "-f",
        "--filter",
        action="append",
        default=[],
        metavar="filter",
        help="Filter output based on conditions provided",
    )
    add_format(parser)
    parser.add_argument(
        "-n",
        "--last",
        type=int,
        default=-1,
        metavar="int",
        help="Show n last created containers (includes all states) (default -1)",
    )
    parser.add_argument(
        "-l", "--latest", action="store_true", help="Show the latest created container (includes all states)"
    )
    parser.add_argument("--no-trunc", action="store_true", help="Don't truncate output")
    parser.add_argument("-q", "--quiet", action="store_true", help="Only display container IDs")
    parser.add_argument("-s", "--size", action="store_true", help="Display total file sizes")


def _go_quote(text: str) -> str:
    import json

    return json.dumps(text, ensure_ascii=False)


def join_host_port(ip: str, port: int) -> str:
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def displayable_ports(ports: list[dict]) -> str:
    """docker's DisplayablePorts: consecutive ports grouped, host mappings last."""
    ports = sorted(
        ports or [],
        key=lambda p: (p.get("PrivatePort", 0), p.get("IP", ""), p.get("PublicPort", 0), p.get("Type", "")),
    )
    groups: dict[str, list[int]] = {}
    order: list[str] = []
    result: list[str] = []
    mappings: list[str] = []

    def form(key: str, first: int, last: int) -> str:
        ip, _, kind = key.rpartition("/")
        group = str(first) if first == last else f"{first}-{last}"
        if ip:
            group = f"{ip}:{group}->{group}"
        return f"{group}/{kind}"

    for port in ports:
        current = port.get("PrivatePort", 0)
        key = port.get("Type", "")
        if port.get("IP"):
            if port.get("PublicPort") != current:
                host = join_host_port(port["IP"], port.get("PublicPort", 0))
                mappings.append(f"{host}->{current}/{port.get('Type', '')}")
                continue
            key = f"{port['IP']}/{key}"
        group = groups.get(key)
        if group is None:
            groups[key] = [current, current]
            order.append(key)
            continue
        if current == group[1] + 1:
            group[1] = current
            continue
        result.append(form(key, group[0], group[1]))
        groups[key] = [current, current]
    result += [form(key, *groups[key]) for key in order]
    return ", ".join(result + mappings)


class ContainerRow:
    def __init__(self, item: dict, trunc: bool) -> None:
        self.c = item
        self.trunc = trunc

    @property
    def ID(self) -> str:
        ident = self.c.get("Id") or ""
        return ident[:12] if self.trunc else ident

    @property
    def Names(self) -> str:
        names = [n[1:] if n.startswith("/") else n for n in self.c.get("Names") or []]
        if self.trunc:
            for name in names:
                if "/" not in name:
                    names = [name]
                    break
        return ",".join(names)

    @property
    def Image(self) -> str:
        from jocker_cli.commands.images import familiar
        from jocker_cli.output import truncate_id

        image = self.c.get("Image") or ""
        if not image:
            return "<no image>"
        if self.trunc:
            image_id = self.c.get("ImageID") or ""
            if truncate_id(image_id) == truncate_id(image):
                return truncate_id(image)
            name = image.split("@", 1)[0]
            return familiar(name)
        return image

    @property
    def Command(self) -> str:
        from jocker_cli.output import ellipsis

        command = self.c.get("Command") or ""
        return _go_quote(ellipsis(command, 20) if self.trunc else command)

    @property
    def CreatedAt(self) -> str:
        from jocker_cli.output import go_time

        return go_time(self.c.get("Created") or 0)

    @property
    def RunningFor(self) -> str:
        from jocker_cli.output import since

        return since(self.c.get("Created") or 0)

    @property
    def Ports(self) -> str:
        return displayable_ports(self.c.get("Ports") or [])

    @property
    def State(self) -> str:
        return self.c.get("State") or ""

    @property
    def Status(self) -> str:
        return self.c.get("Status") or ""

    @property
    def Size(self) -> str:
        from jocker_cli.output import human_size

        rw = human_size(self.c.get("SizeRw") or 0, 3)
        root = self.c.get("SizeRootFs") or 0
        return f"{rw} (virtual {human_size(root, 3)})" if root > 0 else rw

    @property
    def Labels(self) -> str:
        labels = self.c.get("Labels") or {}
        return ",".join(f"{k}={v}" for k, v in labels.items())

    def Label(self, name: str) -> str:
        return (self.c.get("Labels") or {}).get(name, "")

    @property
    def Mounts(self) -> str:
        from jocker_cli.output import ellipsis

        names = []
        for mount in self.c.get("Mounts") or []:
            name = mount.get("Name") or mount.get("Source") or ""
            names.append(ellipsis(name, 15) if self.trunc else name)
        return ",".join(names)

    @property
    def LocalVolumes(self) -> str:
        return str(sum(1 for m in self.c.get("Mounts") or [] if m.get("Driver") == "local"))

    @property
    def Networks(self) -> str:
        networks = (self.c.get("NetworkSettings") or {}).get("Networks") or {}
        return ",".join(sorted(networks))

    @property
    def Platform(self) -> object:
        return None

    def to_json(self) -> dict:
        keys = ("Command", "CreatedAt", "ID", "Image", "Labels", "LocalVolumes", "Mounts", "Names", "Networks",  # noqa: E501
                "Platform", "Ports", "RunningFor", "Size", "State", "Status")  # fmt: skip
        return {k: getattr(self, k) for k in keys}


def wants_size(format_spec: str | None) -> bool:
    """docker asks for sizes when the template uses .Size (`{{json .}}` does; plain "json" does not)."""
    return bool(format_spec) and (".Size" in format_spec or "json ." in format_spec)


def run(args, client) -> int:
    from jocker_cli.output import render

    limit = 1 if args.latest else args.last
    size = args.size or (not args.quiet and wants_size(args.format))
    params = {
        "all": "1" if args.all or limit > 0 else None,
        "limit": str(limit) if limit > 0 else None,
        "size": "1" if size else None,
        "filters": filters_param(args.filter),
    }
    items = client.get_json("/containers/json", params)
    rows = [ContainerRow(item, not args.no_trunc) for item in items]
    default = DEFAULT + ("\t{{.Size}}" if args.size else "")
    render(rows, args.format, default, headers=HEADERS, quiet=args.quiet, quiet_field="ID")
    return 0
