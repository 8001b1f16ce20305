"""`OciStatus`: the runtime-spec status of a container, its legal transitions and their errors.

Transitions (runtime-spec runtime.md "Lifecycle", plus runc's `paused`):

| verb   | allowed from             | error otherwise (runc's words: callers match on them)  |
|--------|--------------------------|--------------------------------------------------------|
| start  | created                  | cannot start an already running container / ...       |
| kill   | created, running, paused | container not running                                  |
| pause  | running                  | container not running                                  |
| resume | paused                   | container not paused                                   |
| exec   | created, running         | cannot exec in a stopped container / ... paused ...    |
| delete | stopped, created         | cannot delete container ID that is not stopped: STATUS |

`delete` kills a created container first; `delete --force` kills in any status.

`OciStatus` is a StrEnum in behaviour (members are `str`s equal to their wire values, unique
instances, `OciStatus("running") is OciStatus.RUNNING`, iteration over `OciStatus.MEMBERS`) but
not in ancestry: `import enum` costs ~9 ms here (functools, collections, ...), paid by every
`start`, `state`, `kill` and `delete`, a third of runc's whole `run`.

The status itself is never stored: `Container.refresh_status()` derives it from the init pid and
its start time, the exec.fifo and the paused flag, as runc does.
"""

from __future__ import annotations

from jockerd.runtime.errors import CONTAINER_NOT_PAUSED, CONTAINER_NOT_RUNNING, ContainerError


class OciStatus(str):
    __slots__ = ()
    CREATING: OciStatus
    CREATED: OciStatus
    RUNNING: OciStatus
    PAUSED: OciStatus
    STOPPED: OciStatus
    MEMBERS: tuple[OciStatus, ...]

    def __new__(cls, value: str) -> OciStatus:
        members = cls.__dict__.get("_by_value")
        if members is None:  # defining the members below
            return super().__new__(cls, value)
        try:
            return members[value]
        except KeyError:
            raise ValueError(f"{value!r} is not a valid OciStatus") from None

    def __repr__(self) -> str:
        return f"<OciStatus.{self.upper()}: {str.__repr__(self)}>"

    def can_start(self) -> bool:
        return self is OciStatus.CREATED

    def can_kill(self) -> bool:
        return self in (OciStatus.CREATED, OciStatus.RUNNING, OciStatus.PAUSED)

    def can_pause(self) -> bool:
        return self is OciStatus.RUNNING

    def can_resume(self) -> bool:
        return self is OciStatus.PAUSED

    def can_exec(self) -> bool:
        return self in (OciStatus.CREATED, OciStatus.RUNNING)

    def can_delete(self) -> bool:
        """Without --force. A created container is killed and deleted, as runc does."""
        return self in (OciStatus.STOPPED, OciStatus.CREATED)


OciStatus.MEMBERS = tuple(OciStatus(v) for v in ("creating", "created", "running", "paused", "stopped"))
for _member in OciStatus.MEMBERS:
    setattr(OciStatus, _member.upper(), _member)
OciStatus._by_value = {str(m): m for m in OciStatus.MEMBERS}
del _member


def check_transition(verb: str, status: OciStatus, container_id: str) -> None:
    """Raise the ContainerError runc raises when `verb` is not allowed in `status`."""
    if getattr(status, f"can_{verb}")():
        return
    if verb == "start":
        if status is OciStatus.RUNNING:
            raise ContainerError("cannot start an already running container")
        if status is OciStatus.STOPPED:
            raise ContainerError("cannot start a container that has stopped")
        raise ContainerError(f"cannot start a container in the {status} state")
    if verb in ("kill", "pause"):
        raise ContainerError(CONTAINER_NOT_RUNNING)
    if verb == "resume":
        raise ContainerError(CONTAINER_NOT_PAUSED)
    if verb == "exec":
        raise ContainerError(f"cannot exec in a {status} container")
    if verb == "delete":
        raise ContainerError(f"cannot delete container {container_id} that is not stopped: {status}")
    raise ContainerError(f"cannot {verb} container {container_id}: container is {status}")
