"""`jocker logs`: inspect (Config.Tty decides raw or demultiplexed), then GET /containers/{id}/logs
with the full id, as the docker CLI does; -f follows until the container exits."""

from __future__ import annotations

import sys

USAGE = "[OPTIONS] CONTAINER"
ARGS = (1, 1)


def add_arguments(parser) -> None:
    parser.add_argument("--details", action="store_true", help="Show extra details provided to logs")
    parser.add_argument("-f", "--follow", action="store_true", help="Follow log output")
    parser.add_argument(
        "--since",
        default="",
        metavar="string",
        help='Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)',  # noqa: E501
    )
    parser.add_argument(
        "-n",
        "--tail",
        default="all",
        metavar="string",
        help='Number of lines to show from the end of the logs (default "all")',
    )
    parser.add_argument("-t", "--timestamps", action="store_true", help="Show timestamps")
    parser.add_argument(
        "--until",
        default="",
        metavar="string",
        help='Show logs before a timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)',  # noqa: E501
    )


def timestamp(value: str, now: float | None = None) -> str | None:
    """docker's GetTimestamp: a duration before now, an RFC 3339 time, or unix seconds as given."""
    import time

    from jocker_cli.client import CliError
    from jocker_cli.output import parse_rfc3339
    from jocker_cli.runopts import parse_duration_ns

    if not value:
        return None
    now = time.time() if now is None else now
    if value != "0":
        try:
            return str(int(now - parse_duration_ns(value) / 1e9))
        except CliError:
            pass
    if "T" in value or value.count("-") >= 2:
        text = value
        if "T" not in text:
            text += "T00:00:00"
        if not (text.endswith("Z") or "+" in text or text.count("-") == 3):
            offset = time.strftime("%z", time.localtime(now))
            text += offset[:3] + ":" + offset[3:]
        seconds = parse_rfc3339(text)
        return f"{int(seconds)}.{round((seconds % 1) * 1e9):09d}"
    return value


def run(args, client) -> int:
    from jocker_cli.hijack import demux_frames

    info = client.get_json(f"/containers/{args.positionals[0]}/json")
    tty = bool((info.get("Config") or {}).get("Tty"))
    params = {
        "stderr": "1", "stdout": "1", "tail": args.tail,
        "follow": "1" if args.follow else None, "timestamps": "1" if args.timestamps else None,
        "since": timestamp(args.since), "until": timestamp(args.until), "details": "1" if args.details else None,  # noqa: E501
    }  # fmt: skip
    response = client.request("GET", f"/containers/{info['Id']}/logs", params=params)
    out, err = sys.stdout.buffer, sys.stderr.buffer
    if tty:
        for chunk in response.iter_chunks():
            out.write(chunk)
            out.flush()
        return 0
    for stream, payload in demux_frames(response.iter_chunks()):
        target = err if stream == 2 else out
        target.write(payload)
        target.flush()
    return 0
