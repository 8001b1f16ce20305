"""`docker import --change` / `docker commit --change`: Dockerfile instructions applied to a config.

Docker accepts CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME and
WORKDIR here, in either the JSON (exec) form or the shell form. HEALTHCHECK, which Docker also
accepts, is not supported yet. The changes are read as one Dockerfile (moby joins them with
newlines): `#` comment lines are skipped and a trailing backslash continues a line.
Not done yet: `$VAR` expansion and quote removal in the legacy `ENV key value` form.
"""

from __future__ import annotations

import json
import posixpath
import re
import shlex
from collections.abc import Iterator
from typing import Any

from jockerd.errors import InvalidParameterError

ALLOWED = (
    "CMD",
    "ENTRYPOINT",
    "ENV",
    "EXPOSE",
    "LABEL",
    "ONBUILD",
    "STOPSIGNAL",
    "USER",
    "VOLUME",
    "WORKDIR",
)
# Instructions whose argument is the rest of the line, as one string.
_SINGLE_ARGUMENT = ("STOPSIGNAL", "USER", "WORKDIR")
_PROTOCOLS = ("tcp", "udp", "sctp")
_CONTINUATION = re.compile(r"\\[ \t]*$")
_NOT_STRING_ARRAY = "when using JSON array syntax, arrays must be comprised of strings only"


def _json_array(rest: str) -> list[str] | None:
    """The JSON (exec) form, if `rest` is a JSON array; None for anything else."""
    stripped = rest.strip()
    if not stripped.startswith("["):
        return None
    try:
        value = json.loads(stripped)
    except ValueError:
        return None
    if not isinstance(value, list):
        return None
    if not all(isinstance(v, str) for v in value):
        raise InvalidParameterError(_NOT_STRING_ARRAY)
    return value


def _json_or_shell(rest: str) -> list[str]:
    """The exec form `["a","b"]` verbatim; anything else runs through `/bin/sh -c`."""
    value = _json_array(rest)
    return value if value is not None else ["/bin/sh", "-c", rest.strip()]


def _json_or_words(rest: str) -> list[str]:
    value = _json_array(rest)
    return value if value is not None else rest.split()


def _pairs(instruction: str, rest: str) -> dict[str, str]:
    """`KEY=VALUE KEY2="a b"` or the legacy `KEY value with spaces`."""
    try:
        words = shlex.split(rest, posix=True)
    except ValueError as e:
        raise InvalidParameterError(f"{instruction} {rest.strip()}: {e}") from None
    if not words:
        raise InvalidParameterError(f"{instruction} requires at least one argument")
    if "=" not in words[0]:
        parts = rest.strip().split(None, 1)
        if len(parts) < 2:
            raise InvalidParameterError(f"{instruction} must have two arguments")
        return {parts[0]: parts[1]}
    out = {}
    for word in words:
        key, sep, value = word.partition("=")
        if not sep:
            raise InvalidParameterError(
                f"Syntax error - can't find = in {json.dumps(word)}. Must be of the form: name=value"
            )
        if not key:
            raise InvalidParameterError(f"{instruction} names can not be blank")
        out[key] = value
    return out


def _port_number(text: str, spec: str) -> int:
    if not text.isdigit() or int(text) > 65535:
        raise InvalidParameterError(f"invalid containerPort: {spec}")
    return int(text)


def _exposed_ports(rest: str) -> list[str]:
    """`80 53/udp 8000-8002` → ["80/tcp", "53/udp", "8000/tcp", "8001/tcp", "8002/tcp"]."""
    out = []
    for word in rest.split():
        spec, _, proto = word.rpartition(":")[2].partition("/")
        proto = proto.lower() or "tcp"
        if proto not in _PROTOCOLS:
            raise InvalidParameterError(f"invalid proto: {proto}")
        first, dash, last = spec.partition("-")
        start = _port_number(first, spec)
        end = _port_number(last, spec) if dash else start
        if end < start:
            raise InvalidParameterError(f"invalid containerPort: {spec}")
        out.extend(f"{port}/{proto}" for port in range(start, end + 1))
    return out


def _logical_lines(changes: list[str]) -> Iterator[str]:
    """The instructions of the changes read as one Dockerfile (moby joins them with newlines)."""
    pending: str | None = None
    for raw in "\n".join(changes).split("\n"):
        if raw.strip().startswith("#") or (pending is not None and not raw.strip()):
            continue  # comments, and empty lines inside a continuation, are dropped
        match = _CONTINUATION.search(raw)
        text = raw[: match.start()] if match else raw
        pending = text if pending is None else pending + text
        if match is None:
            if pending.strip():
                yield pending.strip()
            pending = None
    if pending is not None and pending.strip():
        yield pending.strip()


def apply_changes(config: dict[str, Any], changes: list[str]) -> dict[str, Any]:
    """Return a copy of an image's `config` section with each change applied in order."""
    out = dict(config)
    cmd_set = False
    for line in _logical_lines(changes):
        instruction, *tail = line.split(None, 1)
        rest = tail[0] if tail else ""
        verb = instruction.upper()
        if verb not in ALLOWED:
            raise InvalidParameterError(
                f"{instruction.lower()} is not a valid change command"
            )  # dockerd lowercases
        _apply(out, verb, rest)
        if verb == "CMD":
            cmd_set = True
        elif verb == "ENTRYPOINT" and not cmd_set:
            out["Cmd"] = None  # as in a Dockerfile: a new ENTRYPOINT drops the inherited CMD
    return out


def _apply(config: dict[str, Any], verb: str, rest: str) -> None:
    if verb in _SINGLE_ARGUMENT and not rest.strip():
        raise InvalidParameterError(f"{verb} requires exactly one argument")
    if verb == "CMD":
        config["Cmd"] = _json_or_shell(rest)
    elif verb == "ENTRYPOINT":
        config["Entrypoint"] = _json_or_shell(rest)
    elif verb == "ENV":
        env = list(config.get("Env") or [])
        for key, value in _pairs(verb, rest).items():
            entry = f"{key}={value}"
            index = next((i for i, e in enumerate(env) if e.partition("=")[0] == key), None)
            if index is None:
                env.append(entry)
            else:
                env[index] = entry  # replaced in place, as Docker does
        config["Env"] = env
    elif verb == "LABEL":
        labels = dict(config.get("Labels") or {})
        labels.update(_pairs(verb, rest))
        config["Labels"] = labels
    elif verb == "EXPOSE":
        if not rest.strip():
            raise InvalidParameterError("EXPOSE requires at least one argument")
        ports = dict(config.get("ExposedPorts") or {})
        for port in _exposed_ports(rest):
            ports[port] = {}
        config["ExposedPorts"] = ports
    elif verb == "VOLUME":
        names = _json_or_words(rest)
        if not names:
            raise InvalidParameterError("VOLUME requires at least one argument")
        volumes = dict(config.get("Volumes") or {})
        for volume in names:
            if not volume:
                raise InvalidParameterError("VOLUME specified can not be an empty string")
            volumes[volume] = {}
        config["Volumes"] = volumes
    elif verb == "ONBUILD":
        trigger = rest.strip()
        if not trigger:
            raise InvalidParameterError("ONBUILD requires at least one argument")
        first = trigger.split(None, 1)[0].upper()
        if first == "ONBUILD":
            raise InvalidParameterError("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed")
        if first in ("FROM", "MAINTAINER"):
            raise InvalidParameterError(f"{first} isn't allowed as an ONBUILD trigger")
        config["OnBuild"] = [*(config.get("OnBuild") or []), trigger]
    elif verb == "USER":
        config["User"] = rest.strip()
    elif verb == "WORKDIR":
        requested = rest.strip()
        if not requested.startswith("/"):  # relative to the current one, as Docker's normalizeWorkdir
            requested = posixpath.normpath(posixpath.join("/", config.get("WorkingDir") or "", requested))
        config["WorkingDir"] = requested
    elif verb == "STOPSIGNAL":
        config["StopSignal"] = rest.strip()
