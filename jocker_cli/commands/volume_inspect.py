"""`jocker volume inspect`: GET /volumes/{name}, printed as docker prints it (found objects as
one JSON array, or a Go template per object; the errors after)."""

from __future__ import annotations

import sys

from jocker_cli.client import CliError

USAGE = "[OPTIONS] VOLUME [VOLUME...]"
ARGS = (1, None)


def add_arguments(parser) -> None:
    parser.add_argument("-f", "--format", default="", metavar="string",
                        help="Format output using a custom template:\n'json':             Print in JSON format\n"  # noqa: E501
                             "'TEMPLATE':         Print output using the given Go template")  # fmt: skip


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
    found: list[str] = []
    errors: list[str] = []
    for name in args.positionals:
        try:
            found.append(client.request("GET", f"/volumes/{name}").read().decode("utf-8"))
        except CliError as e:
            errors.append(e.message)
    if template is None:
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
