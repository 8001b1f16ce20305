"""Docker's rules for a container's configuration: the HostConfig dockerd stores and checks,
the Config inspect shows, signal names, and the exit codes of failed starts (pure functions)."""

from __future__ import annotations

import os
import signal as signals
from typing import Any

from jockerd.errors import InvalidParameterError, NotFoundError
from jockerd.services.timefmt import until_filter

DEFAULT_SHM_SIZE = 64 * 1024 * 1024


def parse_signal(value: str | int | None, default: int = signals.SIGKILL) -> int:
    """moby's signal.ParseSignal: a number, or a name with or without SIG, any case."""
    if value is None or value == "":
        return default
    text = str(value)
    if text.isdigit():
        number = int(text)
        if number == 0:
            raise InvalidParameterError(f"Invalid signal: {text}")
        return number  # kill() rejects numbers the platform lacks, in dockerd's words
    name = text.upper().removeprefix("SIG")
    try:
        return int(signals.Signals["SIG" + name])
    except KeyError:
        raise InvalidParameterError(f"Invalid signal: {text}") from None


MAX_SIGNAL = 64  # SIGRTMAX on Linux


def check_platform_signal(number: int, ref: str) -> None:
    if number > MAX_SIGNAL:
        raise InvalidParameterError(
            f"Cannot kill container: {ref}: The linux daemon does not support signal {number}"
        )


def start_error_exit_code(message: str) -> int:
    """dockerd's exit code for a container that failed to start (the CLI maps the same words)."""
    lowered = message.lower()
    if "executable file not found" in lowered or "no such file or directory" in lowered:
        return 127
    if "permission denied" in lowered or "is a directory" in lowered:
        return 126
    return 128


def arch() -> str:
    machine = os.uname().machine
    return {"x86_64": "amd64", "aarch64": "arm64"}.get(machine, machine)


def size_option(value: Any) -> int:
    """json-file's max-size: "10m", "1g", "512k" or bytes."""
    if not value:
        return 0
    text = str(value).strip().lower()
    units = {"k": 1024, "m": 1024**2, "g": 1024**3}
    try:
        if text[-1] in units:
            return int(float(text[:-1]) * units[text[-1]])
        if text.endswith("b"):
            return int(text[:-1])
        return int(text)
    except ValueError:
        raise InvalidParameterError(f"invalid max-size: {value}") from None


def console_size(value: Any) -> tuple[int, int] | None:
    if (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(v, int) for v in value)
        and value[0]
        and value[1]
    ):
        return int(value[0]), int(value[1])
    return None


def validate_host_config(host: dict[str, Any]) -> list[str]:
    """Checks dockerd makes at create (the bundle generator checks the rest)."""
    warnings: list[str] = []
    policy = host.get("RestartPolicy") or {}
    name = policy.get("Name") or ""
    if name not in ("", "no", "always", "unless-stopped", "on-failure"):
        raise InvalidParameterError(f"invalid restart policy '{name}'")
    if policy.get("MaximumRetryCount") and name != "on-failure":
        raise InvalidParameterError(
            "invalid restart policy: maximum retry count can only be used with 'on-failure'"
        )
    if (policy.get("MaximumRetryCount") or 0) < 0:
        raise InvalidParameterError("invalid restart policy: maximum retry count cannot be negative")
    if host.get("AutoRemove") and name not in ("", "no"):
        raise InvalidParameterError("can't create 'AutoRemove' container with restart policy")
    log_type = (host.get("LogConfig") or {}).get("Type") or "json-file"
    if log_type not in ("json-file", "none", "local"):
        raise InvalidParameterError(
            f'error looking up logging plugin {log_type}: plugin "{log_type}" not found'
        )
    size_option((host.get("LogConfig") or {}).get("Config", {}).get("max-size"))
    return warnings


BLKIO_WEIGHT_FILES = ("/sys/fs/cgroup/blkio/blkio.weight", "/sys/fs/cgroup/blkio/blkio.bfq.weight")


def discard_unsupported_resources(host: dict[str, Any], blkio_weight_files=BLKIO_WEIGHT_FILES) -> list[str]:
    """dockerd's verifyPlatformContainerResources for what this kernel lacks: the value is
    dropped and the create answers a warning (the CLI prints it). Only block I/O weights are
    missing on the kernels seen here (no CFQ/BFQ scheduler on virtual disks)."""
    warnings = []
    supported = any(os.path.exists(path) for path in blkio_weight_files)
    if host.get("BlkioWeight") and not supported:
        warnings.append(
            "Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded."
        )
        host["BlkioWeight"] = 0
    if host.get("BlkioWeightDevice") and not supported:
        warnings.append(
            "Your kernel does not support Block I/O weight_device or the cgroup is not mounted. "
            "Weight-device discarded."
        )
        host["BlkioWeightDevice"] = []
    return warnings


def check_network_mode(host: dict[str, Any]) -> None:
    """dockerd accepts any network name at create and fails the start when it does not exist."""
    mode = host.get("NetworkMode") or "default"
    if not (mode in ("default", "bridge", "none", "host") or mode.startswith("container:")):
        raise NotFoundError(f"network {mode} not found")


def host_config_defaults(host: dict[str, Any], runtime: str) -> dict[str, Any]:
    """The HostConfig dockerd stores (and inspect shows): defaults filled in."""
    out = dict(host)
    out.setdefault("Binds", None)
    out.setdefault("ContainerIDFile", "")
    log_config = dict(out.get("LogConfig") or {})
    log_config["Type"] = log_config.get("Type") or "json-file"
    log_config["Config"] = log_config.get("Config") or {}
    out["LogConfig"] = log_config
    out["NetworkMode"] = out.get("NetworkMode") or "default"
    out.setdefault("PortBindings", {})
    policy = dict(out.get("RestartPolicy") or {})
    policy["Name"] = policy.get("Name") or "no"
    policy["MaximumRetryCount"] = policy.get("MaximumRetryCount") or 0
    out["RestartPolicy"] = policy
    out.setdefault("AutoRemove", False)
    if not out.get("IpcMode"):
        out["IpcMode"] = "private"
    if not out.get("CgroupnsMode"):
        out["CgroupnsMode"] = "host"
    if not out.get("ShmSize"):
        out["ShmSize"] = DEFAULT_SHM_SIZE
    out["Runtime"] = runtime
    out.setdefault("ConsoleSize", [0, 0])
    if out.get("MemorySwappiness") == -1:
        out["MemorySwappiness"] = None
    if out.get("PidsLimit") in (0, -1):
        out["PidsLimit"] = None
    return out


def inspect_config(request: dict[str, Any], merged: dict[str, Any], image: dict[str, Any]) -> dict[str, Any]:
    """Config as dockerd stores it: the request with the image's defaults merged in."""
    out = dict(request)
    image_config = image.get("config") or {}
    for key in ("Env", "Cmd", "Entrypoint", "WorkingDir", "User", "StopSignal"):
        if key in merged:
            out[key] = merged[key] or None if key in ("Env", "Cmd", "Entrypoint") else merged[key]
    if merged.get("Entrypoint") == [] and request.get("Entrypoint") in (None, []):
        out["Entrypoint"] = None
    labels = {**(image_config.get("Labels") or {}), **(request.get("Labels") or {})}
    out["Labels"] = labels
    for key in ("ExposedPorts", "Volumes"):
        if merged.get(key):
            out[key] = merged[key]
    out.setdefault("Image", request.get("Image"))
    return out


def parse_until(values: list[str]) -> float | None:
    """The `until` filter (images' rules, services/timefmt.py), None when absent."""
    return until_filter(values) if values else None
