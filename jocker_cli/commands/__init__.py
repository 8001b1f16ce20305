"""One module per command. Each defines:

- `USAGE`: the part of "Usage:  jocker NAME …" after the name ("[OPTIONS] CONTAINER [CONTAINER...]");
- `ARGS = (min, max)`: how many positional arguments (max None: no limit), checked with docker's
  wording ("requires at least 1 argument");
- `INTERSPERSED = False` where options stop at the first positional (run, create, exec: the
  rest is the container's command line);
- `add_arguments(parser)`: the flags, with docker's names, `metavar` = docker's type word;
- `run(args, client) -> int`: the positionals are in `args.positionals`.

CommandParser wraps argparse: docker-like `--help`, errors as `unknown flag: --x` (exit 125).
"""

from __future__ import annotations

import argparse
import sys

from jocker_cli.client import CliError

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing costs start-up time
    from typing import Any, NoReturn


class _ArgumentParser(argparse.ArgumentParser):
    def __init__(self, owner: CommandParser, **kw: Any) -> None:
        super().__init__(add_help=False, allow_abbrev=False, **kw)
        self.owner = owner

    def error(self, message: str) -> NoReturn:
        if message.startswith("unrecognized arguments:"):
            flag = message.split(":", 1)[1].strip().split()[0]
            message = f"unknown flag: {flag.split('=')[0]}"
        elif message.startswith("argument "):
            # "argument -n/--tail: expected one argument" → docker's "flag needs an argument: --tail"
            name, _, detail = message[len("argument ") :].partition(": ")
            flag = name.split("/")[-1]
            if "expected one argument" in detail:
                message = f"flag needs an argument: {flag}"
            else:
                message = f'invalid argument for "{flag}" flag: {detail}'
        raise CliError(f"{message}\nSee 'jocker {self.owner.display} --help'.", 125)


class CommandParser:
    def __init__(self, display: str, summary: str, module: Any) -> None:
        self.display = display
        self.summary = summary
        self.module = module
        self.usage = getattr(module, "USAGE", "[OPTIONS]")
        # An explicit usage: argparse would otherwise format one (and import shutil) on every parse.
        self.parser = _ArgumentParser(self, prog=f"jocker {display}", usage=f"jocker {display} {self.usage}")
        self.parser.add_argument("--help", action="store_true", help="Print usage")
        module.add_arguments(self.parser)

    # -- help

    def help_text(self) -> str:
        rows = []
        for action in self.parser._actions:
            if not action.option_strings or action.help == argparse.SUPPRESS:
                continue
            shorts = [o for o in action.option_strings if not o.startswith("--")]
            longs = [o for o in action.option_strings if o.startswith("--")]
            flag = (shorts[0] + ", " if shorts else "    ") + (longs[0] if longs else "")
            if action.nargs != 0:
                flag += " " + (action.metavar or "string")
            text = action.help or ""
            default = action.default
            if action.nargs != 0 and default not in (None, "", [], False) and "(default" not in text:
                text += (
                    f" (default {default!r})".replace("'", '"')
                    if isinstance(default, str)
                    else f" (default {default})"
                )
            rows.append((flag, text))
        width = max((len(flag) for flag, _ in rows), default=0)
        lines = ["", f"Usage:  jocker {self.display} {self.usage}", "", self.summary]
        extra = getattr(self.module, "HELP_EXTRA", "")
        if extra:
            lines += ["", extra.rstrip()]
        lines += ["", "Options:"]
        for flag, text in rows:
            first, *more = text.split("\n")
            lines.append(f"  {flag:<{width}}   {first}".rstrip())
            lines += [" " * (width + 5) + line for line in more]
        return "\n".join(lines) + "\n\n"

    # -- parsing

    def _split_options(self, argv: list[str]) -> tuple[list[str], list[str]]:
        """Options up to the first positional (or `--`); the rest is positional, verbatim."""
        takes_value = {
            option: action.nargs != 0 for action in self.parser._actions for option in action.option_strings
        }
        i = 0
        while i < len(argv):
            arg = argv[i]
            if arg == "--":
                return argv[:i], argv[i + 1 :]
            if not arg.startswith("-") or arg == "-":
                return argv[:i], argv[i:]
            if arg.startswith("--"):
                if "=" not in arg and takes_value.get(arg, False):
                    i += 1
            else:
                # -it, -e X, -eX=1: walk the letters until one takes a value
                for position in range(1, len(arg)):
                    option = "-" + arg[position]
                    if takes_value.get(option, False):
                        if position == len(arg) - 1:
                            i += 1
                        break
            i += 1
        return argv, []

    def _bool_values(self, argv: list[str]) -> list[str]:
        """docker's `--flag=false` / `--flag=true` for boolean flags (pflag accepts both)."""
        flags = {
            option: action
            for action in self.parser._actions
            for option in action.option_strings
            if action.nargs == 0 and option.startswith("--")
        }
        out = []
        for arg in argv:
            name, sep, value = arg.partition("=")
            if (
                sep
                and name in flags
                and isinstance(flags[name], (argparse._StoreTrueAction, argparse._StoreFalseAction))
            ):
                truthy = value.lower() in ("1", "t", "true")
                if value.lower() not in ("0", "f", "false", "1", "t", "true"):
                    raise CliError(
                        f'invalid argument "{value}" for "{name}" flag: strconv.ParseBool: parsing "{value}": '  # noqa: E501
                        f"invalid syntax\nSee 'jocker {self.display} --help'.",
                        125,
                    )
                action = flags[name]
                positive = isinstance(action, argparse._StoreTrueAction)
                setattr(self._overrides, action.dest, truthy if positive else not truthy)
                continue
            out.append(arg)
        return out

    def parse(self, argv: list[str]) -> argparse.Namespace | None:
        self._overrides = argparse.Namespace()
        if not getattr(self.module, "INTERSPERSED", True):
            head, tail = self._split_options(argv)
            argv = (
                [*self._bool_values(head), "--", *tail] if tail or "--" in argv else self._bool_values(head)
            )
        else:
            argv = self._bool_values(argv)
        if "--help" in argv or (argv[:1] == ["-h"] and not any(o == "-h" for o in self._short_options())):
            head = self._split_options(argv)[0] if not getattr(self.module, "INTERSPERSED", True) else argv
            if "--help" in head or head[:1] == ["-h"]:
                sys.stdout.write(self.help_text())
                return None
        if getattr(self.module, "INTERSPERSED", True):
            self.parser.add_argument("positionals", nargs="*", help=argparse.SUPPRESS)
            args = self.parser.parse_intermixed_args(argv)
        else:
            head, tail = self._split_options(argv)
            args = self.parser.parse_args(head)
            args.positionals = tail
        for key, value in vars(self._overrides).items():
            setattr(args, key, value)
        low, high = getattr(self.module, "ARGS", (0, 0))
        count = len(args.positionals)
        if count < low or (high is not None and count > high):
            raise CliError(self._count_message(low, high), 1)
        return args

    def _short_options(self) -> list[str]:
        return [o for a in self.parser._actions for o in a.option_strings if not o.startswith("--")]

    def _count_message(self, low: int, high: int | None) -> str:
        plural = lambda n: "argument" if n == 1 else "arguments"  # noqa: E731
        if low == high == 0:
            what = "accepts no arguments."
        elif low == high:
            what = f"requires exactly {low} {plural(low)}."
        elif high is None:
            what = f"requires at least {low} {plural(low)}."
        elif low == 0:
            what = f"requires at most {high} {plural(high)}."
        else:
            what = f"requires at least {low} and at most {high} arguments."
        return (
            f"\"jocker {self.display}\" {what}\nSee 'jocker {self.display} --help'.\n\n"
            f"Usage:  jocker {self.display} {self.usage}\n\n{self.summary}"
        )


# -- small shared flag types ---------------------------------------------------------------------


def add_format(parser: argparse.ArgumentParser, what: str = "") -> None:
    parser.add_argument(
        "--format",
        metavar="string",
        help="Format output using a custom template:\n"
        "'table':            Print output in table format with column headers (default)\n"
        "'table TEMPLATE':   Print output in table format using the given Go template\n"
        "'json':             Print in JSON format\n"
        "'TEMPLATE':         Print output using the given Go template" + what,
    )


def filters_param(values: list[str] | None) -> str | None:
    """`--filter k=v` (repeatable) → docker's filters JSON {"k":{"v":true}}."""
    if not values:
        return None
    import json

    out: dict[str, dict[str, bool]] = {}
    for value in values:
        key, sep, rest = value.partition("=")
        if not sep:
            raise CliError("bad format of filter (expected name=value)\nSee 'jocker --help'.", 125)
        out.setdefault(key.strip().lower(), {})[rest] = True
    return json.dumps(out, separators=(",", ":"))


def template_error(e: Exception) -> CliError:
    return CliError(str(e), 1)
