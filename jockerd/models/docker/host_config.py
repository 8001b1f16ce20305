"""HostConfig and its parts (swagger HostConfig, Resources, RestartPolicy, Mount, PortMap, ...).

This module also holds the conventions every Docker wire module here shares, because it is the
one they all sit on (container.py and network.py import it for HostConfig and PortMap):

- `omit_empty()` and `omit_none()` mark, on the field itself, keys dockerd leaves out (Go's
  `json:",omitempty"`), so `model_dump(mode="json")` gives dockerd's shape with no helper and no
  `exclude_none` (which would also drop the nulls dockerd does send, such as `"Binds": null`).
  They use `Field(exclude_if=...)`, which needs pydantic >= 2.12.
- `InboundModel` is the base of request bodies: a JSON null decodes like Go's encoding/json
  (the field keeps its default), and unknown keys are kept so inspect can echo them.
- Types follow what dockerd 20.10 emits (../shared/traces): a field is `X | None` where dockerd
  sends null (a nil Go slice, map or pointer: `Binds`, `PidsLimit`), and plain `X` with a default
  where it sends a value (`"Dns": []`).
"""

from __future__ import annotations

from typing import Any, get_args

from pydantic import Field, SerializerFunctionWrapHandler, model_serializer, model_validator

from jockerd.models.base import DockerModel


def _is_zero(value: Any) -> bool:
    return not value  # None, "", 0, False, [] and {}: Go's zero values as omitempty sees them


def _is_none(value: Any) -> bool:
    return value is None


def omit_empty(default: Any = None, **kwargs: Any) -> Any:
    """A Go value field tagged omitempty: the key is left out while it holds "", 0, false, [] or {}."""
    if "default_factory" in kwargs:
        return Field(exclude_if=_is_zero, **kwargs)
    return Field(default, exclude_if=_is_zero, **kwargs)


def omit_none(**kwargs: Any) -> Any:
    """A Go pointer tagged omitempty, or a key only some API versions send: left out while None."""
    return Field(None, exclude_if=_is_none, **kwargs)


_STRICT_KEYS: dict[type, frozenset[str]] = {}  # per model class: its fields never change


def _keys_without_null(model: type[DockerModel]) -> frozenset[str]:
    """The keys (names and aliases) of the fields whose type has no None (computed once per
    class: `docker ps` validates every container's summary, nulls included)."""
    cached = _STRICT_KEYS.get(model)
    if cached is None:
        cached = _STRICT_KEYS[model] = frozenset(_compute_keys_without_null(model))
    return cached


def _compute_keys_without_null(model: type[DockerModel]) -> set[str]:
    keys: set[str] = set()
    for name, field in model.model_fields.items():
        if field.annotation is Any or type(None) in get_args(field.annotation):
            continue
        keys.add(name)
        if field.alias:
            keys.add(field.alias)
    return keys


class InboundModel(DockerModel):
    """A request body type, decoded the way dockerd decodes it: null leaves the default."""

    @model_validator(mode="before")
    @classmethod
    def _null_keeps_default(cls, data: Any) -> Any:
        # Go's encoding/json ignores a null for a string, number, bool or struct, so clients send
        # null freely; such a key is dropped here and the field takes its default.
        if not isinstance(data, dict) or all(value is not None for value in data.values()):
            return data
        strict = _keys_without_null(cls)
        return {key: value for key, value in data.items() if value is not None or key not in strict}


class RestartPolicy(InboundModel):
    """What to do when the container exits; `Name` is checked by the service, in Docker's words."""

    name: str = ""
    maximum_retry_count: int = 0


class LogConfig(InboundModel):
    """The logging driver and its options."""

    type: str = ""
    config: dict[str, str] = Field(default_factory=dict)


class PortBinding(InboundModel):
    """One host address and port a container port is published on."""

    host_ip: str = ""
    host_port: str = ""


# "80/tcp" -> bindings; null for a port that is exposed but not published (swagger PortMap).
PortMap = dict[str, list[PortBinding] | None]


class ThrottleDevice(InboundModel):
    """A rate limit on one block device."""

    path: str = ""
    rate: int = 0


class ResourcesBlkioWeightDevice(InboundModel):
    """One `BlkioWeightDevice` item (inline in swagger Resources)."""

    path: str = ""
    weight: int = 0


class ResourcesUlimit(InboundModel):
    """One `Ulimits` item (inline in swagger Resources)."""

    name: str = ""
    soft: int = 0
    hard: int = 0


class DeviceMapping(InboundModel):
    """A host device made available in the container."""

    path_on_host: str = ""
    path_in_container: str = ""
    cgroup_permissions: str = ""


class DeviceRequest(InboundModel):
    """A request for devices from a device driver (GPUs)."""

    driver: str = ""
    count: int = 0
    device_ids: list[str] | None = Field(None, alias="DeviceIDs")
    capabilities: list[list[str]] | None = None
    options: dict[str, str] | None = None


class BindOptions(InboundModel):
    """Options of a `bind` mount."""

    propagation: str = omit_empty("")
    non_recursive: bool = omit_empty(False)
    create_mountpoint: bool = omit_empty(False)
    read_only_non_recursive: bool = omit_empty(False)
    read_only_force_recursive: bool = omit_empty(False)


class DriverConfig(InboundModel):
    """The volume driver of a `volume` mount (inline `VolumeOptions.DriverConfig`)."""

    name: str = omit_empty("")
    options: dict[str, str] = omit_empty(default_factory=dict)


class VolumeOptions(InboundModel):
    """Options of a `volume` mount."""

    no_copy: bool = omit_empty(False)
    labels: dict[str, str] = omit_empty(default_factory=dict)
    driver_config: DriverConfig | None = omit_none()
    subpath: str = omit_empty("")


class ImageOptions(InboundModel):
    """Options of an `image` mount."""

    subpath: str = omit_empty("")


class TmpfsOptions(InboundModel):
    """Options of a `tmpfs` mount."""

    size_bytes: int = omit_empty(0)
    mode: int = omit_empty(0)
    options: list[list[str]] = omit_empty(default_factory=list)


class Mount(InboundModel):
    """One `HostConfig.Mounts` item (`--mount`); every key is omitempty, as the CLI sends it."""

    type: str = omit_empty("")
    source: str = omit_empty("")
    target: str = omit_empty("")
    read_only: bool = omit_empty(False)
    consistency: str = omit_empty("")
    bind_options: BindOptions | None = omit_none()
    volume_options: VolumeOptions | None = omit_none()
    image_options: ImageOptions | None = omit_none()
    tmpfs_options: TmpfsOptions | None = omit_none()


class Resources(InboundModel):
    """A container's resource limits (also the body of POST /containers/{id}/update); moby's order."""

    cpu_shares: int = 0
    memory: int = 0
    nano_cpus: int = 0
    cgroup_parent: str = ""
    blkio_weight: int = 0
    blkio_weight_device: list[ResourcesBlkioWeightDevice] = Field(default_factory=list)
    blkio_device_read_bps: list[ThrottleDevice] = Field(default_factory=list)
    blkio_device_write_bps: list[ThrottleDevice] = Field(default_factory=list)
    blkio_device_read_iops: list[ThrottleDevice] = Field(default_factory=list, alias="BlkioDeviceReadIOps")
    blkio_device_write_iops: list[ThrottleDevice] = Field(default_factory=list, alias="BlkioDeviceWriteIOps")
    cpu_period: int = 0
    cpu_quota: int = 0
    cpu_realtime_period: int = 0
    cpu_realtime_runtime: int = 0
    cpuset_cpus: str = ""
    cpuset_mems: str = ""
    devices: list[DeviceMapping] = Field(default_factory=list)
    device_cgroup_rules: list[str] | None = None
    device_requests: list[DeviceRequest] | None = None
    # dockerd 20.10 sends 0 (and the KernelMemory key, kept as an extra); API >= 1.42 drops it.
    kernel_memory_tcp: int | None = omit_none(alias="KernelMemoryTCP")
    memory_reservation: int = 0
    memory_swap: int = 0
    # The CLI sends -1 and 0 for "unset"; dockerd stores and shows null for both.
    memory_swappiness: int | None = None
    oom_kill_disable: bool | None = False
    pids_limit: int | None = None
    ulimits: list[ResourcesUlimit] = Field(default_factory=list)
    cpu_count: int = 0
    cpu_percent: int = 0
    io_maximum_iops: int = Field(0, alias="IOMaximumIOps")
    io_maximum_bandwidth: int = Field(0, alias="IOMaximumBandwidth")
    # swagger lists Init under Resources; moby keeps it in HostConfig and sends it last.
    init: bool | None = omit_none()


class HostConfig(Resources):
    """A container's host-side configuration (swagger allOf Resources); dumped in moby's key order."""

    binds: list[str] | None = None
    container_id_file: str = Field("", alias="ContainerIDFile")
    log_config: LogConfig = Field(default_factory=LogConfig)
    network_mode: str = ""
    port_bindings: PortMap = Field(default_factory=dict)
    restart_policy: RestartPolicy = Field(default_factory=RestartPolicy)
    auto_remove: bool = False
    volume_driver: str = ""
    volumes_from: list[str] | None = None
    annotations: dict[str, str] = omit_empty(default_factory=dict)
    cap_add: list[str] | None = None
    cap_drop: list[str] | None = None
    cgroupns_mode: str = ""
    dns: list[str] = Field(default_factory=list)
    dns_options: list[str] = Field(default_factory=list)
    dns_search: list[str] = Field(default_factory=list)
    extra_hosts: list[str] | None = None
    group_add: list[str] | None = None
    ipc_mode: str = ""
    cgroup: str = ""
    links: list[str] | None = None
    oom_score_adj: int = 0
    pid_mode: str = ""
    privileged: bool = False
    publish_all_ports: bool = False
    readonly_rootfs: bool = False
    security_opt: list[str] | None = None
    storage_opt: dict[str, str] = omit_empty(default_factory=dict)
    tmpfs: dict[str, str] = omit_empty(default_factory=dict)
    uts_mode: str = Field("", alias="UTSMode")
    userns_mode: str = ""
    shm_size: int = 0
    sysctls: dict[str, str] = omit_empty(default_factory=dict)
    runtime: str = omit_empty("")
    # [height, width]; a Go array, so a null from the client leaves [0, 0].
    console_size: list[int] = Field(default_factory=lambda: [0, 0])
    isolation: str = ""
    mounts: list[Mount] = omit_empty(default_factory=list)
    masked_paths: list[str] | None = None
    readonly_paths: list[str] | None = None

    @model_serializer(mode="wrap")
    def _moby_key_order(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # `docker inspect` prints dockerd's bytes re-indented, so the key order shows. Inheritance
        # puts Resources first; moby sends HostConfig's own keys, then Resources, then the tail.
        data = handler(self)
        last = len(_HOST_CONFIG_KEY_RANK)
        return dict(sorted(data.items(), key=lambda item: _HOST_CONFIG_KEY_RANK.get(item[0], last)))


def _key_rank() -> dict[str, int]:
    tail = ("mounts", "masked_paths", "readonly_paths", "init")
    own = [name for name in HostConfig.model_fields if name not in Resources.model_fields]
    names = [
        *(name for name in own if name not in tail),
        *(name for name in Resources.model_fields if name not in tail),
        *tail,
    ]
    rank: dict[str, int] = {}
    for position, name in enumerate(names):
        rank[name] = position
        rank[HostConfig.model_fields[name].alias or name] = position
    return rank


_HOST_CONFIG_KEY_RANK = _key_rank()
