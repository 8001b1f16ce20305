"""The container's filesystem view, built inside its new mount namespace by the init process.

Steps, in the order `init_process` calls them (runc `rootfs_linux.go`, crun `linux.c`):
1. `prepare_root`: make "/" rslave (or rprivate) so nothing below propagates back to the host,
   then bind the bundle rootfs onto itself: pivot_root needs new_root to be a mount point.
2. `mount_entries`: config.json `mounts` in order; destinations are resolved inside the rootfs
   (`secure_join`, so a symlink in the image cannot point a mount at the host) and created.
3. `setup_dev`: when /dev is not bind-mounted from the host: the default devices, `linux.devices`,
   the /dev/fd, /dev/std{in,out,err} and /dev/ptmx symlinks.
4. `pivot_root` (or `move_root` for --no-pivot), then `apply_root_propagation`.
5. after pivot_root, paths are the container's: `readonly_root`, `mask_paths`, `readonly_paths`.
"""

from __future__ import annotations

import os
import stat

from jockerd.mount_flags import MOUNT_FLAGS
from jockerd.runtime.errors import ContainerError
from jockerd.runtime.linux import constants as C

TYPE_CHECKING = False
if TYPE_CHECKING:
    from jockerd.runtime.linux.syscalls import Syscalls

# option → (flag, True to set it / False to clear it); mount(8) names
PROPAGATION_FLAGS = {
    "private": C.MS_PRIVATE,
    "rprivate": C.MS_PRIVATE | C.MS_REC,
    "shared": C.MS_SHARED,
    "rshared": C.MS_SHARED | C.MS_REC,
    "slave": C.MS_SLAVE,
    "rslave": C.MS_SLAVE | C.MS_REC,
    "unbindable": C.MS_UNBINDABLE,
    "runbindable": C.MS_UNBINDABLE | C.MS_REC,
}
# Options runc accepts that are not mount(2) flags nor filesystem data: ignored here.
IGNORED_OPTIONS = frozenset({"tmpcopyup", "idmap", "ridmap", "rro", "rrw", "rnosuid", "rnodev", "rnoexec"})
# Flags a bind mount gets through a remount (mount(2) ignores them on the MS_BIND call itself).
_BIND_REMOUNT_MASK = ~(C.MS_BIND | C.MS_REC | C.MS_REMOUNT)
# statvfs f_flag bits that are also mount flags (ST_* == MS_* for these); in a user namespace a
# remount must repeat the ones the mount already has ("locked" flags).
_LOCKED_FLAGS = (
    C.MS_RDONLY | C.MS_NOSUID | C.MS_NODEV | C.MS_NOEXEC | C.MS_NOATIME | C.MS_NODIRATIME | C.MS_RELATIME
)

DEFAULT_DEVICES = (
    # path, type, major, minor (runc's AllowedDevices that get a node in /dev)
    ("/dev/null", "c", 1, 3),
    ("/dev/zero", "c", 1, 5),
    ("/dev/full", "c", 1, 7),
    ("/dev/random", "c", 1, 8),
    ("/dev/urandom", "c", 1, 9),
    ("/dev/tty", "c", 5, 0),
)
DEV_SYMLINKS = (
    ("/proc/self/fd", "/dev/fd"),
    ("/proc/self/fd/0", "/dev/stdin"),
    ("/proc/self/fd/1", "/dev/stdout"),
    ("/proc/self/fd/2", "/dev/stderr"),
)
# Appended to linux.resources.devices, as runc's specconv does (AllowedDevices): the default
# nodes, /dev/pts/*, /dev/ptmx, /dev/net/tun, and mknod of anything (the node still needs a rule).
DEFAULT_DEVICE_RULES = (
    {"allow": True, "type": "c", "access": "m"},
    {"allow": True, "type": "b", "access": "m"},
    *(
        {"allow": True, "type": t, "major": ma, "minor": mi, "access": "rwm"}
        for _, t, ma, mi in DEFAULT_DEVICES
    ),
    {"allow": True, "type": "c", "major": 136, "access": "rwm"},
    {"allow": True, "type": "c", "major": 5, "minor": 2, "access": "rwm"},
    {"allow": True, "type": "c", "major": 10, "minor": 200, "access": "rwm"},
)
_DEVICE_TYPES = {"c": stat.S_IFCHR, "u": stat.S_IFCHR, "b": stat.S_IFBLK, "p": stat.S_IFIFO}


def parse_mount_options(options: list[str] | None) -> tuple[int, list[int], str]:
    """(mount flags, propagation flags to apply after mounting, filesystem data string)."""
    flags = 0
    propagation: list[int] = []
    data: list[str] = []
    for option in options or ():
        if option in MOUNT_FLAGS:
            flag, on = MOUNT_FLAGS[option]
            flags = flags | flag if on else flags & ~flag
        elif option in PROPAGATION_FLAGS:
            propagation.append(PROPAGATION_FLAGS[option])
        elif option not in IGNORED_OPTIONS:
            data.append(option)
    return flags, propagation, ",".join(data)


def secure_join(root: str, unsafe: str, sys: Syscalls) -> str:
    """`root`/`unsafe` with every symlink resolved as if `root` were "/" (filepath-securejoin).

    Missing components are kept as they are: they will be created below `root`.
    """
    parts = [p for p in unsafe.split("/") if p and p != "."]
    done: list[str] = []
    links = 0
    while parts:
        part = parts.pop(0)
        if part == "..":
            if done:
                done.pop()
            continue
        current = root + "/" + "/".join([*done, part])
        try:
            target = sys.readlink(current)
        except OSError:  # not a symlink, or missing
            done.append(part)
            continue
        links += 1
        if links > 255:
            raise ContainerError(f"too many symlinks resolving {unsafe} in {root}")
        if target.startswith("/"):
            done = []
        parts = [p for p in target.split("/") if p and p != "."] + parts
    return root.rstrip("/") + "/" + "/".join(done) if done else root


def _exists(path: str, sys: Syscalls) -> bool:
    try:
        sys.lstat(path)
        return True
    except FileNotFoundError:
        return False


def mkdir_all(path: str, sys: Syscalls, mode: int = 0o755) -> None:
    missing = []
    current = path
    while current not in ("", "/") and not _exists(current, sys):
        missing.append(current)
        current = os.path.dirname(current)
    for directory in reversed(missing):
        try:
            sys.mkdir(directory, mode)
        except FileExistsError:
            pass


def create_file(path: str, sys: Syscalls) -> None:
    mkdir_all(os.path.dirname(path), sys)
    if not _exists(path, sys):
        sys.close(sys.open(path, os.O_CREAT | os.O_WRONLY | os.O_CLOEXEC, 0o644))


def prepare_root(rootfs: str, propagation: str | None, sys: Syscalls) -> None:
    # rslave by default: host mounts still reach us, ours never reach the host (runc's default).
    # shared/unbindable are applied after pivot_root: a shared new root fails pivot_root(2).
    initial = C.MS_PRIVATE | C.MS_REC if propagation == "rprivate" else C.MS_SLAVE | C.MS_REC
    sys.mount(None, "/", None, initial, None)
    sys.mount(rootfs, rootfs, None, C.MS_BIND | C.MS_REC, None)


def apply_root_propagation(propagation: str | None, sys: Syscalls) -> None:
    if propagation and propagation not in ("rslave", "rprivate"):
        flag = PROPAGATION_FLAGS.get(propagation)
        if flag is None:
            raise ContainerError(f"invalid rootfsPropagation {propagation!r}")
        sys.mount(None, "/", None, flag, None)


def mount_entries(
    mounts: list[dict], rootfs: str, bundle: str, sys: Syscalls, *, userns: bool, cgroupns: bool
) -> None:
    for entry in mounts:
        mount_entry(entry, rootfs, bundle, sys, userns=userns, cgroupns=cgroupns)


def mount_entry(
    entry: dict, rootfs: str, bundle: str, sys: Syscalls, *, userns: bool, cgroupns: bool
) -> None:
    destination = entry.get("destination") or ""
    kind = entry.get("type") or ""
    source = entry.get("source") or ""
    flags, propagation, data = parse_mount_options(entry.get("options"))
    target = secure_join(rootfs, destination, sys)
    try:
        if kind == "bind" or flags & C.MS_BIND:
            source = source if source.startswith("/") else os.path.join(bundle, source)
            _bind(source, target, flags | C.MS_BIND, sys)
        elif kind == "cgroup":
            mkdir_all(target, sys)
            mount_cgroup(target, flags, sys, cgroupns=cgroupns)
        else:
            mkdir_all(target, sys)
            try:
                sys.mount(source or kind, target, kind, flags, data or None)
            except PermissionError:
                if kind != "sysfs" or not userns:
                    raise
                # sysfs needs a network namespace owned by our user namespace: bind the host's.
                _bind("/sys", target, flags | C.MS_BIND | C.MS_REC, sys)
        for flag in propagation:
            sys.mount(None, target, None, flag, None)
    except OSError as e:
        raise ContainerError(f"error mounting {source or kind!r} to rootfs at {destination!r}: {e}") from None


def _bind(source: str, target: str, flags: int, sys: Syscalls) -> None:
    if stat.S_ISDIR(sys.stat(source).st_mode):
        mkdir_all(target, sys)
    else:
        create_file(target, sys)
    sys.mount(source, target, None, C.MS_BIND | (flags & C.MS_REC), None)
    if flags & _BIND_REMOUNT_MASK:
        remount(target, (flags & _BIND_REMOUNT_MASK) | C.MS_BIND, sys)


def remount(target: str, flags: int, sys: Syscalls) -> None:
    """MS_REMOUNT with `flags`; on EPERM again with the flags the mount has (user namespaces)."""
    try:
        sys.mount(None, target, None, flags | C.MS_REMOUNT, None)
    except PermissionError:
        locked = sys.statvfs_flags(target) & _LOCKED_FLAGS
        sys.mount(None, target, None, flags | locked | C.MS_REMOUNT, None)


def _mountinfo(sys: Syscalls) -> list[tuple[str, str, str, str]]:
    """(root, mount point, fstype, super options) of each mount of the calling process."""
    mounts = []
    for line in sys.read_file("/proc/self/mountinfo").splitlines():
        left, _, right = line.partition(" - ")
        fields, tail = left.split(), right.split()
        if len(fields) >= 5 and len(tail) >= 3:
            mountpoint = fields[4].replace("\\040", " ")
            mounts.append((fields[3], mountpoint, tail[0], tail[2]))
    return mounts


def mount_cgroup(target: str, flags: int, sys: Syscalls, *, cgroupns: bool) -> None:
    """/sys/fs/cgroup for the container: its own cgroup, never the host's whole tree.

    cgroup v2: with a cgroup namespace mount cgroup2 (its root is the container's cgroup),
    without one bind the container's cgroup directory. cgroup v1 (and hybrid): a tmpfs with one
    directory per hierarchy, mounted (cgroupns) or bound likewise; read-only if asked.
    """
    own = {}
    for line in sys.read_file("/proc/self/cgroup").splitlines():
        _, controllers, path = line.split(":", 2)
        own[controllers] = path
    mounts = [
        m for m in _mountinfo(sys) if m[2] in ("cgroup", "cgroup2") and m[1].startswith("/sys/fs/cgroup")
    ]
    unified_only = any(m[1] == "/sys/fs/cgroup" and m[2] == "cgroup2" for m in mounts)
    if unified_only:
        if cgroupns:
            sys.mount("cgroup", target, "cgroup2", flags, None)
        else:
            _bind("/sys/fs/cgroup" + own.get("", "/"), target, flags | C.MS_BIND | C.MS_REC, sys)
        return
    sys.mount("tmpfs", target, "tmpfs", flags & ~C.MS_RDONLY, "mode=755")
    for _root, mountpoint, fstype, options in mounts:
        name = os.path.basename(mountpoint)
        if fstype == "cgroup2":
            controllers, super_options = "", None
        else:
            present = set(options.split(","))
            controllers = next((c for c in own if c and set(c.split(",")) <= present), None)
            if controllers is None:
                continue
            super_options = controllers
        subdir = target + "/" + name
        sys.mkdir(subdir, 0o755)
        if cgroupns:
            sys.mount("cgroup", subdir, fstype, flags & ~C.MS_RDONLY, super_options)
        else:
            source = mountpoint + own.get(controllers, "/")
            sys.mount(source, subdir, None, C.MS_BIND | C.MS_REC, None)
        if flags & C.MS_RDONLY:
            remount(subdir, (flags & _BIND_REMOUNT_MASK) | C.MS_BIND, sys)
        if "," in name:  # co-mounted controllers ("cpu,cpuacct"): one symlink per controller
            for controller in name.split(","):
                sys.symlink(name, target + "/" + controller)
    if flags & C.MS_RDONLY:
        remount(target, flags & _BIND_REMOUNT_MASK, sys)


def setup_dev(spec: dict, rootfs: str, sys: Syscalls, *, userns: bool) -> None:
    """Device nodes and links in /dev, unless /dev is bind-mounted from elsewhere (runc)."""
    for entry in spec.get("mounts") or ():
        if entry.get("destination") == "/dev" and (
            entry.get("type") == "bind" or {"bind", "rbind"} & set(entry.get("options") or ())
        ):
            return
    devices = {
        path: {"path": path, "type": t, "major": ma, "minor": mi} for path, t, ma, mi in DEFAULT_DEVICES
    }
    for device in (spec.get("linux") or {}).get("devices") or ():
        devices[device["path"]] = device
    old_mask = sys.umask(0)
    try:
        for device in devices.values():
            create_device(device, rootfs, sys, userns=userns)
    finally:
        sys.umask(old_mask)
    for target, link in DEV_SYMLINKS:
        path = secure_join(rootfs, link, sys)
        if not _exists(path, sys):
            sys.symlink(target, path)
    ptmx = secure_join(rootfs, "/dev/ptmx", sys)
    if _exists(ptmx, sys):
        sys.unlink(ptmx)
    sys.symlink("pts/ptmx", ptmx)


def cgroup_resources(linux: dict) -> dict:
    """linux.resources with the device rules the container needs to use its own /dev: the spec's
    rules, then the default devices, then each `linux.devices` entry (runc and crun do both)."""
    resources = dict(linux.get("resources") or {})
    rules = list(resources.get("devices") or ())
    rules += DEFAULT_DEVICE_RULES
    for device in linux.get("devices") or ():
        kind = "c" if device.get("type") == "u" else device.get("type")
        if kind in ("c", "b"):
            rules.append(
                {
                    "allow": True,
                    "type": kind,
                    "major": device.get("major"),
                    "minor": device.get("minor"),
                    "access": "rwm",
                }
            )
    resources["devices"] = rules
    return resources


def create_device(device: dict, rootfs: str, sys: Syscalls, *, userns: bool) -> None:
    path = device.get("path") or ""
    kind = _DEVICE_TYPES.get(device.get("type") or "")
    if not path.startswith("/dev/") or kind is None:
        raise ContainerError(f"invalid device {path!r} of type {device.get('type')!r}")
    target = secure_join(rootfs, path, sys)
    mkdir_all(os.path.dirname(target), sys)
    if userns:
        # mknod is not allowed in a user namespace: bind the host's node instead (runc).
        create_file(target, sys)
        sys.mount(path, target, None, C.MS_BIND, None)
        return
    mode = device.get("fileMode")
    mode = 0o666 if mode is None else mode
    if _exists(target, sys):
        sys.unlink(target)
    major, minor = device.get("major", 0), device.get("minor", 0)
    sys.mknod(target, kind | (mode & 0o7777), os.makedev(major, minor) if kind != stat.S_IFIFO else 0)
    uid, gid = device.get("uid"), device.get("gid")
    if uid is not None or gid is not None:
        sys.chown(target, -1 if uid is None else uid, -1 if gid is None else gid)


def pivot_root(rootfs: str, sys: Syscalls) -> None:
    """pivot_root(".", ".") then detach the old root (runc): no put_old directory needed."""
    old_root = sys.open("/", os.O_DIRECTORY | os.O_RDONLY | os.O_CLOEXEC)
    new_root = sys.open(rootfs, os.O_DIRECTORY | os.O_RDONLY | os.O_CLOEXEC)
    try:
        sys.fchdir(new_root)
        sys.pivot_root(".", ".")
        # The old root is now stacked on "/"; make it rslave so unmounting it cannot propagate
        # to the host, then lazily detach it.
        sys.fchdir(old_root)
        sys.mount(None, ".", None, C.MS_SLAVE | C.MS_REC, None)
        sys.umount2(".", C.MNT_DETACH)
        sys.chdir("/")
    finally:
        sys.close(old_root)
        sys.close(new_root)


def move_root(rootfs: str, sys: Syscalls) -> None:
    """--no-pivot: move the rootfs over "/" and chroot into it (for ramdisk roots)."""
    sys.chdir(rootfs)
    sys.mount(rootfs, "/", None, C.MS_MOVE, None)
    sys.chroot(".")
    sys.chdir("/")


def unmount_below(path: str, sys: Syscalls) -> None:
    """Detach every mount at or below `path`, deepest first (a container without a mount
    namespace leaves its mounts in the caller's namespace)."""
    path = path.rstrip("/")
    points = [m[1] for m in _mountinfo(sys) if m[1] == path or m[1].startswith(path + "/")]
    for point in sorted(set(points), key=len, reverse=True):
        try:
            sys.umount2(point, C.MNT_DETACH)
        except OSError:
            pass
        while True:  # stacked mounts on one point
            try:
                sys.umount2(point, C.MNT_DETACH)
            except OSError:
                break


def readonly_root(sys: Syscalls) -> None:
    remount("/", C.MS_BIND | C.MS_RDONLY, sys)


def mask_paths(paths: list[str] | None, sys: Syscalls) -> None:
    """Hide each path: /dev/null over files, an empty read-only tmpfs over directories."""
    for path in paths or ():
        try:
            is_dir = stat.S_ISDIR(sys.stat(path).st_mode)
        except FileNotFoundError:
            continue
        if is_dir:
            sys.mount("tmpfs", path, "tmpfs", C.MS_RDONLY, None)
        else:
            sys.mount("/dev/null", path, None, C.MS_BIND, None)


def readonly_paths(paths: list[str] | None, sys: Syscalls) -> None:
    """Bind each path on itself read-only, keeping its nosuid/nodev/noexec (a bind remount
    resets the flags it is not given; runc keeps them too)."""
    keep = C.MS_NOSUID | C.MS_NODEV | C.MS_NOEXEC  # == ST_NOSUID, ST_NODEV, ST_NOEXEC
    for path in paths or ():
        try:
            sys.mount(path, path, None, C.MS_BIND | C.MS_REC, None)
        except FileNotFoundError:
            continue
        remount(path, C.MS_BIND | C.MS_RDONLY | (sys.statvfs_flags(path) & keep), sys)
