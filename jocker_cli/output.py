"""What the docker CLI prints, reproduced: tables, --format, human sizes and durations.

- `tabwrite()` is Go's text/tabwriter as docker configures it (minwidth 10, tabwidth 1,
  padding 3, pad with spaces, no flags): a column is as wide as its widest cell plus 3, and at
  least 10; the last cell of a line is not padded.
- `human_size()` is go-units' HumanSizeWithPrecision (decimal units: "1.98MB", "533kB"),
  `bytes_size()` its BytesSize (binary: "1.5MiB"), `human_duration()` its HumanDuration
  ("Less than a second", "About a minute", "2 hours").
- `render()` prints a list of rows for a `--format` value: "table …", "json", a Go template,
  or the command's default table.
"""

from __future__ import annotations

import sys
import time

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing costs start-up time
    from collections.abc import Callable, Sequence
    from typing import Any

DECIMAL_UNITS = ("B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB")
BINARY_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB")


# -- go-units -----------------------------------------------------------------------------------


def _go_g(value: float, precision: int) -> str:
    """Go's %.{precision}g (trailing zeros dropped, e+XX exponents)."""
    text = f"{value:.{precision}g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        sign = exponent[0]
        digits = exponent[1:].lstrip("0").rjust(2, "0")
        text = f"{mantissa}e{sign}{digits}"
    return text


def _scaled(size: float, base: float, units: Sequence[str]) -> tuple[float, str]:
    index = 0
    while size >= base and index < len(units) - 1:
        size /= base
        index += 1
    return size, units[index]


def human_size(size: float, precision: int = 4) -> str:
    value, unit = _scaled(float(size), 1000.0, DECIMAL_UNITS)
    return f"{_go_g(value, precision)}{unit}"


def bytes_size(size: float) -> str:
    value, unit = _scaled(float(size), 1024.0, BINARY_UNITS)
    return f"{_go_g(value, 4)}{unit}"


def human_duration(seconds: float) -> str:
    whole = int(seconds)
    if whole < 1:
        return "Less than a second"
    if whole == 1:
        return "1 second"
    if whole < 60:
        return f"{whole} seconds"
    minutes = int(seconds / 60)
    if minutes == 1:
        return "About a minute"
    if minutes < 60:
        return f"{minutes} minutes"
    hours = round(seconds / 3600)
    if hours == 1:
        return "About an hour"
    if hours < 48:
        return f"{hours} hours"
    if hours < 24 * 7 * 2:
        return f"{hours // 24} days"
    if hours < 24 * 30 * 2:
        return f"{hours // 24 // 7} weeks"
    if hours < 24 * 365 * 2:
        return f"{hours // 24 // 30} months"
    return f"{int(seconds / 3600) // 24 // 365} years"


def since(unix_seconds: float) -> str:
    """ "2 minutes ago" for a unix time (docker computes it client-side)."""
    return human_duration(time.time() - unix_seconds) + " ago"


def go_time(unix_seconds: float) -> str:
    """Go's time.Time.String() in local time: "2026-11-24 05:20:12 +0000 UTC"."""
    local = time.localtime(unix_seconds)
    offset = time.strftime("%z", local)
    return time.strftime("%Y-%m-%d %H:%M:%S ", local) + f"{offset} {time.strftime('%Z', local)}"


def parse_rfc3339(text: str) -> float:
    """Seconds since the epoch for "2026-11-24T05:20:12.123456789Z" (nanoseconds allowed)."""
    import calendar

    text = text.strip()
    if not text or text.startswith("0001-01-01"):
        return 0.0
    main, offset = text, 0
    if main.endswith("Z"):
        main = main[:-1]
    elif len(main) > 6 and main[-6] in "+-" and main[-3] == ":":
        sign = 1 if main[-6] == "+" else -1
        offset = sign * (int(main[-5:-3]) * 3600 + int(main[-2:]) * 60)
        main = main[:-6]
    fraction = 0.0
    if "." in main:
        main, frac = main.split(".", 1)
        fraction = float("0." + frac) if frac else 0.0
    stamp = time.strptime(main, "%Y-%m-%dT%H:%M:%S")
    return calendar.timegm(stamp) + fraction - offset


def truncate_id(identifier: str) -> str:
    if ":" in identifier:
        identifier = identifier.split(":", 1)[1]
    return identifier[:12]


def ellipsis(text: str, width: int) -> str:
    if width <= 0:
        return ""
    if len(text) <= width:
        return text
    if width == 1:
        return text[0]
    return text[: width - 1] + "…"


# -- text/tabwriter -----------------------------------------------------------------------------


def tabwrite(text: str, minwidth: int = 10, padding: int = 3) -> str:
    """Go's tabwriter.NewWriter(out, minwidth, 1, padding, ' ', 0) over `text`, then Flush."""
    lines = text.split("\n")
    trailing_newline = text.endswith("\n")
    if trailing_newline:
        lines.pop()
    cells = [line.split("\t") for line in lines]
    out: list[str] = []
    widths: list[int] = []

    def write_lines(line0: int, line1: int) -> None:
        for row in cells[line0:line1]:
            parts = []
            for j, cell in enumerate(row):
                if j < len(widths):
                    parts.append(cell + " " * max(widths[j] - len(cell), 0))
                else:
                    parts.append(cell)
            out.append("".join(parts))

    def format_block(line0: int, line1: int) -> None:
        column = len(widths)
        this = line0
        while this < line1:
            if column >= len(cells[this]) - 1:
                this += 1
                continue
            write_lines(line0, this)
            line0 = this
            width = minwidth
            while this < line1 and column < len(cells[this]) - 1:
                width = max(width, len(cells[this][column]) + padding)
                this += 1
            widths.append(width)
            format_block(line0, this)
            widths.pop()
            line0 = this
        write_lines(line0, line1)

    format_block(0, len(cells))
    result = "\n".join(out)
    return result + "\n" if trailing_newline else result


# -- formats ------------------------------------------------------------------------------------


def expand_format(spec: str) -> str:
    r"""docker unquotes `\t` and `\n` written literally in a --format value."""
    return spec.replace("\\t", "\t").replace("\\n", "\n")


def render(
    rows: Sequence[Any],
    format_spec: str | None,
    default_table: str,
    *,
    headers: dict[str, str],
    quiet_field: str | None = None,
    quiet: bool = False,
    out: Any = None,
) -> None:
    """Print `rows` (objects or dicts) as docker does for `--format`.

    `default_table` is the command's "table {{.X}}\t…" format; `headers` maps a field name to its
    column title (a template's fields are looked up here, as docker's header context does).
    """
    from jocker_cli.template import Template

    out = out or sys.stdout
    if quiet and quiet_field and not format_spec:
        format_spec = "{{." + quiet_field + "}}"
    spec = format_spec or default_table
    if spec == "table":
        spec = default_table
    if spec == "json":
        spec = "{{json .}}"
    spec = expand_format(spec)
    if spec.startswith("table"):
        body = spec[len("table") :].lstrip(" ")
        if quiet and quiet_field:
            body = "{{." + quiet_field + "}}"
            template = Template(body)
            out.write("".join(template.execute(row) + "\n" for row in rows))
            return
        template = Template(body)
        header = template.execute(_HeaderContext(headers))
        text = header + "\n" + "".join(template.execute(row) + "\n" for row in rows)
        out.write(tabwrite(text))
        return
    template = Template(spec)
    out.write("".join(template.execute(row) + "\n" for row in rows))


class _HeaderContext:
    """Answers every field with its column title, as docker's header rendering does."""

    def __init__(self, headers: dict[str, str]) -> None:
        self.headers = headers

    def template_field(self, name: str) -> Any:
        if name in self.headers:
            return self.headers[name]
        return _TitleFunction(name.upper())


class _TitleFunction:
    def __init__(self, title: str) -> None:
        self.title = title

    def __call__(self, *args: Any) -> str:
        return self.title

    def __str__(self) -> str:
        return self.title


def print_json(value: Any, out: Any = None) -> None:
    """docker's indented JSON (json.MarshalIndent with 4 spaces, HTML-escaped)."""
    from jocker_cli.template import go_json

    (out or sys.stdout).write(go_json(value, indent=4) + "\n")


def each(function: Callable[[str], None], names: Sequence[str]) -> int:
    """Run `function` per name; print errors one per line as docker does; exit 1 if any failed."""
    from jocker_cli.client import CliError

    failed = False
    for name in names:
        try:
            function(name)
        except CliError as e:
            failed = True
            print(e.message, file=sys.stderr)
    return 1 if failed else 0


def write_archive(response: Any, output: str) -> None:
    """A tar the daemon streams (save, export) into `output` through a temporary file renamed at
    the end, so a broken transfer leaves no half-written archive; to stdout without `output`."""
    import os

    if output:
        temporary = output + ".jocker-tmp"
        with open(temporary, "wb") as out:
            for chunk in response.iter_chunks(1 << 20):
                out.write(chunk)
        os.replace(temporary, output)
        return
    stdout = sys.stdout.buffer
    for chunk in response.iter_chunks(1 << 20):
        stdout.write(chunk)
    stdout.flush()
