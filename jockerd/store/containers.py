"""ContainerRecord and ContainerStore: the daemon's record of each container, on disk.

data_root/containers/<id>/container.json is the source of truth (house rule 9): written
atomically on every state change, read back by `load_all()` when the daemon starts. The
Docker-level config is kept as the client sent it (PascalCase dicts), so inspect can echo it.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from jockerd.store.atomic import write_json

log = logging.getLogger("jockerd.store")

ZERO_TIME = "0001-01-01T00:00:00Z"
RECORD_FILE = "container.json"


class StateRecord(BaseModel):
    """Docker's ContainerState, as recorded (DockerState values in `status`)."""

    model_config = ConfigDict(extra="ignore")

    status: str = "created"
    pid: int = 0
    exit_code: int = 0
    error: str = ""
    oom_killed: bool = False
    started_at: str = ZERO_TIME
    finished_at: str = ZERO_TIME
    # Set by `docker stop`/`kill` so restart policies (unless-stopped, always) know.
    manually_stopped: bool = False
    has_been_started: bool = False


class ExecRecord(BaseModel):
    """An exec session (kept in memory and in the container's record while it lives)."""

    id: str
    container_id: str
    config: dict[str, Any]
    running: bool = False
    exit_code: int | None = None
    pid: int = 0
    started: bool = False


class ContainerRecord(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str
    name: str  # with the leading slash, as Docker stores it
    created: str
    image: str  # sha256:… image ID
    image_name: str  # as the client gave it (Config.Image)
    path: str = ""
    args: list[str] = Field(default_factory=list)
    config: dict[str, Any] = Field(default_factory=dict)  # ContainerConfig as inspect shows it
    request: dict[str, Any] = Field(default_factory=dict)  # the Config fields as the client sent them
    host_config: dict[str, Any] = Field(default_factory=dict)  # HostConfig, wire keys
    networking_config: dict[str, Any] = Field(default_factory=dict)
    platform: str = "linux"
    runtime: str = ""
    state: StateRecord = Field(default_factory=StateRecord)
    restart_count: int = 0
    restart_delay: float = 0.0  # the restart manager's current back-off
    chain_ids: list[str] = Field(default_factory=list)
    # Volume mount points (services/container_volumes.py): inspect's keys plus CopyData, Named.
    mount_points: list[dict[str, Any]] = Field(default_factory=list)
    # While running: the ports the shim's proxy bound (shim/ports.py's published.json), shown as
    # NetworkSettings.Ports; None when the container is not running.
    published_ports: list[dict[str, Any]] | None = None
    # host and none (services/networks.py): the network's ID, set by the first start and kept, as
    # dockerd keeps NetworkID; the endpoint's, new at each start and cleared when the run ends.
    network_id: str = ""
    endpoint_id: str = ""
    log_path: str = ""
    resolv_conf_path: str = ""
    hostname_path: str = ""
    hosts_path: str = ""


class ContainerStore:
    """One directory per container under `root` (data_root/containers)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True, mode=0o710)

    def dir(self, container_id: str) -> Path:
        return self.root / container_id

    def save(self, record: ContainerRecord) -> None:
        directory = self.dir(record.id)
        directory.mkdir(parents=True, exist_ok=True, mode=0o710)
        write_json(directory / RECORD_FILE, record.model_dump(mode="json"))

    def load_all(self) -> list[ContainerRecord]:
        """Every complete record; directories without one (a crash mid-create) are removed."""
        records = []
        for directory in sorted(self.root.iterdir()) if self.root.exists() else []:
            path = directory / RECORD_FILE
            try:
                records.append(ContainerRecord.model_validate(json.loads(path.read_text())))
            except FileNotFoundError:
                log.warning("removing incomplete container directory %s", directory)
                shutil.rmtree(directory, ignore_errors=True)
            except (OSError, ValueError) as e:
                log.error("skipping unreadable container record %s: %s", path, e)
        return records

    def delete(self, container_id: str) -> None:
        shutil.rmtree(self.dir(container_id), ignore_errors=True)
