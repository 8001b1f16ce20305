"""Query and body coercion with Docker's rules (booleans, ints, filters JSON)."""

from __future__ import annotations

import json
import re
from typing import Any

from aiohttp import web

from jockerd.errors import InvalidParameterError

_FALSE = {"", "0", "false", "no", "none"}
_INTEGER = re.compile(r"[+-]?[0-9]+")


def query_bool(request: web.Request, name: str, default: bool = False) -> bool:
    """Docker treats any value but "", "0", "false", "no" and "none", in any case, as true
    (httputils.BoolValue); an absent parameter is `default`."""
    value = request.query.get(name)
    if value is None:
        return default
    return value.strip().lower() not in _FALSE


def query_int(request: web.Request, name: str, default: int | None = None) -> int | None:
    value = request.query.get(name)
    if value is None or value == "":
        return default
    # Go's strconv.ParseInt syntax: no spaces, no underscores, ASCII digits only (int() takes all three).
    if not _INTEGER.fullmatch(value):
        raise InvalidParameterError(f"invalid value for {name}: {value!r}: must be an integer")
    return int(value)


def query_filters(request: web.Request) -> dict[str, list[str]]:
    """Parse `filters`: `{"k":{"v":true}}` (what the docker CLI sends) or the legacy `{"k":["v"]}`."""
    raw = request.query.get("filters", "")
    return parse_filters(raw)


def parse_filters(raw: str) -> dict[str, list[str]]:
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as e:
        raise InvalidParameterError(f"invalid filter: {e}") from None
    if not isinstance(data, dict):
        raise InvalidParameterError("invalid filter: filters must be a JSON object")
    out: dict[str, list[str]] = {}
    for key, value in data.items():
        if isinstance(value, dict) and all(isinstance(v, bool) for v in value.values()):
            out[key] = [k for k, enabled in value.items() if enabled]
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            out[key] = list(value)
        else:
            raise InvalidParameterError(
                f"invalid filter: value of {key!r} must be a list of strings or an object of booleans"
            )
    return out


async def read_json_object(request: web.Request, *, allow_empty: bool = False) -> dict[str, Any]:
    """A JSON object body; malformed JSON is a 400 with the decoder's reason. An empty body is
    `{}` when `allow_empty`, else a 400."""
    body = await request.read()
    if not body.strip():
        if allow_empty:
            return {}
        raise InvalidParameterError("invalid JSON: request body is empty")
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise InvalidParameterError(f"invalid JSON: {e}") from None
    if not isinstance(data, dict):
        raise InvalidParameterError("invalid JSON: expected an object")
    return data
