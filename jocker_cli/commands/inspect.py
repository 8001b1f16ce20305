"""`jocker inspect` (and `container inspect`, `image inspect`): the daemon's JSON, re-indented as
docker prints it, or a Go template per object. Untyped names try containers, then images."""

from __future__ import annotations

import sys

from jocker_cli.client import CliError

USAGE = "[OPTIONS] NAME|ID [NAME|ID...]"
ARGS = (1, None)


def add_arguments(parser) -> None:
    parser.add_argument("-f", "--format", default="", metavar="string",
                        help="Format output using a custom template:\n'json':             Print in JSON format\n"  # noqa: E501
                             "'TEMPLATE':         Print output using the given Go template")  # fmt: skip
    parser.add_argument(
        "-s", "--size", action="store_true", help="Display total file sizes if the type is container"
    )
    parser.add_argument("--type", default="", metavar="string", help="Only inspect objects of the given type")


def _get(client, path: str, params=None) -> str | None:
    try:
        response = client.request("GET", path, params=params)
    except CliError as e:
        if e.not_found:
            return None
        raise
    return response.read().decode("utf-8")


def run(args, client) -> int:
    import json

    from jocker_cli.output import expand_format
    from jocker_cli.template import Template, TemplateError, indent_json

    kind = args.type
    if args.command_name == "container inspect":
        kind = "container"
    elif args.command_name == "image inspect":
        kind = "image"
    if kind not in ("", "container", "image"):
        raise CliError(f'"{kind}" is not a valid value for --type')
    template = None
    if args.format and args.format != "json":
        try:
            template = Template(expand_format(args.format))
        except TemplateError as e:
            raise CliError(str(e)) from None
    found: list[str] = []
    errors: list[str] = []
    for name in args.positionals:
        raw = None
        if kind in ("", "container"):
            try:
                raw = _get(client, f"/containers/{name}/json", {"size": "1" if args.size else None})
            except CliError as e:
                errors.append(e.message)
                continue
        if raw is None and kind in ("", "image"):
            try:
                raw = _get(client, f"/images/{name}/json")
            except CliError as e:
                errors.append(e.message)
                continue
        if raw is None:
            if kind == "container":
                errors.append(f"Error response from daemon: No such container: {name}")
            elif kind == "image":
                errors.append(f"Error response from daemon: No such image: {name}")
            else:
                errors.append(f"Error: No such object: {name}")
            continue
        found.append(raw)
    out = sys.stdout
    if template is None:
        out.write(indent_json("[" + ",".join(found) + "]") + "\n")
    else:
        for raw in found:
            try:
                out.write(template.execute(json.loads(raw)) + "\n")
            except TemplateError as e:
                raise CliError(str(e)) from None
    for message in errors:
        print(message, file=sys.stderr)
    return 1 if errors else 0
