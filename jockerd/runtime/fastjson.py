"""JSON for the runtime without `import json`.

Why: `json` imports `re` (and with it `enum`, `functools`, `collections`): about 20 ms on this
class of machine, on every container start. The C accelerator `_json` that `json` itself uses
needs none of that, so `loads`/`dumps` drive it directly: same parser, same encoder, same output
as `json.loads(s)` and `json.dumps(obj, separators=(",", ":"))`. Errors are `ValueError`s.

`dumps(obj, indent=2)` pretty-prints like `json.dumps(obj, indent=2)` (used for the `state` and
`list --format json` output, which people read).
"""

from __future__ import annotations

import _json


class _ScannerContext:
    """The attributes `_json.make_scanner` reads from a `json.JSONDecoder`."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    memo: dict = {}

    @staticmethod
    def parse_constant(name: str) -> float:
        return {"-Infinity": float("-inf"), "Infinity": float("inf"), "NaN": float("nan")}[name]


_scan = _json.make_scanner(_ScannerContext())
_encode = _json.make_encoder(
    None,  # markers: no cycle check (our data never has cycles)
    None,  # default: only plain JSON types are ever encoded
    _json.encode_basestring_ascii,
    None,  # indent (the C encoder only does compact output)
    ":",
    ",",
    False,  # sort_keys
    False,  # skipkeys
    True,  # allow_nan
)
_WHITESPACE = " \t\n\r"


def loads(text: str | bytes) -> object:
    if isinstance(text, bytes):
        text = text.decode()
    start = len(text) - len(text.lstrip(_WHITESPACE))
    try:
        obj, end = _scan(text, start)
    except StopIteration as e:
        raise ValueError(f"invalid JSON: expecting value at offset {e.value}") from None
    if text[end:].strip(_WHITESPACE):
        raise ValueError(f"invalid JSON: extra data at offset {end}")
    return obj


def dumps(obj: object, indent: int | str | None = None) -> str:
    """Compact, or pretty with `indent` spaces (or the `indent` string, e.g. a tab) per level."""
    if indent is None:
        return "".join(_encode(obj, 0))
    return _pretty(obj, " " * indent if isinstance(indent, int) else indent, 0)


def _pretty(obj: object, indent: str, level: int) -> str:
    pad = indent * (level + 1)
    end = indent * level
    if isinstance(obj, dict) and obj:
        items = [f"{pad}{dumps(str(k))}: {_pretty(v, indent, level + 1)}" for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + end + "}"
    if isinstance(obj, (list, tuple)) and obj:
        items = [pad + _pretty(v, indent, level + 1) for v in obj]
        return "[\n" + ",\n".join(items) + "\n" + end + "]"
    return dumps(obj)
