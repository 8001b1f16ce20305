"""`jocker network ls`: GET /networks, sorted by name as docker's CLI does (formatter/network.go)."""

from __future__ import annotations

from jocker_cli.commands import add_format, filters_param

USAGE = "[OPTIONS]"
ARGS = (0, 0)
DEFAULT = "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}"
HEADERS = {
    "ID": "NETWORK ID", "Name": "NAME", "Driver": "DRIVER", "Scope": "SCOPE", "IPv6": "IPV6",
    "IPv4": "IPV4", "Internal": "INTERNAL", "Labels": "LABELS", "CreatedAt": "CREATED AT",
}  # fmt: skip


def add_arguments(parser) -> None:
    parser.add_argument("-f", "--filter", action="append", default=[], metavar="filter",
                        help="Provide filter values (e.g. \"driver=bridge\")")  # fmt: skip
    add_format(parser)
    parser.add_argument("--no-trunc", action="store_true", help="Do not truncate the output")
    parser.add_argument("-q", "--quiet", action="store_true", help="Only display network IDs")


def go_time_nano(text: str) -> str:
    """Go's time.Time.String() of an RFC 3339 text, in local time, nanoseconds kept
    ("2026-11-25 15:12:24.034070086 +0000 UTC")."""
    import calendar
    import time

    main, _, fraction = text.rstrip("Z").partition(".")
    seconds = calendar.timegm(time.strptime(main, "%Y-%m-%dT%H:%M:%S"))
    local = time.localtime(seconds)
    digits = fraction.rstrip("0")
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", local) + (f".{digits}" if digits else "")
    return f"{stamp} {time.strftime('%z', local)} {time.strftime('%Z', local)}"


class NetworkRow:
    """docker's network formatter context."""

    def __init__(self, network: dict, *, trunc: bool = True) -> None:
        self.network = network
        full = network.get("Id", "")
        self.ID = full[:12] if trunc else full
        self.Name = network.get("Name", "")
        self.Driver = network.get("Driver", "")
        self.Scope = network.get("Scope", "")
        self.IPv6 = "true" if network.get("EnableIPv6") else "false"
        self.IPv4 = "true" if network.get("EnableIPv4") else "false"
        self.Internal = "true" if network.get("Internal") else "false"

    @property
    def Labels(self) -> str:
        labels = self.network.get("Labels") or {}
        return ",".join(f"{k}={v}" for k, v in labels.items())

    def Label(self, name: str) -> str:
        return (self.network.get("Labels") or {}).get(name, "")

    @property
    def CreatedAt(self) -> str:
        return go_time_nano(self.network.get("Created", "0001-01-01T00:00:00Z"))

    def to_json(self) -> dict:
        keys = ("CreatedAt", "Driver", "ID", "IPv4", "IPv6", "Internal", "Labels", "Name", "Scope")
        return {k: getattr(self, k) for k in keys}


def run(args, client) -> int:
    from jocker_cli.commands.volume_ls import natural_key
    from jocker_cli.output import render

    networks = client.get_json("/networks", {"filters": filters_param(args.filter)}) or []
    networks = sorted(networks, key=lambda n: natural_key(n.get("Name", "")))
    rows = [NetworkRow(n, trunc=not args.no_trunc) for n in networks]
    render(rows, args.format, DEFAULT, headers=HEADERS, quiet=args.quiet, quiet_field="ID")
    return 0
