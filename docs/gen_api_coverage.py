"""Print docs/api-coverage.md: one row per Docker Engine API endpoint with jocker's status.

Usage (from the repo root):

    .venv/bin/python docs/gen_api_coverage.py ../shared/reference/docker-engine-api-v1.51.yaml \
        > docs/api-coverage.md

The endpoints come from the swagger; the statuses come from STATUS below, kept by hand next to
jockerd/api/routes/. An endpoint missing from STATUS is "missing" (the 501 of
jockerd/api/routes/unsupported.py). Statuses:

- done: served as Docker does (within the limits in the note);
- partial: served, with a part of Docker's behaviour missing (the note says which);
- 404-stub: no object of this kind exists in jocker, so the lookup answers Docker's 404;
- missing: not served; the note gives the status jockerd answers.
"""

# ruff: noqa: E501  (the STATUS table holds one endpoint per line, notes included)

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import yaml

HTTP_METHODS = ("get", "head", "post", "put", "delete", "patch", "options")
STATUSES = ("done", "partial", "404-stub", "missing")

# Section of the page for each swagger tag, in page order.
SECTIONS: dict[str, tuple[str, ...]] = {
    "System": ("System",),
    "Image": ("Image",),
    "Container": ("Container",),
    "Exec": ("Exec",),
    "Network": ("Network",),
    "Volume": ("Volume",),
    "Swarm, Node, Service, Task, Secret, Config": ("Swarm", "Node", "Service", "Task", "Secret", "Config"),
    "Plugin": ("Plugin",),
    "Distribution": ("Distribution",),
    "Session": ("Session",),
}

SWARM_503 = '503 "This node is not a swarm manager. …", as dockerd outside a swarm'
EMPTY = "empty stub: answers `{}` while jocker has no {}"

# operationId -> (status, note)
STATUS: dict[str, tuple[str, str]] = {
    # System
    "SystemPing": ("done", "`OK` with Docker's ping headers"),
    "SystemPingHead": ("done", "Api-Version, Ostype, Builder-Version, no-cache headers"),
    "SystemVersion": ("done", ""),
    "SystemInfo": ("done", ""),
    "SystemDataUsage": ("partial", "images, containers and volumes (UsageData Size and RefCount); build cache empty"),
    "SystemAuth": ("done", "docker login: checked against the registry (basic auth, or a bearer token for the credentials; an identity token when the token service gives one); dockerd's success body and failure wordings"),
    "SystemEvents": (
        "partial",
        "container events, image events for load, tag, untag, delete, import, pull and push, and volume events (create, mount, unmount, destroy, prune) (history of 1024, since/until, filters); no network events yet",
    ),
    # Image
    "ImageList": ("done", ""),
    "ImageLoad": ("done", ""),
    "ImageGetAll": ("done", ""),
    "ImageCreate": ("partial", "pull (fromImage with a tag or digest, or every tag of a repository when neither is given, `platform`, X-Registry-Auth; dockerd's progress stream) and import (fromSrc=-); not yet: import from a URL"),
    "ImagePrune": ("done", ""),
    "ImageInspect": ("done", ""),
    "ImageHistory": ("done", ""),
    "ImageGet": ("done", ""),
    "ImageTag": ("done", ""),
    "ImageDelete": ("done", ""),
    "ImagePush": ("done", "one tag or every tag of the repository; blob existence checks, cross-repository mounts, monolithic and chunked uploads; blobs go up as stored (no recompression)"),
    "ImageSearch": ("missing", "501"),
    "ImageBuild": ("missing", "501"),
    "BuildPrune": ("missing", "501"),
    "ImageCommit": (
        "done",
        "pause, changes, comment, author; the runtime's mount targets stay out as with dockerd's init layer",
    ),
    # Container
    "ContainerList": (
        "done",
        "all, limit, size and every documented filter (publish/expose as moby's); Ports from the published ports",
    ),
    "ContainerCreate": (
        "partial",
        "full Config/HostConfig; network modes default (own netns, loopback only), none, host, container:; binds, named and anonymous volumes (-v, --mount type=volume, image VOLUME, --volumes-from; copy-up, nocopy); port publishing (PortBindings, PublishAllPorts, ExposedPorts) done through a userland proxy in the shim, tcp and udp, to 127.0.0.1 in the container's netns; no bridge networks",
    ),
    "ContainerInspect": (
        "done",
        "dockerd's field set; NetworkSettings has no addresses (loopback only), NetworkID/EndpointID on host and none as dockerd; Ports as the proxy publishes them",
    ),
    "ContainerTop": ("done", "ps_args"),
    "ContainerLogs": (
        "done",
        "json-file (max-size/max-file rotation by the shim); follow, since, until, tail, timestamps",
    ),
    "ContainerChanges": ("done", ""),
    "ContainerExport": ("done", "the merged rootfs (layers + upper dir, whiteouts applied), mounts excluded; running or not"),
    "ContainerArchiveInfo": ("done", "X-Docker-Container-Path-Stat; paths resolved in the container (symlinks, `..`), through bind mounts"),
    "ContainerArchive": ("done", "go-archive's entry names (`/.`, `/`), running or stopped container, through bind mounts (not tmpfs)"),
    "PutContainerArchive": (
        "partial",
        "in-root extraction (openat2), noOverwriteDirNonDir, copyUIDGID, read-only rootfs/bind checks; gzip and zstd, no bzip2/xz; binds nested below the extraction point not written through",
    ),
    "ContainerStats": ("done", "stream and one-shot, from the runtime's cgroup stats"),
    "ContainerResize": ("done", ""),
    "ContainerStart": ("done", "failed starts answer 400 with the runtime's error (the CLI maps 126/127)"),
    "ContainerStop": ("done", "stop signal, t, SIGKILL after the timeout; 304 when stopped"),
    "ContainerRestart": ("done", ""),
    "ContainerKill": ("done", "signal names and numbers"),
    "ContainerUpdate": ("done", "resources and restart policy, applied live through the runtime's update"),
    "ContainerRename": ("done", ""),
    "ContainerPause": ("done", "cgroup freezer"),
    "ContainerUnpause": ("done", ""),
    "ContainerAttach": ("done", "hijacked stream before or after start, stdin with half-close, `logs=1` replay"),
    "ContainerWait": ("done", "not-running, next-exit, removed; headers sent at once"),
    "ContainerDelete": ("done", "force; `v` removes the container's anonymous volumes"),
    "ContainerPrune": ("done", "label, label!, until"),
    # Exec
    "ContainerExec": ("done", ""),
    "ExecStart": ("done", "attached (hijacked), detached, TTY"),
    "ExecResize": ("done", ""),
    "ExecInspect": ("done", ""),
    # Network
    "NetworkList": ("done", "the predefined `host` and `none` (IDs and Created kept across restarts; no bridge network yet); filters driver, id, label, name, scope, type, dangling with dockerd's errors"),
    "NetworkInspect": ("done", "by full ID, name, unique ID prefix (dockerd's order and `network X not found`); `scope`, `verbose`; Containers lists the running containers on host/none; EnableIPv4 from API 1.48"),
    "NetworkDelete": ("partial", "host and none: 403 `X is a pre-defined network and cannot be removed`; 404 for any other name"),
    "NetworkCreate": ("partial", "predefined names (bridge, host, none, default): dockerd's 403; any other network: 501 (no user-defined networks yet)"),
    "NetworkConnect": ("partial", "dockerd's 404s and the host-network 400; otherwise 501"),
    "NetworkDisconnect": ("partial", "dockerd's 404s, the host-network 400 and `container X is not connected to network Y`; otherwise 501"),
    "NetworkPrune": ("done", "only predefined networks exist: `{\"NetworksDeleted\":null}`; filters label, label!, until checked as dockerd"),
    # Volume
    "VolumeList": ("done", "filters dangling, driver, label, name; no cluster volumes"),
    "VolumeCreate": ("partial", "local driver only (others: dockerd's plugin-not-found 404); its type/device/o options, mounted while a container uses the volume; no `size` (no quota support); ClusterVolumeSpec answers 503"),
    "VolumeInspect": ("done", ""),
    "VolumeUpdate": ("done", "cluster volumes only: 503 as dockerd outside a swarm"),
    "VolumeDelete": ("done", "409 in use, 404 (force ignores it)"),
    "VolumePrune": ("done", "anonymous volumes only from API 1.42 unless all=true; label, label!; volumes with mount options are never pruned, as in dockerd"),
    # Swarm
    "SwarmInit": ("missing", "501"),
    "SwarmJoin": ("missing", "501"),
    "SwarmLeave": ("missing", '503 "This node is not part of a swarm", as dockerd outside a swarm'),
    # Plugin
    "PluginList": ("partial", EMPTY.format("[]", "plugins")),
    "PluginInspect": ("404-stub", '`plugin "X" not found`; keeps the `docker inspect` chain going'),
    # Distribution
    "DistributionInspect": ("done", "the descriptor a name resolves to and its platforms (index entries, or the config's)"),
}
SWARM_TAGS = ("Swarm", "Node", "Service", "Task", "Secret", "Config")


def endpoints(spec: dict) -> list[tuple[str, str, str, str]]:
    """(tag, method, path, operationId) in swagger order."""
    rows = []
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            if method in HTTP_METHODS:
                rows.append((op["tags"][0], method.upper(), path, op["operationId"]))
    return rows


def status_of(tag: str, operation_id: str) -> tuple[str, str]:
    if operation_id in STATUS:
        return STATUS[operation_id]
    if tag in SWARM_TAGS:
        return ("missing", SWARM_503)
    return ("missing", "501")


def render(spec: dict, swagger_name: str) -> str:
    rows = endpoints(spec)
    known = {operation_id for *_, operation_id in rows}
    unknown = sorted(set(STATUS) - known)
    if unknown:
        raise SystemExit(f"gen_api_coverage: operationIds not in the swagger: {', '.join(unknown)}")
    tags = {tag for tag, *_ in rows}
    unplaced = sorted(tags - {t for group in SECTIONS.values() for t in group})
    if unplaced:
        raise SystemExit(f"gen_api_coverage: swagger tags with no section: {', '.join(unplaced)}")

    counts = Counter(status_of(tag, op)[0] for tag, _, _, op in rows)
    version = spec.get("info", {}).get("version", "?")
    out = [
        f"# Docker Engine API v{version}: what jocker serves",
        "",
        f"Generated by `docs/gen_api_coverage.py {swagger_name}`; edit the STATUS table in that "
        "script, not this file.",
        "",
        "Statuses: **done** (served as Docker does), **partial** (served, something missing: see the "
        "note), **404-stub** (no such object exists in jocker yet, so the lookup answers Docker's 404), "
        "**missing** (not served; the note gives the answer: 501 "
        '`{"message": "<operationId> (<METHOD> <path>) is not implemented by jocker yet"}` '
        "unless it says otherwise).",
        "",
        f"{len(rows)} endpoints: " + ", ".join(f"{counts[s]} {s}" for s in STATUSES) + ".",
    ]
    for section, section_tags in SECTIONS.items():
        section_rows = [r for tag in section_tags for r in rows if r[0] == tag]
        if not section_rows:
            continue
        out += ["", f"## {section}", "", "| operationId | endpoint | status | note |", "|---|---|---|---|"]
        for tag, method, path, operation_id in section_rows:
            status, note = status_of(tag, operation_id)
            out.append(f"| {operation_id} | `{method} {path}` | {status} | {note} |")
    return "\n".join(out) + "\n"


# jocker's own endpoints: outside Docker's namespace of routes, so no Docker client asks for them.
EXTENSIONS = [
    (
        "JockerContainerExplain",
        "GET /jocker/containers/{id}/explain",
        "what the engine did for a running container in the kernel's terms: the OCI bundle's config.json "
        "summarized, namespaces and their inodes (/proc/PID/ns), cgroup directories and the limit files in "
        "force, the rootfs overlay and /proc/PID/mountinfo, /dev nodes, capability sets, and a shell script "
        "that builds an equivalent container by hand (`Steps`). 409 when the container is not running. "
        "Also under `/vX.Y/`. Used by `jocker explain`",
    ),
]


def render_extensions() -> str:
    lines = ["", "## Extensions (jocker's own)", "", "| operationId | endpoint | what |", "|---|---|---|"]
    lines += [f"| {op} | `{endpoint}` | {what} |" for op, endpoint, what in EXTENSIONS]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(f"usage: {argv[0]} SWAGGER.yaml > docs/api-coverage.md", file=sys.stderr)
        return 2
    swagger = Path(argv[1])
    spec = yaml.safe_load(swagger.read_text())
    sys.stdout.write(render(spec, argv[1]))
    sys.stdout.write(render_extensions())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
