"""`jocker network inspect`: GET /networks/{id}, printed as docker prints it (found objects as one
JSON array, one compact line for `--format json`, or a Go template per object; the errors after)."""

from __future__ import annotations

from jocker_cli.client import CliError

USAGE = "[OPTIONS] NETWORK [NETWORK...]"
ARGS = (1, None)


def add_arguments(parser) -> None:
    parser.add_argument("-f", "--format", default="", metavar="string",
                        help="Format output using a custom template:\n'json':             Print in JSON format\n"  # noqa: E501
                             "'TEMPLATE':         Print output using the given Go template")  # fmt: skip
    parser.add_argument("-v", "--verbose", action="store_true", help="Verbose output for diagnostics")


def run(args, client) -> int:
    from jocker_cli.inspecting import InspectFormat

    output = InspectFormat(args.format)
    query = "?verbose=true" if args.verbose else ""
    found: list[str] = []
    errors: list[str] = []
    for name in args.positionals:
        try:
            found.append(client.request("GET", f"/networks/{name}{query}").read().decode("utf-8"))
        except CliError as e:
            errors.append(e.message)
    return output.print(found, errors)
