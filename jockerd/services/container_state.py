"""DockerState: Docker's container states and the only moves between them (house rule 8).

moby api/types/container/state.go names the states and container/state.go's setters
(SetRunning, SetStopped, SetRestarting, SetRemovalInProgress, SetDead) are the moves. Here the
moves are a table, and the container service changes a container's state only through
`advance`: a move the table does not list is a bug in the service, so it raises an
InternalError (the request fails, the record is left as it was) instead of writing a state
Docker could never show. The checks that answer a client (`cannot start a paused container`,
`Container X is not running`) stay with the verbs, in Docker's wording; they run first.
"""

from __future__ import annotations

from enum import StrEnum

from jockerd.errors import ConflictError, InternalError


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


class Move(StrEnum):
    """What happens to a container; each is one of moby's state setters."""

    START = "start"  # the process runs (SetRunning)
    PAUSE = "pause"  # frozen (SetPaused)
    UNPAUSE = "unpause"  # thawed (SetUnpaused)
    EXIT = "exit"  # the process ended, or a pending restart was called off (SetStopped)
    START_FAILED = "start-failed"  # a policy restart could not start the process (SetError)
    SCHEDULE_RESTART = "schedule-restart"  # the restart policy will start it again (SetRestarting)
    REMOVE = "remove"  # removal in progress (SetRemovalInProgress)
    REMOVAL_FAILED = "removal-failed"  # the filesystem could not be deleted (SetDead)


_S = DockerState

# move → (the states it may leave, the state it enters)
MOVES: dict[Move, tuple[frozenset[DockerState], DockerState]] = {
    Move.START: (frozenset({_S.CREATED, _S.EXITED, _S.RESTARTING}), _S.RUNNING),
    Move.PAUSE: (frozenset({_S.RUNNING}), _S.PAUSED),
    Move.UNPAUSE: (frozenset({_S.PAUSED}), _S.RUNNING),
    Move.EXIT: (frozenset({_S.RUNNING, _S.PAUSED, _S.RESTARTING}), _S.EXITED),
    Move.START_FAILED: (frozenset({_S.RESTARTING}), _S.EXITED),
    Move.SCHEDULE_RESTART: (frozenset({_S.EXITED, _S.RESTARTING}), _S.RESTARTING),
    Move.REMOVE: (frozenset({_S.CREATED, _S.EXITED, _S.DEAD, _S.REMOVING}), _S.REMOVING),
    Move.REMOVAL_FAILED: (frozenset({_S.REMOVING}), _S.DEAD),
}


def advance(current: str, move: Move) -> DockerState:
    """The state `move` leads to from `current`; InternalError if the table has no such move."""
    sources, target = MOVES[move]
    state = DockerState(current)
    if state not in sources:
        raise InternalError(f"illegal container state transition: {move} from {state}")
    return target


def not_running(container_id: str) -> ConflictError:
    return ConflictError(f"Container {container_id} is not running")


def is_paused(container_id: str) -> ConflictError:
    return ConflictError(f"Container {container_id} is paused, unpause the container before exec")
