"""Fixtures for the wire-model tests: the Docker Engine swagger and the JSON bodies of the traces.

Both live outside the repository, in ../shared (reference/docker-engine-api-v1.51.yaml and
traces/, raw captures of docker CLI 28 against dockerd 20.10); tests that need them skip when
they are missing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

SHARED = Path(__file__).resolve().parents[3] / "shared"
SWAGGER = SHARED / "reference" / "docker-engine-api-v1.51.yaml"
TRACES = SHARED / "traces"

# "    0.056 C1 >> REQUEST POST /v1.41/containers/create HTTP/1.1"
# "    0.107 C1 << RESPONSE HTTP/1.1 201 Created   (to POST /v1.41/containers/create)"
# "    0.056 C1 >> body 1736 bytes: {...}"   "    0.063 C1 <<   chunk#1 4525 bytes: {...}"
_LINE = re.compile(r"^\s*[\d.]+ (?P<conn>C\d+) (?P<dir>>>|<<) (?P<rest>.*)$")
_REQUEST = re.compile(r"^REQUEST (?P<method>\S+) (?P<path>\S+) HTTP/")
_RESPONSE = re.compile(r"^RESPONSE HTTP/\S+ (?P<status>\d{3}) .*\(to (?P<method>\S+) (?P<path>\S+)\)$")
_BODY = re.compile(r"^(?:body|\s+chunk#\d+) \d+ bytes: (?P<text>.*)$")


@dataclass(frozen=True)
class TraceBody:
    """One JSON document a trace recorded on the wire."""

    file: str
    direction: str  # ">>" client to daemon, "<<" daemon to client
    method: str
    path: str  # with the query, as sent
    status: int  # the response's status (0 for a request body)
    data: Any

    def __str__(self) -> str:
        return f"{self.file} {self.direction} {self.method} {self.path}"


def _bodies(trace: Path) -> Iterator[TraceBody]:
    requests: dict[str, tuple[str, str]] = {}
    responses: dict[str, tuple[int, str, str]] = {}
    name = str(trace.relative_to(TRACES))
    for line in trace.read_text(errors="replace").splitlines():
        m = _LINE.match(line)
        if not m:
            continue
        conn, direction, rest = m["conn"], m["dir"], m["rest"]
        if req := _REQUEST.match(rest):
            requests[conn] = (req["method"], req["path"])
        elif resp := _RESPONSE.match(rest):
            responses[conn] = (int(resp["status"]), resp["method"], resp["path"])
        elif body := _BODY.match(rest):
            if direction == ">>" and conn in requests:
                status, (method, path) = 0, requests[conn]
            elif direction == "<<" and conn in responses:
                status, method, path = responses[conn]
            else:
                continue
            # A streamed body (events, stats) comes one document per chunk. Bodies the tracer cut
            # short ("...[+3016 bytes]") and binary ones are not JSON and are skipped.
            try:
                data = json.loads(body["text"])
            except ValueError:
                continue
            yield TraceBody(name, direction, method, path, status, data)


@pytest.fixture(scope="session")
def trace_bodies() -> list[TraceBody]:
    if not TRACES.is_dir():
        pytest.skip(f"traces not found at {TRACES} (they live outside the repo, in ../shared)")
    files = sorted(TRACES.glob("*.txt")) + sorted(TRACES.glob("api-1.50/*.txt"))
    return [body for trace in files for body in _bodies(trace)]


@pytest.fixture(scope="session")
def swagger() -> dict[str, Any]:
    if not SWAGGER.is_file():
        pytest.skip(f"swagger not found at {SWAGGER} (it lives outside the repo, in ../shared)")
    yaml = pytest.importorskip("yaml")
    return yaml.safe_load(SWAGGER.read_text())
