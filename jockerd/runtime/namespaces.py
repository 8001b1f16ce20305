"""Entering the container's namespaces: join the `path` ones, create the others.

Run by the intermediate process (see `launcher`), which then forks the init: pid and time
namespaces apply to children only. Order (runc nsexec, youki `ORDERED_NAMESPACES`):
1. open every `path` first: joining a mount namespace changes what later paths resolve to;
2. setns into them, the user namespace first: the others may be owned by it;
3. a new user namespace: unshare, let the launcher write uid_map/gid_map, become its root;
   the namespaces created next are then owned by it (mounting proc and sysfs needs that);
4. unshare all remaining new namespaces at once; a new time namespace gets its offsets before
   the fork. A new cgroup namespace is not among them: its root is the cgroup its creator is in,
   so the init creates it once it is in its cgroup in every hierarchy (`join_cgroup`).
"""

from __future__ import annotations

import os

from jockerd.runtime.errors import ContainerError
from jockerd.runtime.linux import constants as C

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from jockerd.runtime.linux.syscalls import Syscalls

ORDERED_NAMESPACES = ("user", "pid", "uts", "ipc", "network", "cgroup", "mount", "time")
CLONE_FLAGS = {
    "user": C.CLONE_NEWUSER,
    "pid": C.CLONE_NEWPID,
    "uts": C.CLONE_NEWUTS,
    "ipc": C.CLONE_NEWIPC,
    "network": C.CLONE_NEWNET,
    "cgroup": C.CLONE_NEWCGROUP,
    "mount": C.CLONE_NEWNS,
    "time": C.CLONE_NEWTIME,
}
PROC_NAMES = {  # /proc/<pid>/ns/<name>
    "user": "user",
    "pid": "pid",
    "uts": "uts",
    "ipc": "ipc",
    "network": "net",
    "cgroup": "cgroup",
    "mount": "mnt",
    "time": "time",
}


def ordered(namespaces: list[dict]) -> list[dict]:
    return sorted(namespaces, key=lambda ns: ORDERED_NAMESPACES.index(ns["type"]))


def enter(
    namespaces: list[dict],
    sys: Syscalls,
    request_id_maps: Callable[[], None],
    time_offsets: dict | None = None,
    defer_new: tuple[str, ...] = (),
) -> None:
    """Join and create `namespaces` (spec `linux.namespaces` entries) in the calling process;
    new ones of the `defer_new` types are left for the caller to create later."""
    joins = []
    try:
        for ns in ordered(namespaces):
            if ns.get("path"):
                try:
                    fd = sys.open(ns["path"], os.O_RDONLY | os.O_CLOEXEC)
                except OSError as e:
                    raise ContainerError(
                        f"failed to open {ns['type']} namespace {ns['path']}: {e.strerror}"
                    ) from None
                joins.append((ns, fd))
        for ns, fd in joins:
            try:
                sys.setns(fd, CLONE_FLAGS[ns["type"]])
            except OSError as e:
                raise ContainerError(
                    f"failed to join {ns['type']} namespace {ns['path']}: {e.strerror}"
                ) from None
    finally:
        for _, fd in joins:
            sys.close(fd)
    new = [ns["type"] for ns in namespaces if not ns.get("path") and ns["type"] not in defer_new]
    if "user" in new:
        sys.unshare(C.CLONE_NEWUSER)
        request_id_maps()
    if any(ns["type"] == "user" for ns in namespaces):
        become_root(sys)
    flags = 0
    for kind in new:
        if kind != "user":
            flags |= CLONE_FLAGS[kind]
    if flags:
        try:
            sys.unshare(flags)
        except OSError as e:
            raise ContainerError(f"unshare {'+'.join(k for k in new if k != 'user')}: {e.strerror}") from None
    if "time" in new and time_offsets:
        lines = [f"{clock} {v.get('secs', 0)} {v.get('nanosecs', 0)}" for clock, v in time_offsets.items()]
        sys.write_file("/proc/self/timens_offsets", "\n".join(lines) + "\n")


def become_root(sys: Syscalls) -> None:
    """uid/gid 0 of the (new or joined) user namespace, so files created next are owned by it."""
    try:
        sys.setresgid(0, 0, 0)
        sys.setresuid(0, 0, 0)
    except OSError as e:
        raise ContainerError(
            f"cannot become root in the user namespace (is 0 mapped?): {e.strerror}"
        ) from None


def format_id_mappings(mappings: list[dict] | None) -> str:
    """uid_map/gid_map contents: one "containerID hostID size" line per mapping."""
    return "".join(f"{m['containerID']} {m['hostID']} {m['size']}\n" for m in mappings or ())


def write_id_maps(pid: int, uid_mappings: list[dict] | None, gid_mappings: list[dict] | None) -> None:
    """Written by the launcher (root in the parent namespace) for the intermediate process."""
    for name, mappings in (("uid_map", uid_mappings), ("gid_map", gid_mappings)):
        data = format_id_mappings(mappings)
        if not data:
            raise ContainerError(f"a user namespace needs {name.replace('_map', '')} mappings")
        fd = os.open(f"/proc/{pid}/{name}", os.O_WRONLY | os.O_CLOEXEC)
        try:
            os.write(fd, data.encode())
        except OSError as e:
            raise ContainerError(f"writing /proc/{pid}/{name}: {e.strerror}") from None
        finally:
            os.close(fd)
