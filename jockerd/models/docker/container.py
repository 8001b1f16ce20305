"""Container endpoints' bodies (swagger ContainerConfig, ContainerSummary, ContainerInspectResponse, ...).

Fields are declared in the order dockerd sends them (traces 03b, 14, 24, 15 in ../shared/traces),
because `docker inspect` prints dockerd's bytes re-indented. Keys dockerd omits when empty are
marked with `omit_empty()`/`omit_none()` (see host_config.py), so `model_dump(mode="json")` is the
wire shape.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from jockerd.models.base import DockerModel
from jockerd.models.docker.host_config import (
    HostConfig,
    InboundModel,
    Resources,
    RestartPolicy,
    omit_empty,
    omit_none,
)
from jockerd.models.docker.network import NetworkingConfig, NetworkSettings, NetworkSettingsSummary
from jockerd.models.oci.image import Descriptor

GO_ZERO_TIME = "0001-01-01T00:00:00Z"  # what dockerd shows for a time that has not happened


def _str_slice(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


# moby's strslice.StrSlice (Cmd, Entrypoint, Shell): a JSON string decodes as a one-item list.
StrSlice = Annotated[list[str], BeforeValidator(_str_slice)]


class HealthConfig(InboundModel):
    """A container's healthcheck (`Healthcheck`); durations in nanoseconds, every key omitempty."""

    test: list[str] = omit_empty(default_factory=list)
    interval: int = omit_empty(0)
    timeout: int = omit_empty(0)
    start_period: int = omit_empty(0)
    start_interval: int = omit_empty(0)
    retries: int = omit_empty(0)


class ContainerConfig(InboundModel):
    """The portable part of a container's configuration (inspect's `Config`)."""

    hostname: str = ""
    domainname: str = ""
    user: str = ""
    attach_stdin: bool = False
    # swagger documents true; dockerd decodes an absent key as false, and that is what it shows.
    attach_stdout: bool = False
    attach_stderr: bool = False
    exposed_ports: dict[str, dict[str, Any] | None] = omit_empty(default_factory=dict)
    tty: bool = False
    open_stdin: bool = False
    stdin_once: bool = False
    env: list[str] | None = None
    cmd: StrSlice | None = None
    healthcheck: HealthConfig | None = omit_none()
    args_escaped: bool = omit_empty(False)
    image: str = ""
    volumes: dict[str, dict[str, Any] | None] | None = None
    working_dir: str = ""
    entrypoint: StrSlice | None = None
    network_disabled: bool = omit_empty(False)
    mac_address: str = omit_empty("")
    on_build: list[str] | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    stop_signal: str = omit_empty("")
    stop_timeout: int | None = omit_none()
    shell: StrSlice = omit_empty(default_factory=list)


class ContainerCreateRequest(ContainerConfig):
    """Body of POST /containers/create: ContainerConfig plus HostConfig and NetworkingConfig."""

    host_config: HostConfig | None = omit_none()
    networking_config: NetworkingConfig | None = omit_none()


class ContainerCreateResponse(DockerModel):
    """Reply to POST /containers/create."""

    id: str
    warnings: list[str] = Field(default_factory=list)


class ContainerUpdateRequest(Resources):
    """Body of POST /containers/{id}/update: Resources plus RestartPolicy."""

    restart_policy: RestartPolicy = Field(default_factory=RestartPolicy)


class ContainerUpdateResponse(DockerModel):
    """Reply to POST /containers/{id}/update."""

    warnings: list[str] | None = None


class HealthcheckResult(DockerModel):
    """One run of the healthcheck."""

    start: str = GO_ZERO_TIME
    end: str = GO_ZERO_TIME
    exit_code: int = 0
    output: str = ""


class Health(DockerModel):
    """The healthcheck's state (`State.Health`)."""

    status: str
    failing_streak: int = 0
    log: list[HealthcheckResult] = Field(default_factory=list)


class ContainerState(DockerModel):
    """inspect's `State`; `Status` takes the services' DockerState values."""

    status: str
    running: bool = False
    paused: bool = False
    restarting: bool = False
    oom_killed: bool = Field(False, alias="OOMKilled")
    dead: bool = False
    pid: int = 0
    exit_code: int = 0
    error: str = ""
    started_at: str = GO_ZERO_TIME
    finished_at: str = GO_ZERO_TIME
    health: Health | None = omit_none()


class Port(DockerModel):
    """One `Ports` item of a ps entry; an unpublished port has no IP and no PublicPort."""

    ip: str = omit_empty("", alias="IP")
    private_port: int
    public_port: int = omit_empty(0)
    type: str


class MountPoint(DockerModel):
    """One `Mounts` item of inspect and ps."""

    type: str = ""
    name: str = omit_empty("")
    source: str = ""
    destination: str = ""
    driver: str = omit_empty("")
    mode: str = ""
    rw: bool = Field(False, alias="RW")
    propagation: str = ""


class DriverData(DockerModel):
    """The storage driver and its data (inspect's `GraphDriver`)."""

    data: dict[str, str]
    name: str = "overlay2"


class HostConfigSummary(DockerModel):
    """The `HostConfig` of a ps entry (inline in swagger ContainerSummary)."""

    network_mode: str = omit_empty("")
    annotations: dict[str, str] = omit_empty(default_factory=dict)


class ContainerSummary(DockerModel):
    """One item of GET /containers/json (and of /system/df's `Containers`)."""

    id: str
    names: list[str] = Field(default_factory=list)
    image: str
    image_id: str = Field(alias="ImageID")
    image_manifest_descriptor: Descriptor | None = omit_none()
    command: str = ""
    created: int
    ports: list[Port] = Field(default_factory=list)
    size_rw: int = omit_empty(0)
    size_root_fs: int = omit_empty(0)
    labels: dict[str, str] = Field(default_factory=dict)
    state: str
    status: str = ""
    host_config: HostConfigSummary = Field(default_factory=HostConfigSummary)
    network_settings: NetworkSettingsSummary = Field(default_factory=NetworkSettingsSummary)
    mounts: list[MountPoint] = Field(default_factory=list)


class ContainerInspectResponse(DockerModel):
    """Reply to GET /containers/{id}/json."""

    id: str
    created: str
    path: str = ""
    args: list[str] = Field(default_factory=list)
    state: ContainerState
    image: str
    resolv_conf_path: str = ""
    hostname_path: str = ""
    hosts_path: str = ""
    log_path: str = ""
    name: str
    restart_count: int = 0
    driver: str = "overlay2"
    platform: str = "linux"
    image_manifest_descriptor: Descriptor | None = omit_none()
    mount_label: str = ""
    process_label: str = ""
    app_armor_profile: str = ""
    exec_ids: list[str] | None = Field(None, alias="ExecIDs")
    host_config: HostConfig
    graph_driver: DriverData
    size_rw: int | None = omit_none()  # only with ?size=1
    size_root_fs: int | None = omit_none()
    mounts: list[MountPoint] = Field(default_factory=list)
    config: ContainerConfig
    network_settings: NetworkSettings


class ContainerWaitExitError(DockerModel):
    """Why waiting for the container failed."""

    message: str = ""


class ContainerWaitResponse(DockerModel):
    """Reply to POST /containers/{id}/wait (dockerd sends `Error` first, null when none)."""

    error: ContainerWaitExitError | None = None
    status_code: int


class ContainerTopResponse(DockerModel):
    """Reply to GET /containers/{id}/top: ps's columns and rows."""

    processes: list[list[str]] = Field(default_factory=list)
    titles: list[str] = Field(default_factory=list)


class ContainerPruneResponse(DockerModel):
    """Reply to POST /containers/prune."""

    containers_deleted: list[str] | None = None
    space_reclaimed: int = 0


class ChangeType(IntEnum):
    """The kind of a filesystem change."""

    MODIFIED = 0
    ADDED = 1
    DELETED = 2


class FilesystemChange(DockerModel):
    """One item of GET /containers/{id}/changes."""

    path: str
    kind: ChangeType
