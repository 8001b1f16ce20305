"""`docker logs` and `docker stats` for ContainerService: the shim's json-file log read back, and
the runtime's cgroup stats in Docker's shape (services/logs.py and services/stats.py do the work)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jockerd.errors import JockerError

if TYPE_CHECKING:
    from jockerd.bundle import generate
    from jockerd.driver.runtimes import RuntimeRegistry
    from jockerd.services.containers import Container


class LogsAndStats:
    """`docker logs` and `docker stats` for ContainerService (mixed in below)."""

    get: Callable[[str], Container]
    runtimes: RuntimeRegistry
    settings: generate.SpecSettings

    async def logs(
        self, ref: str, *, stdout: bool, stderr: bool, since: float, until: float, tail: int | None,
        timestamps: bool, follow: bool,
    ) -> AsyncIterator[bytes]:  # fmt: skip
        from jockerd.services.logs import format_entry, read_logs

        container = self.get(ref)
        record = container.record
        log_type = (record.host_config.get("LogConfig") or {}).get("Type") or "json-file"
        if log_type == "none":
            raise NotImplementedLogs(log_type)
        yield b""  # the headers go out now, even when the log is empty and followed
        tty = bool(record.config.get("Tty"))
        options = (record.host_config.get("LogConfig") or {}).get("Config") or {}
        entries = read_logs(
            Path(record.log_path),
            stdout=stdout,
            stderr=stderr,
            since=since,
            until=until,
            tail=tail,
            follow=follow and container.state.is_running(),
            done=lambda: container.removed or not container.state.is_running(),
            max_files=int(options.get("max-file") or 1),
        )
        async for entry in entries:
            yield format_entry(entry, timestamps=timestamps, tty=tty)

    async def stats(self, ref: str, *, stream: bool, one_shot: bool) -> AsyncIterator[dict[str, Any]]:
        from jockerd.services import stats as stats_math

        container = self.get(ref)
        record = container.record
        previous: dict[str, Any] | None = None
        preread = None
        online = stats_math.online_cpus()
        while True:
            if container.removed:
                return
            now = datetime.now(UTC)
            if container.state.is_running() and container.shim is not None:
                runtime = self.runtimes.get(record.runtime).oci
                try:
                    data = await runtime.events_stats(record.id)
                    networks = await asyncio.to_thread(stats_math.read_network_stats, container.shim.pid)
                    system = await asyncio.to_thread(stats_math.system_cpu_usage)
                except (JockerError, OSError):
                    data, networks, system = None, None, 0
            else:
                data, networks, system = None, None, 0
            if data is None:
                sample = stats_math.stopped_stats(container_id=record.id, name=record.name)
            else:
                sample = stats_math.stats_from_runtime(
                    data,
                    container_id=record.id,
                    name=record.name,
                    read=now,
                    preread=preread,
                    previous=previous,
                    system_cpu_usage=system,
                    online_cpus=online,
                    networks=networks if record.host_config.get("NetworkMode") != "host" else None,
                    cgroup_version=self.settings.cgroup_version,
                )
            if not stream and previous is None and data is not None and not one_shot:
                # dockerd takes two samples a second apart so precpu_stats (the CPU %) means something
                previous, preread = sample, now
                await asyncio.sleep(1)
                continue
            yield sample
            if not stream:
                return
            previous, preread = sample, now
            await asyncio.sleep(1)


class NotImplementedLogs(JockerError):
    status = 501

    def __init__(self, driver: str) -> None:
        super().__init__(f'configured logging driver does not support reading: "{driver}"')
