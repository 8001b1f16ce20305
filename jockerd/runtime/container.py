"""`Container`: one container's record in `<root>/<id>/`, its live status, and its verbs.

On disk (runc's names, `--root` default /run/jocker-runtime):

| file             | written by    | content                                                      |
|------------------|---------------|--------------------------------------------------------------|
| `<root>/<id>/`   | create        | exists from the first moment of create: the ID's lock       |
| `state.json`     | create, pause | the record below, written atomically (temp, rename)         |
| `exec.fifo`      | create        | the init blocks opening it to write; `start` reads, removes |

state.json keys: id, bundle, rootfs, created (RFC 3339, ns), owner, annotations,
init_process_pid, init_process_start (field 22 of /proc/<pid>/stat: a recycled pid is detected),
cgroup_path and cgroups_path (the manager's and the spec's), namespaces (type + path, for exec),
process (the spec's, for exec defaults), hooks (poststart/poststop: config.json may change after
create), no_pivot, paused.

The status is never stored. `refresh_status()` derives it like runc: init gone (or a zombie, or a
different start time) → stopped; exec.fifo present → created; paused flag → paused; else
running. Every cgroup call of the runtime goes through `open_cgroup()` here.
"""

from __future__ import annotations

import os
import time

from jockerd.runtime import OCI_VERSION, fastjson, log
from jockerd.runtime.errors import CONTAINER_NOT_EXIST, ContainerError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from jockerd.runtime.state import OciStatus

CGROUPS_MISSING = "cgroups are not supported by this build (jockerd.runtime.cgroups is missing)"


def validate_id(container_id: str) -> None:
    """runc's rule: [\\w+-.]+ and not "." or ".."."""
    ok = container_id not in ("", ".", "..") and all(c.isalnum() or c in "_+-." for c in container_id)
    if not ok or not container_id.isascii():
        raise ContainerError(f"invalid container id format: {container_id}")


def open_cgroup(cgroups_path: str | None, container_id: str):  # -> CgroupManager | None
    """A new container's CgroupManager (`create`), or None without the cgroups package."""
    try:
        from jockerd.runtime.cgroups import manager_for
    except ImportError:
        log.debug(CGROUPS_MISSING)
        return None
    return manager_for(cgroups_path, container_id)


def reopen_cgroup(record: dict, *, required: bool):  # -> CgroupManager | None
    """The manager `create` made, rebuilt from the directories it saved in state.json."""
    dirs = record.get("cgroup_dirs")
    if not dirs:
        if required:
            raise ContainerError(f"container {record['id']} has no cgroup: {CGROUPS_MISSING}")
        return None
    try:
        from jockerd.runtime.cgroups import manager_from_dirs
    except ImportError:
        if required:
            raise ContainerError(CGROUPS_MISSING) from None
        return None
    return manager_from_dirs(record["cgroup_path"], dirs)


def format_time(ns: int) -> str:
    """RFC 3339 with nanoseconds in UTC, like Go's time.RFC3339Nano (without trailing zeros)."""
    seconds, nanos = divmod(ns, 1_000_000_000)
    text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
    fraction = f"{nanos:09d}".rstrip("0")
    return f"{text}.{fraction}Z" if fraction else text + "Z"


def read_stat(pid: int) -> tuple[str, int] | None:
    """(state letter, start time in clock ticks) from /proc/<pid>/stat, or None if gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # comm (field 2) may contain spaces and parentheses: fields resume after the last ')'.
    fields = data[data.rindex(b")") + 2 :].split()
    return fields[0].decode(), int(fields[19])


def process_start_time(pid: int) -> int:
    stat = read_stat(pid)
    if stat is None:
        raise ContainerError(f"process {pid} is gone")
    return stat[1]


def write_file_atomic(path: str, data: bytes, mode: int = 0o600) -> None:
    """Temp file, then rename: readers see the old or the new file, never a part. No fsync, as
    runc's saveState: the state describes processes, which a crash ends anyway (and the root is
    normally /run, a tmpfs); on ext4 the fsync cost ~1-2 ms of every create."""
    tmp = f"{path}.tmp{os.getpid()}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, mode)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
    os.rename(tmp, path)


def write_pid_file(path: str, pid: int) -> None:
    """Decimal, no newline (readers use Go's strconv.Atoi), written atomically."""
    path = os.path.abspath(path)
    write_file_atomic(path, str(pid).encode(), 0o644)


def remove_state_dir(path: str) -> None:
    """The state directory holds only plain files (`shutil` would cost a `re` import)."""
    try:
        names = os.listdir(path)
    except FileNotFoundError:
        return
    for name in names:
        try:
            os.unlink(os.path.join(path, name))
        except FileNotFoundError:
            pass
    try:
        os.rmdir(path)
    except FileNotFoundError:
        pass


class Container:
    def __init__(self, root: str, record: dict) -> None:
        self.root = root
        self.record = record

    # -- persistence
    @property
    def id(self) -> str:
        return self.record["id"]

    @property
    def state_dir(self) -> str:
        return os.path.join(self.root, self.id)

    @property
    def fifo_path(self) -> str:
        return os.path.join(self.state_dir, "exec.fifo")

    @property
    def pid(self) -> int:
        return self.record["init_process_pid"]

    @classmethod
    def load(cls, root: str, container_id: str) -> Container:
        validate_id(container_id)
        try:
            with open(os.path.join(root, container_id, "state.json"), "rb") as f:
                record = fastjson.loads(f.read())
        except FileNotFoundError:
            raise ContainerError(CONTAINER_NOT_EXIST) from None
        except ValueError as e:
            raise ContainerError(f"corrupt state.json of {container_id}: {e}") from None
        return cls(root, record)

    @classmethod
    def list_ids(cls, root: str) -> list[str]:
        try:
            names = sorted(os.listdir(root))
        except FileNotFoundError:
            return []
        return [n for n in names if os.path.exists(os.path.join(root, n, "state.json"))]

    def save(self) -> None:
        write_file_atomic(os.path.join(self.state_dir, "state.json"), fastjson.dumps(self.record).encode())

    # -- status
    def init_alive(self) -> bool:
        stat = read_stat(self.pid)
        return stat is not None and stat[0] not in "ZX" and stat[1] == self.record["init_process_start"]

    def refresh_status(self) -> OciStatus:
        from jockerd.runtime.state import OciStatus

        if not self.init_alive():
            return OciStatus.STOPPED
        if os.path.exists(self.fifo_path):
            return OciStatus.CREATED
        if self.record.get("paused"):
            return OciStatus.PAUSED
        return OciStatus.RUNNING

    def oci_state(self, status: str) -> dict:
        """runtime-spec State (plus runc's rootfs, created, owner) as `state` prints it."""
        state = {
            "ociVersion": OCI_VERSION,
            "id": self.id,
            "pid": self.pid if status != "stopped" else 0,
            "status": str(status),
            "bundle": self.record["bundle"],
            "rootfs": self.record["rootfs"],
            "created": self.record["created"],
            "owner": self.record.get("owner", ""),
        }
        if self.record.get("annotations"):
            state["annotations"] = self.record["annotations"]
        return state

    def hook_state(self, status: str) -> dict:
        state = {
            "ociVersion": OCI_VERSION,
            "id": self.id,
            "status": status,
            "bundle": self.record["bundle"],
            "annotations": self.record.get("annotations") or {},
        }
        if status != "stopped":
            state["pid"] = self.pid
        return state

    def _check(self, verb: str) -> OciStatus:
        from jockerd.runtime.state import check_transition

        status = self.refresh_status()
        check_transition(verb, status, self.id)
        return status

    # -- verbs
    def start(self) -> None:
        """Open exec.fifo for reading (the init is blocked opening it for writing), read its
        byte, remove it; then the poststart hooks. A failing poststart hook kills the container
        and fails `start` (runtime-spec lifecycle step 9, runc)."""
        self._check("start")
        self._release_init()
        poststart = self.record.get("hooks", {}).get("poststart")
        if not poststart:
            return
        from jockerd.runtime import hooks  # only with hooks: one import less for every start

        try:
            hooks.run_hooks(poststart, self.hook_state("running"))
        except ContainerError:
            self.signal(9)
            raise

    def _release_init(self) -> None:
        """Read exec.fifo's byte (the init is released; the fifo goes, the status is running),
        then on until EOF: the init's write end closes at execve (runc's ReadAll). Anything
        after the byte is the init's error (a startContainer hook failed, execve failed)."""
        import select

        try:
            fd = os.open(self.fifo_path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        except FileNotFoundError:
            raise ContainerError("cannot start an already running container") from None
        data = b""
        try:
            poller = select.poll()
            poller.register(fd, select.POLLIN)
            while True:
                events = poller.poll(100)
                if events:
                    chunk = os.read(fd, 4096)
                    if chunk:
                        if not data:
                            self._remove_fifo()
                        data += chunk
                        continue
                    if data:
                        break  # EOF: execve (or death) closed the init's end
                    # POLLHUP before the byte: a writer came and went without writing
                if data:
                    continue
                if not self.init_alive():
                    raise ContainerError("cannot start a container that has stopped")
                if not events and not os.path.exists(self.fifo_path):
                    raise ContainerError("cannot start an already running container")
                if events:
                    time.sleep(0.001)  # POLLHUP repeats until a writer appears
        finally:
            os.close(fd)
        if data[1:]:
            raise ContainerError(data[1:].decode(errors="replace"))

    def _remove_fifo(self) -> None:
        try:
            os.unlink(self.fifo_path)
        except FileNotFoundError:
            pass

    def signal(self, signum: int) -> None:
        try:
            os.kill(self.pid, signum)
        except ProcessLookupError:
            pass

    def kill(self, signum: int, all_processes: bool = False) -> None:
        self._check("kill")
        if all_processes:
            manager = self.cgroup(required=False)
            if manager is not None:
                manager.kill_all(signum)
                return
            log.warning("kill --all without cgroups support: signalling the init process only")
        if not self.init_alive():
            raise ContainerError("container not running")
        os.kill(self.pid, signum)

    def pause(self) -> None:
        self._check("pause")
        self.cgroup(required=True).freeze()
        self.record["paused"] = True
        self.save()

    def resume(self) -> None:
        self._check("resume")
        self.cgroup(required=True).thaw()
        self.record["paused"] = False
        self.save()

    def delete(self, force: bool = False) -> None:
        """runc's rules: stopped → destroy; created → kill, destroy; running/paused → only with
        --force (SIGKILL, after thawing a paused one)."""
        from jockerd.runtime.state import OciStatus, check_transition

        status = self.refresh_status()
        if not force:
            check_transition("delete", status, self.id)
        if status is not OciStatus.STOPPED:
            if status is OciStatus.PAUSED:
                manager = self.cgroup(required=False)
                if manager is not None:
                    self.signal(9)
                    manager.thaw()
            self.signal(9)
            self.wait_stopped()
        self.destroy()

    def wait_stopped(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        delay = 0.0005
        while self.init_alive():
            if time.monotonic() > deadline:
                raise ContainerError(f"container init process {self.pid} did not exit after SIGKILL")
            time.sleep(delay)
            delay = min(delay * 2, 0.05)

    def destroy(self) -> None:
        """Undo create: cgroup, state directory; then the poststop hooks (warnings only)."""
        manager = self.cgroup(required=False)
        if manager is not None:
            try:
                manager.kill_all(9)  # without a pid namespace the init's children outlive it
                manager.destroy()
            except Exception as e:  # CgroupError or OSError: keep deleting
                log.warning(f"removing cgroup {manager.path}: {e}")
        if not any(ns.get("type") == "mount" for ns in self.record.get("namespaces") or ()):
            from jockerd.runtime.linux.syscalls import LinuxSyscalls
            from jockerd.runtime.rootfs import unmount_below

            unmount_below(self.record["rootfs"], LinuxSyscalls())
        remove_state_dir(self.state_dir)
        poststop = self.record.get("hooks", {}).get("poststop")
        if poststop:
            from jockerd.runtime import hooks

            hooks.run_hooks_warn(poststop, self.hook_state("stopped"))

    def cgroup(self, *, required: bool):  # -> CgroupManager | None
        return reopen_cgroup(self.record, required=required)
