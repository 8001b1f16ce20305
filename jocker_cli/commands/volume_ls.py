"""`jocker volume ls`: GET /volumes, sorted by name as docker's CLI does."""

from __future__ import annotations

from jocker_cli.commands import add_format, filters_param

USAGE = "[OPTIONS]"
ARGS = (0, 0)
DEFAULT = "table {{.Driver}}\t{{.Name}}"
HEADERS = {
    "Name": "VOLUME NAME", "Driver": "DRIVER", "Scope": "SCOPE", "Mountpoint": "MOUNTPOINT",
    "Labels": "LABELS", "Links": "LINKS", "Size": "SIZE", "Availability": "AVAILABILITY",
    "Group": "GROUP", "Status": "STATUS",
}  # fmt: skip


def add_arguments(parser) -> None:
    parser.add_argument(
        "--cluster",
        action="store_true",
        help="Display only cluster volumes, and use cluster volume list formatting",
    )
    parser.add_argument("-f", "--filter", action="append", default=[], metavar="filter",
                        help="Provide filter values (e.g. \"dangling=true\")")  # fmt: skip
    add_format(parser)
    parser.add_argument("-q", "--quiet", action="store_true", help="Only display volume names")


class VolumeRow:
    """docker's volume formatter context (cli/command/formatter/volume.go)."""

    def __init__(self, volume: dict) -> None:
        self.volume = volume
        self.Name = volume.get("Name", "")
        self.Driver = volume.get("Driver", "")
        self.Scope = volume.get("Scope", "")
        self.Mountpoint = volume.get("Mountpoint", "")
        self.Availability = self.Group = self.Status = "N/A"

    @property
    def Labels(self) -> str:
        labels = self.volume.get("Labels") or {}
        return ",".join(f"{k}={v}" for k, v in labels.items())

    def Label(self, name: str) -> str:
        return (self.volume.get("Labels") or {}).get(name, "")

    @property
    def Links(self) -> str:
        usage = self.volume.get("UsageData")
        return str(usage["RefCount"]) if usage else "N/A"

    @property
    def Size(self) -> str:
        from jocker_cli.output import human_size

        usage = self.volume.get("UsageData")
        return human_size(usage["Size"]) if usage and usage.get("Size", -1) >= 0 else "N/A"

    def to_json(self) -> dict:
        keys = ("Availability", "Driver", "Group", "Labels", "Links", "Mountpoint", "Name", "Scope", "Size",
                "Status")  # fmt: skip
        return {k: getattr(self, k) for k in keys}


def natural_key(name: str) -> list:
    """sortorder.NaturalLess: digit runs compare as numbers."""
    import re

    return [
        (0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", name) if part
    ]


def run(args, client) -> int:
    from jocker_cli.output import render

    listing = client.get_json("/volumes", {"filters": filters_param(args.filter)})
    volumes = sorted(listing.get("Volumes") or [], key=lambda v: natural_key(v.get("Name", "")))
    render([VolumeRow(v) for v in volumes], args.format, DEFAULT, headers=HEADERS,
           quiet=args.quiet, quiet_field="Name")  # fmt: skip
    return 0
