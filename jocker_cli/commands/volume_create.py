"""`jocker volume create`: POST /volumes/create; prints the volume's name."""

from __future__ import annotations

import argparse

from jocker_cli.client import CliError

USAGE = "[OPTIONS] [VOLUME]"
ARGS = (0, 1)


def add_arguments(parser) -> None:
    parser.add_argument(
        "-d", "--driver", default="local", metavar="string", help="Specify volume driver name"
    )
    parser.add_argument(
        "--label", action="append", default=[], metavar="list", help="Set metadata for a volume"
    )
    parser.add_argument("--name", default="", metavar="string", help=argparse.SUPPRESS)
    parser.add_argument("-o", "--opt", action="append", default=[], metavar="map",
                        help="Set driver specific options")  # fmt: skip


def key_values(values: list[str]) -> dict[str, str]:
    """docker's ConvertKVStringsToMap: "k=v" → {k: v}, a bare "k" → {k: ""}."""
    out = {}
    for value in values:
        key, _, rest = value.partition("=")
        out[key] = rest
    return out


def run(args, client) -> int:
    name = args.name
    if args.positionals:
        if name:
            raise CliError("conflicting options: either specify --name or provide positional arg, not both")
        name = args.positionals[0]
    body: dict = {"Driver": args.driver}
    if args.opt:
        for opt in args.opt:
            if "=" not in opt:
                raise CliError(
                    f'invalid argument "{opt}" for "-o, --opt" flag: bad format for option: {opt}\n'
                    "See 'jocker volume create --help'.",
                    125,
                )
        body["DriverOpts"] = key_values(args.opt)
    if args.label:
        body["Labels"] = key_values(args.label)
    if name:
        body["Name"] = name
    volume = client.request("POST", "/volumes/create", json_body=body).json()
    print(volume.get("Name", ""))
    return 0
