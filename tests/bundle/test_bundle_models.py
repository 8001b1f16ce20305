"""jockerd.models.oci.runtime mirrors the runtime-spec schema: every alias is a schema property."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from jockerd.models.oci import runtime as oci

SCHEMA_DIR = Path(__file__).resolve().parents[3] / "shared" / "reference" / "oci-runtime-spec" / "schema"


@cache
def _document(name: str) -> dict[str, Any]:
    return json.loads((SCHEMA_DIR / name).read_text())


def _follow(node: dict[str, Any], current: str) -> tuple[dict[str, Any], str]:
    while "$ref" in node:
        file, _, pointer = node["$ref"].partition("#")
        file = file or current
        node = _document(file)
        for part in filter(None, pointer.split("/")):
            node = node[part]
        current = file
    return node, current


def schema_node(file: str, *path: str) -> dict[str, Any]:
    """The schema object at a path of property names ("[]" steps into array items)."""
    node, current = _follow(_document(file), file)
    for part in path:
        node, current = _follow(node["items"] if part == "[]" else node[part], current)
    return node


LOCATIONS: list[tuple[type[BaseModel], tuple[str, ...]]] = [
    (oci.Spec, ("config-schema.json",)),
    (oci.Process, ("config-schema.json", "properties", "process")),
    (oci.User, ("config-schema.json", "properties", "process", "properties", "user")),
    (oci.Box, ("config-schema.json", "properties", "process", "properties", "consoleSize")),
    (oci.LinuxCapabilities, ("config-schema.json", "properties", "process", "properties", "capabilities")),
    (oci.POSIXRlimit, ("config-schema.json", "properties", "process", "properties", "rlimits", "[]")),
    (oci.Scheduler, ("config-schema.json", "properties", "process", "properties", "scheduler")),
    (oci.LinuxIOPriority, ("config-schema.json", "properties", "process", "properties", "ioPriority")),
    (oci.Root, ("config-schema.json", "properties", "root")),
    (oci.Mount, ("defs.json", "definitions", "Mount")),
    (oci.Hook, ("defs.json", "definitions", "Hook")),
    (oci.Hooks, ("config-schema.json", "properties", "hooks")),
    (oci.LinuxIDMapping, ("defs.json", "definitions", "IDMapping")),
    (oci.Linux, ("config-linux.json", "linux")),
    (oci.LinuxResources, ("config-linux.json", "linux", "properties", "resources")),
    (oci.LinuxMemory, ("config-linux.json", "linux", "properties", "resources", "properties", "memory")),
    (oci.LinuxCPU, ("config-linux.json", "linux", "properties", "resources", "properties", "cpu")),
    (oci.LinuxPids, ("config-linux.json", "linux", "properties", "resources", "properties", "pids")),
    (oci.LinuxBlockIO, ("config-linux.json", "linux", "properties", "resources", "properties", "blockIO")),
    (oci.LinuxWeightDevice, ("defs-linux.json", "definitions", "blockIODeviceWeight")),
    (oci.LinuxThrottleDevice, ("defs-linux.json", "definitions", "blockIODeviceThrottle")),
    (
        oci.LinuxHugepageLimit,
        ("config-linux.json", "linux", "properties", "resources", "properties", "hugepageLimits", "[]"),
    ),
    (oci.LinuxNetwork, ("config-linux.json", "linux", "properties", "resources", "properties", "network")),
    (oci.LinuxInterfacePriority, ("defs-linux.json", "definitions", "NetworkInterfacePriority")),
    (oci.LinuxRdma, ("defs-linux.json", "definitions", "Rdma")),
    (oci.LinuxDeviceCgroup, ("defs-linux.json", "definitions", "DeviceCgroup")),
    (oci.LinuxDevice, ("defs-linux.json", "definitions", "Device")),
    (oci.LinuxNamespace, ("defs-linux.json", "definitions", "NamespaceReference")),
    (oci.LinuxSeccomp, ("config-linux.json", "linux", "properties", "seccomp")),
    (oci.LinuxSyscall, ("defs-linux.json", "definitions", "Syscall")),
    (oci.LinuxSeccompArg, ("defs-linux.json", "definitions", "SyscallArg")),
    (oci.LinuxIntelRdt, ("config-linux.json", "linux", "properties", "intelRdt")),
    (oci.LinuxPersonality, ("defs-linux.json", "definitions", "Personality")),
    (oci.State, ("state-schema.json",)),
]


def _properties(node: dict[str, Any]) -> set[str]:
    props = set(node.get("properties", {}))
    for part in node.get("allOf", []):
        props |= set(_follow(part, "defs-linux.json")[0].get("properties", {}))
    return props


@pytest.mark.parametrize(("model", "location"), LOCATIONS, ids=lambda v: getattr(v, "__name__", ""))
def test_aliases_are_schema_properties(model: type[BaseModel], location: tuple[str, ...]) -> None:
    if not SCHEMA_DIR.is_dir():
        pytest.skip("the runtime-spec schema is not in ../shared/reference")
    node = schema_node(*location)
    aliases = {field.alias or name for name, field in model.model_fields.items()}
    assert aliases <= _properties(node), sorted(aliases - _properties(node))


def test_round_trip_and_irregular_aliases() -> None:
    document = {
        "ociVersion": "1.2.0",
        "process": {"user": {"uid": 1, "gid": 2, "additionalGids": [3]}, "cwd": "/", "oomScoreAdj": 0},
        "root": {"path": "rootfs"},
        "linux": {
            "uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
            "resources": {
                "memory": {"kernelTCP": 1, "disableOOMKiller": True},
                "blockIO": {"throttleReadIOPSDevice": [{"major": 8, "minor": 0, "rate": 100}]},
                "hugepageLimits": [{"pageSize": "2MB", "limit": 0}],
                "network": {"classID": 7},
            },
            "intelRdt": {"closID": "c"},
            "seccomp": {
                "defaultAction": "SCMP_ACT_ERRNO",
                "syscalls": [
                    {
                        "names": ["a"],
                        "action": "SCMP_ACT_ALLOW",
                        "args": [{"index": 0, "value": 1, "valueTwo": 2, "op": "SCMP_CMP_MASKED_EQ"}],
                    }
                ],
            },
        },
    }
    spec = oci.Spec.model_validate(document)
    assert spec.linux.resources.memory.disable_oom_killer is True
    assert spec.linux.uid_mappings[0].host_id == 100000
    assert oci.dump(spec) == document


def test_state() -> None:
    state = oci.State.model_validate(
        {"ociVersion": "1.0.2", "id": "c", "status": "paused", "pid": 4, "bundle": "/b", "annotations": {}}
    )
    assert state.status is oci.ContainerState.PAUSED
    assert oci.dump(state)["status"] == "paused"
