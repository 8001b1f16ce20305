"""One short function per runc subcommand: `(global options, command options) -> exit status`.

Each loads what it needs (a `Container`, the bundle's spec), calls one verb and prints what runc
prints. Heavy modules (launcher, cgroups, seccomp) are imported inside the verbs that need them:
`state` or `kill` must not pay for `create`'s imports.
"""

from __future__ import annotations

import os
import sys

from jockerd.runtime import fastjson
from jockerd.runtime.container import Container
from jockerd.runtime.errors import CONTAINER_NOT_EXIST, ContainerError
from jockerd.runtime.linux.constants import SIGNALS, SIGRTMAX, SIGRTMIN

TYPE_CHECKING = False
if TYPE_CHECKING:
    from jockerd.runtime.cli import Options


def _out(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


# -- lifecycle (the runtime-tools surface) -----------------------------------------------------


def create(g: Options, o: Options) -> int:
    from jockerd.runtime import launcher

    launcher.create(
        g.root,
        o.args[0],
        o.bundle or ".",
        pid_file=o.pid_file,
        console_socket=o.console_socket,
        no_pivot=o.no_pivot,
        no_new_keyring=o.no_new_keyring,
        preserve_fds=o.preserve_fds,
    )
    return 0


def start(g: Options, o: Options) -> int:
    Container.load(g.root, o.args[0]).start()
    return 0


def state(g: Options, o: Options) -> int:
    container = Container.load(g.root, o.args[0])
    _out(fastjson.dumps(container.oci_state(container.refresh_status()), indent=2) + "\n")
    return 0


def kill(g: Options, o: Options) -> int:
    container = Container.load(g.root, o.args[0])
    signum = parse_signal(o.args[1] if len(o.args) > 1 else "SIGTERM")
    container.kill(signum, all_processes=o.all)
    return 0


def delete(g: Options, o: Options) -> int:
    try:
        container = Container.load(g.root, o.args[0])
    except ContainerError as e:
        if str(e) != CONTAINER_NOT_EXIST or not o.force:
            raise
        from jockerd.runtime.container import remove_state_dir

        remove_state_dir(os.path.join(g.root, o.args[0]))  # a create that died half-way
        return 0
    container.delete(force=o.force)
    return 0


def run(g: Options, o: Options) -> int:
    """create + start; in the foreground also wait, forward signals, proxy a terminal, delete."""
    # `select` and `state` are what `start` imports: imported here, before the forks, because
    # while the children share our memory every page an import writes is copied first (~0.4 ms
    # more for these two, measured).
    import select  # noqa: F401

    from jockerd.runtime import launcher, state  # noqa: F401
    from jockerd.runtime import spec as spec_mod
    from jockerd.runtime.linux import constants as C
    from jockerd.runtime.linux.syscalls import LinuxSyscalls

    bundle = os.path.abspath(o.bundle or ".")
    spec = spec_mod.load(bundle)
    terminal = bool((spec.get("process") or {}).get("terminal"))
    console_pair = None
    if terminal and not o.detach and not o.console_socket:
        from jockerd.runtime.terminal import socketpair

        console_pair = socketpair()
    if not o.detach and not o.no_subreaper:
        LinuxSyscalls().prctl(C.PR_SET_CHILD_SUBREAPER, 1)
    try:
        container = launcher.create(
            g.root,
            o.args[0],
            bundle,
            pid_file=o.pid_file,
            console_socket=o.console_socket,
            console_fd=console_pair[1] if console_pair else -1,
            no_pivot=o.no_pivot,
            no_new_keyring=o.no_new_keyring,
            preserve_fds=o.preserve_fds,
            spec=spec,
        )
    finally:
        if console_pair:
            os.close(console_pair[1])
    master = -1
    try:
        if console_pair:
            from jockerd.runtime.terminal import receive_fd

            master = receive_fd(console_pair[0])
        container.start()
    except BaseException:
        container.delete(force=True)
        raise
    if o.detach:
        return 0
    code = launcher.wait_for(container.pid, master_fd=master)
    if not o.keep:
        container.destroy()
    return code


# -- exec ---------------------------------------------------------------------------------------


def exec(g: Options, o: Options) -> int:
    from jockerd.runtime import launcher

    container = Container.load(g.root, o.args[0])
    process = exec_process_spec(container, o)
    console_pair = None
    if process.get("terminal") and not o.detach and not o.console_socket:
        from jockerd.runtime.terminal import socketpair

        console_pair = socketpair()
    try:
        pid = launcher.exec_process(
            container,
            process,
            console_socket=o.console_socket,
            console_fd=console_pair[1] if console_pair else -1,
            pid_file=o.pid_file,
            preserve_fds=o.preserve_fds,
            subreaper=not o.detach,
        )
    finally:
        if console_pair:
            os.close(console_pair[1])
    if o.detach:
        return 0
    master = -1
    if console_pair:
        from jockerd.runtime.terminal import receive_fd

        master = receive_fd(console_pair[0])
    return launcher.wait_for(pid, master_fd=master)


def exec_process_spec(container: Container, o: Options) -> dict:
    """runc's getProcess: --process FILE as is, else the container's process with the flags."""
    if o.process:
        try:
            with open(o.process, "rb") as f:
                process = fastjson.loads(f.read())
        except (OSError, ValueError) as e:
            raise ContainerError(f"reading process spec {o.process}: {e}") from None
        if not isinstance(process, dict):
            raise ContainerError(f"process spec {o.process} is not a JSON object")
        return process
    process = fastjson.loads(fastjson.dumps(container.record.get("process") or {}))  # deep copy
    process["args"] = o.args[1:]
    if not process["args"]:
        raise ContainerError("exec args cannot be empty")
    process["terminal"] = o.tty
    process.pop("consoleSize", None)
    if o.cwd:
        process["cwd"] = o.cwd
    process["env"] = list(process.get("env") or []) + list(o.env)
    user = process.setdefault("user", {"uid": 0, "gid": 0})
    if o.user:
        uid, _, gid = o.user.partition(":")
        try:
            user["uid"] = int(uid)
            if gid:
                user["gid"] = int(gid)
        except ValueError:
            raise ContainerError(f"parsing {o.user} as int for uid/gid failed") from None
    if o.additional_gids:
        try:
            user["additionalGids"] = [int(g) for g in o.additional_gids]
        except ValueError:
            raise ContainerError("--additional-gids must be integers") from None
    if o.cap:
        caps = process.setdefault("capabilities", {})
        for kind in ("bounding", "effective", "permitted", "inheritable", "ambient"):
            caps[kind] = list(caps.get(kind) or []) + list(o.cap)
    if o.no_new_privs:
        process["noNewPrivileges"] = True
    return process


# -- cgroup-backed verbs --------------------------------------------------------------------------


def pause(g: Options, o: Options) -> int:
    Container.load(g.root, o.args[0]).pause()
    return 0


def resume(g: Options, o: Options) -> int:
    Container.load(g.root, o.args[0]).resume()
    return 0


def ps(g: Options, o: Options) -> int:
    container = Container.load(g.root, o.args[0])
    if container.refresh_status() == "stopped":
        raise ContainerError("cannot ps a container that has stopped")
    pids = container.cgroup(required=True).pids()
    if o.format == "json":
        _out(fastjson.dumps(pids) + "\n")
        return 0
    if o.format != "table":
        raise ContainerError(f"invalid format option {o.format!r}")
    import subprocess

    ps_args = o.args[1:] or ["-ef"]
    try:
        output = subprocess.run(["ps", *ps_args], capture_output=True, check=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        raise ContainerError(f"ps: {e}") from None
    lines = output.splitlines()
    if not lines:
        return 0
    header = lines[0].split()
    if "PID" not in header:
        raise ContainerError("couldn't find PID field in ps output")
    column = header.index("PID")
    wanted = set(pids)
    _out(lines[0] + "\n")
    for line in lines[1:]:
        fields = line.split()
        if len(fields) > column and fields[column].isdigit() and int(fields[column]) in wanted:
            _out(line + "\n")
    return 0


def events(g: Options, o: Options) -> int:
    import time

    container = Container.load(g.root, o.args[0])
    manager = container.cgroup(required=True)
    interval = parse_duration(o.interval)
    while True:
        if container.refresh_status() == "stopped":
            if o.stats:
                raise ContainerError("container not running")
            return 0
        _out(fastjson.dumps({"type": "stats", "id": container.id, "data": manager.stats()}) + "\n")
        if o.stats:
            return 0
        time.sleep(interval)


def update(g: Options, o: Options) -> int:
    container = Container.load(g.root, o.args[0])
    if container.refresh_status() == "stopped":
        raise ContainerError(f"cannot update container {container.id}: container is stopped")
    if o.resources:
        try:
            data = sys.stdin.read() if o.resources == "-" else open(o.resources).read()  # noqa: SIM115
            resources = fastjson.loads(data)
        except (OSError, ValueError) as e:
            raise ContainerError(f"reading resources {o.resources}: {e}") from None
    else:
        resources = resources_from_flags(o)
    container.cgroup(required=True).apply(resources)
    return 0


def resources_from_flags(o: Options) -> dict:
    resources: dict = {}

    def put(section: str, key: str, value: object) -> None:
        if value is not None:
            resources.setdefault(section, {})[key] = value

    put("blockIO", "weight", o.blkio_weight)
    put("cpu", "period", o.cpu_period)
    put("cpu", "quota", o.cpu_quota)
    put("cpu", "shares", o.cpu_share)
    put("cpu", "realtimePeriod", o.cpu_rt_period)
    put("cpu", "realtimeRuntime", o.cpu_rt_runtime)
    put("cpu", "cpus", o.cpuset_cpus)
    put("cpu", "mems", o.cpuset_mems)
    put("memory", "limit", parse_bytes(o.memory))
    put("memory", "reservation", parse_bytes(o.memory_reservation))
    put("memory", "swap", parse_bytes(o.memory_swap))
    put("pids", "limit", o.pids_limit)
    return resources


# -- no container --------------------------------------------------------------------------------


def list_(g: Options, o: Options) -> int:
    containers = []
    for container_id in Container.list_ids(g.root):
        try:
            container = Container.load(g.root, container_id)
        except ContainerError:
            continue
        containers.append(container.oci_state(container.refresh_status()))
    if o.quiet:
        _out("".join(c["id"] + "\n" for c in containers))
    elif o.format == "json":
        _out(fastjson.dumps(containers or None) + "\n")
    elif o.format == "table":
        rows = [["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"]]
        rows += [
            [c["id"], str(c["pid"]), c["status"], c["bundle"], c["created"], c["owner"] or "root"]
            for c in containers
        ]
        widths = [max(12, *(len(r[i]) + 3 for r in rows)) for i in range(5)]
        _out(
            "".join(
                "".join(cell.ljust(w) for cell, w in zip(r, widths, strict=False)) + r[5] + "\n" for r in rows
            )
        )
    else:
        raise ContainerError(f"invalid format option {o.format!r}")
    return 0


def spec(g: Options, o: Options) -> int:
    from jockerd.runtime import spec as spec_mod

    path = os.path.join(o.bundle or ".", "config.json")
    if os.path.exists(path):
        raise ContainerError("File config.json exists. Remove it first.")
    with open(path, "w") as f:
        f.write(fastjson.dumps(spec_mod.default(rootless=o.rootless), indent="\t"))
    return 0


def features(g: Options, o: Options) -> int:
    from jockerd.runtime import OCI_VERSION, capabilities, rootfs
    from jockerd.runtime.init_process import import_seccomp
    from jockerd.runtime.linux.syscalls import LinuxSyscalls
    from jockerd.runtime.namespaces import ORDERED_NAMESPACES

    top = capabilities.last_cap(LinuxSyscalls())
    try:
        seccomp_features = import_seccomp().features()
    except ContainerError:
        seccomp_features = {"enabled": False}
    data = {
        "ociVersionMin": "1.0.0",
        "ociVersionMax": OCI_VERSION,
        "hooks": ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"],
        "mountOptions": sorted([*rootfs.MOUNT_FLAGS, *rootfs.PROPAGATION_FLAGS]),
        "linux": {
            "namespaces": list(ORDERED_NAMESPACES),
            "capabilities": list(capabilities.CAPABILITIES[: top + 1]),
            "cgroup": {
                "v1": True,
                "v2": True,
                "systemd": False,
                "systemdUser": False,
            },
            "seccomp": seccomp_features,
            "apparmor": {"enabled": False},
            "selinux": {"enabled": False},
        },
        "annotations": {},
    }
    _out(fastjson.dumps(data, indent=4) + "\n")
    return 0


# -- wire text ------------------------------------------------------------------------------------


def parse_signal(text: str) -> int:
    """ "KILL", "SIGKILL", "9", "SIGRTMIN+3" → number (runc accepts the same forms)."""
    if text.isdigit():
        number = int(text)
        if 0 < number <= SIGRTMAX:
            return number
        raise ContainerError(f"unknown signal {text!r}")
    name = text.upper()
    name = name[3:] if name.startswith("SIG") else name
    if name in SIGNALS:
        return SIGNALS[name]
    for base, value, sign in (("RTMIN", SIGRTMIN, 1), ("RTMAX", SIGRTMAX, -1)):
        if name == base:
            return value
        if name.startswith(base + ("+" if sign > 0 else "-")) and name[len(base) + 1 :].isdigit():
            number = value + sign * int(name[len(base) + 1 :])
            if SIGRTMIN <= number <= SIGRTMAX:
                return number
    raise ContainerError(f'unknown signal "{text}"')


def parse_duration(text: str) -> float:
    """Go durations as runc's --interval takes them: "5s", "500ms", "1m", "1.5s"."""
    for suffix, scale in (("ms", 0.001), ("us", 1e-6), ("ns", 1e-9), ("s", 1.0), ("m", 60.0), ("h", 3600.0)):
        if text.endswith(suffix):
            try:
                return float(text[: -len(suffix)]) * scale
            except ValueError:
                break
    raise ContainerError(f"invalid duration {text!r}")


def parse_bytes(text: str | None) -> int | None:
    """ "-1", "1024", "64k", "512m", "1g" → bytes (docker's RAMInBytes)."""
    if text is None or text == "":
        return None
    value = text.strip().lower().rstrip("b")
    scale = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}.get(value[-1:], 1)
    if scale != 1:
        value = value[:-1]
    try:
        return int(float(value) * scale) if value != "-1" else -1
    except ValueError:
        raise ContainerError(f"invalid size {text!r}") from None
