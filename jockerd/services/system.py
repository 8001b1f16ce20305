"""SystemService: /version, /info and /system/df with values read from this machine."""

from __future__ import annotations

import asyncio
import os
import platform
import socket
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from jockerd import API_VERSION, MIN_API_VERSION, __version__
from jockerd.models.docker.system import (
    ComponentVersion,
    IndexInfo,
    PluginsInfo,
    RegistryServiceConfig,
    RuntimeInfo,
    SystemInfo,
    SystemVersion,
)
from jockerd.services.images import ImageService
from jockerd.store.atomic import write_bytes

ARCH_NAMES = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "i686": "386"}


def cgroup_version() -> str:
    """ "2" when /sys/fs/cgroup is the unified hierarchy, else "1" (v1 or hybrid)."""
    try:
        return "2" if os.statvfs("/sys/fs/cgroup") and _fs_type("/sys/fs/cgroup") == "cgroup2" else "1"
    except OSError:
        return "1"


def _fs_type(path: str) -> str:
    best = ("", "")
    with open("/proc/self/mounts") as mounts:
        for line in mounts:
            fields = line.split()
            if len(fields) >= 3 and path.startswith(fields[1]) and len(fields[1]) >= len(best[0]):
                best = (fields[1], fields[2])
    return best[1]


def operating_system() -> tuple[str, str]:
    values: dict[str, str] = {}
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            key, sep, value = line.partition("=")
            if sep:
                values[key] = value.strip().strip('"')
    except OSError:
        pass
    return values.get("PRETTY_NAME", "Linux"), values.get("VERSION_ID", "")


def mem_total() -> int:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def engine_id(data_root: Path) -> str:
    """A stable ID for this engine, kept in the data root (dockerd keeps engine-id too)."""
    path = data_root / "engine-id"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        import uuid

        value = str(uuid.uuid4())
        write_bytes(path, f"{value}\n".encode())
        return value


class ContainerFacts(Protocol):
    """What /info and /system/df need from the container service."""

    def counts(self) -> dict[str, int]: ...
    async def list(
        self, *, all: bool, limit: int | None, size: bool, filters: dict[str, list[str]]
    ) -> list[dict[str, Any]]: ...


class SystemService:
    def __init__(
        self,
        data_root: Path,
        images: ImageService,
        containers: ContainerFacts | None = None,
        runtimes: dict[str, dict[str, Any]] | None = None,
        default_runtime: str = "runc",
    ) -> None:
        self.data_root = data_root
        self.images = images
        self.containers = containers
        self.runtimes = runtimes or {}
        self.default_runtime = default_runtime
        self.volumes: Any = None  # the daemon sets it: the VolumeService, for df
        self.started = datetime.now(UTC)
        self.id = engine_id(data_root)

    async def version(self) -> SystemVersion:
        uname = os.uname()
        arch = ARCH_NAMES.get(uname.machine, uname.machine)
        details = {
            "ApiVersion": API_VERSION,
            "Arch": arch,
            "BuildTime": "",
            "Experimental": "false",
            "GitCommit": "",
            "GoVersion": f"python{platform.python_version()}",
            "KernelVersion": uname.release,
            "MinAPIVersion": MIN_API_VERSION,
            "Os": "linux",
        }
        return SystemVersion(
            platform={"Name": "jocker"},
            components=[ComponentVersion(name="Engine", version=__version__, details=details)],
            version=__version__,
            api_version=API_VERSION,
            min_api_version=MIN_API_VERSION,
            go_version=details["GoVersion"],
            arch=arch,
            kernel_version=uname.release,
        )

    async def info(self) -> SystemInfo:
        images = await self.images.list(all=True, filters={})
        pretty, version_id = await asyncio.to_thread(operating_system)
        backing = await asyncio.to_thread(_fs_type, str(self.data_root))
        counts = self.containers.counts() if self.containers is not None else {}
        return SystemInfo(
            id=self.id,
            containers=counts.get("Containers", 0),
            containers_running=counts.get("ContainersRunning", 0),
            containers_paused=counts.get("ContainersPaused", 0),
            containers_stopped=counts.get("ContainersStopped", 0),
            runtimes={name: RuntimeInfo.model_validate(value) for name, value in self.runtimes.items()},
            default_runtime=self.default_runtime,
            images=len(images),
            driver="overlay2",
            driver_status=[["Backing Filesystem", backing or "unknown"], ["Supports d_type", "true"]],
            plugins=PluginsInfo(volume=["local"], network=["bridge", "host", "null"], log=["json-file"]),
            system_time=datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            cgroup_driver="cgroupfs",
            cgroup_version=await asyncio.to_thread(cgroup_version),
            kernel_version=os.uname().release,
            operating_system=pretty,
            os_version=version_id,
            architecture=os.uname().machine,
            ncpu=os.cpu_count() or 1,
            mem_total=await asyncio.to_thread(mem_total),
            docker_root_dir=str(self.data_root),
            name=socket.gethostname(),
            server_version=__version__,
            n_fd=len(os.listdir("/proc/self/fd")),
            registry_config=RegistryServiceConfig(
                insecure_registry_cidrs=["127.0.0.0/8", "::1/128"],
                index_configs={"docker.io": IndexInfo(name="docker.io", official=True)},
            ),
            security_options=["name=seccomp,profile=builtin"],
        )

    async def data_usage(self, types: list[str]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        wanted = set(types) or {"image", "container", "volume", "build-cache"}
        if "image" in wanted:
            out["LayersSize"], out["Images"] = await self.images.disk_usage()
        if "container" in wanted:
            listed = []
            if self.containers is not None:
                listed = await self.containers.list(all=True, limit=None, size=True, filters={})
            out["Containers"] = listed
        if "volume" in wanted:
            out["Volumes"] = await self.volumes.disk_usage() if self.volumes is not None else []
        if "build-cache" in wanted:
            out["BuildCache"] = []
        return out
