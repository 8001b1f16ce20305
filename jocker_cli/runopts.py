"""`docker run` / `docker create` flags, and the create body the docker CLI builds from them.

The body has every field the docker CLI sends, in its order and with its zero values (trace
05-run-rm-echo and 58-run-rich-create in ../shared/traces): the daemon sees the same request
from `jocker run` as from `docker run`.
"""

from __future__ import annotations

import argparse
import os
import re

from jocker_cli.client import CliError

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing costs start-up time
    from typing import Any

CAP_PREFIX = "CAP_"
RESTART_POLICIES = ("no", "always", "unless-stopped", "on-failure")


def add_arguments(parser: argparse.ArgumentParser, *, run: bool) -> None:
    add = parser.add_argument
    add(
        "-a",
        "--attach",
        action="append",
        default=[],
        metavar="list",
        help="Attach to STDIN, STDOUT or STDERR",
    )
    add(
        "--add-host",
        action="append",
        default=[],
        metavar="list",
        help="Add a custom host-to-IP mapping (host:ip)",
    )
    add(
        "--annotation",
        action="append",
        default=[],
        metavar="map",
        help="Add an annotation to the container (passed through to the OCI runtime)",
    )
    add(
        "--blkio-weight",
        type=int,
        default=0,
        metavar="uint16",
        help="Block IO (relative weight), between 10 and 1000, or 0 to disable (default 0)",
    )
    add("--cap-add", action="append", default=[], metavar="list", help="Add Linux capabilities")
    add("--cap-drop", action="append", default=[], metavar="list", help="Drop Linux capabilities")
    add("--cgroup-parent", default="", metavar="string", help="Optional parent cgroup for the container")
    add("--cgroupns", default="", metavar="string", help="Cgroup namespace to use (host|private)")
    add("--cidfile", default="", metavar="string", help="Write the container ID to the file")
    add(
        "--cpu-period",
        type=int,
        default=0,
        metavar="int",
        help="Limit CPU CFS (Completely Fair Scheduler) period",
    )
    add(
        "--cpu-quota",
        type=int,
        default=0,
        metavar="int",
        help="Limit CPU CFS (Completely Fair Scheduler) quota",
    )
    add(
        "--cpu-rt-period",
        type=int,
        default=0,
        metavar="int",
        help="Limit CPU real-time period in microseconds",
    )
    add(
        "--cpu-rt-runtime",
        type=int,
        default=0,
        metavar="int",
        help="Limit CPU real-time runtime in microseconds",
    )
    add("-c", "--cpu-shares", type=int, default=0, metavar="int", help="CPU shares (relative weight)")
    add("--cpus", default="", metavar="decimal", help="Number of CPUs")
    add("--cpuset-cpus", default="", metavar="string", help="CPUs in which to allow execution (0-3, 0,1)")
    add("--cpuset-mems", default="", metavar="string", help="MEMs in which to allow execution (0-3, 0,1)")
    if run:
        add("-d", "--detach", action="store_true", help="Run container in background and print container ID")
        add(
            "--detach-keys",
            default="",
            metavar="string",
            help="Override the key sequence for detaching a container",
        )
    add("--device", action="append", default=[], metavar="list", help="Add a host device to the container")
    add(
        "--device-cgroup-rule",
        action="append",
        default=[],
        metavar="list",
        help="Add a rule to the cgroup allowed devices list",
    )
    add("--dns", action="append", default=[], metavar="list", help="Set custom DNS servers")
    add("--dns-option", action="append", default=[], metavar="list", help="Set DNS options")
    add("--dns-search", action="append", default=[], metavar="list", help="Set custom DNS search domains")
    add("--domainname", default="", metavar="string", help="Container NIS domain name")
    add("--entrypoint", default=None, metavar="string", help="Overwrite the default ENTRYPOINT of the image")
    add("-e", "--env", action="append", default=[], metavar="list", help="Set environment variables")
    add(
        "--env-file",
        action="append",
        default=[],
        metavar="list",
        help="Read in a file of environment variables",
    )
    add("--expose", action="append", default=[], metavar="list", help="Expose a port or a range of ports")
    add("--group-add", action="append", default=[], metavar="list", help="Add additional groups to join")
    add("--health-cmd", default="", metavar="string", help="Command to run to check health")
    add(
        "--health-interval",
        default="",
        metavar="duration",
        help="Time between running the check (ms|s|m|h) (default 0s)",
    )
    add(
        "--health-retries",
        type=int,
        default=0,
        metavar="int",
        help="Consecutive failures needed to report unhealthy",
    )
    add(
        "--health-start-period",
        default="",
        metavar="duration",
        help="Start period for the container to initialize before starting health-retries countdown (ms|s|m|h) (default 0s)",  # noqa: E501
    )
    add(
        "--health-timeout",
        default="",
        metavar="duration",
        help="Maximum time to allow one check to run (ms|s|m|h) (default 0s)",
    )
    add("-h", "--hostname", default="", metavar="string", help="Container host name")
    add(
        "--init",
        action="store_true",
        default=None,
        help="Run an init inside the container that forwards signals and reaps processes",
    )
    add("-i", "--interactive", action="store_true", help="Keep STDIN open even if not attached")
    add("--ipc", default="", metavar="string", help="IPC mode to use")
    add("--isolation", default="", metavar="string", help="Container isolation technology")
    add("-l", "--label", action="append", default=[], metavar="list", help="Set meta data on a container")
    add(
        "--label-file",
        action="append",
        default=[],
        metavar="list",
        help="Read in a line delimited file of labels",
    )
    add("--log-driver", default="", metavar="string", help="Logging driver for the container")
    add("--log-opt", action="append", default=[], metavar="list", help="Log driver options")
    add("-m", "--memory", default="", metavar="bytes", help="Memory limit")
    add("--memory-reservation", default="", metavar="bytes", help="Memory soft limit")
    add(
        "--memory-swap",
        default="",
        metavar="bytes",
        help="Swap limit equal to memory plus swap: '-1' to enable unlimited swap",
    )
    add(
        "--memory-swappiness",
        type=int,
        default=-1,
        metavar="int",
        help="Tune container memory swappiness (0 to 100) (default -1)",
    )
    add(
        "--mount",
        action="append",
        default=[],
        metavar="mount",
        help="Attach a filesystem mount to the container",
    )
    add("--name", default="", metavar="string", help="Assign a name to the container")
    add("--network", "--net", default="", metavar="network", help="Connect a container to a network")
    add("--no-healthcheck", action="store_true", help="Disable any container-specified HEALTHCHECK")
    add("--oom-kill-disable", action="store_true", help="Disable OOM Killer")
    add(
        "--oom-score-adj",
        type=int,
        default=0,
        metavar="int",
        help="Tune host's OOM preferences (-1000 to 1000)",
    )
    add("--pid", default="", metavar="string", help="PID namespace to use")
    add(
        "--pids-limit",
        type=int,
        default=0,
        metavar="int",
        help="Tune container pids limit (set -1 for unlimited)",
    )
    add("--platform", default="", metavar="string", help="Set platform if server is multi-platform capable")
    add("--privileged", action="store_true", help="Give extended privileges to this container")
    add(
        "-p",
        "--publish",
        action="append",
        default=[],
        metavar="list",
        help="Publish a container's port(s) to the host",
    )
    add("-P", "--publish-all", action="store_true", help="Publish all exposed ports to random ports")
    add(
        "--pull",
        default="missing",
        metavar="string",
        help='Pull image before running ("always", "missing", "never") (default "missing")',
    )
    add("-q", "--quiet", action="store_true", help="Suppress the pull output")
    add("--read-only", action="store_true", help="Mount the container's root filesystem as read only")
    add(
        "--restart",
        default="no",
        metavar="string",
        help='Restart policy to apply when a container exits (default "no")',
    )
    add(
        "--rm",
        action="store_true",
        help="Automatically remove the container and its associated anonymous volumes when it exits",
    )
    add("--runtime", default="", metavar="string", help="Runtime to use for this container")
    add("--security-opt", action="append", default=[], metavar="list", help="Security Options")
    add("--shm-size", default="", metavar="bytes", help="Size of /dev/shm")
    if run:
        add(
            "--sig-proxy",
            action="store_true",
            default=True,
            help="Proxy received signals to the process (default true)",
        )
    add("--stop-signal", default="", metavar="string", help="Signal to stop the container")
    add(
        "--stop-timeout",
        type=int,
        default=None,
        metavar="int",
        help="Timeout (in seconds) to stop a container",
    )
    add(
        "--storage-opt",
        action="append",
        default=[],
        metavar="list",
        help="Storage driver options for the container",
    )
    add("--sysctl", action="append", default=[], metavar="map", help="Sysctl options")
    add("--tmpfs", action="append", default=[], metavar="list", help="Mount a tmpfs directory")
    add("-t", "--tty", action="store_true", help="Allocate a pseudo-TTY")
    add("--ulimit", action="append", default=[], metavar="ulimit", help="Ulimit options")
    add(
        "-u",
        "--user",
        default="",
        metavar="string",
        help="Username or UID (format: <name|uid>[:<group|gid>])",
    )
    add("--userns", default="", metavar="string", help="User namespace to use")
    add("--uts", default="", metavar="string", help="UTS namespace to use")
    add("-v", "--volume", action="append", default=[], metavar="list", help="Bind mount a volume")
    add("--volume-driver", default="", metavar="string", help="Optional volume driver for the container")
    add(
        "--volumes-from",
        action="append",
        default=[],
        metavar="list",
        help="Mount volumes from the specified container(s)",
    )
    add("-w", "--workdir", default="", metavar="string", help="Working directory inside the container")


# -- value parsers (docker's opts and go-units) ---------------------------------------------------

_RAM = re.compile(r"^(\d+(?:\.\d+)?) ?([kKmMgGtTpP])?[iI]?[bB]?$")
_MULTIPLIERS = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}


def ram_in_bytes(value: str, flag: str) -> int:
    """go-units RAMInBytes: binary multipliers, "64m", "1.5g", "512", "1GB"."""
    if value == "-1":
        return -1
    match = _RAM.match(value.strip())
    if not match:
        raise CliError(f'invalid argument "{value}" for "{flag}" flag: invalid size: \'{value}\'', 125)
    number = float(match.group(1))
    unit = (match.group(2) or "").lower()
    return int(number * _MULTIPLIERS.get(unit, 1))


def nano_cpus(value: str) -> int:
    try:
        cpus = float(value)
    except ValueError:
        raise CliError(
            f'invalid argument "{value}" for "--cpus" flag: failed to parse {value} as a rational number', 125
        ) from None
    return round(cpus * 1e9)


def parse_duration_ns(value: str) -> int:
    """Go's time.ParseDuration, in nanoseconds ("1m30s", "500ms", "2h")."""
    if not value:
        return 0
    units = {
        "ns": 1,
        "us": 1_000,
        "µs": 1_000,
        "ms": 1_000_000,
        "s": 10**9,
        "m": 60 * 10**9,
        "h": 3600 * 10**9,
    }
    total = 0.0
    matched = re.findall(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)", value)
    if not matched or "".join(n + u for n, u in matched) != value.lstrip("+"):
        if value == "0":
            return 0
        raise CliError(f'time: invalid duration "{value}"', 125)
    for number, unit in matched:
        total += float(number) * units[unit]
    return int(total)


def parse_env(values: list[str], files: list[str]) -> list[str] | None:
    env: list[str] = []
    for path in files:
        try:
            with open(path, encoding="utf-8") as f:
                lines = f.read().splitlines()
        except OSError as e:
            raise CliError(f"open {path}: {e.strerror.lower() if e.strerror else e}", 125) from None
        for line in lines:
            line = line.lstrip()
            if line and not line.startswith("#"):
                env.append(_env_value(line))
    env += [_env_value(v) for v in values]
    return env or None


def _env_value(value: str) -> str:
    name, sep, _ = value.partition("=")
    if not name:
        raise CliError(
            f'invalid argument "{value}" for "-e, --env" flag: invalid environment variable: {value}', 125
        )
    if not sep and name in os.environ:
        return f"{name}={os.environ[name]}"
    return value


def parse_labels(values: list[str], files: list[str]) -> dict[str, str]:
    items = []
    for path in files:
        with open(path, encoding="utf-8") as f:
            items += [line.strip() for line in f if line.strip() and not line.startswith("#")]
    items += values
    labels = {}
    for item in items:
        key, _, value = item.partition("=")
        labels[key] = value
    return labels


def parse_restart(value: str) -> dict[str, Any]:
    name, _, count = value.partition(":")
    if name not in RESTART_POLICIES and name != "":
        raise CliError(f"invalid restart policy '{name}'", 125)
    if count and name != "on-failure":
        raise CliError("invalid restart policy: maximum retry count can only be used with 'on-failure'", 125)
    try:
        retries = int(count) if count else 0
    except ValueError:
        raise CliError("invalid restart policy format: maximum retry count must be an integer", 125) from None
    return {"Name": name or "no", "MaximumRetryCount": retries}


def parse_ports(
    publish: list[str], expose: list[str]
) -> tuple[dict[str, dict], dict[str, list[dict[str, str]]]]:
    """-p [ip:][hostPort:]containerPort[/proto] and --expose, as nat.ParsePortSpecs builds them."""
    exposed: dict[str, dict] = {}
    bindings: dict[str, list[dict[str, str]]] = {}
    for spec in publish:
        rest, _, proto = spec.partition("/")
        proto = proto or "tcp"
        parts = rest.rsplit(":", 2) if rest.count(":") <= 2 else [rest]
        if rest.startswith("["):  # [::1]:80:80
            ip_end = rest.index("]")
            ip = rest[1:ip_end]
            parts = [ip, *rest[ip_end + 2 :].split(":")]
        ip, host_port, container_port = "", "", parts[-1]
        if len(parts) == 2:
            host_port = parts[0]
        elif len(parts) == 3:
            ip, host_port = parts[0], parts[1]
        for offset, port in enumerate(_port_range(container_port, spec)):
            key = f"{port}/{proto}"
            exposed[key] = {}
            hp = host_port
            if host_port and "-" in host_port:
                start = int(host_port.split("-")[0])
                hp = str(start + offset)
            bindings.setdefault(key, []).append({"HostIp": ip, "HostPort": hp})
    for spec in expose:
        rest, _, proto = spec.partition("/")
        for port in _port_range(rest, spec):
            exposed[f"{port}/{proto or 'tcp'}"] = {}
    return dict(sorted(exposed.items())), dict(sorted(bindings.items()))


def _port_range(text: str, spec: str) -> list[int]:
    try:
        if "-" in text:
            low, high = text.split("-", 1)
            return list(range(int(low), int(high) + 1))
        return [int(text)]
    except ValueError:
        raise CliError(
            f'invalid argument "{spec}" for "-p, --publish" flag: Invalid containerPort: {text}', 125
        ) from None


def parse_mount(spec: str) -> dict[str, Any]:
    """--mount type=bind,source=/a,target=/b,readonly (docker's opts.MountOpt)."""
    mount: dict[str, Any] = {"Type": "volume"}
    for field in spec.split(","):
        key, sep, value = field.partition("=")
        key = key.strip().lower()
        if key in ("readonly", "ro"):
            mount["ReadOnly"] = value.lower() not in ("0", "false") if sep else True
        elif key == "type":
            mount["Type"] = value
        elif key in ("source", "src"):
            mount["Source"] = value
        elif key in ("target", "dst", "destination"):
            mount["Target"] = value
        elif key == "bind-propagation":
            mount.setdefault("BindOptions", {})["Propagation"] = value
        elif key == "tmpfs-size":
            mount.setdefault("TmpfsOptions", {})["SizeBytes"] = ram_in_bytes(value, "--mount")
        elif key == "tmpfs-mode":
            mount.setdefault("TmpfsOptions", {})["Mode"] = int(value, 8)
        elif key == "volume-nocopy":
            nocopy = value.lower() not in ("0", "false") if sep else True
            mount.setdefault("VolumeOptions", {})["NoCopy"] = nocopy
        elif key == "volume-driver":
            mount.setdefault("VolumeOptions", {}).setdefault("DriverConfig", {})["Name"] = value
        elif key in ("volume-opt", "volume-label"):
            name, _, setting = value.partition("=")
            options = mount.setdefault("VolumeOptions", {})
            if key == "volume-label":
                options.setdefault("Labels", {})[name] = setting
            else:
                options.setdefault("DriverConfig", {}).setdefault("Options", {})[name] = setting
        elif key == "consistency":
            mount["Consistency"] = value
        else:
            raise CliError(
                f"invalid argument \"{spec}\" for \"--mount\" flag: unexpected key '{key}' in '{field}'", 125
            )
    if "Target" not in mount:
        raise CliError(f'invalid argument "{spec}" for "--mount" flag: target is required', 125)
    ordered = {k: mount[k] for k in ("Type", "Source", "Target", "ReadOnly", "Consistency") if k in mount}
    ordered.update({k: v for k, v in mount.items() if k not in ordered})
    return ordered


def parse_ulimit(spec: str) -> dict[str, Any]:
    name, _, limits = spec.partition("=")
    soft, _, hard = limits.partition(":")
    try:
        return {"Name": name, "Hard": int(hard or soft), "Soft": int(soft)}
    except ValueError:
        raise CliError(
            f'invalid argument "{spec}" for "--ulimit" flag: invalid ulimit argument: {spec}', 125
        ) from None


def parse_device(spec: str) -> dict[str, str]:
    parts = spec.split(":")
    host = parts[0]
    container = parts[1] if len(parts) > 1 and parts[1].startswith("/") else host
    permissions = parts[-1] if len(parts) > 1 and not parts[-1].startswith("/") else "rwm"
    return {"PathOnHost": host, "PathInContainer": container, "CgroupPermissions": permissions}


def capabilities(values: list[str]) -> list[str] | None:
    if not values:
        return None
    out = []
    for value in values:
        for cap in value.split(","):
            cap = cap.strip().upper()
            if cap != "ALL" and not cap.startswith(CAP_PREFIX):
                cap = CAP_PREFIX + cap
            out.append(cap)
    return out


def _key_values(values: list[str]) -> dict[str, str]:
    out = {}
    for value in values:
        key, _, rest = value.partition("=")
        out[key] = rest
    return out


# -- the body -------------------------------------------------------------------------------------


def attach_streams(args: argparse.Namespace) -> tuple[bool, bool, bool]:
    wanted = {a.lower() for value in args.attach for a in value.split(",")}
    for stream in wanted:
        if stream not in ("stdin", "stdout", "stderr"):
            raise CliError(
                f'invalid argument "{stream}" for "-a, --attach" flag: valid streams are STDIN, STDOUT and STDERR',  # noqa: E501
                125,
            )
    if wanted:
        return "stdin" in wanted or args.interactive, "stdout" in wanted, "stderr" in wanted
    return bool(args.interactive), True, True


def create_body(
    args: argparse.Namespace, image: str, command: list[str], *, console: tuple[int, int]
) -> dict[str, Any]:
    """ContainerCreate's body, field by field as the docker CLI 28 sends it."""
    stdin, stdout, stderr = attach_streams(args)
    detach = bool(getattr(args, "detach", False))
    if detach and args.attach:
        raise CliError("Conflicting options: -a and -d", 125)
    if args.rm and args.restart not in ("", "no"):
        raise CliError("conflicting options: cannot specify both --restart and --rm", 125)
    exposed, bindings = parse_ports(args.publish, args.expose)
    entrypoint = None
    if args.entrypoint is not None:
        entrypoint = [args.entrypoint] if args.entrypoint else [""]
    memory = ram_in_bytes(args.memory, "--memory") if args.memory else 0
    swap = ram_in_bytes(args.memory_swap, "--memory-swap") if args.memory_swap else 0
    # docker's CLI: a -v with a source is a bind (or a named volume), a bare path an anonymous
    # volume, sent as Config.Volumes.
    binds = [spec for spec in args.volume if ":" in spec] or None
    anonymous = {spec: {} for spec in args.volume if ":" not in spec}
    network = args.network or "default"
    open_stdin = bool(args.interactive)
    config: dict[str, Any] = {
        "Hostname": args.hostname,
        "Domainname": args.domainname,
        "User": args.user,
        "AttachStdin": stdin and not detach,
        "AttachStdout": stdout and not detach,
        "AttachStderr": stderr and not detach,
    }
    if exposed:
        config["ExposedPorts"] = exposed
    config.update(
        {
            "Tty": bool(args.tty),
            "OpenStdin": open_stdin,
            "StdinOnce": open_stdin and stdin and not detach,
            "Env": parse_env(args.env, args.env_file),
            "Cmd": command or None,
        }
    )
    healthcheck = _healthcheck(args)
    if healthcheck is not None:
        config["Healthcheck"] = healthcheck
    config.update(
        {
            "Image": image,
            "Volumes": anonymous,
            "WorkingDir": args.workdir,
            "Entrypoint": entrypoint,
            "OnBuild": None,
            "Labels": parse_labels(args.label, args.label_file),
        }
    )
    if args.stop_signal:
        config["StopSignal"] = args.stop_signal
    if args.stop_timeout is not None:
        config["StopTimeout"] = args.stop_timeout
    tmpfs = {}
    for spec in args.tmpfs:
        path, _, options = spec.partition(":")
        tmpfs[path] = options
    host: dict[str, Any] = {
        "Binds": binds,
        "ContainerIDFile": args.cidfile,
        "LogConfig": {"Type": args.log_driver, "Config": _key_values(args.log_opt)},
        "NetworkMode": network,
        "PortBindings": bindings,
        "RestartPolicy": parse_restart(args.restart),
        "AutoRemove": bool(args.rm),
        "VolumeDriver": args.volume_driver,
        "VolumesFrom": args.volumes_from or None,
        "ConsoleSize": [console[0], console[1]],
    }
    if args.annotation:
        host["Annotations"] = _key_values(args.annotation)
    host.update(
        {
            "CapAdd": capabilities(args.cap_add),
            "CapDrop": capabilities(args.cap_drop),
            "CgroupnsMode": args.cgroupns,
            "Dns": list(args.dns),
            "DnsOptions": list(args.dns_option),
            "DnsSearch": list(args.dns_search),
            "ExtraHosts": list(args.add_host) or None,
            "GroupAdd": list(args.group_add) or None,
            "IpcMode": args.ipc,
            "Cgroup": "",
            "Links": None,
            "OomScoreAdj": args.oom_score_adj,
            "PidMode": args.pid,
            "Privileged": bool(args.privileged),
            "PublishAllPorts": bool(args.publish_all),
            "ReadonlyRootfs": bool(args.read_only),
            "SecurityOpt": list(args.security_opt) or None,
        }
    )
    if args.storage_opt:
        host["StorageOpt"] = _key_values(args.storage_opt)
    if tmpfs:
        host["Tmpfs"] = tmpfs
    host.update(
        {
            "UTSMode": args.uts,
            "UsernsMode": args.userns,
            "ShmSize": ram_in_bytes(args.shm_size, "--shm-size") if args.shm_size else 0,
        }
    )
    if args.sysctl:
        host["Sysctls"] = _key_values(args.sysctl)
    if args.runtime:
        host["Runtime"] = args.runtime
    host.update(
        {
            "Isolation": args.isolation,
            "CpuShares": args.cpu_shares,
            "Memory": memory,
            "NanoCpus": nano_cpus(args.cpus) if args.cpus else 0,
            "CgroupParent": args.cgroup_parent,
            "BlkioWeight": args.blkio_weight,
            "BlkioWeightDevice": [],
            "BlkioDeviceReadBps": [],
            "BlkioDeviceWriteBps": [],
            "BlkioDeviceReadIOps": [],
            "BlkioDeviceWriteIOps": [],
            "CpuPeriod": args.cpu_period,
            "CpuQuota": args.cpu_quota,
            "CpuRealtimePeriod": args.cpu_rt_period,
            "CpuRealtimeRuntime": args.cpu_rt_runtime,
            "CpusetCpus": args.cpuset_cpus,
            "CpusetMems": args.cpuset_mems,
            "Devices": [parse_device(d) for d in args.device],
            "DeviceCgroupRules": list(args.device_cgroup_rule) or None,
            "DeviceRequests": None,
            "MemoryReservation": ram_in_bytes(args.memory_reservation, "--memory-reservation")
            if args.memory_reservation
            else 0,
            "MemorySwap": swap,
            "MemorySwappiness": args.memory_swappiness,
            "OomKillDisable": bool(args.oom_kill_disable),
            "PidsLimit": args.pids_limit,
            "Ulimits": [parse_ulimit(u) for u in args.ulimit],
            "CpuCount": 0,
            "CpuPercent": 0,
            "IOMaximumIOps": 0,
            "IOMaximumBandwidth": 0,
        }
    )
    mounts = [parse_mount(m) for m in args.mount]
    if mounts:
        host["Mounts"] = mounts
    host["MaskedPaths"] = None
    host["ReadonlyPaths"] = None
    if args.init:
        host["Init"] = True
    if network == "default":
        endpoints: dict[str, Any] = {"default": _empty_endpoint()}
    else:
        endpoints = {}
    return {**config, "HostConfig": host, "NetworkingConfig": {"EndpointsConfig": endpoints}}


def _empty_endpoint() -> dict[str, Any]:
    return {
        "IPAMConfig": None, "Links": None, "Aliases": None, "MacAddress": "", "DriverOpts": None,
        "GwPriority": 0, "NetworkID": "", "EndpointID": "", "Gateway": "", "IPAddress": "",
        "IPPrefixLen": 0, "IPv6Gateway": "", "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0,
        "DNSNames": None,
    }  # fmt: skip


def _healthcheck(args: argparse.Namespace) -> dict[str, Any] | None:
    if args.no_healthcheck:
        return {"Test": ["NONE"]}
    if not (args.health_cmd or args.health_interval or args.health_timeout or args.health_retries
            or args.health_start_period):  # fmt: skip
        return None
    check: dict[str, Any] = {}
    if args.health_cmd:
        check["Test"] = ["CMD-SHELL", args.health_cmd]
    check["Interval"] = parse_duration_ns(args.health_interval)
    check["Timeout"] = parse_duration_ns(args.health_timeout)
    check["StartPeriod"] = parse_duration_ns(args.health_start_period)
    check["Retries"] = args.health_retries
    return check
