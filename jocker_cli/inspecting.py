"""What every `inspect` command prints, as the docker CLI's inspect package does: the objects
found as one indented JSON array (no --format), one compact array (`--format json`), or a Go
template's output per object; then one line per error on stderr, and exit code 1 if any."""

from __future__ import annotations

import sys

from jocker_cli.client import CliError


class InspectFormat:
    """The --format of an inspect command, checked before any request (docker fails early)."""

    def __init__(self, text: str) -> None:
        from jocker_cli.output import expand_format
        from jocker_cli.template import Template, TemplateError

        self.text = text
        self.template = None
        if text and text != "json":
            try:
                self.template = Template(expand_format(text))
            except TemplateError as e:
                raise CliError(str(e)) from None

    def print(self, found: list[str], errors: list[str]) -> int:
        """`found`: each object's JSON as the daemon sent it (compact)."""
        import json

        from jocker_cli.template import TemplateError, indent_json

        out = sys.stdout
        raws = [raw.strip() for raw in found]
        if self.text == "json":
            out.write("[" + ",".join(raws) + "]\n")
        elif self.template is None:
            out.write(indent_json("[" + ",".join(raws) + "]") + "\n")
        else:
            for raw in raws:
                try:
                    out.write(self.template.execute(json.loads(raw)) + "\n")
                except TemplateError as e:
                    raise CliError(str(e)) from None
        out.flush()  # the objects, then the errors, as the docker CLI writes them
        for message in errors:
            print(message, file=sys.stderr)
        return 1 if errors else 0
