"""OciStatus: members, can_*() predicates and runc's transition-error wording (no root needed)."""

from __future__ import annotations

import pytest

from jockerd.runtime.errors import ContainerError
from jockerd.runtime.state import OciStatus, check_transition

ALLOWED = {
    "start": {"created"},
    "kill": {"created", "running", "paused"},
    "pause": {"running"},
    "resume": {"paused"},
    "exec": {"created", "running"},
    "delete": {"created", "stopped"},
}


def test_members_behave_like_a_str_enum() -> None:
    assert [str(m) for m in OciStatus.MEMBERS] == ["creating", "created", "running", "paused", "stopped"]
    assert OciStatus("running") is OciStatus.RUNNING
    assert OciStatus.RUNNING == "running"
    assert isinstance(OciStatus.PAUSED, str)
    assert f"{OciStatus.STOPPED}" == "stopped"
    assert repr(OciStatus.CREATED) == "<OciStatus.CREATED: 'created'>"
    with pytest.raises(ValueError, match="not a valid OciStatus"):
        OciStatus("exited")


@pytest.mark.parametrize("verb", sorted(ALLOWED))
@pytest.mark.parametrize("status", OciStatus.MEMBERS, ids=str)
def test_transition_table(verb: str, status: OciStatus) -> None:
    assert getattr(status, f"can_{verb}")() == (status in ALLOWED[verb])


@pytest.mark.parametrize(
    ("verb", "status", "message"),
    [
        ("start", OciStatus.RUNNING, "cannot start an already running container"),
        ("start", OciStatus.STOPPED, "cannot start a container that has stopped"),
        ("start", OciStatus.PAUSED, "cannot start a container in the paused state"),
        ("kill", OciStatus.STOPPED, "container not running"),
        ("pause", OciStatus.CREATED, "container not running"),
        ("pause", OciStatus.PAUSED, "container not running"),
        ("resume", OciStatus.RUNNING, "container not paused"),
        ("exec", OciStatus.STOPPED, "cannot exec in a stopped container"),
        ("exec", OciStatus.PAUSED, "cannot exec in a paused container"),
        ("delete", OciStatus.RUNNING, "cannot delete container c1 that is not stopped: running"),
        ("delete", OciStatus.PAUSED, "cannot delete container c1 that is not stopped: paused"),
    ],
)
def test_refusals_use_runc_wording(verb: str, status: OciStatus, message: str) -> None:
    with pytest.raises(ContainerError) as info:
        check_transition(verb, status, "c1")
    assert str(info.value) == message


def test_allowed_transition_does_not_raise() -> None:
    check_transition("start", OciStatus.CREATED, "c1")
    check_transition("delete", OciStatus.STOPPED, "c1")
