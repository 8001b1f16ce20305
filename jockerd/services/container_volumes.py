"""A container's volumes: resolved at create, mounted at start, released at rm (dockerd's
daemon/volumes.go and daemon/mounts.go over the VolumeService).

At create every volume mount (-v NAME:/dst, -v /dst, --mount type=volume, the image's VOLUME
and Config.Volumes paths, --volumes-from) becomes a *mount point* in the container record:
inspect's MountPoint keys plus `CopyData` (fill an empty volume from the image) and `Named`
(the user named the volume: `docker rm -v` keeps it). Anonymous volumes get a generated name
and the `com.docker.volume.anonymous` label. Start mounts what the local driver must mount,
emits `mount` events, and copies the image's content into empty volumes (before the runtime
creates its mountpoints, /etc/hosts and the like, in them). Exit
unmounts; removal drops the references and, for `rm -v` and --rm, the anonymous volumes.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jockerd import hostfs
from jockerd.bundle.mounts import BindSpec, volume_specs
from jockerd.errors import InvalidParameterError, JockerError
from jockerd.services.volumes import ANONYMOUS_LABEL, LOCAL_DRIVER, copy_up
from jockerd.store.containers import ContainerRecord, ContainerStore

if TYPE_CHECKING:
    from jockerd.imagestore.snapshots import Snapshotter
    from jockerd.services.containers import Container
    from jockerd.services.volumes import VolumeService

# The keys inspect's Mounts shows, in dockerd's order (types.MountPoint).
MOUNT_POINT_KEYS = ("Type", "Name", "Source", "Destination", "Driver", "Mode", "RW", "Propagation")


def parse_volumes_from(raw: str) -> tuple[str, bool]:
    """moby's ParseVolumesFrom: "container[:ro|:rw]" → (container, writable)."""
    name, sep, mode = raw.partition(":")
    if not sep:
        return raw, True
    if mode not in ("ro", "rw"):
        raise InvalidParameterError(f"invalid mode: {mode}")
    return name, mode == "rw"


def mount_point_view(point: dict[str, Any]) -> dict[str, Any]:
    """A mount point as inspect and ps show it."""
    return {key: point[key] for key in MOUNT_POINT_KEYS if key in point}


class ContainerVolumes:
    """Mixed into ContainerService (which sets `volumes`, the daemon's VolumeService)."""

    volumes: VolumeService | None
    containers: dict[str, Container]
    snapshots: Snapshotter
    store: ContainerStore

    # -- create

    async def _create_volumes(self, record: ContainerRecord) -> list[dict[str, Any]]:
        """The record's mount points; volumes are created (or referenced) now, as dockerd does.
        On failure the ones already taken are given back."""
        if self.volumes is None:
            return []
        points: list[dict[str, Any]] = []
        try:
            inherited = self._volumes_from(record)
            specs, others = volume_specs(record.config, record.host_config, covered=inherited)
            wanted = {spec.destination for spec in specs} | others
            for destination, point in inherited.items():
                if destination not in wanted:
                    self.volumes.add_ref(point["Name"], record.id)
                    points.append(point)
            for spec in specs:
                points.append(await self._volume_mount_point(record.id, spec))
        except BaseException:
            await self._release_volumes(record.id, points, remove_anonymous=True)
            raise
        return points

    async def _volume_mount_point(self, container_id: str, spec: BindSpec) -> dict[str, Any]:
        assert self.volumes is not None
        labels = dict(spec.labels)
        if not spec.source:
            labels[ANONYMOUS_LABEL] = ""
        volume = await self.volumes.create(
            spec.source,
            spec.driver or LOCAL_DRIVER,
            dict(spec.driver_options),
            labels,
            reference=container_id,
        )
        mode = spec.mode
        if not mode and not spec.from_config and volume["Driver"] == LOCAL_DRIVER:
            mode = "z"  # dockerd's setBindModeIfNull
        return {
            "Type": "volume",
            "Name": volume["Name"],
            "Source": volume["Mountpoint"],
            "Destination": spec.destination,
            "Driver": volume["Driver"],
            "Mode": mode,
            "RW": spec.writable,
            "Propagation": "",
            "CopyData": spec.copy_data,
            "Named": bool(spec.source),
        }

    def _volumes_from(self, record: ContainerRecord) -> dict[str, dict[str, Any]]:
        """--volumes-from: the other containers' volume mount points, read-only with :ro."""
        inherited: dict[str, dict[str, Any]] = {}
        for raw in record.host_config.get("VolumesFrom") or []:
            name, writable = parse_volumes_from(raw)
            other = self.get(name)  # type: ignore[attr-defined]
            for point in other.record.mount_points:
                copy = dict(point, RW=bool(point.get("RW")) and writable, CopyData=False, Mode="")
                inherited[copy["Destination"]] = copy
        return inherited

    # -- the spec

    @staticmethod
    def _volume_binds(record: ContainerRecord) -> list[BindSpec]:
        return [
            BindSpec(point["Source"], point["Destination"], bool(point.get("RW")))
            for point in record.mount_points
        ]

    # -- start and exit

    async def _mount_volumes(self, container: Container) -> None:
        """Mount what the local driver must mount; `mount` events (dockerd's setupMounts)."""
        if self.volumes is None or container.volumes_mounted:
            return
        record = container.record
        done: list[str] = []
        try:
            for point in record.mount_points:
                if point.get("Type") != "volume":
                    continue
                await self.volumes.mount(point["Name"], record.id)
                done.append(point["Name"])
        except BaseException:
            for name in done:
                await self.volumes.unmount(name, record.id)
            raise
        container.volumes_mounted = True
        for point in record.mount_points:
            if point.get("Type") == "volume":
                self.volumes.event(
                    point["Name"],
                    "mount",
                    container=record.id,
                    destination=point["Destination"],
                    propagation=point.get("Propagation") or "",
                    **{"read/write": "true" if point.get("RW") else "false"},
                )

    def _populate_volumes(self, record: ContainerRecord) -> None:
        """Copy the rootfs's content into the empty volumes (not with nocopy) before the runtime
        creates its mountpoints in them (dockerd's populateVolumes). The rootfs is looked at
        through a read-only overlay of the container's layers (its upper dir on top), mounted
        for the copy only; blocking."""
        if self.volumes is None:
            return
        points = [
            point
            for point in record.mount_points
            if point.get("Type") == "volume"
            and point.get("CopyData")
            and not any(os.scandir(self.volumes.mountpoint(point["Name"])))
        ]
        if not points:
            return
        # The container's changes over its init layer and image: lowerdirs only, so read-only.
        layers = [
            self.snapshots.upper_dir(record.id),
            *self.snapshots.container_lowers(record.id, record.chain_ids),
        ]
        try:
            view = hostfs.mount_detached("overlay", [("lowerdir", ":".join(str(p) for p in layers))])
        except OSError as e:
            raise OSError(f"mount the rootfs for copy-up: {e}") from None
        try:  # a detached mount: nothing to unmount, gone with its fd (even if the daemon dies)
            for point in points:
                copy_up(
                    Path(f"/proc/self/fd/{view}"),
                    point["Destination"],
                    self.volumes.mountpoint(point["Name"]),
                )
        finally:
            os.close(view)

    async def _unmount_volumes(self, container: Container) -> None:
        if self.volumes is None or not container.volumes_mounted:
            return
        container.volumes_mounted = False
        record = container.record
        for point in record.mount_points:
            if point.get("Type") != "volume":
                continue
            with contextlib.suppress(JockerError):
                await self.volumes.unmount(point["Name"], record.id)
            self.volumes.event(point["Name"], "unmount", container=record.id)

    # -- remove and restore

    async def _release_volumes(
        self, container_id: str, points: list[dict[str, Any]], *, remove_anonymous: bool
    ) -> None:
        """Drop the container's references; with `remove_anonymous` (rm -v, --rm) remove the
        volumes it created without a name, unless another container uses them."""
        if self.volumes is None:
            return
        for point in points:
            if point.get("Type") == "volume":
                self.volumes.release(point["Name"], container_id)
        if remove_anonymous:
            names = [p["Name"] for p in points if p.get("Type") == "volume" and not p.get("Named")]
            await self.volumes.remove_unused(names)

    def _restore_volumes(self, container: Container) -> None:
        """References from the record; a running container's volumes are mounted already."""
        if self.volumes is None:
            return
        record = container.record
        running = container.state.is_running()
        for point in record.mount_points:
            if point.get("Type") == "volume":
                self.volumes.add_ref(point["Name"], record.id)
                if running:
                    self.volumes.mark_active(point["Name"], record.id)
        container.volumes_mounted = running
