"""Mount options: Binds, Mounts, Tmpfs, volumes and the network files → the spec's mounts.

Pure like opts.py. The rules are dockerd's (daemon/oci_linux.go WithMounts, volume/mounts
linux_parser.go, MergeTmpfsOptions), with its error wording.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from jockerd.bundle.defaults import DEFAULT_SHM_SIZE
from jockerd.errors import InvalidParameterError, UnsupportedError

Spec = dict[str, Any]
HostConfig = Mapping[str, Any]

DEFAULT_PROPAGATION = "rprivate"
PROPAGATIONS = ("private", "rprivate", "shared", "rshared", "slave", "rslave")
# Mounts --read-only leaves writable (dockerd's list).
READONLY_EXEMPT = ("/proc", "/dev/pts", "/dev/shm", "/dev/mqueue", "/dev")


def _mode(value: Any) -> str:
    return str(value or "").partition(":")[0]


def owns_network_files(host: HostConfig) -> bool:
    """Whether the container gets its own hosts/hostname/resolv.conf: not with --network container:<id>,
    which shares the other container's."""
    return _mode(host.get("NetworkMode")) != "container"


# -- parsing --------------------------------------------------------------------------------------

_TMPFS_FLAGS = {
    # option → the flag it sets or clears; options sharing a flag override each other
    "ro": "rdonly",
    "rw": "rdonly",
    "exec": "noexec",
    "noexec": "noexec",
    "suid": "nosuid",
    "nosuid": "nosuid",
    "dev": "nodev",
    "nodev": "nodev",
    "sync": "sync",
    "async": "sync",
    "dirsync": "dirsync",
    "mand": "mand",
    "nomand": "mand",
    "atime": "noatime",
    "noatime": "noatime",
    "diratime": "nodiratime",
    "nodiratime": "nodiratime",
    "relatime": "relatime",
    "norelatime": "relatime",
    "strictatime": "strictatime",
    "nostrictatime": "strictatime",
    **dict.fromkeys(
        ("private", "rprivate", "shared", "rshared", "slave", "rslave", "unbindable", "runbindable"),
        "propagation",
    ),
}
_TMPFS_DATA = ("size", "mode", "uid", "gid", "nr_inodes", "nr_blocks", "mpol")


def merge_tmpfs_options(options: Iterable[str]) -> list[str]:
    """dockerd's MergeTmpfsOptions: the last of conflicting options wins, order is otherwise kept."""
    seen: set[str] = set()
    out: list[str] = []
    for option in reversed(list(options)):
        if option == "defaults" or not option:
            continue
        if option in _TMPFS_FLAGS:
            key = _TMPFS_FLAGS[option]
        else:
            name, eq, _ = option.partition("=")
            if not eq or name not in _TMPFS_DATA:
                raise InvalidParameterError(f'invalid tmpfs option ["{option}"]')
            key = "data:" + name
        if key not in seen:
            seen.add(key)
            out.insert(0, option)
    return out


def _not_absolute(mount_type: str, path: str) -> InvalidParameterError:
    reason = f"invalid mount path: '{path}' mount path must be absolute"
    return InvalidParameterError(f'invalid mount config for type "{mount_type}": {reason}')


def _check_destination(dest: str, mount_type: str) -> str:
    if not dest.startswith("/"):
        raise _not_absolute(mount_type, dest)
    clean = os.path.normpath(dest)
    if clean == "/":
        raise InvalidParameterError("invalid specification: destination can't be '/'")
    return clean


def tmpfs_mount(dest: str, options: str = "", *, from_mounts: bool = False) -> dict[str, Any]:
    """One HostConfig.Tmpfs entry (dest → "size=64m,mode=1777") as an OCI mount.

    dockerd words a relative path differently for --tmpfs and for --mount type=tmpfs."""
    if not dest.startswith("/") and not from_mounts:
        raise InvalidParameterError(f"invalid mount path: '{dest}' mount path must be absolute")
    merged = merge_tmpfs_options(["noexec", "nosuid", "nodev", DEFAULT_PROPAGATION, *options.split(",")])
    return {
        "destination": _check_destination(dest, "tmpfs"),
        "type": "tmpfs",
        "source": "tmpfs",
        "options": merged,
    }


@dataclass(frozen=True)
class BindSpec:
    """A bind mount, or (kind "volume") a volume mount before it is resolved to its directory:
    `source` is then the volume's name ("" for an anonymous volume)."""

    source: str
    destination: str
    writable: bool = True
    propagation: str = DEFAULT_PROPAGATION
    recursive: bool = True
    kind: str = "bind"
    mode: str = ""  # the -v mode text as given ("ro,nocopy"), inspect's Mode
    copy_data: bool = True  # a volume is filled from the image unless `nocopy`/volume-nocopy
    driver: str = ""  # --mount volume-driver (VolumeOptions.DriverConfig.Name)
    driver_options: tuple[tuple[str, str], ...] = ()  # --mount volume-opt
    labels: tuple[tuple[str, str], ...] = ()  # --mount volume-label
    from_config: bool = False  # an anonymous volume for a Config.Volumes path (inspect's Mode "")

    @property
    def is_volume(self) -> bool:
        return self.kind == "volume"


def parse_bind(raw: str) -> BindSpec:
    """A -v/Binds entry "src:dst[:opts]" (opts: ro|rw, z|Z, a propagation, nocopy)."""
    parts = raw.split(":")
    if not parts[0] or len(parts) > 3:
        raise InvalidParameterError(f"invalid volume specification: '{raw}'")
    mode = ""
    if len(parts) == 1:
        source, dest = "", parts[0]
    elif len(parts) == 2 and _valid_mode(parts[1]):
        # "/foo:ro": a destination with a mode, which a volume cannot have (moby's parser).
        raise InvalidParameterError(f"invalid volume specification: '{raw}'")
    else:
        source, dest = parts[0], parts[1]
        mode = parts[2] if len(parts) == 3 else ""
    if mode and not _valid_mode(mode):
        raise InvalidParameterError(f"invalid mode: {mode}")
    opts = mode.split(",") if mode else []
    propagation = next((o for o in opts if o in PROPAGATIONS), DEFAULT_PROPAGATION)
    if not source.startswith("/"):
        # A name (or nothing: anonymous) is a volume (moby's linuxParser.ParseMountRaw).
        return BindSpec(
            source,
            _check_destination(dest, "volume"),
            "ro" not in opts,
            kind="volume",
            mode=mode,
            copy_data="nocopy" not in opts,
        )
    return BindSpec(source, _check_destination(dest, "bind"), "ro" not in opts, propagation, mode=mode)


def _valid_mode(mode: str) -> bool:
    rw = label = prop = copy_ = 0
    for opt in mode.split(","):
        if opt in ("ro", "rw"):
            rw += 1
        elif opt in ("z", "Z"):
            label += 1
        elif opt in PROPAGATIONS:
            prop += 1
        elif opt in ("nocopy",):
            copy_ += 1
        else:
            return False
    return rw <= 1 and label <= 1 and prop <= 1 and copy_ <= 1


def bind_mount(bind: BindSpec) -> dict[str, Any]:
    """An OCI bind mount, with the options dockerd gives one: rbind, ro if read-only, the propagation."""
    options = ["rbind" if bind.recursive else "bind"]
    if not bind.writable:
        options.append("ro")
    options.append(bind.propagation)
    return {"destination": bind.destination, "type": "bind", "source": bind.source, "options": options}


def _api_mount(mount: Mapping[str, Any]) -> dict[str, Any] | BindSpec:
    """A HostConfig.Mounts entry (--mount) of type bind, volume or tmpfs."""
    kind = mount.get("Type")
    target = str(mount.get("Target") or "")
    if kind == "volume":
        for field in ("BindOptions", "TmpfsOptions"):
            if mount.get(field):
                raise InvalidParameterError(
                    f'invalid mount config for type "volume": field {field} must not be specified'
                )
        opts = mount.get("VolumeOptions") or {}
        if opts.get("Subpath"):
            raise UnsupportedError("volume subpaths are not implemented by jocker yet")
        driver = opts.get("DriverConfig") or {}
        return BindSpec(
            str(mount.get("Source") or ""),
            _check_destination(target, "volume"),
            not mount.get("ReadOnly"),
            kind="volume",
            copy_data=not opts.get("NoCopy"),
            driver=str(driver.get("Name") or ""),
            driver_options=tuple(sorted((driver.get("Options") or {}).items())),
            labels=tuple(sorted((opts.get("Labels") or {}).items())),
        )
    if kind == "bind":
        source = str(mount.get("Source") or "")
        if not source.startswith("/"):
            raise _not_absolute("bind", source)
        opts = mount.get("BindOptions") or {}
        propagation = opts.get("Propagation") or DEFAULT_PROPAGATION
        if propagation not in PROPAGATIONS:
            raise InvalidParameterError(f"invalid mount config: unknown propagation mode {propagation}")
        return BindSpec(
            source,
            _check_destination(target, "bind"),
            not mount.get("ReadOnly"),
            propagation,
            not opts.get("NonRecursive"),
        )
    if kind == "tmpfs":
        opts = mount.get("TmpfsOptions") or {}
        data = []
        if opts.get("SizeBytes"):
            data.append(f"size={int(opts['SizeBytes'])}")
        if opts.get("Mode"):
            data.append(f"mode={int(opts['Mode']):o}")
        if mount.get("ReadOnly"):
            data.append("ro")
        return tmpfs_mount(target, ",".join(data), from_mounts=True)
    raise UnsupportedError(f"mounts of type {kind!r} are not implemented by jocker yet")


def volume_specs(
    config: Mapping[str, Any], host: HostConfig, *, covered: Iterable[str] = ()
) -> tuple[list[BindSpec], set[str]]:
    """The container's volume mounts before they are resolved, and the destinations of its other
    user mounts (binds, tmpfs).

    -v NAME:/dst and -v /dst, --mount type=volume, then an anonymous volume (`from_config`) for
    each Config.Volumes path (the image's and the request's) that nothing else mounts, nor
    `covered` (--volumes-from's destinations), as dockerd's registerMountPoints and
    createContainerOSSpecificSettings.
    """
    specs: list[BindSpec] = []
    others: set[str] = set()
    for raw in host.get("Binds") or []:
        bind = parse_bind(raw)
        if bind.is_volume:
            specs.append(bind)
        else:
            others.add(bind.destination)
    for mount in host.get("Mounts") or []:
        parsed = _api_mount(mount)
        if isinstance(parsed, BindSpec) and parsed.is_volume:
            specs.append(parsed)
        else:
            others.add(parsed.destination if isinstance(parsed, BindSpec) else parsed["destination"])
    others.update(os.path.normpath(dest) for dest in (host.get("Tmpfs") or {}))
    taken = others | {spec.destination for spec in specs} | set(covered)
    for dest in sorted((config.get("Volumes") or {}).keys()):
        clean = _check_destination(dest, "volume")
        if clean not in taken:
            specs.append(BindSpec("", clean, kind="volume", from_config=True))
            taken.add(clean)
    return specs, others


def with_mounts(
    spec: Spec,
    config: Mapping[str, Any],
    host: HostConfig,
    *,
    network_files: Mapping[str, str] | None = None,
    volumes: Iterable[BindSpec] | None = None,
) -> Spec:
    """Binds, Mounts, Tmpfs, anonymous volumes and /etc/{hosts,hostname,resolv.conf} → mounts.

    As dockerd's WithMounts: a user mount replaces a default one at the same destination (and
    one at /dev drops all of /dev/*); /dev/shm gets size=ShmSize and disappears with
    --ipc=none (and is the host's with --ipc=host); user mounts are sorted so parents come
    first; --read-only makes the other mounts ro too (not /proc, /dev*). `network_files` maps
    in-container path → host file (the container's own copies); `volumes` are the container's
    volume mounts resolved to the directories that back them (services/container_volumes.py:
    named and anonymous -v, --mount type=volume, the image's and Config.Volumes, --volumes-from);
    a volume path with no directory there stays in the rootfs.
    """
    shm_size = int(host.get("ShmSize") or 0) or DEFAULT_SHM_SIZE
    if int(host.get("ShmSize") or 0) < 0:
        raise InvalidParameterError("SHM size can not be less than 0")
    readonly = bool(host.get("ReadonlyRootfs"))
    ipc_mode = _mode(host.get("IpcMode"))

    user: list[dict[str, Any]] = []
    volume_destinations: list[str] = []
    for raw in host.get("Binds") or []:
        bind = parse_bind(raw)
        if bind.is_volume:
            volume_destinations.append(bind.destination)
        else:
            user.append(bind_mount(bind))
    for mount in host.get("Mounts") or []:
        parsed = _api_mount(mount)
        if isinstance(parsed, BindSpec) and parsed.is_volume:
            volume_destinations.append(parsed.destination)
        else:
            user.append(bind_mount(parsed) if isinstance(parsed, BindSpec) else parsed)
    for dest, options in (host.get("Tmpfs") or {}).items():
        user.append(tmpfs_mount(dest, options or ""))

    destinations = [m["destination"] for m in user] + volume_destinations
    duplicate = next((d for d in destinations if destinations.count(d) > 1), None)
    if duplicate:
        raise InvalidParameterError(f"Duplicate mount point: {duplicate}")
    for dest in config.get("Volumes") or {}:
        _check_destination(dest, "volume")
    taken_by_user = {m["destination"] for m in user}
    for volume in volumes or ():
        if volume.destination not in taken_by_user:
            user.append(bind_mount(volume))
    if ipc_mode == "host":
        user.append(bind_mount(BindSpec("/dev/shm", "/dev/shm")))
    for dest, source in (network_files or {}).items():
        if dest not in {m["destination"] for m in user}:
            user.append(bind_mount(BindSpec(source, dest, writable=not readonly)))
    user.sort(key=lambda m: len(PurePosixPath(m["destination"]).parts))

    spec = copy.deepcopy(spec)
    linux = spec.setdefault("linux", {})
    taken = {m["destination"] for m in user}
    user_dev = "/dev" in taken
    kept = []
    for mount in spec.get("mounts", []):
        dest = mount["destination"]
        if dest in taken or (user_dev and dest.startswith("/dev/")):
            continue
        if dest == "/dev/shm":
            if ipc_mode == "none":
                continue
            mount["options"] = [*mount.get("options", []), f"size={shm_size}"]
        kept.append(mount)
    for mount in kept if readonly else ():
        skip = mount["destination"] in READONLY_EXEMPT or "ro" in mount.get("options", [])
        if not skip:
            mount["options"] = [*mount.get("options", []), "ro"]
    for mount in user:
        propagation = mount["options"][-1] if mount["type"] == "bind" else ""
        current = linux.get("rootfsPropagation", "")
        # A shared (slave) bind needs the rootfs shared (at least slave) for events to flow.
        # dockerd writes "rslave"; the runtime-spec schema allows only "slave" (runtimes apply
        # the rootfs propagation recursively anyway).
        if propagation in ("shared", "rshared"):
            linux["rootfsPropagation"] = "shared"
        elif propagation in ("slave", "rslave") and current not in ("shared", "slave"):
            linux["rootfsPropagation"] = "slave"
    spec["mounts"] = kept + user
    return spec
