"""Spec options: each `with_*()` takes a spec (dict) and returns a changed copy.

They map Docker's create request (Config and HostConfig, PascalCase dicts as on the wire) onto
the OCI spec the way dockerd's createSpec options do (moby daemon/oci_linux.go `With*`,
daemon_unix.go's checks), with dockerd's error wording (InvalidParameterError → 400). This
module holds the process, namespace, sysctl, capability and security options; resources.py
the cgroup limits and devices, mounts.py the mounts.

No I/O here but `read_profile()` (a seccomp profile given by path), which with_seccomp takes
as a replaceable callable.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jockerd.bundle.defaults import ALL_CAPABILITIES, DEFAULT_CAPABILITIES, DEFAULT_PATH_ENV
from jockerd.bundle.resources import StatFn, device_from_path
from jockerd.bundle.seccomp_profile import Kernel, default_seccomp, seccomp_from_profile
from jockerd.bundle.users import resolve_groups
from jockerd.errors import InvalidParameterError

Spec = dict[str, Any]
HostConfig = Mapping[str, Any]

INIT_PATH_IN_CONTAINER = "/sbin/docker-init"
SECCOMP_UNCONFINED = "unconfined"
SECCOMP_DEFAULT = "builtin"


def _copy(spec: Spec) -> Spec:
    return copy.deepcopy(spec)


def _linux(spec: Spec) -> dict[str, Any]:
    return spec.setdefault("linux", {})


def _process(spec: Spec) -> dict[str, Any]:
    return spec.setdefault("process", {"user": {"uid": 0, "gid": 0}, "cwd": "/"})


# -- process --------------------------------------------------------------------------------------


def with_image(spec: Spec, image_spec: Mapping[str, Any]) -> Spec:
    """Lay the converted image config (conversion.spec_from_image) over the spec."""
    spec = _copy(spec)
    _process(spec).update(copy.deepcopy(dict(image_spec.get("process") or {})))
    if image_spec.get("annotations"):
        spec["annotations"] = {**spec.get("annotations", {}), **image_spec["annotations"]}
    return spec


def replace_or_append_env(defaults: list[str], overrides: Iterable[str]) -> list[str]:
    """dockerd's ReplaceOrAppendEnvValues: overrides replace same-named defaults in place, new ones
    are appended, and a bare NAME (no "=") removes NAME."""
    out: list[str | None] = list(defaults)
    index = {e.partition("=")[0]: i for i, e in enumerate(defaults)}
    for value in overrides:
        name, eq, _ = value.partition("=")
        if not eq:
            if name in index:
                out[index[name]] = None
            continue
        if name in index and out[index[name]] is not None:
            out[index[name]] = value
        else:
            index[name] = len(out)
            out.append(value)
    return [e for e in out if e is not None]


def with_env(spec: Spec, *, hostname: str, tty: bool) -> Spec:
    """PATH (when the image sets none), HOSTNAME and, with a tty, TERM=xterm; then the merged env."""
    spec = _copy(spec)
    process = _process(spec)
    defaults = [f"PATH={DEFAULT_PATH_ENV}", f"HOSTNAME={hostname}", *(["TERM=xterm"] if tty else [])]
    process["env"] = replace_or_append_env(defaults, process.get("env") or [])
    return spec


def with_terminal(spec: Spec, config: Mapping[str, Any], host: HostConfig) -> Spec:
    """Config.Tty → process.terminal; HostConfig.ConsoleSize [height, width] → consoleSize."""
    spec = _copy(spec)
    process = _process(spec)
    if config.get("Tty"):
        process["terminal"] = True
        size = host.get("ConsoleSize") or [0, 0]
        if len(size) == 2 and (size[0] or size[1]):
            process["consoleSize"] = {"height": int(size[0]), "width": int(size[1])}
    else:
        process.pop("terminal", None)
    return spec


def with_init(spec: Spec, host: HostConfig, *, init_path: str | None, default_init: bool = False) -> Spec:
    """--init: run the command under an init (tini as docker-init) bound read-only at /sbin/docker-init.

    Only in a private pid namespace (with the host's or another container's there is an init
    already). Without a configured init binary this is an error, not a silent no-op.
    """
    init = host.get("Init")
    wanted = default_init if init is None else bool(init)
    if not wanted or _mode(host.get("PidMode"))[0] in ("host", "container"):
        return spec
    if not init_path:
        raise InvalidParameterError(
            "--init needs an init binary (docker-init), and none is configured: set the daemon's init-path"
        )
    spec = _copy(spec)
    process = _process(spec)
    process["args"] = [INIT_PATH_IN_CONTAINER, "--", *(process.get("args") or [])]
    spec.setdefault("mounts", []).append(
        {
            "destination": INIT_PATH_IN_CONTAINER,
            "type": "bind",
            "source": init_path,
            "options": ["bind", "ro"],
        }
    )
    return spec


def with_hostname(spec: Spec, hostname: str, domainname: str = "") -> Spec:
    """The UTS names (dockerd's default hostname is the 12-character container ID)."""
    spec = _copy(spec)
    spec["hostname"] = hostname
    if domainname:
        spec["domainname"] = domainname
    return spec


def with_root(spec: Spec, path: str, *, readonly: bool = False) -> Spec:
    spec = _copy(spec)
    spec["root"] = {"path": path, **({"readonly": True} if readonly else {})}
    return spec


def with_group_add(spec: Spec, host: HostConfig, group: str | None) -> Spec:
    """--group-add: names (looked up in the image's /etc/group) or numbers, after the user's groups."""
    group_add = list(host.get("GroupAdd") or [])
    if not group_add:
        return spec
    spec = _copy(spec)
    user = _process(spec)["user"]
    gids = list(user.get("additionalGids") or [user.get("gid", 0)])
    for gid in resolve_groups(group_add, group):
        if gid not in gids:
            gids.append(gid)
    user["additionalGids"] = gids
    return spec


# -- rlimits, oom ---------------------------------------------------------------------------------

ULIMIT_NAMES = (
    "as",
    "core",
    "cpu",
    "data",
    "fsize",
    "locks",
    "memlock",
    "msgqueue",
    "nice",
    "nofile",
    "nproc",
    "rss",
    "rtprio",
    "rttime",
    "sigpending",
    "stack",
)


def with_rlimits(spec: Spec, host: HostConfig, default_ulimits: Iterable[Mapping[str, Any]] = ()) -> Spec:
    """HostConfig.Ulimits [{Name, Soft, Hard}] over the daemon's defaults → RLIMIT_* rlimits."""
    merged: dict[str, Mapping[str, Any]] = {}
    for ulimit in (*default_ulimits, *(host.get("Ulimits") or [])):
        merged[str(ulimit.get("Name", ""))] = ulimit
    if not merged:
        return spec
    rlimits = []
    for name, ulimit in merged.items():
        if name not in ULIMIT_NAMES:
            raise InvalidParameterError(f"invalid ulimit type: {name}")
        soft, hard = int(ulimit.get("Soft", 0)), int(ulimit.get("Hard", 0))
        if soft > hard:
            raise InvalidParameterError(
                f"ulimit soft limit must be less than or equal to hard limit: {soft} > {hard}"
            )
        rlimits.append({"type": f"RLIMIT_{name.upper()}", "hard": hard, "soft": soft})
    spec = _copy(spec)
    _process(spec)["rlimits"] = rlimits
    return spec


def with_oom_score_adj(spec: Spec, host: HostConfig) -> Spec:
    """dockerd always writes oomScoreAdj (0 unless --oom-score-adj)."""
    score = int(host.get("OomScoreAdj") or 0)
    if not -1000 <= score <= 1000:
        raise InvalidParameterError(f"Invalid value {score}, range for oom score adj is [-1000, 1000]")
    spec = _copy(spec)
    _process(spec)["oomScoreAdj"] = score
    return spec


# -- namespaces -----------------------------------------------------------------------------------


def _mode(value: Any) -> tuple[str, str]:
    """("host" | "container" | "none" | "private" | "shareable" | ..., argument) of a *Mode field."""
    text = str(value or "")
    kind, _, arg = text.partition(":")
    return kind, arg


def _set_namespace(namespaces: list[dict[str, Any]], ns_type: str, path: str | None = None) -> None:
    entry = {"type": ns_type, **({"path": path} if path else {})}
    for i, ns in enumerate(namespaces):
        if ns["type"] == ns_type:
            namespaces[i] = entry
            return
    namespaces.append(entry)


def _remove_namespace(namespaces: list[dict[str, Any]], ns_type: str) -> None:
    namespaces[:] = [ns for ns in namespaces if ns["type"] != ns_type]


def has_own_namespace(spec: Spec, ns_type: str) -> bool:
    """The container creates this namespace (listed, without a path to join)."""
    return any(
        ns["type"] == ns_type and not ns.get("path") for ns in spec.get("linux", {}).get("namespaces", [])
    )


def with_namespaces(
    spec: Spec,
    host: HostConfig,
    *,
    cgroup_version: int = 2,
    namespace_paths: Mapping[str, str] | None = None,
) -> Spec:
    """NetworkMode, IpcMode, PidMode, UTSMode, CgroupnsMode → linux.namespaces.

    `host` drops the namespace (the container stays in the daemon's); `container:<id>` joins
    the namespace whose path the caller resolved into `namespace_paths[type]` (e.g. "network" →
    "/proc/<pid>/ns/net"); anything else gets a new one.
    """
    spec = _copy(spec)
    linux = _linux(spec)
    namespaces = linux.setdefault("namespaces", [])
    paths = namespace_paths or {}
    for ns_type, key, valid in (
        ("network", "NetworkMode", None),
        ("ipc", "IpcMode", ("", "private", "shareable", "none", "host", "container")),
        ("pid", "PidMode", ("", "host", "container")),
        ("uts", "UTSMode", ("", "host")),
    ):
        kind, arg = _mode(host.get(key))
        if valid is not None and kind not in valid:
            raise InvalidParameterError(f"invalid {ns_type.upper()} mode: {host.get(key)}")
        if kind == "host":
            _remove_namespace(namespaces, ns_type)
            if ns_type == "uts":
                spec.pop("hostname", None)
        elif kind == "container":
            if not arg or ns_type not in paths:
                raise InvalidParameterError(f"invalid {ns_type.upper()} mode: {host.get(key)}")
            _set_namespace(namespaces, ns_type, paths[ns_type])
        else:
            _set_namespace(namespaces, ns_type)
    cgroupns = str(host.get("CgroupnsMode") or "")
    if cgroupns not in ("", "host", "private"):
        raise InvalidParameterError(f"invalid cgroup namespace mode: {cgroupns}")
    if cgroupns == "":
        private_default = cgroup_version == 2
        cgroupns = "private" if private_default else "host"
    if cgroupns == "private":
        _set_namespace(namespaces, "cgroup")
    else:
        _remove_namespace(namespaces, "cgroup")
    return spec


# -- sysctls --------------------------------------------------------------------------------------

IPC_SYSCTLS = frozenset(
    {
        "kernel.msgmax",
        "kernel.msgmnb",
        "kernel.msgmni",
        "kernel.sem",
        "kernel.shmall",
        "kernel.shmmax",
        "kernel.shmmni",
        "kernel.shm_rmid_forced",
    }
)
# dockerd sets these in a container with its own network namespace (ping and low ports without caps).
DEFAULT_NET_SYSCTLS = {
    "net.ipv4.ping_group_range": "0 2147483647",
    "net.ipv4.ip_unprivileged_port_start": "0",
}


def validate_sysctl(name: str, spec: Spec) -> None:
    """runc's rule: only sysctls of a namespace the container has its own of (ipc, net, uts)."""
    if name in IPC_SYSCTLS or name.startswith("fs.mqueue."):
        if has_own_namespace(spec, "ipc"):
            return
        raise InvalidParameterError(f'sysctl "{name}" is not allowed in the hosts ipc namespace')
    if name.startswith("net."):
        if has_own_namespace(spec, "network"):
            return
        raise InvalidParameterError(f'sysctl "{name}" is not allowed in the hosts network namespace')
    if has_own_namespace(spec, "uts"):
        if name == "kernel.domainname":
            return
        if name == "kernel.hostname":
            raise InvalidParameterError("sysctl kernel.hostname is not allowed; use hostname config")
    raise InvalidParameterError(f'sysctl "{name}" is not in a separate kernel namespace')


NONE_NETWORK_SYSCTLS = {
    "net.ipv6.conf.all.disable_ipv6": "1",
    "net.ipv6.conf.default.disable_ipv6": "1",
    "net.ipv6.conf.lo.disable_ipv6": "1",
}


def with_sysctls(spec: Spec, host: HostConfig, *, default_net_sysctls: bool = True) -> Spec:
    """HostConfig.Sysctls (checked against the namespaces) over dockerd's network defaults.

    Apply after with_namespaces: whether a sysctl is allowed depends on them.
    """
    sysctls: dict[str, str] = {}
    if default_net_sysctls and has_own_namespace(spec, "network"):
        sysctls.update(DEFAULT_NET_SYSCTLS)
        if (host.get("NetworkMode") or "") == "none":
            # dockerd's "none" sandbox has IPv6 off (all, default and lo read 1 inside)
            sysctls.update(NONE_NETWORK_SYSCTLS)
    for name, value in (host.get("Sysctls") or {}).items():
        validate_sysctl(name, spec)
        sysctls[name] = str(value)
    if not sysctls:
        return spec
    spec = _copy(spec)
    _linux(spec)["sysctl"] = sysctls
    return spec


# -- capabilities, privileged ---------------------------------------------------------------------


def normalize_capabilities(names: Iterable[str], field: str = "") -> list[str]:
    """Docker's spellings (case-insensitive, with or without CAP_, or ALL) → CAP_* names.

    `field` (CapAdd, CapDrop) prefixes the error as dockerd does."""
    out = []
    for name in names:
        cap = name.upper()
        if cap != "ALL" and not cap.startswith("CAP_"):
            cap = "CAP_" + cap
        if cap != "ALL" and cap not in ALL_CAPABILITIES:
            prefix = f"invalid {field}: " if field else ""
            raise InvalidParameterError(f'{prefix}unknown capability: "{cap}"')
        out.append(cap)
    return out


def tweak_capabilities(
    basics: Iterable[str],
    add: Iterable[str],
    drop: Iterable[str],
    *,
    privileged: bool,
    available: Iterable[str] = ALL_CAPABILITIES,
) -> list[str]:
    """dockerd's TweakCapabilities: privileged → all; ALL in CapAdd → all but CapDrop; ALL in CapDrop
    → only CapAdd; else the defaults minus CapDrop plus CapAdd.

    "All" means the capabilities the daemon can grant (`available`): in a nested or rootless
    daemon the bounding set can be smaller than what the kernel knows, and the runtime can't
    give the container a capability it lacks itself.
    """
    everything = list(available)
    if privileged:
        return everything
    cap_add, cap_drop = normalize_capabilities(add, "CapAdd"), normalize_capabilities(drop, "CapDrop")
    if "ALL" in cap_add:
        caps = [c for c in everything if c not in cap_drop]
    elif "ALL" in cap_drop:
        caps = [c for c in cap_add if c != "ALL"]
    else:
        caps = [c for c in basics if c not in cap_drop] + cap_add
    return list(dict.fromkeys(caps))


def with_capabilities(spec: Spec, host: HostConfig, *, available: Iterable[str] = ALL_CAPABILITIES) -> Spec:
    """CapAdd/CapDrop/Privileged → process.capabilities.

    Root gets the set as bounding, effective and permitted; any other user only the bounding
    set, as execve(2) would give it (dockerd since the CVE-2022-24769 fix). Apply after the user.
    """
    caps = tweak_capabilities(
        DEFAULT_CAPABILITIES,
        host.get("CapAdd") or [],
        host.get("CapDrop") or [],
        privileged=bool(host.get("Privileged")),
        available=available,
    )
    spec = _copy(spec)
    process = _process(spec)
    if process.get("user", {}).get("uid", 0) == 0:
        process["capabilities"] = {"bounding": caps, "effective": list(caps), "permitted": list(caps)}
    else:
        process["capabilities"] = {"bounding": caps}
    return spec


def _clear_readonly(mount: dict[str, Any]) -> None:
    mount["options"] = [o for o in mount.get("options") or [] if o != "ro"]


def with_privileged(
    spec: Spec, host: HostConfig, *, devices: Iterable[Mapping[str, Any]] = (), stat: StatFn = os.stat
) -> Spec:
    """--privileged: every host device (listed by the caller with host_devices()) plus the
    HostConfig.Devices mapped elsewhere, all device access, no masked or read-only paths, /sys
    and the cgroup mount read-write.

    Capabilities and seccomp handle Privileged themselves (with_capabilities, with_seccomp).
    """
    if not host.get("Privileged"):
        return spec
    spec = _copy(spec)
    linux = _linux(spec)
    linux["devices"] = [dict(d) for d in devices]
    for mapping in host.get("Devices") or []:
        inside = mapping.get("PathInContainer") or mapping["PathOnHost"]
        if inside != mapping["PathOnHost"]:
            linux["devices"].append(device_from_path(mapping["PathOnHost"], inside, "rwm", stat=stat)[0])
    linux.setdefault("resources", {})["devices"] = [{"allow": True, "access": "rwm"}]
    linux.pop("maskedPaths", None)
    linux.pop("readonlyPaths", None)
    for mount in spec.get("mounts", []):
        if mount.get("destination") == "/sys" or mount.get("type") == "cgroup":
            _clear_readonly(mount)
    return spec


def with_masked_paths(spec: Spec, host: HostConfig) -> Spec:
    """HostConfig.MaskedPaths / ReadonlyPaths replace the defaults when set (an empty list clears)."""
    if host.get("MaskedPaths") is None and host.get("ReadonlyPaths") is None:
        return spec
    spec = _copy(spec)
    linux = _linux(spec)
    for key, spec_key in (("MaskedPaths", "maskedPaths"), ("ReadonlyPaths", "readonlyPaths")):
        if host.get(key) is not None:
            linux[spec_key] = list(host[key])
    return spec


# -- security options, seccomp --------------------------------------------------------------------


@dataclass
class SecurityOptions:
    """What HostConfig.SecurityOpt asks for."""

    no_new_privileges: bool = False
    seccomp_profile: str = ""  # "", "unconfined", "builtin", JSON content or a path
    apparmor_profile: str = ""
    labels: list[str] = field(default_factory=list)


def _parse_bool(value: str) -> bool | None:
    return {"1": True, "t": True, "true": True, "0": False, "f": False, "false": False}.get(value.lower())


def parse_security_opts(options: Iterable[str]) -> SecurityOptions:
    """HostConfig.SecurityOpt, as dockerd's parseSecurityOpt reads it.

    label= and apparmor= are accepted and recorded but have no effect: this host has neither
    SELinux nor AppArmor enforcement wired into jocker (dockerd also ignores them without).
    """
    out = SecurityOptions()
    for opt in options:
        if opt == "no-new-privileges":
            out.no_new_privileges = True
            continue
        if opt == "disable":
            out.labels.append("disable")
            continue
        sep = "=" if "=" in opt else ":" if ":" in opt else ""
        if not sep:
            raise InvalidParameterError(f'invalid --security-opt 1: "{opt}"')
        key, _, value = opt.partition(sep)
        if key == "label":
            out.labels.append(value)
        elif key == "apparmor":
            out.apparmor_profile = value
        elif key == "seccomp":
            out.seccomp_profile = value
        elif key == "no-new-privileges":
            parsed = _parse_bool(value)
            if parsed is None:
                raise InvalidParameterError(f'invalid --security-opt 2: "{opt}"')
            out.no_new_privileges = parsed
        else:
            raise InvalidParameterError(f'invalid --security-opt 2: "{opt}"')
    return out


def with_no_new_privileges(spec: Spec, host: HostConfig, *, default: bool = False) -> Spec:
    """--security-opt no-new-privileges[:true|false] (or the daemon's default) → process.noNewPrivileges."""
    options = parse_security_opts(host.get("SecurityOpt") or [])
    nnp = options.no_new_privileges or default
    spec = _copy(spec)
    if nnp:
        _process(spec)["noNewPrivileges"] = True
    else:
        _process(spec).pop("noNewPrivileges", None)
    return spec


def read_profile(value: str) -> str:
    """A seccomp profile given by path (the docker CLI sends the content itself): one file read."""
    try:
        return Path(value).read_text()
    except OSError as e:
        raise InvalidParameterError(f"opening seccomp profile ({value}) failed: {e.strerror}") from e


def with_seccomp(
    spec: Spec,
    host: HostConfig,
    *,
    arch: str,
    kernel: Kernel | None = None,
    load_profile: Callable[[str], str] = read_profile,
    daemon_profile: str = "",
) -> Spec:
    """linux.seccomp: the default profile for the container's bounding capabilities, a custom
    one (--security-opt seccomp=<JSON or path>), or none (unconfined, --privileged).

    Apply after with_capabilities: the default profile depends on the capabilities.
    """
    profile = parse_security_opts(host.get("SecurityOpt") or []).seccomp_profile or daemon_profile
    spec = _copy(spec)
    linux = _linux(spec)
    linux.pop("seccomp", None)
    if profile == SECCOMP_UNCONFINED or host.get("Privileged"):
        return spec
    caps = _process(spec).get("capabilities", {}).get("bounding") or []
    if profile in ("", SECCOMP_DEFAULT):
        linux["seccomp"] = default_seccomp(caps, arch, kernel)
        return spec
    text = profile if profile.lstrip().startswith("{") else load_profile(profile)
    try:
        document = json.loads(text)
    except ValueError as e:
        raise InvalidParameterError(f"Decoding seccomp profile failed: {e}") from e
    seccomp = seccomp_from_profile(document, caps, arch, kernel)
    if seccomp is not None:
        linux["seccomp"] = seccomp
    return spec


# -- annotations ----------------------------------------------------------------------------------


def with_annotations(spec: Spec, host: HostConfig) -> Spec:
    """HostConfig.Annotations (API 1.43+) win over the image's."""
    annotations = host.get("Annotations") or {}
    if not annotations:
        return spec
    if "" in annotations:
        raise InvalidParameterError(
            "invalid Annotations: the empty string is not permitted as an annotation key"
        )
    spec = _copy(spec)
    spec["annotations"] = {**spec.get("annotations", {}), **annotations}
    return spec
