"""`jocker version`: the client's and the server's versions, laid out as docker's template."""

from __future__ import annotations

import platform
import sys

from jocker_cli.client import CLIENT_API_VERSION, CliError

USAGE = "[OPTIONS]"
ARGS = (0, 0)
CLIENT_VERSION = "0.1.0"
TEMPLATE = """{{with .Client -}}
Client:{{if ne .Platform.Name ""}} {{.Platform.Name}}{{end}}
 Version:\t{{.Version}}
 API version:\t{{.ApiVersion}}{{if ne .ApiVersion .DefaultAPIVersion -}}
 {{" (downgraded from "}}{{.DefaultAPIVersion}}){{end}}
 Python version:\t{{.PythonVersion}}
 OS/Arch:\t{{.Os}}/{{.Arch}}
 Context:\t{{.Context}}
{{- end}}
{{- if .ServerOK}}{{with .Server}}

Server:{{if ne .Platform.Name ""}} {{.Platform.Name}}{{end}}
 {{- range $component := .Components}}
 {{$component.Name}}:
  {{- if eq $component.Name "Engine" }}
  Version:\t{{.Version}}
  API version:\t{{index .Details "ApiVersion"}} (minimum version {{index .Details "MinAPIVersion"}})
  Go version:\t{{index .Details "GoVersion"}}
  Git commit:\t{{index .Details "GitCommit"}}
  Built:\t{{index .Details "BuildTime"}}
  OS/Arch:\t{{index .Details "Os"}}/{{index .Details "Arch"}}
  Experimental:\t{{index .Details "Experimental"}}
  {{- else }}
  Version:\t{{$component.Version}}
  {{- range $key, $value := $component.Details}}
  {{$key}}:\t{{$value}}
  {{- end}}
  {{- end}}
 {{- end}}
{{- end}}{{- end}}
"""


def client_version() -> str:
    return CLIENT_VERSION


def add_arguments(parser) -> None:
    parser.add_argument("-f", "--format", default="", metavar="string",
                        help="Format output using a custom template:\n'json':             Print in JSON format\n"  # noqa: E501
                             "'TEMPLATE':         Print output using the given Go template")  # fmt: skip


def _arch() -> str:
    machine = platform.machine()
    return {"x86_64": "amd64", "aarch64": "arm64"}.get(machine, machine)


def run(args, client) -> int:
    from jocker_cli.output import expand_format, print_json, tabwrite
    from jocker_cli.template import Template, TemplateError

    server = None
    error = None
    try:
        server = client.get_json("/version")
        api = client.api_version
    except CliError as e:
        error = e
        api = CLIENT_API_VERSION
    data = {
        "Client": {
            "Platform": {"Name": "jocker"},
            "Version": CLIENT_VERSION,
            "ApiVersion": api,
            "DefaultAPIVersion": CLIENT_API_VERSION,
            "PythonVersion": platform.python_version(),
            "Os": sys.platform.rstrip("0123456789"),
            "Arch": _arch(),
            "Context": "default",
        },
        "Server": server,
        "ServerOK": server is not None,
    }
    if args.format == "json":
        print_json({k: v for k, v in data.items() if k != "ServerOK"})
    else:
        try:
            text = Template(expand_format(args.format) if args.format else TEMPLATE).execute(data)
        except TemplateError as e:
            raise CliError(str(e)) from None
        if args.format:
            print(text)
        else:
            sys.stdout.write(tabwrite(text, minwidth=20, padding=1))
    if error is not None:
        raise error
    return 0
