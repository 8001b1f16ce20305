"""`jocker network inspect`: GET /networks/{id}, printed as docker prints it (found objects as one
JSON array, one compact line for `--format json`, or a Go template per object; the errors after)."""

from __future__ import annotations

import sys

from jocker_cli.client import CliError

USAGE = "[OPTIONS] NETWORK [NETWORK...]"
ARGS = (1, None)


def add_arguments(parser) -> None:
    parser.add_argument("-f", "--format", default="", metavar="string",
                        help="Format output using a custom template:\n'json':             Print in JSON format\n"  # noqa: E501
                             "'TEMPLATE':         Print output using the given Go template")  # fmt: skip
    parser.add_argument("-v", "--verbose", action="store_true", help="Verbose output for diagnostics")


def run(args, client) -> int:
    import json

    from jocker_cli.output import expand_format
    from jocker_cli.template import Template, TemplateError, indent_json

    template = None
    if args.format and args.format != "json":
        try:
            template = Template(expand_format(args.format))
        except TemplateError as e:
            raise CliError(str(e)) from None
    query = "?verbose=true" if args.verbose else ""
    found: list[str] = []
    errors: list[str] = []
    for name in args.positionals:
        try:
            found.append(client.request("GET", f"/networks/{name}{query}").read().decode("utf-8").strip())
        except CliError as e:
            errors.append(e.message)
    if args.format == "json":
        sys.stdout.write("[" + ",".join(found) + "]\n")
    elif template is None:
        sys.stdout.write(indent_json("[" + ",".join(found) + "]") + "\n")
    else:
        for raw in found:
            try:
                sys.stdout.write(template.execute(json.loads(raw)) + "\n")
            except TemplateError as e:
                raise CliError(str(e)) from None
    for message in errors:
        print(message, file=sys.stderr)
    return 1 if errors else 0
