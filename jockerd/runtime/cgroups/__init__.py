"""Control groups for jocker-runtime: one manager per container, cgroup v1 or cgroup v2.

The runtime is a short-lived process, so this package imports only cheap stdlib modules
(os, errno, time) and loads just one of `v1`/`v2`. It does not use ctypes: by house rule 6,
libc is reached only through runtime/linux, which this package does not import.

Use::

    manager = manager_for(spec["linux"].get("cgroupsPath"), container_id)
    manager.create()                      # mkdir in every hierarchy (cpuset: cpus/mems copied down)
    manager.apply(linux.get("resources") or {})
    manager.add_task(init_pid)            # before the container process can run
    state["cgroup_path"], state["cgroup_dirs"] = manager.path, manager.dirs
    ...                                   # a later invocation, possibly from another cgroup:
    manager = manager_from_dirs(state["cgroup_path"], state["cgroup_dirs"])
    manager.kill_all(signal.SIGKILL); manager.destroy()

cgroupsPath (runc's cgroupfs driver, libcontainer/cgroups/fs/paths.go and fs2/defaultpath.go):
- absolute ("/jocker/abc"): that path below the root of every hierarchy.
- relative ("abc/def"): below the cgroup the calling process is in (/proc/self/cgroup), on v1 per
  hierarchy; on v2 below the *parent* of the caller's cgroup, as runc does, because a cgroup2
  cgroup that holds processes cannot enable controllers for its children.
- absent or empty: runc uses the relative path `<container id>` (specconv sets Name = id and
  no Parent), so this package does the same.
- `..` may not climb above the start; a path that resolves to the start itself is refused.
Because a relative path depends on the caller's cgroup, save `manager.dirs` (as runc saves
cgroup_paths in state.json) and rebuild the manager with `manager_from_dirs` in later calls.

Resources are the OCI `linux.resources` dict (camelCase, as in config.json). Absent keys, None
and the spec's "unset" zeros are left alone; unknown keys are ignored. A value that the host
cannot honour (controller not mounted/enabled, hugepage size absent, no v2 equivalent) raises
CgroupError naming what is missing; the only values skipped on purpose are the gaps below,
and each skip is recorded in `manager.notes` for the runtime's debug log.

Known gaps: no systemd driver; no rootless mode; device rules are not enforced on cgroup v2
(runc attaches an eBPF program there, which needs bpf(2) and is out of scope here: the rules are
skipped and recorded in `manager.notes`); v1 `memory.kernel` is ignored as runc does (kmem
limits are a no-op in current kernels); cgroup v2 threaded subtrees are not handled.
"""

from __future__ import annotations

import errno
import os
import time

CGROUP_ROOT = "/sys/fs/cgroup"
SIGKILL = 9  # Linux; spelled out so that this package need not import `signal`
FREEZE_TIMEOUT = 5.0  # seconds freeze() waits for the kernel to report the cgroup frozen
DESTROY_TIMEOUT = 1.0  # seconds destroy() retries rmdir while the last processes leave


class CgroupError(Exception):
    """A cgroup operation failed; `errno` is set when the kernel said why."""

    def __init__(self, message: str, *, errno: int | None = None) -> None:
        super().__init__(message)
        self.errno = errno


class CgroupManager:
    """What the runtime codes against; V1Manager and V2Manager implement it.

    A plain base class rather than a typing.Protocol, so that importing the package does not
    import typing (3 ms, a tenth of the runtime's start-up budget).
    """

    path: str  # the cgroupsPath as resolved, absolute ("/jocker/abc"); see `dirs` for v1 relative paths
    version: int  # 1 or 2
    dirs: dict[str, str]  # hierarchy ("memory", "cpu,cpuacct", "unified"; "" on v2) -> directory
    notes: list[str]  # things apply() skipped on purpose, for the runtime's debug log
    own_dir: str | None = None  # the caller's own cgroup in one hierarchy (`warm_attach`)

    def create(self) -> None:
        """Create the cgroup directories (every v1 hierarchy / the v2 directory); idempotent."""
        raise NotImplementedError

    def add_task(self, pid: int) -> None:
        """Move process `pid` into the cgroup (cgroup.procs) in every hierarchy, or after
        `open_self_move` in those the process could not move itself into."""
        raise NotImplementedError

    def self_move_files(self) -> list[str]:
        """The files through which a single-threaded process moves *itself* into the cgroup by
        writing 0 to them (see `open_self_move` for why); afterwards `add_task` covers only the
        other hierarchies and `add_task_needed` says whether there are any. A process may open
        them itself only with the credentials of the caller (no user namespace)."""
        return []

    def open_self_move(self) -> list[int]:
        """Open, for a child about to be forked, the `self_move_files` through which it moves
        *itself* into the cgroup (`move_self`); afterwards `add_task` covers only the other
        hierarchies and `add_task_needed` says whether there are any.

        Why: a cgroup.procs write takes the kernel's global cgroup_threadgroup_rwsem for writing,
        and its first writer in a while waits for an RCU grace period (~7 ms here). A single
        thread that moves itself (pid 0 written to a cgroup v1 `tasks` file) skips that lock
        (Linux 5.17, "cgroup: Optimize single thread migration"): 0.15 ms for the nine
        hierarchies of this host. The child is a fork of the single-threaded runtime, so the
        thread is the whole process. The files are opened here, by the caller, because the
        kernel checks the opener's credentials and cgroup namespace (Linux 5.16): the child may
        be in a user namespace by the time it writes. cgroup v2 (and the unified hierarchy of
        a hybrid host) refuses to move a single thread between domain cgroups: nothing to open.
        The fds are close-on-exec; the caller closes its copies after the fork."""
        fds: list[int] = []
        try:
            for path in self.self_move_files():
                try:
                    fds.append(os.open(path, os.O_WRONLY | os.O_CLOEXEC))
                except OSError as e:
                    raise CgroupError(f"open {path}: {e.strerror}", errno=e.errno) from None
        except BaseException:
            for fd in fds:
                os.close(fd)
            raise
        return fds

    @property
    def add_task_needed(self) -> bool:
        """Whether `add_task` has a hierarchy to write to after `open_self_move`."""
        return True

    def warm_attach(self) -> None:
        """Start paying, in the background, for the RCU grace period of the first cgroup.procs
        write (`add_task` waits for it: ~7-10 ms, while the launcher has nothing else to do).

        A cgroup.procs write takes the kernel's global cgroup_threadgroup_rwsem for writing; the
        first writer in a while waits for a grace period, and writers right after it do not. So a
        thread moves the caller into the cgroup it is already in (the kernel moves nothing: a
        no-op), while the launcher forks the init; the real moves come within the window. Any
        error is ignored: this only warms. The write holds cgroup_mutex during the grace period,
        so the caller should touch no cgroup file meanwhile (call it after `create`; reading
        /proc/self/cgroup waits too). Forks are not held up (readers of the rwsem wait only
        while a writer holds it, not during its grace period); a fork during the write inherits
        the close-on-exec fd, which the init marks close-on-exec again (`close_fds`) anyway."""
        if self.own_dir:
            import _thread

            _thread.start_new_thread(_warm_attach, (self.own_dir,))

    def apply(self, resources: dict) -> None:
        """Write the limits of an OCI `linux.resources` dict."""
        raise NotImplementedError

    def freeze(self, timeout: float = FREEZE_TIMEOUT) -> None:
        """Freeze every process and wait (bounded) until the kernel reports the cgroup frozen."""
        raise NotImplementedError

    def thaw(self) -> None:
        raise NotImplementedError

    def state(self) -> str:
        """Return "frozen" or "thawed": this cgroup's own freezer setting, not an ancestor's."""
        raise NotImplementedError

    def pids(self) -> list[int]:
        """Every process in the cgroup and its descendants."""
        raise NotImplementedError

    def stats(self) -> dict:
        """Usage in the shape of runc's `events --stats` data (types/events.go)."""
        raise NotImplementedError

    def kill_all(self, sig: int) -> None:
        """Send `sig` to every process in the cgroup.

        Freeze first so that no process forks a child we would miss (runc signalAllProcesses);
        thaw afterwards unless it was paused and the signal is not SIGKILL (a SIGKILLed frozen
        task dies only once thawed).
        """
        if not self.exists():
            return
        freezer = self._has_freezer()
        was_frozen = freezer and self.state() == "frozen"
        if not was_frozen and not self.pids():
            return  # nothing to signal, nothing to thaw; no process in it can fork one
        if freezer and not was_frozen:
            try:
                self.freeze()
            except CgroupError as e:
                self.notes.append(f"kill without freezing: {e}")
                freezer = False
        signal_pids(self.pids(), sig)
        if freezer and (sig == SIGKILL or not was_frozen):
            self.thaw()

    def _has_freezer(self) -> bool:
        """Whether this cgroup can be frozen (v1: the freezer hierarchy; v2: cgroup.freeze)."""
        raise NotImplementedError

    def destroy(self) -> None:
        """Remove the directories (children first); missing ones are fine."""
        raise NotImplementedError

    def exists(self) -> bool:
        raise NotImplementedError


def manager_for(
    cgroups_path: str | None,
    container_id: str,
    *,
    root: str | os.PathLike[str] = CGROUP_ROOT,
    version: int | None = None,
) -> CgroupManager:
    """The manager for a container's `linux.cgroupsPath` (None or "" → the relative path `<id>`)."""
    root = os.fspath(root)
    if not cgroups_path:
        if not container_id or "/" in container_id or container_id in (".", ".."):
            raise CgroupError(f"invalid container id for a default cgroup path: {container_id!r}")
        cgroups_path = container_id
    absolute, inner = clean_path(cgroups_path)
    mounts = mountinfo()  # read once for detect() and the v1 hierarchies
    if version is None:
        version = detect(root, mounts)
    if version == 2:
        from .v2 import V2Manager

        return V2Manager.resolve(absolute, inner, root)
    if version == 1:
        from .v1 import V1Manager

        return V1Manager.resolve(absolute, inner, root, mounts)
    raise CgroupError(f"unknown cgroup version {version!r}")


def manager_from_dirs(path: str, dirs: dict[str, str]) -> CgroupManager:
    """Rebuild a manager from the `path` and `dirs` of one made earlier (saved in state.json)."""
    if set(dirs) == {""}:
        from .v2 import V2Manager

        return V2Manager(path, dirs[""])
    from .v1 import V1Manager

    return V1Manager(path, dict(dirs))


def detect(
    root: str | os.PathLike[str] = CGROUP_ROOT, mounts: list[tuple[str, str, str, str]] | None = None
) -> int:
    """2 if `root` is on a cgroup2 filesystem (the unified hierarchy), else 1.

    runc asks statfs(2) for CGROUP2_SUPER_MAGIC (0x63677270); without libc the same answer
    comes from /proc/self/mountinfo (or `mounts`, as `mountinfo()` read it): the type of the
    mount that holds `root`.
    """
    fstype = mount_of(os.path.realpath(os.fspath(root)), mounts)[2]
    return 2 if fstype == "cgroup2" else 1


def clean_path(cgroups_path: str) -> tuple[bool, str]:
    """(is_absolute, "/normalized/path"); `..` may not climb above the start."""
    if "\0" in cgroups_path:
        raise CgroupError(f"invalid cgroupsPath {cgroups_path!r}: NUL byte")
    parts: list[str] = []
    for part in cgroups_path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                raise CgroupError(f"invalid cgroupsPath {cgroups_path!r}: '..' escapes its cgroup root")
            parts.pop()
        else:
            parts.append(part)
    if not parts:
        raise CgroupError(f"invalid cgroupsPath {cgroups_path!r}: it names the parent cgroup itself")
    return cgroups_path.startswith("/"), "/" + "/".join(parts)


# -- /proc parsing --------------------------------------------------------------------------------


def _unescape(field: str) -> str:
    """mountinfo escapes space, tab, newline and backslash as \\ooo."""
    if "\\" not in field:
        return field
    out, i = [], 0
    while i < len(field):
        if field[i] == "\\" and field[i + 1 : i + 4].isdigit():
            out.append(chr(int(field[i + 1 : i + 4], 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def mountinfo() -> list[tuple[str, str, str, str]]:
    """(mount root, mount point, fs type, super options) of each mount, in mount order."""
    mounts = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            sep = fields.index("-", 6)
            mounts.append(
                (
                    _unescape(fields[3]),
                    _unescape(fields[4]),
                    fields[sep + 1],
                    fields[sep + 3] if len(fields) > sep + 3 else "",
                )
            )
    return mounts


def mount_of(path: str, mounts: list[tuple[str, str, str, str]] | None = None) -> tuple[str, str, str, str]:
    """The mount that holds `path`: the last-mounted one with the longest mount point prefix."""
    best = ("/", "/", "", "")
    for mount in mountinfo() if mounts is None else mounts:
        point = mount[1]
        if (path == point or path.startswith(point.rstrip("/") + "/")) and len(point) >= len(best[1]):
            best = mount
    return best


def own_cgroups() -> dict[str, str]:
    """The caller's cgroup per hierarchy from /proc/self/cgroup: {"memory": "/a", "": "/"}."""
    own = {}
    with open("/proc/self/cgroup") as f:
        for line in f:
            _, controllers, path = line.rstrip("\n").split(":", 2)
            own[controllers] = path
    return own


def hugepage_sizes() -> list[str]:
    """The host's huge page sizes as runtime-spec spells them ("2MB", "1GB"), from sysfs."""
    try:
        names = os.listdir("/sys/kernel/mm/hugepages")
    except FileNotFoundError:
        return []
    sizes = []
    for name in names:  # hugepages-2048kB
        if name.startswith("hugepages-") and name.endswith("kB"):
            sizes.append(format_page_size(int(name[10:-2]) * 1024))
    return sizes


def format_page_size(size: int) -> str:
    """2097152 → "2MB" (base 1024, as runc's HugePageSizes)."""
    value: float = size
    units = ["B", "KB", "MB", "GB", "TB", "PB"]
    while value >= 1024 and len(units) > 1:
        value /= 1024
        units.pop(0)
    return f"{value:g}{units[0]}"


# -- cgroupfs files -------------------------------------------------------------------------------


def read_file(directory: str, name: str) -> str:
    path = os.path.join(directory, name)
    try:
        with open(path) as f:
            return f.read()
    except OSError as e:
        raise CgroupError(f"read {path}: {e.strerror}", errno=e.errno) from None


def read_optional(directory: str, name: str) -> str | None:
    """The file's text, or None when it does not exist (controller absent or not enabled)."""
    try:
        with open(os.path.join(directory, name)) as f:
            return f.read()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as e:
        raise CgroupError(f"read {os.path.join(directory, name)}: {e.strerror}", errno=e.errno) from None


def read_int(directory: str, name: str, default: int = 0) -> int:
    """A one-number file; "max" and a missing file give `default`."""
    text = read_optional(directory, name)
    if text is None:
        return default
    text = text.strip()
    return default if text in ("", "max") else int(text)


def write_file(directory: str, name: str, value: str) -> None:
    """One write(2) of `value`, as the kernel parses one line per write; never creates a file."""
    path = os.path.join(directory, name)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_TRUNC | os.O_CLOEXEC)
    except OSError as e:
        raise CgroupError(f"open {path}: {e.strerror}", errno=e.errno) from None
    try:
        os.write(fd, value.encode())
    except OSError as e:
        raise CgroupError(f"write {value!r} to {path}: {e.strerror}", errno=e.errno) from None
    finally:
        os.close(fd)


def _warm_attach(directory: str) -> None:
    try:
        fd = os.open(os.path.join(directory, "cgroup.procs"), os.O_WRONLY | os.O_CLOEXEC)
        try:
            os.write(fd, str(os.getpid()).encode())
        finally:
            os.close(fd)
    except OSError:
        pass


def move_self(fds: list[int]) -> None:
    """In the child: move the calling single-threaded process through the files
    `CgroupManager.open_self_move` opened (pid 0 means the writer itself), closing them."""
    try:
        for fd in fds:
            try:
                os.write(fd, b"0")
            except OSError as e:
                raise CgroupError(f"joining the container's cgroup: {e.strerror}", errno=e.errno) from None
    finally:
        for fd in fds:
            os.close(fd)


def add_pid(directory: str, pid: int) -> None:
    """Write `pid` to cgroup.procs, retrying EINVAL: a task still in TASK_NEW cannot move yet (runc)."""
    for attempt in range(5):
        try:
            write_file(directory, "cgroup.procs", str(pid))
            return
        except CgroupError as e:
            if e.errno != errno.EINVAL or attempt == 4:
                raise
            time.sleep(0.03)


def list_pids(directory: str) -> list[int]:
    """The pids in cgroup.procs of `directory` and of every cgroup below it."""
    if not os.path.isdir(directory):
        raise CgroupError(f"cgroup {directory} does not exist", errno=errno.ENOENT)
    found: list[int] = []
    for current, _, _ in os.walk(directory):
        found.extend(int(p) for p in (read_optional(current, "cgroup.procs") or "").split())
    return found


def signal_pids(pids: list[int], sig: int) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def remove_tree(directory: str, timeout: float = DESTROY_TIMEOUT) -> None:
    """rmdir `directory` and the cgroups below it, deepest first; retry EBUSY for `timeout` s.

    EBUSY means a process is still leaving (a SIGKILLed task is not out of the cgroup the
    moment kill(2) returns); a missing directory is fine.
    """
    try:
        os.rmdir(directory)  # the common case, a leaf without processes: no listing needed
        return
    except FileNotFoundError:
        return
    except OSError:
        pass  # child cgroups or processes left (EBUSY), or an error reported below
    deadline = time.monotonic() + timeout
    try:
        children = [e.path for e in os.scandir(directory) if e.is_dir(follow_symlinks=False)]
    except FileNotFoundError:
        return
    except OSError as e:
        raise CgroupError(f"list {directory}: {e.strerror}", errno=e.errno) from None
    for child in children:
        remove_tree(child, max(deadline - time.monotonic(), 0.0))
    delay = 0.001
    while True:
        try:
            os.rmdir(directory)
            return
        except FileNotFoundError:
            return
        except OSError as e:
            if e.errno != errno.EBUSY or time.monotonic() >= deadline:
                pids = read_optional(directory, "cgroup.procs") or ""
                detail = f" (processes left: {' '.join(pids.split())})" if pids.strip() else ""
                raise CgroupError(f"remove {directory}: {e.strerror}{detail}", errno=e.errno) from None
        time.sleep(delay)
        delay = min(delay * 2, 0.05)


def device_rule(rule: dict) -> str:
    """An OCI LinuxDeviceCgroup → the v1 devices.allow/deny line "c 1:3 rwm" ("*" for unset)."""
    kind = rule.get("type") or "a"
    if kind not in ("a", "b", "c"):
        raise CgroupError(f"invalid device rule {rule!r}: type must be a, b or c")
    access = rule.get("access") or ""
    if not access or set(access) - set("rwm"):
        raise CgroupError(f"invalid device rule {rule!r}: access must be a combination of r, w and m")
    major, minor = rule.get("major"), rule.get("minor")
    major = "*" if major is None or major < 0 else str(major)
    minor = "*" if minor is None or minor < 0 else str(minor)
    return f"{kind} {major}:{minor} {access}"


def pids_max(limit: int) -> str:
    """pids.max value: -1 means "max", and so does 0 here.

    runtime-spec now says 0 SHOULD be a real limit of zero; jocker follows Docker instead, whose
    PidsLimit 0 means "no limit" (and runc ≤ 1.1 left 0 unset).
    """
    return "max" if limit <= 0 else str(limit)
