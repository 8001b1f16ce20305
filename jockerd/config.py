"""Daemon configuration: dockerd's flag names, daemon.json keys, flags win over the file."""

from __future__ import annotations

import argparse
import grp
import json
import logging
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

DEFAULT_SOCKET = "unix:///var/run/jocker.sock"
DEFAULT_CONFIG_FILE = "/etc/jocker/daemon.json"
LOG_LEVELS = ("debug", "info", "warn", "error", "fatal")

# daemon.json key → DaemonConfig field, for the keys that apply to jockerd.
FILE_KEYS = {
    "hosts": "hosts",
    "data-root": "data_root",
    "exec-root": "exec_root",
    "pidfile": "pidfile",
    "log-level": "log_level",
    "group": "group",
    "debug": "debug",
    "runtimes": "runtimes",
    "default-runtime": "default_runtime",
    "insecure-registries": "insecure_registries",
    "registry-mirrors": "registry_mirrors",
}

DEFAULT_RUNTIME = "jocker-runtime"


class RuntimeConfig(BaseModel):
    """One OCI runtime the daemon may use (daemon.json "runtimes" entry)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    path: str
    runtime_args: list[str] = Field(default_factory=list, alias="runtimeArgs")


class DaemonConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    hosts: list[str] = Field(default_factory=lambda: [DEFAULT_SOCKET])
    data_root: Path = Path("/var/lib/jocker")
    exec_root: Path = Path("/run/jocker")
    pidfile: Path | None = None
    log_level: Literal["debug", "info", "warn", "error", "fatal"] = "info"
    group: str | None = None
    debug: bool = False
    # Extra runtimes (--add-runtime / daemon.json "runtimes"); jocker-runtime, runc and crun
    # (when installed) are always known.
    runtimes: dict[str, RuntimeConfig] = Field(default_factory=dict)
    default_runtime: str = DEFAULT_RUNTIME
    # Registries reached over plain HTTP (or HTTPS without verification) besides localhost,
    # 127.0.0.0/8 and ::1: "host[:port]" or a CIDR, as dockerd's --insecure-registry.
    insecure_registries: list[str] = Field(default_factory=list)
    # Pull-through mirrors of Docker Hub, tried in order before registry-1.docker.io.
    registry_mirrors: list[str] = Field(default_factory=list)

    @field_validator("insecure_registries")
    @classmethod
    def _check_insecure_registries(cls, value: list[str]) -> list[str]:
        out = []
        for entry in value:
            entry = entry.strip()
            if "://" in entry:
                # dockerd: "insecure registry X should not contain '://'"
                raise ValueError(f"insecure registry {entry} should not contain '://'")
            if not entry:
                raise ValueError("insecure registry must not be empty")
            out.append(entry)
        return out

    @field_validator("registry_mirrors")
    @classmethod
    def _check_registry_mirrors(cls, value: list[str]) -> list[str]:
        out = []
        for entry in value:
            entry = entry.strip().rstrip("/")
            scheme, sep, rest = entry.partition("://")
            if scheme not in ("http", "https") or not sep or not rest:
                raise ValueError(f"invalid mirror: unsupported scheme {scheme!r} in {entry!r}")
            if "/" in rest:
                raise ValueError(f"invalid mirror: path, query, or fragment at end of the URI {entry!r}")
            out.append(entry)
        return out

    @property
    def pidfile_path(self) -> Path:
        return self.pidfile or self.exec_root / "jockerd.pid"

    def socket_paths(self) -> list[Path]:
        out = []
        for host in self.hosts:
            scheme, sep, rest = host.partition("://")
            if not sep:
                scheme, rest = "unix", host
            if scheme != "unix":
                raise ValueError(f"unsupported host {host!r}: only unix:// sockets are served")
            out.append(Path(rest))
        return out

    def socket_gid(self) -> int:
        """The socket's group: --group, else `docker` when it exists, else root (dockerd's rule)."""
        name = self.group if self.group is not None else "docker"
        if name.isdigit():
            return int(name)
        try:
            return grp.getgrnam(name).gr_gid
        except KeyError:
            if self.group is not None:
                raise ValueError(f"group {name!r} not found") from None
            return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="jockerd", description="A Docker-compatible container engine.")
    parser.add_argument("-H", "--host", dest="hosts", action="append", help="daemon socket(s) to listen on")
    parser.add_argument("--data-root", help="root of persistent state (default /var/lib/jocker)")
    parser.add_argument("--exec-root", help="root of runtime state (default /run/jocker)")
    parser.add_argument("-p", "--pidfile", help="path of the pid file (default EXEC_ROOT/jockerd.pid)")
    parser.add_argument("-l", "--log-level", choices=LOG_LEVELS, help="logging level (default info)")
    parser.add_argument("-G", "--group", help="group of the unix socket (default docker if it exists)")
    parser.add_argument("-D", "--debug", action="store_true", default=None, help="debug mode")
    parser.add_argument(
        "--add-runtime", action="append", metavar="NAME=PATH", help="register an OCI runtime (repeatable)"
    )
    parser.add_argument("--default-runtime", help="runtime for containers that name none")
    parser.add_argument(
        "--insecure-registry",
        dest="insecure_registries",
        action="append",
        metavar="HOST[:PORT]|CIDR",
        help="a registry reached over plain HTTP or unverified HTTPS (repeatable)",
    )
    parser.add_argument(
        "--registry-mirror",
        dest="registry_mirrors",
        action="append",
        metavar="URL",
        help="a preferred Docker Hub mirror (repeatable)",
    )
    parser.add_argument("--config-file", default=DEFAULT_CONFIG_FILE, help="daemon.json path")
    parser.add_argument("-v", "--version", action="store_true", help="print version and exit")
    return parser


def load_config(args: argparse.Namespace) -> DaemonConfig:
    """daemon.json first (if it exists), then every flag the user actually gave."""
    values: dict[str, Any] = {}
    path = Path(args.config_file)
    if path.exists():
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError) as e:
            raise ValueError(f"unable to configure the daemon with file {path}: {e}") from None
        if not isinstance(data, dict):
            raise ValueError(f"unable to configure the daemon with file {path}: not a JSON object")
        for key, value in data.items():
            if key in FILE_KEYS:
                values[FILE_KEYS[key]] = value
            else:
                # dockerd has many keys jockerd has no use for (log-driver, storage-driver, ...);
                # they are accepted so one daemon.json can serve both, but not silently.
                logging.getLogger("jockerd").warning("daemon.json: ignoring %r (not used by jockerd)", key)
        try:
            DaemonConfig.model_validate(values)  # a bad value in the file is the file's fault
        except ValidationError as e:
            error = e.errors()[0]
            field = str(error["loc"][0]) if error["loc"] else ""
            key = next((k for k, f in FILE_KEYS.items() if f == field), field)
            message = f"unable to configure the daemon with file {path}: {key}: {error['msg']}"
            raise ValueError(message) from None
    elif args.config_file != DEFAULT_CONFIG_FILE:
        raise ValueError(f"unable to configure the daemon with file {path}: no such file")
    flags = {
        "hosts": args.hosts,
        "data_root": args.data_root,
        "exec_root": args.exec_root,
        "pidfile": args.pidfile,
        "log_level": args.log_level,
        "group": args.group,
        "debug": args.debug,
        "default_runtime": args.default_runtime,
        "insecure_registries": args.insecure_registries,
        "registry_mirrors": args.registry_mirrors,
    }
    if args.add_runtime:
        runtimes = dict(values.get("runtimes") or {})
        for entry in args.add_runtime:
            name, sep, path = entry.partition("=")
            if not sep or not name or not path:
                raise ValueError(f"invalid runtime {entry!r}: expected NAME=PATH")
            runtimes[name] = {"path": path}
        values["runtimes"] = runtimes
    values.update({k: v for k, v in flags.items() if v is not None})
    config = DaemonConfig.model_validate(values)
    if config.debug and args.log_level is None:
        config.log_level = "debug"
    return config
