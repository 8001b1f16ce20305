"""inspect, ps, top for ContainerService: the read-only views of containers in Docker's shapes."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jockerd.errors import ConflictError, InvalidParameterError, JockerError
from jockerd.services import ports
from jockerd.services.container_state import DockerState
from jockerd.services.container_volumes import mount_point_view
from jockerd.services.disk_usage import dir_size
from jockerd.services.filters import labels_match
from jockerd.services.timefmt import ZERO_TIME, human_duration, parse_rfc3339
from jockerd.store.containers import ContainerRecord

if TYPE_CHECKING:
    from jockerd.driver.runtimes import RuntimeRegistry
    from jockerd.imagestore.snapshots import Snapshotter
    from jockerd.imagestore.store import ImageStore
    from jockerd.services.containers import Container

LIST_FILTERS = {"ancestor", "before", "expose", "exited", "health", "id", "isolation", "is-task",
                "label", "name", "network", "publish", "since", "status", "volume"}  # fmt: skip


class ContainerQueries:
    """Mixed into ContainerService."""

    containers: dict[str, Container]
    snapshots: Snapshotter
    images: ImageStore
    runtimes: RuntimeRegistry
    exec_root: Path
    get: Callable[[str], Container]
    _event: Callable[..., None]

    async def inspect(self, ref: str, *, size: bool = False) -> dict[str, Any]:
        container = self.get(ref)
        record = container.record
        state = record.state
        status = container.state
        upper = self.snapshots.upper_dir(record.id)
        lowers = self.snapshots.lower_dirs(record.chain_ids)
        out: dict[str, Any] = {
            "Id": record.id,
            "Created": record.created,
            "Path": record.path,
            "Args": record.args,
            "State": {
                "Status": str(status),
                "Running": status.is_running(),
                "Paused": status is DockerState.PAUSED,
                "Restarting": status is DockerState.RESTARTING,
                "OOMKilled": state.oom_killed,
                "Dead": status is DockerState.DEAD,
                "Pid": state.pid if status.is_running() else 0,
                "ExitCode": state.exit_code,
                "Error": state.error,
                "StartedAt": state.started_at,
                "FinishedAt": state.finished_at,
            },
            "Image": record.image,
            "ResolvConfPath": record.resolv_conf_path,
            "HostnamePath": record.hostname_path,
            "HostsPath": record.hosts_path,
            "LogPath": record.log_path,
            "Name": record.name,
            "RestartCount": record.restart_count,
            "Driver": "overlay2",
            "Platform": "linux",
            "MountLabel": "",
            "ProcessLabel": "",
            "AppArmorProfile": "",
            "ExecIDs": list(container.exec_ids) or None,
            "HostConfig": record.host_config,
            "GraphDriver": {
                "Data": {
                    "LowerDir": ":".join(str(p) for p in lowers),
                    "MergedDir": str(self.exec_root / "bundles" / record.id / "rootfs"),
                    "UpperDir": str(upper),
                    "WorkDir": str(upper.parent / "work"),
                },
                "Name": "overlay2",
            },
        }
        if size:
            out["SizeRw"] = await asyncio.to_thread(dir_size, upper)
            out["SizeRootFs"] = out["SizeRw"] + sum(
                await asyncio.to_thread(lambda: [dir_size(p) for p in lowers])
            )
        out["Mounts"] = mount_points(record.host_config, record.mount_points)
        out["Config"] = record.config
        out["NetworkSettings"] = network_settings(record)
        return out

    async def list(
        self, *, all: bool, limit: int | None, size: bool, filters: dict[str, list[str]]
    ) -> list[dict[str, Any]]:
        for key in filters:
            if key not in LIST_FILTERS:
                raise InvalidParameterError(f"invalid filter '{key}'")
        containers = sorted(self.containers.values(), key=lambda c: c.record.created, reverse=True)
        if "before" in filters or "since" in filters:
            containers = self._before_since(containers, filters)
        out = []
        for container in containers:
            if (
                not all
                and not container.state.is_running()
                and not filters.get("status")
                and not (limit and limit > 0)
            ):
                continue
            if not self._matches(container, filters):
                continue
            out.append(await self._summary(container, size=size))
            if limit is not None and limit > 0 and len(out) >= limit:
                break
        return out

    def _before_since(self, containers: list[Container], filters: dict[str, list[str]]) -> list[Container]:
        result = containers
        for key in ("before", "since"):
            for value in filters.get(key, []):
                pivot = self.get(value).record.created
                if key == "before":
                    result = [c for c in result if c.record.created < pivot]
                else:
                    result = [c for c in result if c.record.created > pivot]
        return result

    def _matches(self, container: Container, filters: dict[str, list[str]]) -> bool:
        record = container.record
        status = str(container.state)
        checks: dict[str, Callable[[str], bool]] = {
            "id": lambda v: record.id.startswith(v),
            "name": lambda v: name_matches(record.name, v),
            "status": lambda v: v == status,
            "exited": lambda v: status == "exited" and v.lstrip("-").isdigit()
                                and int(v) == record.state.exit_code,
            "ancestor": lambda v: self._ancestor_matches(record, v),
            "label": lambda v: labels_match(record.config.get("Labels") or {}, {"label": [v]}),
            "volume": lambda v: any(m.get("Destination") == v or m.get("Name") == v or m.get("Source") == v
                                    for m in mount_points(record.host_config, record.mount_points)),
            "network": lambda v: v == network_name(record),
            "isolation": lambda v: v in ("default", ""),
            "is-task": lambda v: v in ("false", "0"),
            "health": lambda v: v == "none",
        }  # fmt: skip
        publish = ports.parse_port_filter("publish", filters.get("publish", []))
        expose = ports.parse_port_filter("expose", filters.get("expose", []))
        if (publish or expose) and not ports.ports_match(
            ports.summary_ports(network_settings(record)["Ports"]), publish, expose
        ):
            return False
        for key, values in filters.items():
            if key in ("before", "since", "publish", "expose"):
                continue
            if key == "label":
                if not all(checks["label"](v) for v in values):
                    return False
                continue
            if key == "status":
                for value in values:
                    if value not in {s.value for s in DockerState}:
                        raise InvalidParameterError(f"invalid filter 'status={value}'")
            if values and not any(checks[key](v) for v in values):
                return False
        return True

    def _ancestor_matches(self, record: ContainerRecord, value: str) -> bool:
        try:
            return self.images.resolve(value) == record.image
        except JockerError:
            return value == record.image_name

    async def _summary(self, container: Container, *, size: bool) -> dict[str, Any]:
        record = container.record
        command = ps_command(record.path, record.args)
        settings = network_settings(record)
        out: dict[str, Any] = {
            "Id": record.id,
            "Names": [record.name],
            "Image": record.image_name,
            "ImageID": record.image,
            "Command": command,
            "Created": int(parse_rfc3339(record.created)),
            "Ports": ports.summary_ports(settings["Ports"]),
            "Labels": record.config.get("Labels") or {},
            "State": str(container.state),
            "Status": self._status_text(container),
            "HostConfig": {"NetworkMode": record.host_config.get("NetworkMode", "default")},
            "NetworkSettings": {"Networks": settings["Networks"]},
            "Mounts": mount_points(record.host_config, record.mount_points),
        }
        if size:
            upper = self.snapshots.upper_dir(record.id)
            out["SizeRw"] = await asyncio.to_thread(dir_size, upper)
            lowers = self.snapshots.lower_dirs(record.chain_ids)
            out["SizeRootFs"] = out["SizeRw"] + sum(
                await asyncio.to_thread(lambda: [dir_size(p) for p in lowers])
            )
        return out

    @staticmethod
    def _status_text(container: Container) -> str:
        state = container.record.state
        now = time.time()
        match container.state:
            case DockerState.RUNNING:
                return "Up " + human_duration(now - parse_rfc3339(state.started_at))
            case DockerState.PAUSED:
                return "Up " + human_duration(now - parse_rfc3339(state.started_at)) + " (Paused)"
            case DockerState.RESTARTING:
                ago = human_duration(now - parse_rfc3339(state.finished_at))
                return f"Restarting ({state.exit_code}) {ago} ago"
            case DockerState.EXITED:
                if not state.has_been_started and state.finished_at == ZERO_TIME:
                    return "Created"
                ago = human_duration(now - parse_rfc3339(state.finished_at))
                return f"Exited ({state.exit_code}) {ago} ago"
            case DockerState.REMOVING:
                return "Removal In Progress"
            case DockerState.DEAD:
                return "Dead"
        return "Created"

    async def top(self, ref: str, ps_args: str) -> tuple[list[str], list[list[str]]]:
        from jockerd.services.top import top

        container = self.get(ref)
        if not container.state.is_running() or container.state is DockerState.RESTARTING:
            raise ConflictError(f"Container {container.id} is not running")
        pids = await self._runtime(container).ps(container.id)
        titles, processes = await top(pids, ps_args or "-ef")
        self._event(container, "top")
        return titles, processes


def mount_points(host: dict[str, Any], volumes: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """inspect's Mounts: binds and tmpfs from the HostConfig, then the volume mount points the
    record holds (services/container_volumes.py)."""
    points = []
    for bind in host.get("Binds") or []:
        parts = bind.split(":")
        if len(parts) < 2 or not parts[0].startswith("/"):
            continue
        source, destination = parts[0], parts[1]
        mode = parts[2] if len(parts) > 2 else ""
        points.append({"Type": "bind", "Source": source, "Destination": destination, "Mode": mode,
                       "RW": "ro" not in mode.split(","), "Propagation": "rprivate"})  # fmt: skip
    for mount in host.get("Mounts") or []:
        if mount.get("Type") == "volume":
            continue
        points.append({"Type": mount.get("Type", ""), "Source": mount.get("Source", ""),
                       "Destination": mount.get("Target", ""), "Mode": "",
                       "RW": not mount.get("ReadOnly", False), "Propagation": "rprivate"})  # fmt: skip
    points.extend(mount_point_view(point) for point in volumes or ())
    return points


def network_name(record: ContainerRecord) -> str:
    mode = record.host_config.get("NetworkMode") or "default"
    return "bridge" if mode == "default" else mode


def network_settings(record: ContainerRecord) -> dict[str, Any]:
    """Until bridge networking lands a container has loopback only: no addresses to show. Its
    Ports are those the shim's proxy publishes while it runs (services/ports.py). On host and
    none, NetworkID is the network's from the first start on and EndpointID the current run's
    (services/networks.py), as dockerd shows them; the default network has neither."""
    name = network_name(record)
    networks: dict[str, Any] = {}
    if not name.startswith("container:"):
        networks[name] = {
            "IPAMConfig": None, "Links": None, "Aliases": None, "MacAddress": "", "DriverOpts": None,
            "NetworkID": record.network_id, "EndpointID": record.endpoint_id, "Gateway": "",
            "IPAddress": "", "IPPrefixLen": 0,
            "IPv6Gateway": "", "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0, "DNSNames": None,
        }  # fmt: skip
    return {
        "Bridge": "", "SandboxID": "", "HairpinMode": False, "LinkLocalIPv6Address": "",
        "LinkLocalIPv6PrefixLen": 0,
        "Ports": ports.network_ports(record.config, record.host_config, record.published_ports),
        "SandboxKey": "", "SecondaryIPAddresses": None,
        "SecondaryIPv6Addresses": None, "EndpointID": "", "Gateway": "", "GlobalIPv6Address": "",
        "GlobalIPv6PrefixLen": 0, "IPAddress": "", "IPPrefixLen": 0, "IPv6Gateway": "", "MacAddress": "",
        "Networks": networks,
    }  # fmt: skip


def name_matches(stored: str, pattern: str) -> bool:

    try:
        return re.search(pattern, stored.lstrip("/")) is not None or re.search(pattern, stored) is not None
    except re.error:
        return False


def ps_command(path: str, args: list[str]) -> str:
    """ps's Command as dockerd builds it: arguments holding a space are put in single quotes."""
    if not args:
        return path
    return path + " " + " ".join(f"'{arg}'" if " " in arg else arg for arg in args)
