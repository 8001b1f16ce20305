"""GET /version, GET /info and GET /system/df bodies (swagger SystemVersion, SystemInfo)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from jockerd.models.base import DockerModel


class ComponentVersion(DockerModel):
    name: str
    version: str
    details: dict[str, str] | None = None


class PlatformName(DockerModel):
    name: str = ""


class SystemVersion(DockerModel):
    platform: PlatformName = Field(default_factory=PlatformName)
    components: list[ComponentVersion] = Field(default_factory=list)
    version: str
    api_version: str
    min_api_version: str = Field(alias="MinAPIVersion")
    git_commit: str = ""
    go_version: str = ""
    os: str = "linux"
    arch: str
    kernel_version: str
    build_time: str = ""
    experimental: bool = False


class Commit(DockerModel):
    id: str = Field("", alias="ID")
    expected: str = ""


class RuntimeInfo(DockerModel):
    path: str
    runtime_args: list[str] | None = Field(None, alias="runtimeArgs")


class SwarmInfo(DockerModel):
    node_id: str = Field("", alias="NodeID")
    node_addr: str = ""
    local_node_state: str = "inactive"
    control_available: bool = False
    error: str = ""
    remote_managers: list[Any] | None = None


class PluginsInfo(DockerModel):
    volume: list[str] = Field(default_factory=list)
    network: list[str] = Field(default_factory=list)
    authorization: list[str] | None = None
    log: list[str] = Field(default_factory=list)


class IndexInfo(DockerModel):
    name: str
    mirrors: list[str] = Field(default_factory=list)
    secure: bool = True
    official: bool = False


class RegistryServiceConfig(DockerModel):
    insecure_registry_cidrs: list[str] = Field(default_factory=list, alias="InsecureRegistryCIDRs")
    index_configs: dict[str, IndexInfo] = Field(default_factory=dict)
    mirrors: list[str] = Field(default_factory=list)


class SystemInfo(DockerModel):
    id: str = Field(alias="ID")
    containers: int = 0
    containers_running: int = 0
    containers_paused: int = 0
    containers_stopped: int = 0
    images: int = 0
    driver: str = "overlay2"
    driver_status: list[list[str]] = Field(default_factory=list)
    plugins: PluginsInfo = Field(default_factory=PluginsInfo)
    memory_limit: bool = True
    swap_limit: bool = True
    cpu_cfs_period: bool = True
    cpu_cfs_quota: bool = True
    cpu_shares: bool = Field(True, alias="CPUShares")
    cpu_set: bool = Field(True, alias="CPUSet")
    pids_limit: bool = True
    oom_kill_disable: bool = True
    ipv4_forwarding: bool = Field(True, alias="IPv4Forwarding")
    debug: bool = False
    n_fd: int = Field(0, alias="NFd")
    n_goroutines: int = Field(0, alias="NGoroutines")
    system_time: str
    logging_driver: str = "json-file"
    cgroup_driver: str = "cgroupfs"
    cgroup_version: str = "1"
    n_events_listener: int = Field(0, alias="NEventsListener")
    kernel_version: str
    operating_system: str
    os_version: str = Field("", alias="OSVersion")
    os_type: str = Field("linux", alias="OSType")
    architecture: str
    index_server_address: str = "https://index.docker.io/v1/"
    registry_config: RegistryServiceConfig = Field(default_factory=RegistryServiceConfig)
    ncpu: int = Field(alias="NCPU")
    mem_total: int
    generic_resources: list[Any] | None = None
    docker_root_dir: str
    http_proxy: str = ""
    https_proxy: str = ""
    no_proxy: str = ""
    name: str
    labels: list[str] = Field(default_factory=list)
    experimental_build: bool = False
    server_version: str
    runtimes: dict[str, RuntimeInfo] = Field(default_factory=dict)
    default_runtime: str = "runc"
    swarm: SwarmInfo = Field(default_factory=SwarmInfo)
    live_restore_enabled: bool = False
    isolation: str = ""
    init_binary: str = ""
    containerd_commit: Commit = Field(default_factory=Commit)
    runc_commit: Commit = Field(default_factory=Commit)
    init_commit: Commit = Field(default_factory=Commit)
    security_options: list[str] = Field(default_factory=list)
    cdi_spec_dirs: list[str] = Field(default_factory=list, alias="CDISpecDirs")
    warnings: list[str] | None = None
