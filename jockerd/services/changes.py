"""`docker import --change` / `docker commit --change`: Dockerfile instructions applied to a config.

Docker accepts CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME and
WORKDIR here, in either the JSON (exec) form or the shell form.
"""

from __future__ import annotations

import json
import shlex
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


def _json_or_shell(rest: str) -> list[str]:
    """The exec form `["a","b"]` verbatim; anything else runs through `/bin/sh -c`."""
    stripped = rest.strip()
    if stripped.startswith("["):
        try:
            value = json.loads(stripped)
        except ValueError:
            value = None
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return value
    return ["/bin/sh", "-c", stripped]


def _json_or_words(rest: str) -> list[str]:
    stripped = rest.strip()
    if stripped.startswith("["):
        try:
            value = json.loads(stripped)
        except ValueError:
            value = None
        if isinstance(value, list):
            return [str(v) for v in value]
    return stripped.split()


def _pairs(instruction: str, rest: str) -> dict[str, str]:
    """`KEY=VALUE KEY2="a b"` or the legacy `KEY value with spaces`."""
    words = shlex.split(rest, posix=True)
    if not words:
        raise InvalidParameterError(f"{instruction} requires at least one argument")
    if "=" not in words[0]:
        key, _, value = rest.strip().partition(" ")
        if not value.strip():
            raise InvalidParameterError(f"{instruction} must have two arguments")
        return {key: value.strip()}
    out = {}
    for word in words:
        key, sep, value = word.partition("=")
        if not sep or not key:
            raise InvalidParameterError(f"{instruction} names can not be blank: {word!r}")
        out[key] = value
    return out


def apply_changes(config: dict[str, Any], changes: list[str]) -> dict[str, Any]:
    """Return a copy of an image's `config` section with each change applied in order."""
    out = dict(config)
    for change in changes:
        for line in change.splitlines():
            line = line.strip()
            if not line:
                continue
            instruction, _, rest = line.partition(" ")
            verb = instruction.upper()
            if verb not in ALLOWED:
                raise InvalidParameterError(f"{instruction} is not a valid change command")
            _apply(out, verb, rest)
    return out


def _apply(config: dict[str, Any], verb: str, rest: str) -> None:
    if verb == "CMD":
        config["Cmd"] = _json_or_shell(rest)
    elif verb == "ENTRYPOINT":
        config["Entrypoint"] = _json_or_shell(rest)
    elif verb == "ENV":
        env = [e for e in config.get("Env") or []]
        for key, value in _pairs(verb, rest).items():
            env = [e for e in env if e.partition("=")[0] != key]
            env.append(f"{key}={value}")
        config["Env"] = env
    elif verb == "LABEL":
        labels = dict(config.get("Labels") or {})
        labels.update(_pairs(verb, rest))
        config["Labels"] = labels
    elif verb == "EXPOSE":
        ports = dict(config.get("ExposedPorts") or {})
        for port in rest.split():
            ports[port if "/" in port else f"{port}/tcp"] = {}
        config["ExposedPorts"] = ports
    elif verb == "VOLUME":
        volumes = dict(config.get("Volumes") or {})
        for volume in _json_or_words(rest):
            volumes[volume] = {}
        config["Volumes"] = volumes
    elif verb == "ONBUILD":
        config["OnBuild"] = [*(config.get("OnBuild") or []), rest.strip()]
    elif verb == "USER":
        config["User"] = rest.strip()
    elif verb == "WORKDIR":
        config["WorkingDir"] = rest.strip()
    elif verb == "STOPSIGNAL":
        config["StopSignal"] = rest.strip()
