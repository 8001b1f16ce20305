"""Daemon: the composition root. Builds the stores and services, recovers after a crash."""

from __future__ import annotations

import asyncio
import logging
import shutil

from jockerd.api.app import Backends
from jockerd.bundle.generate import host_settings
from jockerd.config import DaemonConfig
from jockerd.driver.runtimes import RuntimeRegistry
from jockerd.imagestore.registry import RegistryClient, RegistryOptions
from jockerd.imagestore.snapshots import Snapshotter
from jockerd.imagestore.store import ImageStore
from jockerd.services.containers import ContainerService
from jockerd.services.events import EventBus
from jockerd.services.exec import ExecService
from jockerd.services.explain import ExplainService
from jockerd.services.images import ImageService
from jockerd.services.networks import NetworkService
from jockerd.services.system import SystemService
from jockerd.services.volumes import VolumeService
from jockerd.store.containers import ContainerStore
from jockerd.store.networks import NetworkStore
from jockerd.store.volumes import VolumeStore

log = logging.getLogger("jockerd")


def find_init() -> str | None:
    """The init for --init: dockerd's docker-init, else a static tini (Debian's tini package)."""
    for name in ("docker-init", "tini-static"):
        found = shutil.which(name)
        if found:
            return found
    return None


class Daemon:
    def __init__(self, config: DaemonConfig) -> None:
        self.config = config
        config.data_root.mkdir(parents=True, exist_ok=True, mode=0o711)
        config.exec_root.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.image_store = ImageStore(config.data_root)
        self.events = EventBus()
        self.runtimes = RuntimeRegistry(config.exec_root, config.runtimes, config.default_runtime)
        container_root = config.data_root / "containers"
        self.containers = ContainerService(
            data_root=config.data_root,
            exec_root=config.exec_root,
            store=ContainerStore(container_root),
            images=self.image_store,
            snapshots=Snapshotter(self.image_store.layers, container_root),
            events=self.events,
            runtimes=self.runtimes,
            settings=host_settings(init_path=find_init()),
        )
        self.volumes = VolumeService(VolumeStore(config.data_root / "volumes"), self.events)
        self.containers.volumes = self.volumes
        self.networks = NetworkService(NetworkStore(config.data_root / "network"))
        self.networks.endpoints = self.containers.endpoints
        self.containers.networks = self.networks
        self.execs = ExecService(self.containers, config.exec_root)
        self.containers.removal_listeners.append(self.execs.forget_container)
        registry = RegistryClient(
            RegistryOptions(
                insecure_registries=tuple(config.insecure_registries),
                mirrors=tuple(config.registry_mirrors),
            )
        )
        self.explain = ExplainService(self.containers)
        self.images = ImageService(self.image_store, usage=self.containers.image_usage, registry=registry)
        self.containers.image_service = self.images
        self.images.events = self.events
        self.system = SystemService(
            config.data_root,
            self.images,
            self.containers,
            runtimes=self.runtimes.info(),
            default_runtime=self.runtimes.default,
        )
        self.system.volumes = self.volumes

    async def restore(self) -> None:
        """Rebuild in-memory state from disk and clear what a crash left half-done."""
        await asyncio.to_thread(self.image_store.recover)
        await asyncio.to_thread(self.networks.restore)
        await self.volumes.restore()
        await self.containers.restore()  # rebuilds the volumes' references from the records
        await self.volumes.unmount_unused()

    async def close(self) -> None:
        await self.containers.close()
        await self.images.close()

    def backends(self) -> Backends:
        return Backends(
            images=self.images,
            system=self.system,
            containers=self.containers,
            execs=self.execs,
            events=self.events,
            jocker=self.explain,
            volumes=self.volumes,
            networks=self.networks,
        )
