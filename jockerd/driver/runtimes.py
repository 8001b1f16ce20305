"""RuntimeRegistry: the OCI runtimes this daemon can run containers with, by name.

jocker-runtime is the default; runc and crun are registered when installed, so
`docker run --runtime runc` works out of the box; --add-runtime / daemon.json add more. Each
runtime keeps its state under its own root (exec_root/runtime/<name>), as dockerd does.
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from jockerd.config import DEFAULT_RUNTIME, RuntimeConfig
from jockerd.driver.oci_runtime import OciRuntime
from jockerd.errors import InvalidParameterError


def own_runtime_path() -> str:
    """jocker-runtime beside this interpreter (the venv's fast launcher), else on PATH."""
    beside = Path(sys.executable).parent / "jocker-runtime"
    if beside.exists():
        return str(beside)
    return shutil.which("jocker-runtime") or str(beside)


CRUN_HYBRID_WRAPPER = Path(__file__).parent / "wrappers" / "crun-hybrid"
UNIFIED = Path("/sys/fs/cgroup/unified")


def hybrid_with_controllers(unified: Path = UNIFIED) -> bool:
    """A cgroup v1 hybrid host whose cgroup2 mount has controllers: crun refuses those."""
    try:
        return os.path.ismount(unified) and bool((unified / "cgroup.controllers").read_text().split())
    except OSError:
        return False


def builtin_runtimes() -> dict[str, RuntimeConfig]:
    runtimes = {DEFAULT_RUNTIME: RuntimeConfig(path=own_runtime_path())}
    for name in ("runc", "crun"):
        found = shutil.which(name)
        if found:
            runtimes[name] = RuntimeConfig(path=found)
    if "crun" in runtimes and hybrid_with_controllers():
        runtimes["crun"] = RuntimeConfig(path=str(CRUN_HYBRID_WRAPPER))
    return runtimes


@dataclass(frozen=True)
class Runtime:
    name: str
    config: RuntimeConfig
    oci: OciRuntime

    @property
    def argv(self) -> list[str]:
        return [self.config.path, *self.config.runtime_args]

    @property
    def in_process(self) -> bool:
        """This installation's own jocker-runtime, which a shim can run in a fork of itself."""
        return self.config.path == own_runtime_path() and not self.config.runtime_args


class RuntimeRegistry:
    def __init__(self, exec_root: Path, extra: dict[str, RuntimeConfig], default: str) -> None:
        configs = {**builtin_runtimes(), **extra}
        if default not in configs:
            raise ValueError(f"default runtime {default!r} is not a configured runtime")
        self.default = default
        self._runtimes = {
            name: Runtime(
                name, config, OciRuntime([config.path, *config.runtime_args], exec_root / "runtime" / name)
            )
            for name, config in configs.items()
        }

    def get(self, name: str | None) -> Runtime:
        name = name or self.default
        try:
            return self._runtimes[name]
        except KeyError:
            raise InvalidParameterError(f"unknown or invalid runtime name: {name}") from None

    def names(self) -> list[str]:
        return sorted(self._runtimes)

    def info(self) -> dict[str, dict[str, object]]:
        """`docker info`'s Runtimes: {"name": {"path": ..., "runtimeArgs": [...]}}."""
        out: dict[str, dict[str, object]] = {}
        for name, runtime in sorted(self._runtimes.items()):
            entry: dict[str, object] = {"path": runtime.config.path}
            if runtime.config.runtime_args:
                entry["runtimeArgs"] = list(runtime.config.runtime_args)
            out[name] = entry
        return out
