"""`docker diff` and `docker commit` for ContainerService: the upper directory as changes or as
a new image layer (imagestore/diff.py does the reading)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jockerd.errors import ConflictError, JockerError
from jockerd.imagestore import diff
from jockerd.services.container_state import DockerState

if TYPE_CHECKING:
    from jockerd.imagestore.snapshots import Snapshotter
    from jockerd.services.containers import Container
    from jockerd.services.images import ImageService


class CommitAndChanges:
    """Mixed into ContainerService."""

    get: Callable[[str], Container]
    snapshots: Snapshotter
    image_service: ImageService | None

    async def changes(self, ref: str) -> list[dict[str, Any]]:
        container = self.get(ref)
        record = container.record
        upper = self.snapshots.upper_dir(record.id)
        lowers = self.snapshots.container_lowers(record.id, record.chain_ids)
        found = await asyncio.to_thread(diff.changes, upper, lowers)
        return [{"Path": path, "Kind": kind} for path, kind in found]

    async def commit(
        self,
        ref: str,
        *,
        repo: str,
        tag: str,
        comment: str,
        author: str,
        pause: bool,
        changes: list[str],
        config: dict[str, Any] | None,
    ) -> str:
        """The container's changes as a new image (its ID); the container is paused meanwhile."""
        container = self.get(ref)
        if self.image_service is None:
            raise ConflictError("commit is not available")
        record = container.record
        if container.state is DockerState.RESTARTING or container.removed:
            raise ConflictError(f"cannot commit container {record.id}: container is {container.state}")
        section = dict(record.config)
        for key in ("Hostname", "Domainname", "AttachStdin", "AttachStdout", "AttachStderr", "Tty",
                    "OpenStdin", "StdinOnce", "Image"):  # fmt: skip
            section.pop(key, None)
        if config:
            section.update({k: v for k, v in config.items() if v not in (None, "", [], {})})
        paused_here = False
        runtime = self.runtimes.get(record.runtime).oci  # type: ignore[attr-defined]
        if pause and container.state is DockerState.RUNNING:
            with contextlib.suppress(JockerError):
                await runtime.pause(record.id)
                paused_here = True
        fd, name = tempfile.mkstemp(prefix="commit-", dir=self.store.dir(record.id))  # type: ignore[attr-defined]
        try:
            with os.fdopen(fd, "wb") as out:
                await asyncio.to_thread(
                    diff.write_layer,
                    self.snapshots.upper_dir(record.id),
                    out,
                    self.snapshots.container_lowers(record.id, record.chain_ids),
                )
        finally:
            if paused_here:
                with contextlib.suppress(JockerError):
                    await runtime.resume(record.id)
        try:
            image_id = await self.image_service.commit(
                record.image,
                Path(name),
                config_section=section,
                repo=repo,
                tag=tag,
                comment=comment,
                author=author,
                changes=changes,
                container_id=record.id,
                created_by=" ".join([record.path, *record.args]),
            )
        finally:
            os.unlink(name)
        self._event(container, "commit", comment=comment)  # type: ignore[attr-defined]
        return image_id
