"""`jocker events`: GET /events (since/until converted client-side), one line per event."""

from __future__ import annotations

import sys

from jocker_cli.commands import add_format, filters_param

USAGE = "[OPTIONS]"
ARGS = (0, 0)


def add_arguments(parser) -> None:
    parser.add_argument("-f", "--filter", action="append", default=[], metavar="filter",
                        help="Filter output based on conditions provided")  # fmt: skip
    add_format(parser)
    parser.add_argument(
        "--since", default="", metavar="string", help="Show all events created since timestamp"
    )
    parser.add_argument("--until", default="", metavar="string", help="Stream events until this timestamp")


def rfc3339_nano_fixed(nanoseconds: int) -> str:
    """Go's "2006-01-02T15:04:05.000000000Z07:00" in local time."""
    import time

    seconds, nanos = divmod(nanoseconds, 1_000_000_000)
    local = time.localtime(seconds)
    offset = time.strftime("%z", local)
    zone = "Z" if offset in ("+0000", "-0000") else offset[:3] + ":" + offset[3:]
    return time.strftime("%Y-%m-%dT%H:%M:%S", local) + f".{nanos:09d}" + zone


def pretty(event: dict) -> str:
    text = ""
    if event.get("timeNano"):
        text = rfc3339_nano_fixed(int(event["timeNano"])) + " "
    elif event.get("time"):
        text = rfc3339_nano_fixed(int(event["time"]) * 1_000_000_000) + " "
    actor = event.get("Actor") or {}
    text += f"{event.get('Type', '')} {event.get('Action', '')} {actor.get('ID', '')}"
    attributes = actor.get("Attributes") or {}
    if attributes:
        text += " (" + ", ".join(f"{k}={attributes[k]}" for k in sorted(attributes)) + ")"
    return text


def run(args, client) -> int:
    from jocker_cli.commands.logs import timestamp
    from jocker_cli.output import expand_format
    from jocker_cli.template import Template, go_json

    params = {
        "since": timestamp(args.since),
        "until": timestamp(args.until),
        "filters": filters_param(args.filter),
    }
    template = None
    if args.format and args.format != "json":
        template = Template(expand_format(args.format))
    response = client.request("GET", "/events", params=params)
    out = sys.stdout
    for event in response.iter_json():
        if args.format == "json":
            out.write(go_json(event) + "\n")
        elif template is not None:
            out.write(template.execute(event) + "\n")
        else:
            out.write(pretty(event) + "\n")
        out.flush()
    return 0
