"""The part of Go's text/template that `--format` values use, with docker's functions.

Actions: `{{.Field.Sub}}`, `{{.}}`, `{{$}}`, variables (`{{$x := .Y}}`, `{{range $i, $v := .L}}`),
pipelines (`{{.Names | upper}}`), `if`/`else if`/`else`, `range` (with `else`), `with`, `end`,
comments, `{{-`/`-}}` trimming, string/number/bool literals and parenthesized pipelines.
Functions: docker's (json, split, join, title, lower, upper, pad, truncate, println) and Go's
(index, len, print, printf, and, or, not, eq, ne, lt, le, gt, ge, slice).

Values print as Go's %v would: maps as `map[k:v]` (sorted keys), lists as `[a b]`, nil as
`<nil>`, a key missing from a map as `<no value>`. Field lookup works on dicts (the daemon's
JSON) and on objects: `template_field(name)` if they define it, else an attribute, called when
it is a method (`{{.Label "com.example"}}`).
"""

from __future__ import annotations

import json
import re

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing costs start-up time
    from typing import Any


class TemplateError(Exception):
    pass


class _Missing:
    def __repr__(self) -> str:
        return "<no value>"


MISSING = _Missing()

_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def _escape_html(text: str) -> str:
    return re.sub("[<>&\u2028\u2029]", lambda m: _ESCAPES[m.group()], text)


def _jsonable(value: Any) -> Any:
    if value is MISSING:
        return None
    if hasattr(value, "to_json"):
        return value.to_json()
    return value


def go_json(value: Any, indent: int | None = None) -> str:
    """Go's json.Marshal (compact, HTML-escaped) or MarshalIndent with `indent` spaces."""
    text = json.dumps(
        _jsonable(value),
        ensure_ascii=False,
        indent=indent,
        separators=(",", ":") if indent is None else (",", ": "),
        default=_jsonable,
    )
    return _escape_html(text)


def indent_json(raw: str, indent: str = "    ") -> str:
    """Go's json.Indent after compact(escapeHTML) on raw JSON text: tokens are kept as written."""
    out: list[str] = []
    depth = 0
    i = 0
    n = len(raw)
    while i < n:
        c = raw[i]
        if c == '"':
            j = i + 1
            while j < n:
                if raw[j] == "\\":
                    j += 2
                    continue
                if raw[j] == '"':
                    break
                j += 1
            out.append(_escape_html(raw[i : j + 1]))
            i = j + 1
            continue
        if c in " \t\r\n":
            i += 1
            continue
        if c in "{[":
            k = i + 1
            while k < n and raw[k] in " \t\r\n":
                k += 1
            if k < n and raw[k] in "}]":
                out.append(c + raw[k])
                i = k + 1
                continue
            depth += 1
            out.append(c + "\n" + indent * depth)
        elif c in "}]":
            depth -= 1
            out.append("\n" + indent * depth + c)
        elif c == ",":
            out.append(",\n" + indent * depth)
        elif c == ":":
            out.append(": ")
        else:
            out.append(c)
        i += 1
    return "".join(out)


def format_value(value: Any) -> str:
    """Go's fmt %v for the values JSON decodes to."""
    if value is MISSING:
        return "<no value>"
    if value is None:
        return "<nil>"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return go_float(value)
    if isinstance(value, (list, tuple)):
        return "[" + " ".join(format_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{format_value(value[k])}" for k in sorted(value)) + "]"
    return str(value)


def go_float(value: float) -> str:
    """strconv.FormatFloat(v, 'g', -1, 64), which %v uses: shortest digits, %e form when the
    exponent is below -4 or at least 6."""
    if value != value or value in (float("inf"), float("-inf")):
        return {"nan": "NaN", "inf": "+Inf", "-inf": "-Inf"}[repr(value)]
    if value == 0:
        return "0"
    from decimal import Decimal

    sign, digits, exponent = Decimal(repr(value)).as_tuple()
    text = "".join(map(str, digits)).rstrip("0") or "0"
    point = len(digits) + int(exponent)  # digits before the decimal point
    exp = point - 1
    minus = "-" if sign else ""
    if exp < -4 or exp >= 6:
        mantissa = text[0] + ("." + text[1:] if len(text) > 1 else "")
        return f"{minus}{mantissa}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    if point <= 0:
        return f"{minus}0.{'0' * -point}{text}"
    if point >= len(text):
        return minus + text + "0" * (point - len(text))
    return f"{minus}{text[:point]}.{text[point:]}"


def _truth(value: Any) -> bool:
    if value is MISSING or value is None:
        return False
    if isinstance(value, (bool, int, float, str, list, tuple, dict)):
        return bool(value)
    return True


# -- functions ----------------------------------------------------------------------------------


def _fn_json(value: Any) -> str:
    return go_json(value)


def _fn_join(values: Any, sep: str) -> str:
    return sep.join(format_value(v) for v in (values or []))


def _fn_pad(text: Any, left: int, right: int) -> str:
    return " " * left + format_value(text) + " " * right


def _fn_truncate(text: Any, length: int) -> str:
    text = format_value(text)
    return text[:length] if len(text) > length else text


def _fn_index(value: Any, *keys: Any) -> Any:
    for key in keys:
        if isinstance(value, dict):
            value = value.get(key, MISSING)
        elif isinstance(value, (list, tuple)):
            value = value[int(key)]
        else:
            raise TemplateError(f"can't index item of type {type(value).__name__}")
    return value


def _fn_printf(fmt: str, *args: Any) -> str:
    values = iter(args)

    def one(match: re.Match[str]) -> str:
        verb = match.group(2)
        if verb == "%":
            return "%"
        value = next(values, MISSING)
        if verb == "q":
            return json.dumps(format_value(value))
        text = format_value(value) if verb in "dsv" else str(value)
        flags = match.group(1)
        if flags:
            width = int(flags.lstrip("-") or 0)
            text = text.ljust(width) if flags.startswith("-") else text.rjust(width)
        return text

    return re.sub(r"%(-?\d*)([%dsvqxf])", one, fmt)


def _fn_print(*args: Any) -> str:
    # Go's fmt.Sprint: spaces only between operands when neither is a string.
    out = ""
    for i, arg in enumerate(args):
        if i and not isinstance(arg, str) and not isinstance(args[i - 1], str):
            out += " "
        out += format_value(arg)
    return out


def _compare(op: str) -> Any:
    def compare(a: Any, *bs: Any) -> bool:
        if op == "eq":
            return any(a == b for b in bs)
        b = bs[0]
        return {"ne": a != b, "lt": a < b, "le": a <= b, "gt": a > b, "ge": a >= b}[op]

    return compare


def _fn_and(*args: Any) -> Any:
    for arg in args:
        if not _truth(arg):
            return arg
    return args[-1]


def _fn_or(*args: Any) -> Any:
    for arg in args:
        if _truth(arg):
            return arg
    return args[-1]


def _fn_slice(value: Any, *bounds: int) -> Any:
    return value[bounds[0] : bounds[1]] if len(bounds) > 1 else value[bounds[0] :] if bounds else value


FUNCTIONS: dict[str, Any] = {
    "json": _fn_json,
    "split": lambda s, sep: format_value(s).split(sep),
    "join": _fn_join,
    "title": lambda s: format_value(s).title(),
    "lower": lambda s: format_value(s).lower(),
    "upper": lambda s: format_value(s).upper(),
    "pad": _fn_pad,
    "truncate": _fn_truncate,
    "println": lambda *a: " ".join(format_value(x) for x in a) + "\n",
    "print": _fn_print,
    "printf": _fn_printf,
    "index": _fn_index,
    "len": lambda v: len(v),
    "not": lambda v: not _truth(v),
    "and": _fn_and,
    "or": _fn_or,
    "slice": _fn_slice,
    **{op: _compare(op) for op in ("eq", "ne", "lt", "le", "gt", "ge")},
}


# -- parsing ------------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<str>"(?:[^"\\]|\\.)*")
      | (?P<raw>`[^`]*`)
      | (?P<assign>:=|=)
      | (?P<var>\$[A-Za-z0-9_]*)
      | (?P<field>(?:\.[A-Za-z0-9_]+)+|\.)
      | (?P<num>-?\d+(?:\.\d+)?)
      | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<punct>[|(),])
    )""",
    re.X,
)


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise TemplateError(f"unexpected {text[pos:]!r} in command")
        kind = match.lastgroup or ""
        value = match.group(kind)
        # `.Field` right after `)` or a variable continues that operand
        if (
            kind == "field"
            and value != "."
            and tokens
            and text[pos] == "."
            and tokens[-1][0] in ("rparen", "var")
        ):
            tokens.append(("chain", value))
        elif kind == "punct":
            tokens.append({"|": ("pipe", value), "(": ("lparen", value), ")": ("rparen", value),
                           ",": ("comma", value)}[value])  # fmt: skip
        else:
            tokens.append((kind, value))
        pos = match.end()
    return tokens


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def pipeline(self) -> list[list[Any]]:
        commands = [self.command()]
        while self.peek() and self.peek()[0] == "pipe":  # type: ignore[index]
            self.take()
            commands.append(self.command())
        return commands

    def command(self) -> list[Any]:
        operands = []
        while self.peek() and self.peek()[0] not in ("pipe", "rparen"):  # type: ignore[index]
            operands.append(self.operand())
        if not operands:
            raise TemplateError("missing value for command")
        return operands

    def operand(self) -> Any:
        kind, value = self.take()
        if kind == "lparen":
            inner = self.pipeline()
            if not self.peek() or self.take()[0] != "rparen":
                raise TemplateError("unclosed left paren")
            node: Any = ("pipeline", inner)
        elif kind == "str":
            node = ("const", json.loads(value))
        elif kind == "raw":
            node = ("const", value[1:-1])
        elif kind == "num":
            node = ("const", float(value) if "." in value else int(value))
        elif kind == "ident":
            if value in ("true", "false"):
                node = ("const", value == "true")
            elif value == "nil":
                node = ("const", None)
            else:
                node = ("func", value)
        elif kind == "field":
            node = ("field", None, [p for p in value.split(".") if p])
        elif kind == "var":
            node = ("var", value)
        else:
            raise TemplateError(f"unexpected {value!r} in operand")
        while self.peek() and self.peek()[0] == "chain":  # type: ignore[index]
            node = ("field", node, [p for p in self.take()[1].split(".") if p])
        return node


def _parse_pipeline(text: str) -> tuple[list[str], list[list[Any]]]:
    """Optional variable declaration (`$x :=`, `$i, $v :=`) and the pipeline."""
    tokens = _tokenize(text)
    declared: list[str] = []
    for index, token in enumerate(tokens):
        if token[0] == "assign":
            names = [t[1] for t in tokens[:index] if t[0] == "var"]
            if names and all(t[0] in ("var", "comma") for t in tokens[:index]):
                declared = names
                tokens = tokens[index + 1 :]
            break
    return declared, _Parser(tokens).pipeline()


_ACTION = re.compile(r"\{\{(-\s)?(.*?)(\s-)?\}\}", re.S)


def _parse(text: str) -> list[Any]:
    """A tree of ("text", s) / ("action", decl, pipeline) / ("if"|"range"|"with", …) nodes."""
    root: list[Any] = []
    stack: list[tuple[list[Any], Any]] = []
    current = root
    pos = 0
    pieces: list[tuple[str, Any]] = []
    for match in _ACTION.finditer(text):
        pieces.append(("text", text[pos : match.start()]))
        pieces.append(("action", match))
        pos = match.end()
    pieces.append(("text", text[pos:]))
    # trimming
    for i, (kind, value) in enumerate(pieces):
        if kind != "action":
            continue
        if value.group(1) and i > 0:
            pieces[i - 1] = ("text", pieces[i - 1][1].rstrip())
        if value.group(3) and i + 1 < len(pieces):
            pieces[i + 1] = ("text", pieces[i + 1][1].lstrip())
    for kind, value in pieces:
        if kind == "text":
            if value:
                current.append(("text", value))
            continue
        body = value.group(2).strip()
        if body.startswith("/*"):
            continue
        word = body.split(None, 1)[0] if body else ""
        rest = body[len(word) :].strip()
        if word in ("if", "range", "with"):
            node = [word, _parse_pipeline(rest), [], None]
            current.append(node)
            stack.append((current, node))
            current = node[2]
        elif word == "else":
            if not stack:
                raise TemplateError("unexpected {{else}}")
            parent, node = stack[-1]
            node[3] = []
            if rest.startswith("if ") or rest.startswith("with "):
                sub_word, _, sub_rest = rest.partition(" ")
                sub = [sub_word, _parse_pipeline(sub_rest), [], None]
                node[3].append(sub)
                node[3].append(("chained-end",))
                stack[-1] = (parent, node)
                stack.append((node[3], sub))
                current = sub[2]
            else:
                current = node[3]
        elif word == "end":
            if not stack:
                raise TemplateError("unexpected {{end}}")
            parent, node = stack.pop()
            # an `else if` chain closes with the same {{end}}
            while stack and parent and parent[-1:] == [("chained-end",)]:
                parent.pop()
                parent, node = stack.pop()
            current = parent
        else:
            current.append(("action", *_parse_pipeline(body)))
    if stack:
        raise TemplateError("unexpected EOF")
    return root


class Template:
    def __init__(self, text: str) -> None:
        self.text = text
        try:
            self.tree = _parse(text)
        except TemplateError as e:
            raise TemplateError(f"template parsing error: template: :1: {e}") from None

    def execute(self, data: Any) -> str:
        out: list[str] = []
        scope = {"$": data}
        try:
            self._run(self.tree, data, scope, out)
        except TemplateError as e:
            raise TemplateError(f'template: :1: executing "" at <{self.text}>: {e}') from None
        return "".join(out)

    def _run(self, nodes: list[Any], dot: Any, scope: dict[str, Any], out: list[str]) -> None:
        for node in nodes:
            kind = node[0]
            if kind == "text":
                out.append(node[1])
            elif kind == "action":
                declared, pipeline = node[1], node[2]
                value = self._pipeline(pipeline, dot, scope)
                if declared:
                    scope[declared[0]] = value
                else:
                    out.append(format_value(value))
            elif kind == "chained-end":
                continue
            else:
                (declared, pipeline), body, otherwise = node[1], node[2], node[3]
                value = self._pipeline(pipeline, dot, scope)
                if kind == "if":
                    self._run(body if _truth(value) else otherwise or [], dot, scope, out)
                elif kind == "with":
                    if _truth(value):
                        self._run(body, value, scope, out)
                    elif otherwise:
                        self._run(otherwise, dot, scope, out)
                else:  # range
                    items = list(value.items()) if isinstance(value, dict) else list(enumerate(value or []))
                    if isinstance(value, dict):
                        items.sort()
                    if not items and otherwise:
                        self._run(otherwise, dot, scope, out)
                    for key, item in items:
                        inner = dict(scope)
                        if len(declared) == 2:
                            inner[declared[0]], inner[declared[1]] = key, item
                        elif declared:
                            inner[declared[0]] = item
                        self._run(body, item, inner, out)

    def _pipeline(self, pipeline: list[list[Any]], dot: Any, scope: dict[str, Any]) -> Any:
        value: Any = MISSING
        for index, command in enumerate(pipeline):
            piped = [] if index == 0 else [value]
            value = self._command(command, dot, scope, piped)
        return value

    def _command(self, command: list[Any], dot: Any, scope: dict[str, Any], piped: list[Any]) -> Any:
        head = command[0]
        if head[0] == "func":
            function = FUNCTIONS.get(head[1])
            if function is None:
                raise TemplateError(f'function "{head[1]}" not defined')
            args = [self._operand(a, dot, scope) for a in command[1:]] + piped
            try:
                return function(*args)
            except TemplateError:
                raise
            except Exception as e:
                raise TemplateError(f"error calling {head[1]}: {e}") from None
        if head[0] == "field":
            args = [self._operand(a, dot, scope) for a in command[1:]] + piped
            return self._field(head, dot, scope, args)
        if len(command) > 1 or piped:
            raise TemplateError(f"can't give argument to non-function {head[1]!r}")
        return self._operand(head, dot, scope)

    def _operand(self, node: Any, dot: Any, scope: dict[str, Any]) -> Any:
        kind = node[0]
        if kind == "const":
            return node[1]
        if kind == "var":
            if node[1] not in scope:
                raise TemplateError(f"undefined variable: {node[1]}")
            return scope[node[1]]
        if kind == "pipeline":
            return self._pipeline(node[1], dot, scope)
        if kind == "field":
            return self._field(node, dot, scope, [])
        if kind == "func":
            return self._command([node], dot, scope, [])
        raise TemplateError(f"bad operand {node!r}")

    def _field(self, node: Any, dot: Any, scope: dict[str, Any], args: list[Any]) -> Any:
        base = dot if node[1] is None else self._operand(node[1], dot, scope)
        names = node[2]
        value = base
        for position, name in enumerate(names):
            last = position == len(names) - 1
            value = lookup(value, name, args if last else [])
        return value


def lookup(value: Any, name: str, args: list[Any]) -> Any:
    if isinstance(value, dict):
        if args:
            raise TemplateError(f"{name} is not a method but has arguments")
        return value.get(name, MISSING)
    if value is None or value is MISSING:
        raise TemplateError(f"nil pointer evaluating interface {{}}.{name}")
    found = value.template_field(name) if hasattr(value, "template_field") else getattr(value, name, MISSING)
    if found is MISSING:
        raise TemplateError(f"can't evaluate field {name} in type {type(value).__name__}")
    if callable(found):
        return found(*args)
    if args:
        raise TemplateError(f"{name} is not a method but has arguments")
    return found
