"""The CLI's pure parts, without a daemon: docker's table layout, units, templates, the create body
(against the body the docker CLI sent in trace 58) and progress rendering (trace 68b)."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from jocker_cli.commands import CommandParser
from jocker_cli.output import bytes_size, human_duration, human_size, tabwrite
from jocker_cli.progress import display
from jocker_cli.template import Template, indent_json

TRACES = Path(__file__).resolve().parents[3] / "shared" / "traces"


def test_tabwriter_as_docker_pads():
    text = "CONTAINER ID\tIMAGE\tNAMES\n9bac57c17bdf\tbusybox\ta1\n"
    assert tabwrite(text) == "CONTAINER ID   IMAGE     NAMES\n9bac57c17bdf   busybox   a1\n"


@pytest.mark.parametrize(
    ("size", "precision", "text"),
    [(1984172, 3, "1.98MB"), (1983000, 4, "1.983MB"), (533000, 3, "533kB"), (0, 3, "0B"), (999, 4, "999B"),
     (1000, 4, "1kB"), (300293, 4, "300.3kB")],
)  # fmt: skip
def test_human_size(size, precision, text):
    assert human_size(size, precision) == text


def test_bytes_size_and_durations():
    assert bytes_size(67108864) == "64MiB"
    assert bytes_size(327680) == "320KiB"
    assert [human_duration(s) for s in (0.5, 1, 5, 61, 150, 3600, 7200, 86400 * 3, 86400 * 400 * 2)] == [
        "Less than a second", "1 second", "5 seconds", "About a minute", "2 minutes", "About an hour",
        "2 hours", "3 days", "2 years",
    ]  # fmt: skip


def test_templates():
    data = {
        "State": {"Status": "running", "Pid": 7},
        "Config": {"Labels": {"b": "2", "a": "<1>"}},
        "L": ["x", "y"],
    }
    assert Template("{{.State.Status}} {{.State.Pid}}").execute(data) == "running 7"
    assert Template("{{json .Config}}").execute(data) == '{"Labels":{"b":"2","a":"\\u003c1\\u003e"}}'
    assert Template("{{.Config.Labels}} {{.Nope}}").execute(data) == "map[a:<1> b:2] <no value>"
    assert Template('{{range .L}}[{{.}}]{{end}} {{join .L ","}} {{len .L}}').execute(data) == "[x][y] x,y 2"
    assert Template('{{if eq .State.Status "running"}}up{{else}}down{{end}}').execute(data) == "up"
    assert Template('{{index .Config.Labels "b" | printf "%s!"}}').execute(data) == "2!"


def test_indent_json_keeps_tokens_and_escapes_html():
    assert indent_json('[{"a":1,"b":[],"c":{"d":"<x>"}}]') == (
        '[\n    {\n        "a": 1,\n        "b": [],\n        "c": {\n            "d": "\\u003cx\\u003e"\n'
        "        }\n    }\n]"
    )


def _trace_body(name: str, marker: str) -> dict:
    text = (TRACES / name).read_text()
    line = next(line for line in text.splitlines() if ">> body" in line and marker in line)
    return json.loads(line.split(": ", 1)[1])


def test_create_body_is_the_docker_cli_one():
    if not TRACES.exists():
        pytest.skip("../shared/traces is not present")
    from jocker_cli import runopts
    from jocker_cli.commands import run

    argv = ["-d", "--name", "jtr-rich", "-e", "A=1", "-e", "B=two", "-w", "/tmp", "-u", "0:0", "--entrypoint", "/bin/sh", "-v", "jtr-data:/data", "-v", "/tmp/trace/bctx:/ctx:ro", "--mount", "type=tmpfs,destination=/scratch", "-l", "jtr=1", "-l", "role=test", "--restart", "on-failure:2", "--hostname", "jtrhost", "--network", "bridge", "--add-host", "foo:127.0.0.2", "--memory", "64m", "--cpus", "0.5", "--cap-add", "NET_ADMIN", "--privileged=false", "--init", "busybox", "-c"] + ["sleep 300"]  # fmt: skip  # noqa: E501, RUF005
    args = CommandParser("run", "", run).parse(argv)
    image, *command = args.positionals
    body = runopts.create_body(args, image, command, console=(0, 0))
    expected = _trace_body("58-run-rich-create.txt", '"Hostname":"jtrhost"')
    expected["Env"] = ["A=1", "B=two"]  # docker's map loses the order; ours keeps the user's
    assert json.dumps(body) == json.dumps(expected)
    args = CommandParser("run", "", run).parse(["--rm", "busybox", "echo", "hi"])
    body = runopts.create_body(args, "busybox", ["echo", "hi"], console=(0, 0))
    assert json.dumps(body, separators=(",", ":")) == json.dumps(
        _trace_body("05-run-rm-echo.txt", '"Cmd":["echo","hi"]'), separators=(",", ":")
    )


PULL = [
    {"status": "Pulling from jtr/scratchy", "id": "v1"},
    {"status": "Pulling fs layer", "progressDetail": {}, "id": "4b3652b2b208"},
    {"status": "Downloading", "progressDetail": {"current": 3678, "total": 300293}, "id": "4b3652b2b208"},
    {"status": "Download complete", "progressDetail": {}, "id": "4b3652b2b208"},
    {"status": "Extracting", "progressDetail": {"current": 300293, "total": 300293}, "id": "4b3652b2b208"},
    {"status": "Pull complete", "progressDetail": {}, "id": "4b3652b2b208"},
    {"status": "Digest: sha256:7108b0953de5547ce183a6887f9961cadb7b0c5cab257cf89c5a3b70918cf1ea"},
    {"status": "Status: Downloaded newer image for 127.0.0.1:5055/jtr/scratchy:v1"},
]


def test_progress_plain_lines_off_a_terminal():
    out = io.StringIO()
    display(PULL, out, terminal=False)
    assert out.getvalue() == (  # the docker CLI's stdout in trace 68b, less the final reference line
        "v1: Pulling from jtr/scratchy\n4b3652b2b208: Pulling fs layer\n4b3652b2b208: Download complete\n"
        "4b3652b2b208: Pull complete\n"
        "Digest: sha256:7108b0953de5547ce183a6887f9961cadb7b0c5cab257cf89c5a3b70918cf1ea\n"
        "Status: Downloaded newer image for 127.0.0.1:5055/jtr/scratchy:v1\n"
    )


def test_progress_bars_on_a_terminal():
    out = io.StringIO()
    out.isatty = lambda: True  # type: ignore[method-assign]
    display(PULL, out, terminal=True)
    text = out.getvalue()
    assert "\x1b[1A\x1b[2K\r4b3652b2b208: Downloading [>" in text  # redrawn in place, one line per layer
    assert re.search(r"Extracting \[=+>\]  300\.3kB/300\.3kB", text)
    assert text.endswith("Status: Downloaded newer image for 127.0.0.1:5055/jtr/scratchy:v1\n")


def test_stream_error_is_the_message():
    from jocker_cli.client import CliError

    with pytest.raises(CliError, match="manifest unknown"):
        display(
            [{"errorDetail": {"message": "manifest unknown"}, "error": "manifest unknown"}], io.StringIO()
        )
