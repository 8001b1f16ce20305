"""Image config → runtime spec, following the image-spec's conversion.md section by section.

`merge_config()` first applies the container's create request to the image config, as dockerd
does when it creates a container (moby daemon/commit.go `merge`): conversion.md counts such
"externally provided inputs" as modifications of the image config used as the source. Then
`spec_from_image()` converts:

- Verbatim fields: Config.WorkingDir → process.cwd, Config.Env → process.env,
  Config.Entrypoint + Config.Cmd → process.args.
- Parsed fields: Config.User → process.user (uid, gid, additionalGids), resolved against the
  image's /etc/passwd and /etc/group contents given by the caller (users.py).
- Annotation fields: os, architecture, variant, os.version, os.features, author, created and
  Config.StopSignal → org.opencontainers.image.*; Config.ExposedPorts → ...exposedPorts; then
  Config.Labels, which take precedence. Labels under `run.oci.` are left out: crun reads those
  annotations as instructions (keep groups, hooks output, cgroup delegation), and an image
  must not steer the runtime (conversion.md "Annotations": a converter MAY omit unsafe ones).
- Optional fields: Config.Volumes becomes mounts only where the caller has a volume to mount
  (opts.with_volumes); otherwise the paths stay in the rootfs, which conversion.md allows.
"""

from __future__ import annotations

import copy
import posixpath
from collections.abc import Mapping
from typing import Any

from jockerd.bundle.users import additional_gids, resolve_user
from jockerd.errors import InvalidParameterError

ANNOTATION_PREFIX = "org.opencontainers.image."
UNSAFE_LABEL_PREFIXES = ("run.oci.",)

# Top-level image config fields that become annotations (conversion.md "Annotation Fields").
_IMAGE_ANNOTATIONS = {
    "os": "os",
    "architecture": "architecture",
    "variant": "variant",
    "os.version": "os.version",
    "os.features": "os.features",
    "author": "author",
    "created": "created",
}


def image_runtime_config(image: Mapping[str, Any]) -> dict[str, Any]:
    """The `config` object of an OCI image config (the object itself if it has no `config`)."""
    if "config" in image or "rootfs" in image or "architecture" in image:
        return dict(image.get("config") or {})
    return dict(image)


def _env_key(entry: str) -> str:
    return entry.partition("=")[0]


def merge_env(first: list[str], then: list[str]) -> list[str]:
    """`first`, then the entries of `then` whose names `first` lacks (dockerd's create-time merge)."""
    names = {_env_key(e) for e in first}
    return [*first, *(e for e in then if _env_key(e) not in names)]


def validate_env(env: list[str]) -> None:
    for entry in env:
        if _env_key(entry) == "":
            raise InvalidParameterError(f"invalid environment variable: {entry}")


def merge_config(image: Mapping[str, Any], container: Mapping[str, Any]) -> dict[str, Any]:
    """The image config with the container's Config (Docker's create body) applied on top.

    Rules of dockerd's merge: User, WorkingDir and StopSignal are replaced when the container
    sets them; Env keeps the container's entries first, then the image's others; ExposedPorts
    and Volumes are unions; Cmd comes from the image only when the container sets neither Cmd nor
    Entrypoint, Entrypoint only when the container leaves it null. `Entrypoint: [""]` (docker
    run --entrypoint "") means "no entrypoint". Labels are not merged: the container's labels
    are Docker metadata, not image labels, and dockerd does not turn them into annotations.
    """
    merged = copy.deepcopy(dict(image))
    base = image_runtime_config(image)
    out = dict(base)
    for key in ("User", "WorkingDir", "StopSignal"):
        if container.get(key):
            out[key] = container[key]
    out["Env"] = merge_env(list(container.get("Env") or []), list(base.get("Env") or []))
    for key in ("ExposedPorts", "Volumes"):
        union = {**(base.get(key) or {}), **(container.get(key) or {})}
        out[key] = union or None
    entrypoint = container.get("Entrypoint")
    cmd = container.get("Cmd")
    if entrypoint:
        out["Entrypoint"] = [] if list(entrypoint) == [""] else list(entrypoint)
        out["Cmd"] = list(cmd or [])
    else:
        out["Cmd"] = list(cmd) if cmd else list(base.get("Cmd") or [])
        out["Entrypoint"] = list(base.get("Entrypoint") or []) if entrypoint is None else []
    validate_env(out["Env"])
    merged["config"] = {k: v for k, v in out.items() if v is not None}
    return merged


def process_args(config: Mapping[str, Any]) -> list[str]:
    """Entrypoint + Cmd; dockerd's error when both are empty."""
    args = [*(config.get("Entrypoint") or []), *(config.get("Cmd") or [])]
    if not args:
        raise InvalidParameterError("no command specified")
    return args


def image_annotations(image: Mapping[str, Any]) -> dict[str, str]:
    """conversion.md's implicit annotations, then Config.Labels (which win), minus unsafe ones."""
    config = image_runtime_config(image)
    out: dict[str, str] = {}
    for field, name in _IMAGE_ANNOTATIONS.items():
        value = image.get(field)
        if isinstance(value, list):
            value = ",".join(value)
        if value:
            out[ANNOTATION_PREFIX + name] = str(value)
    if config.get("StopSignal"):
        out[ANNOTATION_PREFIX + "stopSignal"] = config["StopSignal"]
    if config.get("ExposedPorts"):
        out[ANNOTATION_PREFIX + "exposedPorts"] = ",".join(config["ExposedPorts"])
    for key, value in (config.get("Labels") or {}).items():
        if not key.startswith(UNSAFE_LABEL_PREFIXES):
            out[key] = value
    return out


def spec_from_image(
    image: Mapping[str, Any], *, passwd: str | None = None, group: str | None = None
) -> dict[str, Any]:
    """The "default generated runtime configuration" of an image config: a partial spec.

    `passwd` and `group` are the contents of the image's /etc/passwd and /etc/group (None when
    absent: then only numeric users and groups resolve).
    """
    config = image_runtime_config(image)
    user = resolve_user(config.get("User") or "", passwd, group)
    env = list(config.get("Env") or [])
    validate_env(env)
    cwd = config.get("WorkingDir") or "/"
    if not cwd.startswith("/"):
        raise InvalidParameterError(
            f"the working directory '{cwd}' is invalid, it needs to be an absolute path"
        )
    process: dict[str, Any] = {
        "user": {"uid": user.uid, "gid": user.gid, "additionalGids": additional_gids(user)},
        "args": process_args(config),
        "env": env,
        "cwd": posixpath.normpath(cwd),
    }
    spec: dict[str, Any] = {"process": process}
    annotations = image_annotations(image)
    if annotations:
        spec["annotations"] = annotations
    return spec
