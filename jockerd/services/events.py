"""EventBus: Docker's /events: a bounded history for since/until replay and live fan-out.

Events are plain dicts in the wire shape dockerd 20.10 sends (traces 46*): `status`, `id` and
`from` for container and image events, then `Type`, `Action`, `Actor`, `scope`, `time`,
`timeNano`. Filters follow moby's events filter keys.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

from jockerd.errors import InvalidParameterError
from jockerd.services.filters import labels_match

HISTORY = 1024  # dockerd keeps the last 1024 events (eventsLimit)
FILTER_KEYS = {"container", "daemon", "event", "image", "label", "network", "node", "plugin",
               "scope", "service", "type", "volume", "config", "secret"}  # fmt: skip


def check_filters(filters: dict[str, list[str]]) -> None:
    for key in filters:
        if key not in FILTER_KEYS:
            raise InvalidParameterError(f"invalid filter '{key}'")


def matches(event: dict[str, Any], filters: dict[str, list[str]]) -> bool:
    actor = event.get("Actor", {})
    attributes = actor.get("Attributes", {}) or {}
    kind = event.get("Type", "")

    def one_of(key: str, *values: str) -> bool:
        wanted = filters.get(key)
        return not wanted or any(v in wanted for v in values if v)

    if not one_of("type", kind):
        return False
    if not one_of("event", event.get("Action", ""), event.get("Action", "").split(":")[0]):
        return False
    if not one_of("scope", event.get("scope", "")):
        return False
    if "container" in filters:
        if kind != "container":
            return False
        ids = [actor.get("ID", ""), attributes.get("name", "")]
        if not any(
            w == i or (len(w) >= 1 and actor.get("ID", "").startswith(w))
            for w in filters["container"]
            for i in ids
        ):
            return False
    if "image" in filters:
        candidates = [
            attributes.get("image", ""),
            actor.get("ID", "") if kind == "image" else "",
            attributes.get("name", "") if kind == "image" else "",
        ]
        if not any(w in candidates or w + ":latest" in candidates for w in filters["image"]):
            return False
    if "volume" in filters and (kind != "volume" or actor.get("ID", "") not in filters["volume"]):
        return False
    return labels_match(attributes, {"label": filters.get("label", [])})


class EventBus:
    def __init__(self) -> None:
        self._history: deque[dict[str, Any]] = deque(maxlen=HISTORY)
        self._subscribers: set[asyncio.Queue[dict[str, Any]]] = set()

    def publish(self, kind: str, action: str, actor_id: str, attributes: dict[str, str]) -> dict[str, Any]:
        now = time.time_ns()
        event: dict[str, Any] = {}
        if kind in ("container", "image"):
            event["status"] = action
            event["id"] = actor_id
            if kind == "container" and "image" in attributes:
                event["from"] = attributes["image"]
        event.update(
            {
                "Type": kind,
                "Action": action,
                "Actor": {"ID": actor_id, "Attributes": dict(attributes)},
                "scope": "local",
                "time": now // 1_000_000_000,
                "timeNano": now,
            }
        )
        self._history.append(event)
        for queue in self._subscribers:
            queue.put_nowait(event)
        return event

    def subscribe(
        self, *, since: float | None, until: float | None, filters: dict[str, list[str]]
    ) -> AsyncIterator[dict[str, Any]]:
        """Replay history from `since`, then live events until `until` (None: forever).

        Filters are checked here, before the caller sends its headers.
        """
        check_filters(filters)
        return self._stream(since, until, filters)

    async def _stream(
        self, since: float | None, until: float | None, filters: dict[str, list[str]]
    ) -> AsyncIterator[dict[str, Any]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._subscribers.add(queue)
        try:
            if since is not None:
                for event in list(self._history):
                    seconds = event["timeNano"] / 1e9
                    if seconds < since or (until is not None and seconds > until):
                        continue
                    if matches(event, filters):
                        yield event
            if until is not None and until <= time.time():
                return
            while True:
                timeout = None if until is None else max(0.0, until - time.time())
                try:
                    event = await asyncio.wait_for(queue.get(), timeout)
                except TimeoutError:
                    return
                if since is not None and event["timeNano"] / 1e9 < since:
                    continue
                if matches(event, filters):
                    yield event
        finally:
            self._subscribers.discard(queue)
