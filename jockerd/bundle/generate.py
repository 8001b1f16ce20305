"""generate_spec = default_spec → spec_from_image → with_* options; write_bundle writes config.json.

The order of the options matters where one reads what another wrote, and follows dockerd's
createSpec: the user before the capabilities (non-root users get the bounding set only), the
capabilities before seccomp (the default profile depends on them), the namespaces before the
sysctls (which are checked against them) and before the mounts (--ipc=host shares /dev/shm).

`generate_spec` reads only what its arguments point at: the rootfs' /etc/passwd and /etc/group,
the device nodes of HostConfig.Devices, /dev for --privileged, and a seccomp profile given by
path. Host facts (architecture, kernel, cgroup version, CPU count) are arguments, so the same
inputs always give the same spec.
"""

from __future__ import annotations

import glob
import os
import platform
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jockerd.bundle import mounts, opts, resources
from jockerd.bundle.conversion import merge_config, spec_from_image
from jockerd.bundle.defaults import ALL_CAPABILITIES, default_spec
from jockerd.bundle.seccomp_profile import Kernel, parse_kernel
from jockerd.bundle.users import read_user_db
from jockerd.models.oci.runtime import Spec, dump
from jockerd.store.atomic import write_json

CONFIG_FILE = "config.json"
# The container's copies of the network files, under its directory (dockerd's names).
NETWORK_FILES = {"/etc/resolv.conf": "resolv.conf", "/etc/hostname": "hostname", "/etc/hosts": "hosts"}


@dataclass(frozen=True)
class SpecSettings:
    """Daemon-wide settings and host facts that shape every spec."""

    arch: str = platform.machine()
    kernel: Kernel | None = None
    cgroup_version: int = 2
    cgroup_parent: str = "/jocker"
    ncpu: int | None = None
    init_path: str | None = None  # the host's docker-init (tini) for --init
    default_init: bool = False  # dockerd --init
    no_new_privileges: bool = False  # dockerd --no-new-privileges
    seccomp_profile: str = ""  # dockerd --seccomp-profile: "", "unconfined" or JSON
    default_ulimits: tuple[Mapping[str, Any], ...] = ()
    masked_paths: tuple[str, ...] = ()  # extra masked paths (thermal_throttle_paths())
    capabilities: tuple[str, ...] = ALL_CAPABILITIES  # what --privileged and --cap-add ALL get


def host_settings(**overrides: Any) -> SpecSettings:
    """SpecSettings with this host's facts: architecture, kernel, cgroup version, CPUs, masked paths."""
    facts: dict[str, Any] = {
        "arch": platform.machine(),
        "kernel": parse_kernel(platform.release()),
        "cgroup_version": 2 if os.path.exists("/sys/fs/cgroup/cgroup.controllers") else 1,
        "ncpu": os.cpu_count(),
        "masked_paths": thermal_throttle_paths(),
        "capabilities": bounding_capabilities(),
    }
    return SpecSettings(**{**facts, **overrides})


def thermal_throttle_paths() -> tuple[str, ...]:
    """/sys/devices/system/cpu/cpu*/thermal_throttle that exist: dockerd masks them too."""
    return tuple(sorted(glob.glob("/sys/devices/system/cpu/cpu[0-9]*/thermal_throttle")))


def bounding_capabilities(status: str = "/proc/self/status") -> tuple[str, ...]:
    """The capabilities in this process's bounding set: all a container started from here can get."""
    try:
        with open(status) as f:
            line = next((x for x in f if x.startswith("CapBnd:")), "")
    except OSError:
        line = ""
    if not line:
        return ALL_CAPABILITIES
    mask = int(line.split()[1], 16)
    return tuple(cap for bit, cap in enumerate(ALL_CAPABILITIES) if mask >> bit & 1)


def _as_dict(body: Any) -> dict[str, Any]:
    if hasattr(body, "model_dump"):
        return body.model_dump(mode="json", by_alias=True, exclude_none=True)
    return dict(body or {})


def generate_spec(
    container_id: str,
    image_config: Mapping[str, Any],
    create_body: Mapping[str, Any] | Any,
    rootfs: str | Path | None,
    *,
    container_dir: str | Path | None = None,
    settings: SpecSettings | None = None,
    root_path: str = "rootfs",
    namespace_paths: Mapping[str, str] | None = None,
    shared_network_dir: str | Path | None = None,
    volumes: Iterable[mounts.BindSpec] | None = None,
    privileged_devices: Iterable[Mapping[str, Any]] | None = None,
    stat: resources.StatFn = os.stat,
) -> dict[str, Any]:
    """The config.json dockerd would hand runc for this container.

    - `image_config`: the OCI image config (with its `config` object);
    - `create_body`: Docker's ContainerCreate body (Config fields plus "HostConfig"), a dict or a
      model with PascalCase aliases;
    - `rootfs`: the prepared rootfs, read for /etc/passwd and /etc/group (None: numeric users only);
    - `container_dir`: where the container's hosts, hostname and resolv.conf live (None: none);
    - `root_path`: root.path as written in the spec (relative to the bundle);
    - `namespace_paths`: namespace type → path to join, for `container:<id>` modes;
    - `shared_network_dir`: with `--network container:<id>`, where that container's hosts,
      hostname and resolv.conf live (they are mounted instead of the container's own);
    - `volumes`: the volume mounts, each resolved to the host directory backing it;
    - `privileged_devices`: the host's devices for --privileged (default: resources.host_devices()).
    """
    settings = settings or SpecSettings()
    body = _as_dict(create_body)
    host = dict(body.get("HostConfig") or {})
    image = merge_config(image_config, body)
    config = image["config"]
    passwd, group = read_user_db(Path(rootfs)) if rootfs is not None else (None, None)
    hostname = str(body.get("Hostname") or container_id[:12])
    files_dir = container_dir if mounts.owns_network_files(host) else shared_network_dir
    network_files = (
        {dest: str(Path(files_dir) / name) for dest, name in NETWORK_FILES.items()}
        if files_dir is not None
        else None
    )
    devices: Iterable[Mapping[str, Any]] = ()
    if host.get("Privileged"):
        devices = resources.host_devices() if privileged_devices is None else privileged_devices

    spec = default_spec(cgroup_version=settings.cgroup_version, masked_paths=settings.masked_paths)
    spec = opts.with_image(spec, spec_from_image(image, passwd=passwd, group=group))
    spec = opts.with_group_add(spec, host, group)
    spec = opts.with_env(spec, hostname=hostname, tty=bool(body.get("Tty")))
    spec = opts.with_terminal(spec, body, host)
    spec = opts.with_hostname(spec, hostname, str(body.get("Domainname") or ""))
    spec = opts.with_root(spec, root_path, readonly=bool(host.get("ReadonlyRootfs")))
    spec = opts.with_namespaces(
        spec, host, cgroup_version=settings.cgroup_version, namespace_paths=namespace_paths
    )
    spec = resources.with_resources(spec, host, ncpu=settings.ncpu)
    spec = resources.with_cgroups_path(spec, host, container_id, parent=settings.cgroup_parent)
    spec = opts.with_sysctls(spec, host)
    spec = resources.with_devices(spec, host, stat=stat)
    spec = opts.with_rlimits(spec, host, settings.default_ulimits)
    spec = opts.with_capabilities(spec, host, available=settings.capabilities)
    spec = opts.with_no_new_privileges(spec, host, default=settings.no_new_privileges)
    spec = opts.with_seccomp(
        spec, host, arch=settings.arch, kernel=settings.kernel, daemon_profile=settings.seccomp_profile
    )
    spec = opts.with_init(spec, host, init_path=settings.init_path, default_init=settings.default_init)
    spec = mounts.with_mounts(spec, config, host, network_files=network_files, volumes=volumes)
    spec = opts.with_privileged(spec, host, devices=devices, stat=stat)
    spec = opts.with_masked_paths(spec, host)
    spec = opts.with_oom_score_adj(spec, host)
    spec = opts.with_annotations(spec, host)
    return dump(Spec.model_validate(spec))


def write_bundle(bundle: str | Path, spec: Mapping[str, Any]) -> Path:
    """Write `spec` as <bundle>/config.json (temp file, fsync, rename); the path written."""
    directory = Path(bundle)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / CONFIG_FILE
    write_json(path, dict(spec))
    return path
