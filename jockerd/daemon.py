"""Daemon: the composition root. Builds the stores and services, recovers after a crash."""

from __future__ import annotations

import asyncio
import logging

from jockerd.api.app import Backends
from jockerd.config import DaemonConfig
from jockerd.imagestore.store import ImageStore
from jockerd.services.images import ImageService
from jockerd.services.system import SystemService

log = logging.getLogger("jockerd")


class Daemon:
    def __init__(self, config: DaemonConfig) -> None:
        self.config = config
        config.data_root.mkdir(parents=True, exist_ok=True, mode=0o711)
        config.exec_root.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.image_store = ImageStore(config.data_root)
        self.images = ImageService(self.image_store)
        self.system = SystemService(config.data_root, self.images)

    async def restore(self) -> None:
        """Rebuild in-memory state from disk and clear what a crash left half-done."""
        await asyncio.to_thread(self.image_store.recover)

    def backends(self) -> Backends:
        return Backends(images=self.images, system=self.system)
