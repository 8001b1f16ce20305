"""ContainerService: Docker's container use cases over the record store, bundles and shims.

Each container has an asyncio.Lock; every verb that changes a container's state takes it, so
create/start/stop/rm races on one container serialize, and the DockerState machine
(container_state.py) decides what each verb may do. A container's *run* is one jocker-shim:
start writes the bundle, starts the shim (which mounts the rootfs and runs the runtime's
`create`), connects the attach sessions that were waiting, then runs the runtime's `start`.
A monitor task per run awaits the shim's exit file and applies Docker's exit rules
(AutoRemove, restart policies, waiters).

Records are written atomically on every state change (store/containers.py), and `restore()`
rebuilds everything from them and from the shims that outlived the previous daemon.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import os
import shutil
import signal as signals
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jockerd import hostfs
from jockerd.bundle import generate, network_files
from jockerd.bundle.conversion import merge_config
from jockerd.bundle.defaults import DEFAULT_MASKED_PATHS, DEFAULT_READONLY_PATHS
from jockerd.driver.oci_runtime import OciRuntimeError
from jockerd.driver.runtimes import RuntimeRegistry
from jockerd.driver.shim_client import SHIM_DIED, ExitStatus, ShimClient, ShimOptions, ShimZygote
from jockerd.errors import (
    ConflictError,
    InternalError,
    InvalidParameterError,
    JockerError,
    NotFoundError,
    NotModifiedError,
    no_such_container,
)
from jockerd.ids import new_id, resolve_prefix
from jockerd.imagestore.snapshots import Snapshotter
from jockerd.imagestore.store import ImageStore
from jockerd.services import attach as attaching
from jockerd.services import ports
from jockerd.services.container_archive import ArchiveAndExport
from jockerd.services.container_commit import CommitAndChanges
from jockerd.services.container_config import (
    arch,
    check_network_mode,
    check_platform_signal,
    console_size,
    discard_unsupported_resources,
    host_config_defaults,
    inspect_config,
    parse_signal,
    parse_until,
    size_option,
    start_error_exit_code,
    validate_host_config,
)
from jockerd.services.container_io import LogsAndStats
from jockerd.services.container_queries import ContainerQueries, network_name
from jockerd.services.container_state import DockerState, Move, advance, not_running
from jockerd.services.container_volumes import ContainerVolumes
from jockerd.services.disk_usage import dir_size
from jockerd.services.events import EventBus
from jockerd.services.filters import labels_match
from jockerd.services.timefmt import parse_rfc3339, rfc3339_nano
from jockerd.store import names as naming
from jockerd.store.containers import ContainerRecord, ContainerStore

log = logging.getLogger("jockerd.containers")

DEFAULT_STOP_TIMEOUT = 10
ATTACH_CONNECT_TIMEOUT = 5.0  # how long a start waits for early attach sessions to connect
DEFAULT_SHM_SIZE = 64 * 1024 * 1024
LIST_FILTERS = {"ancestor", "before", "expose", "exited", "health", "id", "isolation", "is-task",
                "label", "name", "network", "publish", "since", "status", "volume"}  # fmt: skip
PRUNE_FILTERS = {"label", "label!", "until"}


# The HostConfig modes that may name another container (`container:<name|id>`): the namespace
# type each joins, and that namespace's file under /proc/<pid>/ns.
JOINABLE_MODES = {"NetworkMode": "network", "IpcMode": "ipc", "PidMode": "pid"}
NS_FILES = {"network": "net", "ipc": "ipc", "pid": "pid"}


def joined_refs(host: dict[str, Any]) -> dict[str, str]:
    """Namespace type → the container its `container:<name|id>` mode names."""
    refs = {}
    for key, ns_type in JOINABLE_MODES.items():
        kind, _, ref = str(host.get(key) or "").partition(":")
        if kind == "container" and ref:
            refs[ns_type] = ref
    return refs


def restart_on_boot(record: ContainerRecord) -> bool:
    """dockerd's restore: which stopped containers a starting daemon starts again. "always"
    does even after a manual stop (Docker documents it so), "unless-stopped" does not, and
    "on-failure" does after a failure; never a container that was never started."""
    policy = record.host_config.get("RestartPolicy") or {}
    name = policy.get("Name") or "no"
    state = record.state
    if not state.has_been_started or name == "no":
        return False
    if name == "always":
        return True
    if name == "unless-stopped":
        return not state.manually_stopped
    if name == "on-failure":
        maximum = int(policy.get("MaximumRetryCount") or 0)
        return state.exit_code != 0 and (not maximum or record.restart_count < maximum)
    return False


@dataclass
class PendingAttach:
    """An attach session waiting for a run: `shim` resolves when the shim exists (None: no run
    is coming); the session sets `connected` once the shim has registered it, and only then does
    the start let the process run, so no output byte is lost."""

    shim: asyncio.Future[ShimClient | None]
    connected: asyncio.Future[None]


@dataclass
class Container:
    """A container in memory: its record plus what only lives while the daemon runs."""

    record: ContainerRecord
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    shim: ShimClient | None = None
    monitor: asyncio.Task[None] | None = None
    exit_waiters: list[asyncio.Future[tuple[int, str]]] = field(default_factory=list)
    removed_waiters: list[asyncio.Future[tuple[int, str]]] = field(default_factory=list)
    # Attach sessions waiting for the next start (attach comes before start, §A5).
    pending_attach: list[PendingAttach] = field(default_factory=list)
    restart_task: asyncio.Task[None] | None = None
    exec_ids: list[str] = field(default_factory=list)
    # Set when the current run's process has exited (before the exit is recorded under the lock).
    run_done: asyncio.Event = field(default_factory=asyncio.Event)
    removed: bool = False
    stopping: bool = False
    volumes_mounted: bool = False  # its volumes are mounted for the current run

    @property
    def id(self) -> str:
        return self.record.id

    @property
    def state(self) -> DockerState:
        return DockerState(self.record.state.status)


class ContainerService(ContainerQueries, LogsAndStats, CommitAndChanges, ContainerVolumes, ArchiveAndExport):
    def __init__(
        self,
        *,
        data_root: Path,
        exec_root: Path,
        store: ContainerStore,
        images: ImageStore,
        snapshots: Snapshotter,
        events: EventBus,
        runtimes: RuntimeRegistry,
        settings: generate.SpecSettings,
        shim_argv: list[str] | None = None,
    ) -> None:
        self.data_root = data_root
        self.exec_root = exec_root
        self.store = store
        self.images = images
        self.snapshots = snapshots
        self.events = events
        self.runtimes = runtimes
        self.settings = settings
        self.shim_argv = shim_argv
        # Starts shims by fork (~20 ms less per run and exec); exec'ing jocker-shim is the fallback.
        self.zygote = ShimZygote(shim_argv or ShimClient.shim_argv, exec_root / "shim-zygote.sock")
        self.image_service: Any = None  # the daemon sets it: commit makes images
        self.volumes: Any = None  # the daemon sets it: the VolumeService (None: no volumes)
        self.networks: Any = None  # the daemon sets it: the NetworkService (None: no network IDs)
        # Told the ID of each removed container (exec sessions die with their container).
        self.removal_listeners: list[Callable[[str], None]] = []
        self.names = naming.NameRegistry()
        # Specs generated by create, used (once) by the first start instead of generating again.
        self._created_specs: dict[str, dict[str, Any]] = {}
        self.containers: dict[str, Container] = {}
        self._tasks: set[asyncio.Task[Any]] = set()

    # -- lookup ----------------------------------------------------------------------------------

    def get(self, ref: str) -> Container:
        """By full ID, name (with or without "/"), or unique ID prefix (Docker's order)."""
        container = self.containers.get(ref)
        if container is not None:
            return container
        owner = self.names.get(ref) if ref else None
        if owner is not None and owner in self.containers:
            return self.containers[owner]
        matches = resolve_prefix(ref, self.containers) if ref else []
        if len(matches) == 1:
            return self.containers[matches[0]]
        if len(matches) > 1:
            raise InvalidParameterError(f"multiple IDs found with provided prefix: {ref}")
        raise no_such_container(ref)

    def image_usage(self, image_id: str) -> list[tuple[str, bool]]:
        """(container ID, running) of containers using an image: ImageService's conflict check."""
        return [(c.id, c.state.is_running()) for c in self.containers.values() if c.record.image == image_id]

    def counts(self) -> dict[str, int]:
        states = [c.state for c in self.containers.values()]
        return {
            "Containers": len(states),
            "ContainersRunning": sum(s in (DockerState.RUNNING, DockerState.RESTARTING) for s in states),
            "ContainersPaused": sum(s is DockerState.PAUSED for s in states),
            "ContainersStopped": sum(not s.is_running() for s in states),
        }

    def _spawn(self, coro: Awaitable[Any]) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _event(self, container: Container, action: str, **extra: str) -> None:
        record = container.record
        attributes = {"image": record.image_name, "name": record.name.lstrip("/")}
        attributes.update({k: v for k, v in (record.config.get("Labels") or {}).items()})
        attributes.update(extra)
        self.events.publish("container", action, record.id, attributes)

    def _save(self, container: Container) -> None:
        if not container.removed:
            self.store.save(container.record)

    # -- create ----------------------------------------------------------------------------------

    async def create(
        self, name: str | None, body: dict[str, Any], platform: str = ""
    ) -> tuple[str, list[str]]:
        """Validate, resolve the image, reserve the name, write the record: (ID, warnings)."""
        body = dict(body)
        host = dict(body.pop("HostConfig", None) or {})
        networking = dict(body.pop("NetworkingConfig", None) or {})
        image_ref = str(body.get("Image") or "")
        if not image_ref:
            raise InvalidParameterError("Config cannot be empty in order to create a container")
        if platform and platform not in ("linux", f"linux/{arch()}"):
            raise NotFoundError(
                f"image with reference {image_ref} was found but does not match the specified platform: "
                f"wanted {platform}"
            )
        image_id = await asyncio.to_thread(self.images.resolve, image_ref)
        image = await asyncio.to_thread(self.images.image, image_id)
        self.runtimes.get(host.get("Runtime") or None)  # an unknown runtime fails the create
        warnings = validate_host_config(host)
        ports.validate_port_bindings(host)
        warnings += ports.port_warnings(host)
        if self.settings.cgroup_version == 1:
            warnings += discard_unsupported_resources(host)
        merged = merge_config(image.config, body)["config"]
        config = inspect_config(body, merged, image.config)
        if not (config.get("Cmd") or config.get("Entrypoint")):
            raise InvalidParameterError("No command specified")
        container_id = new_id()
        stored_name = naming.validate(name) if name else None
        if stored_name:
            self.names.reserve(stored_name, container_id)
        else:
            stored_name = self.names.generate(container_id)
        try:
            record = await self._new_record(
                container_id, stored_name, image_id, image_ref, image, body, config, host, networking
            )
        except BaseException:
            self.names.release(stored_name)
            await asyncio.to_thread(self.store.delete, container_id)
            raise
        container = Container(record)
        self.containers[container_id] = container
        self._event(container, "create")
        return container_id, warnings

    async def _new_record(
        self, container_id: str, name: str, image_id: str, image_ref: str, image: Any, body: dict[str, Any],
        config: dict[str, Any], host: dict[str, Any], networking: dict[str, Any],
    ) -> ContainerRecord:  # fmt: skip
        directory = self.store.dir(container_id)
        host = host_config_defaults(host, self.runtimes.get(host.get("Runtime") or None).name)
        if not host.get("Privileged"):
            # dockerd stores the paths it will mask, so inspect shows them (trace 14).
            if host.get("MaskedPaths") is None:
                host["MaskedPaths"] = [*DEFAULT_MASKED_PATHS, *self.settings.masked_paths]
            if host.get("ReadonlyPaths") is None:
                host["ReadonlyPaths"] = list(DEFAULT_READONLY_PATHS)
        if not config.get("Hostname"):
            config["Hostname"] = container_id[:12]
        args = [*(config.get("Entrypoint") or []), *(config.get("Cmd") or [])]
        record = ContainerRecord(
            id=container_id,
            name=name,
            created=rfc3339_nano(),
            image=image_id,
            image_name=image_ref,
            path=args[0],
            args=args[1:],
            config=config,
            request=body,
            host_config=host,
            networking_config=networking,
            runtime=host["Runtime"],
            chain_ids=image.chain_ids(),
            log_path=str(directory / f"{container_id}-json.log"),
            resolv_conf_path=str(directory / "resolv.conf"),
            hostname_path=str(directory / "hostname"),
            hosts_path=str(directory / "hosts"),
        )

        def write() -> None:
            directory.mkdir(parents=True, exist_ok=True, mode=0o710)
            self.snapshots.prepare(container_id, record.chain_ids)
            self._write_network_files(record)
            # Docker's validation errors belong to create; the spec is kept for the first start,
            # unless it joins another container's namespaces (their paths are known at start).
            spec = self._generate_spec(record, starting=False)
            if not joined_refs(record.host_config):
                self._created_specs[record.id] = spec
            self.store.save(record)

        record.mount_points = await self._create_volumes(record)
        try:
            await asyncio.to_thread(write)
        except BaseException:
            self._created_specs.pop(record.id, None)
            await self._release_volumes(record.id, record.mount_points, remove_anonymous=True)
            raise
        return record

    def _write_network_files(self, record: ContainerRecord) -> None:
        host = record.host_config
        host_network = host.get("NetworkMode") == "host"
        try:
            host_resolv = Path("/etc/resolv.conf").read_text()
        except OSError:
            host_resolv = ""
        host_hosts = None
        if host_network:
            with contextlib.suppress(OSError):
                host_hosts = Path("/etc/hosts").read_text()
        texts = {
            record.hosts_path: network_files.hosts_content(host.get("ExtraHosts"), host_network=host_hosts),
            record.hostname_path: network_files.hostname_content(
                os.uname().nodename if host_network and not record.request.get("Hostname")
                else str(record.config.get("Hostname"))
            ),
            record.resolv_conf_path: network_files.resolv_conf_content(
                host_resolv, dns=host.get("Dns"), search=host.get("DnsSearch"),
                options=host.get("DnsOptions"), host_network=host_network,
            ),
        }  # fmt: skip
        for path, text in texts.items():
            Path(path).write_text(text)

    def _joined_containers(self, record: ContainerRecord) -> dict[str, Container]:
        """The containers whose namespaces `container:<name|id>` modes join, by namespace type.

        Checked at start, as dockerd does (create accepts any name): the other container must
        exist and run, and for IPC have made its namespace shareable; dockerd's wordings."""
        joined: dict[str, Container] = {}
        for ns_type, ref in joined_refs(record.host_config).items():
            other = self.get(ref)
            if not other.state.is_running() or not other.record.state.pid:
                if ns_type == "network":
                    raise ConflictError(f"cannot join network of a non running container: {other.id}")
                if ns_type == "ipc":
                    raise ConflictError(
                        f"can't join IPC of container {other.id}: container {other.id} is not running"
                    )
                raise ConflictError(f"container {other.id} is not running")
            if ns_type == "ipc" and other.record.host_config.get("IpcMode") not in ("shareable", "host"):
                raise ConflictError(
                    f"can't join IPC of container {other.id}: non-shareable IPC "
                    "(hint: use IpcMode:shareable for the donor container)"
                )
            joined[ns_type] = other
        return joined

    def _generate_spec(self, record: ContainerRecord, *, starting: bool = True) -> dict[str, Any]:
        """config.json for this container; users resolve against the merged view, unmounted.

        `starting`: the spec a start runs, joining the namespaces of the containers that
        `container:` modes name (at create they are not looked up: /proc/self stands in)."""
        joined = self._joined_containers(record) if starting else {}
        namespace_paths = {}
        for ns_type in joined_refs(record.host_config):
            pid = joined[ns_type].record.state.pid if starting else "self"
            namespace_paths[ns_type] = f"/proc/{pid}/ns/{NS_FILES[ns_type]}"
        network_peer = joined.get("network")
        with tempfile.TemporaryDirectory(prefix="userdb-", dir=self.store.dir(record.id)) as view:
            etc = Path(view, "etc")
            etc.mkdir()
            for name in ("passwd", "group"):
                text = self.snapshots.read_file(record.id, record.chain_ids, f"/etc/{name}")
                if text is not None:
                    (etc / name).write_text(text)
            image_config = self.images.read_config(record.image)
            body = {**record.request, "HostConfig": record.host_config}
            if record.host_config.get("NetworkMode") == "host" and not record.request.get("Hostname"):
                body["Hostname"] = os.uname().nodename
            if network_peer is not None:  # dockerd: the other container's names and files
                body["Hostname"] = network_peer.record.config.get("Hostname") or network_peer.id[:12]
                body["Domainname"] = network_peer.record.config.get("Domainname") or ""
            return generate.generate_spec(
                record.id,
                image_config,
                body,
                view,
                container_dir=self.store.dir(record.id),
                settings=self.settings,
                namespace_paths=namespace_paths,
                shared_network_dir=self.store.dir(network_peer.id) if network_peer is not None else None,
                volumes=self._volume_binds(record),
            )

    # -- start -----------------------------------------------------------------------------------

    async def start(self, ref: str) -> None:
        container = self.get(ref)
        async with container.lock:
            state = container.state
            if state is DockerState.PAUSED:
                raise ConflictError("cannot start a paused container, try unpause instead")
            if state.is_running():
                raise NotModifiedError("container already started")
            if state in (DockerState.REMOVING, DockerState.DEAD) or container.removed:
                raise ConflictError("container is marked for removal and cannot be started")
            container.record.state.manually_stopped = False
            await self._start(container)

    async def _start(self, container: Container) -> None:
        """Bundle, shim, attach, runtime start. On failure: Docker's error record and exit code."""
        record = container.record
        running = advance(record.state.status, Move.START)  # checked before anything runs
        runtime = self.runtimes.get(record.runtime)
        bundle = self.exec_root / "bundles" / record.id
        state_dir = self.exec_root / "shim" / record.id
        try:
            check_network_mode(record.host_config)
            await self._mount_volumes(container)
            mounts = await asyncio.to_thread(self._prepare_run, record, bundle, state_dir)
            await asyncio.to_thread(self._populate_volumes, record)
            log_config = record.host_config.get("LogConfig") or {}
            log_options = log_config.get("Config") or {}
            options = ShimOptions(
                container_id=record.id,
                bundle=bundle,
                state_dir=state_dir,
                runtime_argv=runtime.argv,
                runtime_root=runtime.oci.root,
                runtime_in_process=runtime.in_process,
                mounts=mounts,
                log_path=Path(record.log_path) if log_config.get("Type", "json-file") != "none" else None,
                log_max_size=size_option(log_options.get("max-size")),
                log_max_file=int(log_options.get("max-file") or 1),
                tty=bool(record.config.get("Tty")),
                stdin=bool(record.config.get("OpenStdin")),
                stdin_once=bool(record.config.get("StdinOnce")),
                console_size=console_size(record.host_config.get("ConsoleSize")),
                ports=self._proxy_options(record),
            )
            shim = await self._start_shim(options)
            published = await asyncio.to_thread(shim.published_ports) if options.ports else []
        except JockerError as e:
            await self._start_failed(container, str(e), bundle)
            raise
        except OSError as e:
            await self._start_failed(container, str(e), bundle)
            raise InvalidParameterError(str(e)) from None
        container.shim = shim
        pending, container.pending_attach = container.pending_attach, []
        for waiting in pending:
            if not waiting.shim.done():
                waiting.shim.set_result(shim)
        if pending:
            await asyncio.wait([w.connected for w in pending], timeout=ATTACH_CONNECT_TIMEOUT)
        try:
            await shim.start_process()
        except JockerError as e:
            with contextlib.suppress(JockerError):
                await runtime.oci.kill(record.id, signals.SIGKILL)
            await shim.wait()
            container.shim = None
            await self._start_failed(container, str(e), bundle)
            raise
        state = record.state
        record.published_ports = published if ports.publishes(record.host_config) else None
        self._join_network(record)
        state.status = running
        state.pid = shim.pid
        state.started_at = rfc3339_nano()
        state.exit_code = 0
        state.error = ""
        state.oom_killed = False
        state.has_been_started = True
        self._save(container)
        self._event(container, "start")
        container.run_done = asyncio.Event()
        container.monitor = self._spawn(self._monitor(container, shim, container.run_done))

    def _join_network(self, record: ContainerRecord) -> None:
        """host and none: the network's ID (kept) and a new endpoint for this run, as dockerd
        shows them in NetworkSettings.Networks and the network's Containers."""
        network_id = self.networks.id_of(network_name(record)) if self.networks is not None else ""
        if network_id:
            record.network_id = network_id
            record.endpoint_id = new_id()

    def endpoints(self, network: str) -> dict[str, dict[str, str]]:
        """The running containers' endpoints on a predefined network (its inspect's Containers)."""
        out: dict[str, dict[str, str]] = {}
        for container in self.containers.values():
            record = container.record
            if record.endpoint_id and network_name(record) == network:
                out[record.id] = {"Name": record.name.lstrip("/"), "EndpointID": record.endpoint_id,
                                  "MacAddress": "", "IPv4Address": "", "IPv6Address": ""}  # fmt: skip
        return out

    @staticmethod
    def _proxy_options(record: ContainerRecord) -> dict[str, Any] | None:
        """ports.json for the shim's proxy (shim/ports.py), None when nothing is published."""
        bindings = ports.proxy_bindings(record.config, record.host_config)
        if not bindings:
            return None
        # dockerd names the endpoint after the container; its ID is the endpoint's own.
        return {"endpoint": f"{record.name.lstrip('/')} ({new_id()})", "bindings": bindings}

    async def _start_shim(self, options: ShimOptions) -> ShimClient:
        try:
            return await ShimClient.start(options, shim_argv=self.shim_argv, zygote=self.zygote)
        except OciRuntimeError as e:
            if e.stderr_message.startswith(ports.PROXY_ERROR_PREFIX):
                raise InternalError(e.stderr_message) from None  # the network's error, not the runtime's
            if e.verb == "create":
                # dockerd relays the runtime's words through containerd's task service, whose
                # wording (and gRPC code) the docker CLI shows: keep them for clients that match.
                e.message = f"failed to create shim task: {e.message}: unknown"
            raise

    def _prepare_run(self, record: ContainerRecord, bundle: Path, state_dir: Path) -> list[dict[str, Any]]:
        shutil.rmtree(state_dir, ignore_errors=True)
        state_dir.mkdir(parents=True, mode=0o700)
        mounts = self.snapshots.prepare(record.id, record.chain_ids)
        spec = self._created_specs.pop(record.id, None)
        if spec is None:
            self._write_network_files(record)
            spec = self._generate_spec(record)
        (bundle / "rootfs").mkdir(parents=True, exist_ok=True)
        # Not durable on purpose: the bundle is rewritten by every start and lives in exec_root
        # (a tmpfs, normally); a crash loses nothing that is not regenerated.
        (bundle / generate.CONFIG_FILE).write_text(json.dumps(spec, separators=(",", ":")))
        workdir = str(record.config.get("WorkingDir") or "")
        if workdir and self.snapshots.read_file(record.id, record.chain_ids, workdir, limit=0) is not None:
            # A file where the working directory should be: dockerd's SetupWorkingDirectory
            # says so before the runtime runs. A missing directory is made by the runtime,
            # inside the container's root (runc's MkdirAll of the cwd), never from out here,
            # where a symlink the container planted in its upper layer would lead to the host.
            raise InternalError(f"Cannot mkdir: {workdir} is not a directory")
        return mounts

    async def _start_failed(self, container: Container, message: str, bundle: Path) -> None:
        record = container.record
        if record.state.status == DockerState.RESTARTING:
            record.state.status = advance(record.state.status, Move.START_FAILED)
        record.state.error = message
        record.state.exit_code = start_error_exit_code(message)
        self._save(container)
        await asyncio.to_thread(shutil.rmtree, bundle, True)
        await self._unmount_volumes(container)
        code = record.state.exit_code
        self._resolve(container.exit_waiters, (code, message))
        container.exit_waiters = []
        self._cancel_pending_attach(container)
        if record.host_config.get("AutoRemove"):
            self._spawn(self._auto_remove(container))

    def _cancel_pending_attach(self, container: Container) -> None:
        pending, container.pending_attach = container.pending_attach, []
        for waiting in pending:
            if not waiting.shim.done():
                waiting.shim.set_result(None)

    @staticmethod
    def _resolve(waiters: list[asyncio.Future[tuple[int, str]]], value: tuple[int, str]) -> None:
        for future in waiters:
            if not future.done():
                future.set_result(value)

    # -- exit ------------------------------------------------------------------------------------

    async def _monitor(self, container: Container, shim: ShimClient, run_done: asyncio.Event) -> None:
        status = await shim.wait()
        if status.error == SHIM_DIED:
            await self._clean_after_dead_shim(container)
        run_done.set()
        await self._exited(container, status)

    async def _exited(self, container: Container, status: ExitStatus) -> None:
        """The run ended (the shim cleaned up): record it, then Docker's after-exit rules."""
        async with container.lock:
            record = container.record
            state = record.state
            container.shim = None
            container.monitor = None
            state.status = advance(state.status, Move.EXIT)
            state.pid = 0
            record.published_ports = None
            record.endpoint_id = ""
            state.exit_code = status.exit_code
            state.oom_killed = status.oom_killed
            state.finished_at = status.finished_at or rfc3339_nano()
            state.error = status.error
            self._save(container)
            for leftover in (self.exec_root / "bundles" / record.id, self.exec_root / "shim" / record.id):
                await asyncio.to_thread(shutil.rmtree, leftover, True)
            await self._unmount_volumes(container)
            if status.oom_killed:
                self._event(container, "oom")
            self._event(container, "die", exitCode=str(status.exit_code))
            self._resolve(container.exit_waiters, (status.exit_code, ""))
            container.exit_waiters = []
            if record.host_config.get("AutoRemove") and not container.stopping:
                self._spawn(self._auto_remove(container))
                return
            delay = self._restart_delay(container, status)
            if delay is not None:
                state.status = advance(state.status, Move.SCHEDULE_RESTART)
                self._save(container)
                container.restart_task = self._spawn(self._restart_later(container, delay))

    def _restart_delay(self, container: Container, status: ExitStatus) -> float | None:
        """Docker's restart manager: whether and when to restart after this exit."""
        record = container.record
        policy = record.host_config.get("RestartPolicy") or {}
        name = policy.get("Name") or "no"
        if record.state.manually_stopped or container.stopping or container.removed or name == "no":
            return None
        if name == "on-failure":
            if status.exit_code == 0:
                return None
            maximum = int(policy.get("MaximumRetryCount") or 0)
            if maximum and record.restart_count >= maximum:
                return None
        elif name not in ("always", "unless-stopped"):
            return None
        ran = time.time() - parse_rfc3339(record.state.started_at)
        # 100 ms, doubling per quick failure, reset after 10 s of running (moby restartmanager).
        if ran >= 10:
            record.restart_delay = 0.1
        else:
            record.restart_delay = min(max(record.restart_delay * 2, 0.1), 60.0)
        return record.restart_delay

    async def _restart_later(self, container: Container, delay: float) -> None:
        await asyncio.sleep(delay)
        async with container.lock:
            if container.removed or container.state is not DockerState.RESTARTING:
                return
            container.record.restart_count += 1
            try:
                await self._start(container)
            except JockerError as e:
                log.warning("restart of %s failed: %s", container.id, e)
            finally:
                container.restart_task = None

    async def _auto_remove(self, container: Container) -> None:
        async with container.lock:
            if not container.removed:
                await self._remove(container, volumes=True)  # --rm takes its anonymous volumes

    # -- wait ------------------------------------------------------------------------------------

    async def wait(self, ref: str, condition: str) -> Awaitable[tuple[int, str]]:
        """Register a waiter now (before the caller answers with headers); await the result later.

        not-running: at once if not running; next-exit: the next exit; removed: the removal.
        """
        container = self.get(ref)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[tuple[int, str]] = loop.create_future()
        condition = condition or "not-running"
        if condition not in ("not-running", "next-exit", "removed"):
            raise InvalidParameterError(f"invalid condition: {condition!r}")
        state = container.record.state
        if condition == "removed":
            container.removed_waiters.append(future)
        elif condition == "not-running" and not container.state.is_running():
            future.set_result((state.exit_code, ""))
        else:
            container.exit_waiters.append(future)
        return future

    # -- stop, kill, restart ---------------------------------------------------------------------

    def _runtime(self, container: Container) -> Any:
        return self.runtimes.get(container.record.runtime).oci

    async def kill(self, ref: str, signal: str | None) -> None:
        try:
            container = self.get(ref)
        except NotFoundError as e:  # trace 23: the kill's own prefix, still a 404
            raise NotFoundError(f"Cannot kill container: {ref}: {e}") from None
        number = parse_signal(signal)
        check_platform_signal(number, ref)
        async with container.lock:
            if not container.state.is_running() or container.state is DockerState.RESTARTING:
                raise ConflictError(f"Cannot kill container: {ref}: Container {container.id} is not running")
            if number in (signals.SIGKILL, signals.SIGTERM, signals.SIGINT):
                container.record.state.manually_stopped = True
                self._save(container)
            await self._signal(container, number)
            self._event(container, "kill", signal=str(number))

    async def _signal(self, container: Container, number: int) -> None:
        runtime = self._runtime(container)
        try:
            await runtime.kill(container.id, number)
        except NotFoundError:
            pass  # it exited meanwhile
        except ConflictError:
            pass
        if number == signals.SIGKILL and container.state is DockerState.PAUSED:
            with contextlib.suppress(JockerError):
                await runtime.resume(container.id)

    @staticmethod
    def _cancel_restart(container: Container) -> bool:
        """Call off a pending policy restart (the container is then simply exited)."""
        if container.restart_task is None:
            return False
        container.restart_task.cancel()
        container.restart_task = None
        container.record.state.status = advance(container.record.state.status, Move.EXIT)
        return True

    async def stop(self, ref: str, timeout: int | None, signal: str | None = None) -> None:
        container = self.get(ref)
        async with container.lock:
            if self._cancel_restart(container):
                container.record.state.manually_stopped = True
                self._save(container)
                return
            if not container.state.is_running():
                raise NotModifiedError("container already stopped")
            container.record.state.manually_stopped = True
            self._save(container)
            await self._stop(container, timeout, signal)

    async def _stop(self, container: Container, timeout: int | None, signal: str | None) -> None:
        """The stop signal, `timeout` seconds, then SIGKILL; returns once the exit is recorded."""
        config = container.record.config
        if timeout is None:
            stop_timeout = config.get("StopTimeout")
            timeout = DEFAULT_STOP_TIMEOUT if stop_timeout is None else int(stop_timeout)
        number = parse_signal(signal or config.get("StopSignal") or "SIGTERM")
        monitor = container.monitor
        run_done = container.run_done
        container.stopping = True
        try:
            if monitor is None:
                return
            if timeout != 0:
                self._event(container, "kill", signal=str(number))
                await self._signal(container, number)
            done = False
            if timeout != 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(run_done.wait(), None if timeout < 0 else timeout)
                    done = True
            if not done:
                self._event(container, "kill", signal=str(int(signals.SIGKILL)))
                await self._signal(container, signals.SIGKILL)
            # The monitor takes the lock to record the exit: let it, then re-take ours.
            container.lock.release()
            try:
                await asyncio.shield(monitor)
            finally:
                await container.lock.acquire()
        finally:
            container.stopping = False
        self._event(container, "stop")
        if container.record.host_config.get("AutoRemove") and not container.removed:
            await self._remove(container, volumes=True)

    async def restart(self, ref: str, timeout: int | None, signal: str | None = None) -> None:
        container = self.get(ref)
        async with container.lock:
            self._cancel_restart(container)
            if container.state.is_running():
                auto_remove = container.record.host_config.get("AutoRemove")
                container.record.host_config["AutoRemove"] = False  # a restart must not remove it
                try:
                    await self._stop(container, timeout, signal)
                finally:
                    container.record.host_config["AutoRemove"] = auto_remove
            container.record.state.manually_stopped = False
            await self._start(container)
            self._event(container, "restart")

    # -- pause -----------------------------------------------------------------------------------

    async def pause(self, ref: str) -> None:
        container = self.get(ref)
        async with container.lock:
            if container.state is DockerState.PAUSED:
                raise ConflictError(f"Container {container.id} is already paused")
            if container.state is not DockerState.RUNNING:
                raise not_running(container.id)
            await self._runtime(container).pause(container.id)
            container.record.state.status = advance(container.record.state.status, Move.PAUSE)
            self._save(container)
            self._event(container, "pause")

    async def unpause(self, ref: str) -> None:
        container = self.get(ref)
        async with container.lock:
            if container.state is not DockerState.PAUSED:
                raise ConflictError(f"Container {container.id} is not paused")
            await self._runtime(container).resume(container.id)
            container.record.state.status = advance(container.record.state.status, Move.UNPAUSE)
            self._save(container)
            self._event(container, "unpause")

    # -- rename, remove, prune -------------------------------------------------------------------

    async def rename(self, ref: str, new_name: str) -> None:
        container = self.get(ref)
        if not new_name:
            raise InvalidParameterError("Neither old nor new names may be empty")
        stored = naming.validate(new_name)
        async with container.lock:
            old = container.record.name
            if stored == old:
                raise InvalidParameterError("Renaming a container with the same name as its current name")
            try:
                self.names.reserve(stored, container.id)
            except ConflictError as e:
                raise ConflictError(f"Error when allocating new name: {e}") from None
            container.record.name = stored
            self._save(container)
            self.names.release(old)
            self._event(container, "rename", oldName=old)

    async def remove(self, ref: str, *, force: bool, volumes: bool = False) -> None:
        container = self.get(ref)
        async with container.lock:
            if container.removed:
                raise ConflictError(f"removal of container {container.id} is already in progress")
            self._cancel_restart(container)
            if container.state.is_running():
                if not force:
                    verb = "paused" if container.state is DockerState.PAUSED else "running"
                    hint = "Unpause and then stop" if verb == "paused" else "Stop"
                    raise ConflictError(
                        f"You cannot remove a {verb} container {container.id}. "
                        f"{hint} the container before attempting removal or force remove"
                    )
                container.record.host_config["AutoRemove"] = False
                await self._stop(container, 0, "KILL")
            await self._remove(container, volumes=volumes)

    async def _remove(self, container: Container, *, volumes: bool = False) -> None:
        """Delete everything of an exited container (its lock held); fire `removed` waiters.

        The record says "removing" first, so a daemon killed halfway finishes the removal when
        it starts again; a filesystem that cannot be deleted leaves the container "dead", as
        dockerd does, and `docker rm` can try again.
        """
        record = container.record
        record.state.status = advance(record.state.status, Move.REMOVE)
        self._save(container)
        container.removed = True
        self._created_specs.pop(record.id, None)
        self._cancel_pending_attach(container)

        def delete() -> None:
            shutil.rmtree(self.exec_root / "bundles" / record.id, ignore_errors=True)
            shutil.rmtree(self.exec_root / "shim" / record.id, ignore_errors=True)
            self.snapshots.remove(record.id)
            self.store.delete(record.id)

        try:
            await asyncio.to_thread(delete)
        except OSError as e:
            container.removed = False
            record.state.status = advance(record.state.status, Move.REMOVAL_FAILED)
            record.state.error = f"unable to remove filesystem: {e}"
            self._save(container)
            raise InternalError(f"unable to remove filesystem for {record.id}: {e}") from None
        self.containers.pop(record.id, None)
        self.names.release(record.name)
        await self._unmount_volumes(container)
        await self._release_volumes(record.id, record.mount_points, remove_anonymous=volumes)
        for forget in self.removal_listeners:
            forget(record.id)
        self._event(container, "destroy")
        self._resolve(container.removed_waiters, (record.state.exit_code, ""))
        self._resolve(container.exit_waiters, (record.state.exit_code, ""))
        container.removed_waiters = []
        container.exit_waiters = []

    async def prune(self, filters: dict[str, list[str]]) -> tuple[list[str], int]:
        for key in filters:
            if key not in PRUNE_FILTERS:
                raise InvalidParameterError(f"invalid filter '{key}'")
        until = parse_until(filters.get("until", []))
        deleted: list[str] = []
        space = 0
        for container in list(self.containers.values()):
            record = container.record
            if container.state.is_running() or container.state is DockerState.RESTARTING:
                continue
            if not labels_match(record.config.get("Labels") or {}, filters):
                continue
            if until is not None and parse_rfc3339(record.created) >= until:
                continue
            size = await asyncio.to_thread(dir_size, self.snapshots.upper_dir(record.id))
            async with container.lock:
                if container.removed or container.state.is_running():
                    continue
                await self._remove(container)
            deleted.append(record.id)
            space += size
        return deleted, space

    # -- attach, resize --------------------------------------------------------------------------

    def check_attach(self, ref: str) -> Container:
        """What must fail before the 101 goes out."""
        container = self.get(ref)
        if container.state is DockerState.PAUSED:
            raise ConflictError("You cannot attach to a paused container, unpause it first")
        if container.state is DockerState.RESTARTING:
            raise ConflictError("You cannot attach to a restarting container, wait until it is running")
        return container

    async def attach(
        self,
        container: Container,
        client: attaching.ClientStream,
        *,
        stdin: bool,
        stdout: bool,
        stderr: bool,
        logs: bool = False,
        stream: bool = True,
    ) -> None:
        """Serve one hijacked attach connection to its end (attach before start waits for it).

        `logs` replays what the log holds first; without `stream` that is all (dockerd's rules).
        """
        tty = bool(container.record.config.get("Tty"))
        use_stdin = stdin and bool(container.record.config.get("OpenStdin"))
        if logs:
            from jockerd.services.logs import format_entry, read_logs

            options = (container.record.host_config.get("LogConfig") or {}).get("Config") or {}
            entries = read_logs(
                Path(container.record.log_path),
                stdout=stdout,
                stderr=stderr,
                max_files=int(options.get("max-file") or 1),
            )
            try:
                async for entry in entries:
                    await client.write(format_entry(entry, timestamps=False, tty=tty))
            except ConnectionError:
                return
        if not stream:
            with contextlib.suppress(ConnectionError, OSError):
                await client.close()
            return

        async def connect() -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
            shim = container.shim
            waiting = None
            if shim is None:
                loop = asyncio.get_running_loop()
                waiting = PendingAttach(loop.create_future(), loop.create_future())
                container.pending_attach.append(waiting)
                shim = await waiting.shim
                if shim is None:
                    return None
            try:
                return await shim.attach(stdin=use_stdin, stdout=stdout, stderr=stderr)
            except (OSError, JockerError):
                return None  # the run already ended
            finally:
                if waiting is not None and not waiting.connected.done():
                    waiting.connected.set_result(None)

        self._event(container, "attach")
        await attaching.relay(client, connect, tty=tty, stdin=use_stdin, stdout=stdout, stderr=stderr)

    async def resize(self, ref: str, height: int, width: int) -> None:
        container = self.get(ref)
        if container.shim is None or not container.state.is_running():
            raise not_running(container.id)
        try:
            await container.shim.resize(height, width)
        except OSError:
            raise not_running(container.id) from None
        self._event(container, "resize", height=str(height), width=str(width))

    # -- queries ---------------------------------------------------------------------------------

    async def update(self, ref: str, body: dict[str, Any]) -> list[str]:
        container = self.get(ref)
        async with container.lock:
            record = container.record
            host = dict(record.host_config)
            for key, value in body.items():
                if key == "RestartPolicy":
                    if value and value.get("Name") and record.host_config.get("AutoRemove"):
                        raise InvalidParameterError(
                            "Restart policy cannot be updated because AutoRemove is enabled for the container"
                        )
                    if value:
                        host[key] = value
                elif value is not None and (value not in (0, "", [], {}) or key in host):
                    host[key] = value
            warnings = validate_host_config(host)
            candidate = record.model_copy(update={"host_config": host})
            spec = await asyncio.to_thread(functools.partial(self._generate_spec, candidate, starting=False))
            self._created_specs.pop(record.id, None)
            if container.state.is_running() and container.shim is not None:
                resources = spec.get("linux", {}).get("resources", {})
                await self._runtime(container).update(record.id, resources)
            record.host_config = host
            self._save(container)
            self._event(container, "update")
            return warnings

    # -- restore ---------------------------------------------------------------------------------

    async def restore(self) -> None:
        """Rebuild from the records and re-adopt the shims that outlived the previous daemon."""
        records = await asyncio.to_thread(self.store.load_all)
        for record in records:
            container = Container(record)
            self.containers[record.id] = container
            try:
                self.names.reserve(record.name, record.id)
            except ConflictError:
                record.name = self.names.generate(record.id)
            self._restore_volumes(container)
        for container in list(self.containers.values()):
            await self._readopt(container)

    async def _readopt(self, container: Container) -> None:
        record = container.record
        state_dir = self.exec_root / "shim" / record.id
        status = DockerState(record.state.status)
        if status is DockerState.REMOVING:
            # The previous daemon died while removing it: finish the job.
            self._spawn(self._auto_remove(container))
            return
        if status is DockerState.DEAD:
            return  # stays until `docker rm`, as in dockerd
        if (not status.is_running() or status is DockerState.RESTARTING) and state_dir.exists():
            # The daemon died during a start (the shim was running, the record not yet saved):
            # that start never answered, so the container must not run. Kill it; the shim
            # cleans up and writes its exit file, and the state dir goes with it.
            await self._abandon_run(container, state_dir)
        if not status.is_running() or status is DockerState.RESTARTING:
            record.endpoint_id = ""  # no run, no endpoint
            if record.host_config.get("AutoRemove"):
                self._spawn(self._auto_remove(container))
            elif status is DockerState.RESTARTING or restart_on_boot(record):
                record.state.status = advance(record.state.status, Move.SCHEDULE_RESTART)
                self._save(container)
                container.restart_task = self._spawn(self._restart_later(container, 0.0))
            return
        if not state_dir.exists():
            await self._exited(container, ExitStatus(255, False, rfc3339_nano(), "shim state is gone"))
            return
        shim = ShimClient.adopt(state_dir)
        container.shim = shim
        if shim.exit_status() is None and not shim.shim_alive():
            await self._clean_after_dead_shim(container)
        container.run_done = asyncio.Event()
        container.monitor = self._spawn(self._monitor(container, shim, container.run_done))

    async def _clean_after_dead_shim(self, container: Container) -> None:
        """A shim was killed: do its cleanup (the process, runtime state, rootfs mount)."""
        record = container.record
        with contextlib.suppress(JockerError):
            await self._runtime(container).delete(record.id, force=True)
        rootfs = self.exec_root / "bundles" / record.id / "rootfs"
        with contextlib.suppress(OSError):
            await asyncio.to_thread(hostfs.umount2, rootfs)

    async def _abandon_run(self, container: Container, state_dir: Path) -> None:
        shim = ShimClient.adopt(state_dir)
        if shim.shim_alive():
            with contextlib.suppress(JockerError):
                await self._runtime(container).kill(container.id, signals.SIGKILL, all=True)
            await shim.wait()
        else:
            await self._clean_after_dead_shim(container)
        await asyncio.to_thread(shutil.rmtree, state_dir, True)
        await asyncio.to_thread(shutil.rmtree, self.exec_root / "bundles" / container.id, True)

    async def close(self) -> None:
        """Stop watching (containers and shims keep running: they outlive the daemon)."""
        await self.zygote.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
