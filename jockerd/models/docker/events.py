"""GET /events messages (swagger EventMessage, EventActor).

dockerd 20.10 (traces 46*) starts container and image events with `status`, `id` and `from`, the
fields JSONMessage had before `Type`/`Action`/`Actor`; image events have no `from`, and other
types have none of the three. API 1.51 no longer documents them, but older clients read them.
"""

from __future__ import annotations

from pydantic import Field

from jockerd.models.base import DockerModel
from jockerd.models.docker.host_config import omit_empty


class EventActor(DockerModel):
    """The object an event is about, and its attributes (name, image, exitCode, ...)."""

    id: str = Field("", alias="ID")
    attributes: dict[str, str] = Field(default_factory=dict)


class EventMessage(DockerModel):
    """One event; `Type` and `scope` take the swagger's enum values."""

    status: str = omit_empty("", alias="status")  # deprecated: Action, for container and image events
    id: str = omit_empty("", alias="id")  # deprecated: Actor.ID
    from_: str = omit_empty("", alias="from")  # deprecated: the image, for container events
    type: str
    action: str
    actor: EventActor = Field(default_factory=EventActor)
    scope: str = Field("local", alias="scope")
    time: int = Field(0, alias="time")
    time_nano: int = Field(0, alias="timeNano")
