"""The Docker wire models against the swagger and against what dockerd really sent.

- Every model's keys are properties of its swagger schema (allOf resolved), and the models that
  mirror a whole definition miss none of its properties but the ones listed with a reason.
- Every JSON body of the traces (docker CLI 28 against dockerd 20.10, ../shared/traces) that a
  model covers validates, and dumping it with `model_dump(mode="json")` gives the body back: the
  same keys (recursively) and the same values.
- dockerd's null vs [] vs {} vs "" vs omitted, checked on models built from defaults, and the
  leniency request bodies need (explicit nulls, a string Cmd, old clients' extra keys).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import BaseModel, TypeAdapter

from jockerd.models.base import DockerModel
from jockerd.models.docker import container, events, host_config, network, stats
from jockerd.models.docker import exec as exec_models
from jockerd.models.docker.container import (
    ContainerConfig,
    ContainerCreateRequest,
    ContainerCreateResponse,
    ContainerInspectResponse,
    ContainerPruneResponse,
    ContainerState,
    ContainerSummary,
    ContainerTopResponse,
    ContainerUpdateRequest,
    ContainerWaitExitError,
    ContainerWaitResponse,
    DriverData,
    Port,
)
from jockerd.models.docker.events import EventActor, EventMessage
from jockerd.models.docker.exec import ExecConfig, ExecInspectResponse, ExecStartConfig, ProcessConfig
from jockerd.models.docker.host_config import HostConfig, Mount, Resources
from jockerd.models.docker.network import EndpointSettings, NetworkingConfig, NetworkSettings
from jockerd.models.docker.stats import ContainerStatsResponse

MODULES = (host_config, container, network, exec_models, events, stats)

# --- swagger ------------------------------------------------------------------------------------

Spec = dict[str, Any]


def definition(name: str) -> Callable[[Spec], Spec]:
    return lambda spec: spec["definitions"][name]


def prop(parent: Callable[[Spec], Spec], *names: str, items: bool = False) -> Callable[[Spec], Spec]:
    """An inline schema: a property (of a property ...) of `parent`, or the items of that array."""

    def locate(spec: Spec) -> Spec:
        schema = parent(spec)
        for name in names:
            schema = _schema_with_properties(spec, schema)["properties"][name]
        return schema["items"] if items else schema

    return locate


def body(path: str, method: str) -> Callable[[Spec], Spec]:
    def locate(spec: Spec) -> Spec:
        params = spec["paths"][path][method]["parameters"]
        return next(p["schema"] for p in params if p["in"] == "body")

    return locate


def response(path: str, method: str, code: int = 200) -> Callable[[Spec], Spec]:
    return lambda spec: spec["paths"][path][method]["responses"][code]["schema"]


def _resolve(spec: Spec, schema: Spec) -> Spec:
    while "$ref" in schema:
        schema = spec["definitions"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _schema_with_properties(spec: Spec, schema: Spec) -> Spec:
    schema = _resolve(spec, schema)
    if "allOf" not in schema:
        return schema
    merged: dict[str, Any] = {}
    for part in schema["allOf"]:
        merged.update(_schema_with_properties(spec, part).get("properties", {}))
    return {"properties": merged}


def properties(spec: Spec, schema: Spec) -> set[str]:
    return set(_schema_with_properties(spec, schema).get("properties", {}))


# Each model and the swagger schema it mirrors.
SCHEMAS: dict[type[BaseModel], Callable[[Spec], Spec]] = {
    host_config.RestartPolicy: definition("RestartPolicy"),
    host_config.LogConfig: prop(definition("HostConfig"), "LogConfig"),
    host_config.PortBinding: definition("PortBinding"),
    host_config.ThrottleDevice: definition("ThrottleDevice"),
    host_config.ResourcesBlkioWeightDevice: prop(definition("Resources"), "BlkioWeightDevice", items=True),
    host_config.ResourcesUlimit: prop(definition("Resources"), "Ulimits", items=True),
    host_config.DeviceMapping: definition("DeviceMapping"),
    host_config.DeviceRequest: definition("DeviceRequest"),
    host_config.BindOptions: prop(definition("Mount"), "BindOptions"),
    host_config.DriverConfig: prop(definition("Mount"), "VolumeOptions", "DriverConfig"),
    host_config.VolumeOptions: prop(definition("Mount"), "VolumeOptions"),
    host_config.ImageOptions: prop(definition("Mount"), "ImageOptions"),
    host_config.TmpfsOptions: prop(definition("Mount"), "TmpfsOptions"),
    host_config.Mount: definition("Mount"),
    host_config.Resources: definition("Resources"),
    host_config.HostConfig: definition("HostConfig"),
    container.HealthConfig: definition("HealthConfig"),
    container.ContainerConfig: definition("ContainerConfig"),
    container.ContainerCreateRequest: body("/containers/create", "post"),
    container.ContainerCreateResponse: definition("ContainerCreateResponse"),
    container.ContainerUpdateRequest: body("/containers/{id}/update", "post"),
    container.ContainerUpdateResponse: definition("ContainerUpdateResponse"),
    container.HealthcheckResult: definition("HealthcheckResult"),
    container.Health: definition("Health"),
    container.ContainerState: definition("ContainerState"),
    container.Port: definition("Port"),
    container.MountPoint: definition("MountPoint"),
    container.DriverData: definition("DriverData"),
    container.HostConfigSummary: prop(definition("ContainerSummary"), "HostConfig"),
    container.ContainerSummary: definition("ContainerSummary"),
    container.ContainerInspectResponse: definition("ContainerInspectResponse"),
    container.ContainerWaitExitError: definition("ContainerWaitExitError"),
    container.ContainerWaitResponse: definition("ContainerWaitResponse"),
    container.ContainerTopResponse: definition("ContainerTopResponse"),
    container.ContainerPruneResponse: response("/containers/prune", "post"),
    container.FilesystemChange: definition("FilesystemChange"),
    network.EndpointIPAMConfig: definition("EndpointIPAMConfig"),
    network.EndpointSettings: definition("EndpointSettings"),
    network.NetworkingConfig: definition("NetworkingConfig"),
    network.Address: definition("Address"),
    network.NetworkSettings: definition("NetworkSettings"),
    network.NetworkSettingsSummary: prop(definition("ContainerSummary"), "NetworkSettings"),
    exec_models.ExecConfig: body("/containers/{id}/exec", "post"),
    exec_models.ExecStartConfig: body("/exec/{id}/start", "post"),
    exec_models.ProcessConfig: definition("ProcessConfig"),
    exec_models.ExecInspectResponse: response("/exec/{id}/json", "get"),
    events.EventActor: definition("EventActor"),
    events.EventMessage: definition("EventMessage"),
    stats.ContainerThrottlingData: definition("ContainerThrottlingData"),
    stats.ContainerCPUUsage: definition("ContainerCPUUsage"),
    stats.ContainerCPUStats: definition("ContainerCPUStats"),
    stats.ContainerMemoryStats: definition("ContainerMemoryStats"),
    stats.ContainerPidsStats: definition("ContainerPidsStats"),
    stats.ContainerBlkioStatEntry: definition("ContainerBlkioStatEntry"),
    stats.ContainerBlkioStats: definition("ContainerBlkioStats"),
    stats.ContainerStorageStats: definition("ContainerStorageStats"),
    stats.ContainerNetworkStats: definition("ContainerNetworkStats"),
    stats.ContainerStatsResponse: definition("ContainerStatsResponse"),
}

# Keys dockerd 20.10 sends that the v1.51 swagger no longer lists.
NOT_IN_SWAGGER: dict[type[BaseModel], set[str]] = {
    EventMessage: {"status", "id", "from"},  # JSONMessage's fields, deprecated since API 1.22
}

# Swagger properties a model leaves to `extra` on purpose.
NOT_MODELLED: dict[type[BaseModel], set[str]] = {
    # API 1.44+/1.48+ keys dockerd 20.10 never sends; the CLI sends them in create and they echo as extras.
    EndpointSettings: {"DNSNames", "GwPriority"},
}


def wire_keys(model: type[BaseModel]) -> set[str]:
    return {field.serialization_alias or field.alias or name for name, field in model.model_fields.items()}


def wire_models() -> list[type[BaseModel]]:
    found = []
    for module in MODULES:
        for _, value in inspect.getmembers(module, inspect.isclass):
            is_model = issubclass(value, BaseModel) and value.__module__ == module.__name__
            if is_model and not value.__name__.startswith("_") and value is not host_config.InboundModel:
                found.append(value)
    return found


def test_every_model_has_its_swagger_schema() -> None:
    assert {m.__name__ for m in wire_models()} == {m.__name__ for m in SCHEMAS}


@pytest.mark.parametrize("model", list(SCHEMAS), ids=lambda m: m.__name__)
def test_keys_are_swagger_properties(model: type[BaseModel], swagger: Spec) -> None:
    documented = properties(swagger, SCHEMAS[model](swagger))
    assert wire_keys(model) - documented == NOT_IN_SWAGGER.get(model, set())


@pytest.mark.parametrize("model", list(SCHEMAS), ids=lambda m: m.__name__)
def test_every_swagger_property_is_modelled(model: type[BaseModel], swagger: Spec) -> None:
    documented = properties(swagger, SCHEMAS[model](swagger))
    assert documented - wire_keys(model) == NOT_MODELLED.get(model, set())


def test_explicit_aliases_of_the_design() -> None:
    # DESIGN §6: the acronyms the alias generator gets wrong are set on the field.
    keys = wire_keys(HostConfig)
    assert {"UTSMode", "ContainerIDFile", "KernelMemoryTCP", "IOMaximumIOps", "IOMaximumBandwidth"} <= keys
    assert "OOMKilled" in wire_keys(ContainerState)
    assert "ImageID" in wire_keys(ContainerSummary)
    assert {"scope", "time", "timeNano", "status", "id", "from"} <= wire_keys(EventMessage)


# --- trace bodies -------------------------------------------------------------------------------

# (direction, method, path pattern, status) -> what the body is
Route = tuple[str, str, str, int]
TRACE_MODELS: list[tuple[Route, Any]] = [
    ((">>", "POST", r"/containers/create", 0), ContainerCreateRequest),
    (("<<", "POST", r"/containers/create", 201), ContainerCreateResponse),
    (("<<", "GET", r"/containers/json", 200), list[ContainerSummary]),
    (("<<", "GET", r"/containers/[^/]+/json", 200), ContainerInspectResponse),
    (("<<", "GET", r"/containers/[^/]+/top", 200), ContainerTopResponse),
    (("<<", "POST", r"/containers/[^/]+/wait", 200), ContainerWaitResponse),
    (("<<", "POST", r"/containers/prune", 200), ContainerPruneResponse),
    ((">>", "POST", r"/containers/[^/]+/exec", 0), ExecConfig),
    ((">>", "POST", r"/exec/[^/]+/start", 0), ExecStartConfig),
    (("<<", "GET", r"/exec/[^/]+/json", 200), ExecInspectResponse),
    (("<<", "GET", r"/containers/[^/]+/stats", 200), ContainerStatsResponse),
    (("<<", "GET", r"/events", 200), EventMessage),
]


def _route_matches(route: Route, b: Any) -> bool:
    direction, method, pattern, status = route
    path = b.path.split("?", 1)[0]
    return (
        b.direction == direction
        and b.method == method
        and b.status == status
        and re.fullmatch(r"(/v[0-9.]+)?" + pattern, path) is not None
    )


def bodies_for(trace_bodies: list[Any], route: Route) -> list[Any]:
    return [b for b in trace_bodies if _route_matches(route, b)]


def dump(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    return [dump(item) for item in value]


def key_diff(sent: Any, dumped: Any, where: str = "") -> list[str]:
    """Where the key sets differ, recursively (a list's items are compared in order)."""
    if isinstance(sent, dict) and isinstance(dumped, dict):
        out = [f"{where}.{k}: missing" for k in sent.keys() - dumped.keys()]
        out += [f"{where}.{k}: added" for k in dumped.keys() - sent.keys()]
        for key in sent.keys() & dumped.keys():
            out += key_diff(sent[key], dumped[key], f"{where}.{key}")
        return out
    if isinstance(sent, list) and isinstance(dumped, list) and len(sent) == len(dumped):
        return [
            d
            for i, (s, o) in enumerate(zip(sent, dumped, strict=True))
            for d in key_diff(s, o, f"{where}[{i}]")
        ]
    if isinstance(sent, dict | list) != isinstance(dumped, dict | list):
        return [f"{where}: {type(sent).__name__} became {type(dumped).__name__}"]
    return []


def route_id(route: Route) -> str:
    direction, method, pattern, _ = route
    return f"{'request' if direction == '>>' else 'response'} {method} {pattern}"


@pytest.mark.parametrize("route,model", TRACE_MODELS, ids=[route_id(route) for route, _ in TRACE_MODELS])
def test_trace_bodies_round_trip(route: Route, model: Any, trace_bodies: list[Any]) -> None:
    found = bodies_for(trace_bodies, route)
    assert found, f"no trace body for {route}"
    adapter = TypeAdapter(model)
    for b in found:
        parsed = adapter.validate_python(b.data)
        dumped = dump(parsed)
        assert key_diff(b.data, dumped) == [], str(b)
        assert dumped == b.data, str(b)


def test_trace_coverage(trace_bodies: list[Any]) -> None:
    """The traces hold enough of each body for the round trip to mean something."""
    counts = {route: len(bodies_for(trace_bodies, route)) for route, _ in TRACE_MODELS}
    assert counts[(">>", "POST", r"/containers/create", 0)] >= 30
    assert counts[("<<", "GET", r"/containers/[^/]+/json", 200)] >= 15
    assert counts[("<<", "GET", r"/containers/json", 200)] >= 5
    assert counts[("<<", "GET", r"/exec/[^/]+/json", 200)] >= 5
    assert counts[("<<", "GET", r"/events", 200)] >= 200
    assert counts[("<<", "GET", r"/containers/[^/]+/stats", 200)] >= 10


def test_system_df_containers_are_summaries(trace_bodies: list[Any]) -> None:
    found = bodies_for(trace_bodies, ("<<", "GET", r"/system/df", 200))
    assert found
    for b in found:
        items = b.data["Containers"]
        assert dump(TypeAdapter(list[ContainerSummary]).validate_python(items)) == items, str(b)


def key_order(value: Any) -> Any:
    if isinstance(value, dict):
        return [(k, key_order(v)) for k, v in value.items()]
    if isinstance(value, list):
        return [key_order(v) for v in value]
    return None


OUTBOUND = [(route, model) for route, model in TRACE_MODELS if route[0] == "<<"]


@pytest.mark.parametrize("route,model", OUTBOUND, ids=[route_id(route) for route, _ in OUTBOUND])
def test_outbound_key_order_is_dockerds(route: Route, model: Any, trace_bodies: list[Any]) -> None:
    # `docker inspect` prints the daemon's bytes re-indented, so the order shows.
    adapter = TypeAdapter(model)
    for b in bodies_for(trace_bodies, route):
        sent = b.data
        if model is ContainerInspectResponse:
            # KernelMemory (not in API 1.51) is kept as an extra, and extras come last.
            sent = {
                **sent,
                "HostConfig": {k: v for k, v in sent["HostConfig"].items() if k != "KernelMemory"},
            }
        assert key_order(dump(adapter.validate_python(sent))) == key_order(sent), str(b)


# --- what dockerd emits when a field is empty ------------------------------------------------------


def trace_body(trace_bodies: list[Any], file: str, route: Route) -> Any:
    return next(b.data for b in bodies_for(trace_bodies, route) if b.file == file)


def test_default_endpoint_and_network_settings_are_a_created_containers(trace_bodies: list[Any]) -> None:
    inspect_ = trace_body(trace_bodies, "61-start-a.txt", ("<<", "GET", r"/containers/[^/]+/json", 200))
    assert inspect_["State"]["Status"] == "created"
    settings = NetworkSettings(networks={"bridge": EndpointSettings()})
    assert settings.model_dump(mode="json") == inspect_["NetworkSettings"]


def test_default_state_is_a_created_containers(trace_bodies: list[Any]) -> None:
    inspect_ = trace_body(trace_bodies, "61-start-a.txt", ("<<", "GET", r"/containers/[^/]+/json", 200))
    assert ContainerState(status="created").model_dump(mode="json") == inspect_["State"]


def test_host_config_defaults_have_dockerds_nulls_and_empties(trace_bodies: list[Any]) -> None:
    inspect_ = trace_body(trace_bodies, "14-inspect.txt", ("<<", "GET", r"/containers/[^/]+/json", 200))
    sent = {k: v for k, v in inspect_["HostConfig"].items() if k != "KernelMemory"}
    default = HostConfig(runtime="runc", kernel_memory_tcp=0).model_dump(mode="json")
    assert list(default) == list(sent)
    # null stays null and [] stays []: only the values a container sets differ.
    shape = {k: (v is None, type(v).__name__) for k, v in sent.items()}
    differ = {k for k, v in default.items() if (v is None, type(v).__name__) != shape[k]}
    assert differ == {"MaskedPaths", "ReadonlyPaths"}  # null by default; dockerd fills them in


def test_stats_of_a_stopped_container(trace_bodies: list[Any]) -> None:
    sent = trace_body(
        trace_bodies, "66b-stats-no-stream-all.txt", ("<<", "GET", r"/containers/[^/]+/stats", 200)
    )
    assert sent["memory_stats"] == {} and sent["pids_stats"] == {}
    assert ContainerStatsResponse(name=sent["name"], id=sent["id"]).model_dump(mode="json") == sent


def test_small_bodies() -> None:
    assert ContainerWaitResponse(status_code=5).model_dump(mode="json") == {"Error": None, "StatusCode": 5}
    failed = ContainerWaitResponse(status_code=-1, error=ContainerWaitExitError(message="context canceled"))
    assert failed.model_dump(mode="json") == {"Error": {"Message": "context canceled"}, "StatusCode": -1}
    assert ContainerPruneResponse().model_dump(mode="json") == {
        "ContainersDeleted": None,
        "SpaceReclaimed": 0,
    }
    assert ContainerCreateResponse(id="x").model_dump(mode="json") == {"Id": "x", "Warnings": []}
    assert ContainerTopResponse(titles=["PID"], processes=[["1"]]).model_dump(mode="json") == {
        "Processes": [["1"]],
        "Titles": ["PID"],
    }


def test_omitted_keys() -> None:
    assert Port(private_port=80, type="tcp").model_dump(mode="json") == {"PrivatePort": 80, "Type": "tcp"}
    network_event = EventMessage(type="network", action="connect", actor=EventActor(id="n1"))
    assert list(network_event.model_dump(mode="json")) == [
        "Type",
        "Action",
        "Actor",
        "scope",
        "time",
        "timeNano",
    ]
    image_event = EventMessage(status="tag", id="sha256:1", type="image", action="tag")
    assert list(image_event.model_dump(mode="json"))[:3] == ["status", "id", "Type"]
    container_event = EventMessage(status="die", id="c1", from_="busybox", type="container", action="die")
    assert container_event.model_dump(mode="json")["from"] == "busybox"
    assert "Health" not in ContainerState(status="running").model_dump(mode="json")
    running = ExecInspectResponse(id="e1", container_id="c1", running=True)
    assert running.model_dump(mode="json")["ExitCode"] is None
    assert "user" not in ProcessConfig().model_dump(mode="json")
    summary = ContainerSummary(
        id="c", image="busybox", image_id="sha256:1", created=1, state="exited", size_root_fs=5
    )
    body = summary.model_dump(mode="json")
    assert "SizeRw" not in body and body["SizeRootFs"] == 5  # int64 omitempty: 0 is left out
    inspect_keys = ContainerInspectResponse.model_fields
    assert inspect_keys["size_rw"].exclude_if is not None  # *int64: left out only when not asked for


def test_models_dump_by_field_name_too() -> None:
    # serialize_by_alias is the default; by_alias=False still works (with the same omissions).
    body = HostConfig(binds=["/a:/b"]).model_dump(by_alias=False)
    assert body["binds"] == ["/a:/b"] and body["cpu_shares"] == 0 and "mounts" not in body
    assert next(iter(body)) == "binds"


# --- leniency on input ---------------------------------------------------------------------------


def test_explicit_null_takes_the_default() -> None:
    # Go's encoding/json leaves a field alone on null; clients rely on it.
    request = ContainerCreateRequest.model_validate(
        {
            "Hostname": None,
            "Tty": None,
            "Labels": None,
            "Cmd": None,
            "HostConfig": {
                "Dns": None,
                "LogConfig": None,
                "RestartPolicy": None,
                "ShmSize": None,
                "Binds": None,
            },
            "NetworkingConfig": {"EndpointsConfig": None},
        }
    )
    assert request.hostname == "" and request.tty is False and request.labels == {} and request.cmd is None
    assert request.host_config is not None
    assert request.host_config.dns == [] and request.host_config.restart_policy.name == ""
    assert request.host_config.shm_size == 0 and request.host_config.binds is None
    assert request.networking_config is not None and request.networking_config.endpoints_config == {}
    dumped = request.model_dump(mode="json")
    assert dumped["Labels"] == {} and dumped["Cmd"] is None and dumped["HostConfig"]["Binds"] is None


def test_string_cmd_and_entrypoint() -> None:
    config = ContainerConfig.model_validate({"Cmd": "echo hi", "Entrypoint": "/bin/sh", "Shell": "sh"})
    assert config.cmd == ["echo hi"] and config.entrypoint == ["/bin/sh"] and config.shell == ["sh"]


def test_minimal_body() -> None:
    request = ContainerCreateRequest.model_validate({"Image": "busybox"})
    assert request.host_config is None and request.networking_config is None
    dumped = request.model_dump(mode="json")
    assert "HostConfig" not in dumped and "NetworkingConfig" not in dumped
    assert dumped["Env"] is None and dumped["Volumes"] is None and "ExposedPorts" not in dumped
    assert ExecConfig.model_validate({}).cmd is None
    assert ExecStartConfig.model_validate({}).model_dump(mode="json") == {"Detach": False, "Tty": False}


def test_old_client_body() -> None:
    # API 1.24-era clients: HostConfig fields repeated at the top level, exposed-only ports with
    # null bindings, an endpoint with no settings, volumes as a set.
    sent = {
        "Image": "busybox",
        "Memory": 0,
        "CpuShares": 512,
        "MacAddress": "02:42:ac:11:00:02",
        "ExposedPorts": {"80/tcp": {}},
        "Volumes": {"/data": {}},
        "StopTimeout": 3,
        "Healthcheck": {"Test": ["CMD", "true"], "Interval": 1000000000},
        "HostConfig": {
            "Binds": ["/tmp:/tmp"],
            "PortBindings": {"80/tcp": None, "81/tcp": [{"HostPort": "8081"}]},
            "LxcConf": [],
            "Memory": 1048576,
            "Ulimits": [{"Name": "nofile", "Soft": 1024, "Hard": 2048}],
            "Devices": [
                {"PathOnHost": "/dev/fuse", "PathInContainer": "/dev/fuse", "CgroupPermissions": "rwm"}
            ],
            "Mounts": [{"Type": "volume", "Target": "/v", "VolumeOptions": {"NoCopy": True}}],
            "ConsoleSize": None,
        },
        "NetworkingConfig": {"EndpointsConfig": {"bridge": None}},
    }
    request = ContainerCreateRequest.model_validate(sent)
    assert request.host_config is not None
    assert request.host_config.memory == 1048576 and request.model_extra == {"Memory": 0, "CpuShares": 512}
    assert request.host_config.port_bindings["80/tcp"] is None
    assert request.host_config.port_bindings["81/tcp"] == [host_config.PortBinding(host_port="8081")]
    assert request.host_config.mounts == [Mount(type="volume", target="/v", volume_options={"NoCopy": True})]
    dumped = request.model_dump(mode="json")
    assert dumped["HostConfig"]["LxcConf"] == [] and dumped["HostConfig"]["PortBindings"]["80/tcp"] is None
    assert dumped["HostConfig"]["ConsoleSize"] == [0, 0]
    assert dumped["NetworkingConfig"] == {"EndpointsConfig": {"bridge": None}}
    assert dumped["Healthcheck"] == {"Test": ["CMD", "true"], "Interval": 1000000000}
    assert dumped["HostConfig"]["Mounts"] == [
        {"Type": "volume", "Target": "/v", "VolumeOptions": {"NoCopy": True}}
    ]


def test_update_body_is_resources_and_restart_policy() -> None:
    update = ContainerUpdateRequest.model_validate(
        {"Memory": 1 << 20, "RestartPolicy": {"Name": "always"}, "PidsLimit": None}
    )
    assert update.memory == 1 << 20 and update.restart_policy.name == "always" and update.pids_limit is None
    assert Resources.model_validate({"RestartPolicy": {"Name": "always"}}).model_extra == {
        "RestartPolicy": {"Name": "always"}
    }


def test_inspect_builds_from_parts() -> None:
    response = ContainerInspectResponse(
        id="c1",
        created="2026-11-24T05:20:26.198152762Z",
        path="sleep",
        args=["1"],
        state=ContainerState(status="running", running=True, pid=5),
        image="sha256:1",
        name="/t1",
        host_config=HostConfig(network_mode="default"),
        graph_driver=DriverData(data={"UpperDir": "/u"}),
        config=ContainerConfig(image="busybox", cmd=["sleep", "1"]),
        network_settings=NetworkSettings(),
    )
    body = response.model_dump(mode="json")
    assert body["ExecIDs"] is None and body["Mounts"] == [] and "SizeRw" not in body
    assert body["GraphDriver"] == {"Data": {"UpperDir": "/u"}, "Name": "overlay2"}
    assert body["Config"]["Volumes"] is None and body["Config"]["Labels"] == {}
    assert ContainerInspectResponse.model_validate(body).model_dump(mode="json") == body


def test_networking_config_keeps_what_it_does_not_model() -> None:
    sent = {"EndpointsConfig": {"default": {"GwPriority": 0, "DNSNames": None, "Aliases": ["a"]}}}
    config = NetworkingConfig.model_validate(sent)
    endpoint = config.endpoints_config["default"]
    assert endpoint is not None and endpoint.aliases == ["a"]
    assert endpoint.model_extra == {"GwPriority": 0, "DNSNames": None}


def test_models_are_docker_models() -> None:
    for model in wire_models():
        assert issubclass(model, DockerModel), model
