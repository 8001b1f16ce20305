"""`jocker volume inspect`: GET /volumes/{name}, printed as docker prints it (found objects as
one JSON array, a compact one for `--format json`, or a Go template per object; the errors
after)."""

from __future__ import annotations

from jocker_cli.client import CliError

USAGE = "[OPTIONS] VOLUME [VOLUME...]"
ARGS = (1, None)


def add_arguments(parser) -> None:
    parser.add_argument("-f", "--format", default="", metavar="string",
                        help="Format output using a custom template:\n'json':             Print in JSON format\n"  # noqa: E501
                             "'TEMPLATE':         Print output using the given Go template")  # fmt: skip


def run(args, client) -> int:
    from jocker_cli.inspecting import InspectFormat

    output = InspectFormat(args.format)
    found: list[str] = []
    errors: list[str] = []
    for name in args.positionals:
        try:
            found.append(client.request("GET", f"/volumes/{name}").read().decode("utf-8"))
        except CliError as e:
            errors.append(e.message)
    return output.print(found, errors)
