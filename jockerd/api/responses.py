"""JSON responses with exactly `Content-Type: application/json`.

The docker CLI only decodes an error body as JSON when the content type is exactly that;
aiohttp's json_response appends `; charset=utf-8`, which makes the CLI print the raw body.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web


def json_response(data: Any, status: int = 200) -> web.Response:
    body = json.dumps(data, separators=(",", ":")).encode()
    return web.Response(body=body, status=status, headers={"Content-Type": "application/json"})
