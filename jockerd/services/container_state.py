"""DockerState: Docker's container states and the transitions between them (house rule 8).

moby api/types/container/state.go names the states; the table says which verb may leave which
state. An illegal transition is a ConflictError with Docker's wording where clients parse it.
"""

from __future__ import annotations

from enum import StrEnum

from jockerd.errors import ConflictError


class DockerState(StrEnum):
    CREATED = "created"
    RUNNING = "running"
    PAUSED = "paused"
    RESTARTING = "restarting"
    REMOVING = "removing"
    EXITED = "exited"
    DEAD = "dead"

    def is_running(self) -> bool:
        """Docker's State.Running: true while paused or restarting too."""
        return self in (DockerState.RUNNING, DockerState.PAUSED, DockerState.RESTARTING)

    def can_start(self) -> bool:
        return self in (DockerState.CREATED, DockerState.EXITED)

    def can_pause(self) -> bool:
        return self is DockerState.RUNNING

    def can_unpause(self) -> bool:
        return self is DockerState.PAUSED

    def can_exec(self) -> bool:
        return self is DockerState.RUNNING


# verb → states it may start from (the rest raise ConflictError)
TRANSITIONS: dict[str, frozenset[DockerState]] = {
    "start": frozenset({DockerState.CREATED, DockerState.EXITED}),
    "exit": frozenset({DockerState.RUNNING, DockerState.PAUSED}),
    "pause": frozenset({DockerState.RUNNING}),
    "unpause": frozenset({DockerState.PAUSED}),
    "restart": frozenset({DockerState.EXITED}),
    "remove": frozenset({DockerState.CREATED, DockerState.EXITED, DockerState.DEAD}),
}


def check(verb: str, state: DockerState, container_id: str) -> None:
    if state not in TRANSITIONS[verb]:
        raise ConflictError(f"cannot {verb} container {container_id}: container is {state}")


def not_running(container_id: str) -> ConflictError:
    return ConflictError(f"Container {container_id} is not running")


def is_paused(container_id: str) -> ConflictError:
    return ConflictError(f"Container {container_id} is paused, unpause the container before exec")
