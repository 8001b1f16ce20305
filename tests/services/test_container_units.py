"""Pure pieces of the container service: states, signals, times, network files, events, snapshots."""

from __future__ import annotations

import os
import signal

import pytest

from jockerd.bundle.network_files import hosts_content, resolv_conf_content
from jockerd.errors import InternalError, InvalidParameterError
from jockerd.services.container_config import parse_signal, start_error_exit_code
from jockerd.services.container_state import MOVES, DockerState, Move, advance
from jockerd.services.events import EventBus, matches
from jockerd.services.timefmt import human_duration, parse_rfc3339, rfc3339_nano


def test_states():
    assert DockerState.PAUSED.is_running() and not DockerState.EXITED.is_running()
    assert advance("created", Move.START) is DockerState.RUNNING
    assert advance("running", Move.PAUSE) is DockerState.PAUSED
    assert advance("paused", Move.EXIT) is DockerState.EXITED
    assert advance("exited", Move.SCHEDULE_RESTART) is DockerState.RESTARTING
    assert advance("restarting", Move.START_FAILED) is DockerState.EXITED
    assert advance("dead", Move.REMOVE) is DockerState.REMOVING
    assert advance("removing", Move.REMOVAL_FAILED) is DockerState.DEAD
    with pytest.raises(InternalError, match="illegal container state transition: pause from exited"):
        advance("exited", Move.PAUSE)


# (state, move) pairs Docker never makes: each must be refused by the table.
ILLEGAL = [
    ("running", Move.START),
    ("paused", Move.START),
    ("removing", Move.START),
    ("dead", Move.START),
    ("paused", Move.PAUSE),
    ("running", Move.UNPAUSE),
    ("created", Move.EXIT),
    ("exited", Move.EXIT),
    ("running", Move.SCHEDULE_RESTART),
    ("created", Move.SCHEDULE_RESTART),
    ("running", Move.REMOVE),
    ("paused", Move.REMOVE),
    ("restarting", Move.REMOVE),
    ("exited", Move.REMOVAL_FAILED),
]


@pytest.mark.parametrize(("state", "move"), ILLEGAL)
def test_illegal_moves(state, move):
    with pytest.raises(InternalError):
        advance(state, move)


def test_every_state_is_reachable_and_left():
    targets = {target for _, target in MOVES.values()}
    sources = set().union(*(sources for sources, _ in MOVES.values()))
    assert targets | {DockerState.CREATED} == set(DockerState)
    assert sources == set(DockerState)


@pytest.mark.parametrize(
    ("text", "number"),
    [(None, 9), ("KILL", 9), ("SIGTERM", 15), ("usr1", 10), ("9", 9), ("WINCH", signal.SIGWINCH)],
)
def test_parse_signal(text, number):
    assert parse_signal(text) == number


@pytest.mark.parametrize("text", ["NOPE", "0", "-1"])
def test_parse_signal_invalid(text):
    with pytest.raises(InvalidParameterError, match="Invalid signal"):
        parse_signal(text)


def test_start_error_exit_codes():
    assert start_error_exit_code('exec: "/x": stat /x: no such file or directory') == 127
    assert start_error_exit_code('exec: "x": executable file not found in $PATH') == 127
    assert start_error_exit_code("exec /etc: permission denied") == 126
    assert start_error_exit_code("something else") == 128


def test_times():
    assert rfc3339_nano(1_795_497_830_891_830_109) == "2026-11-24T05:23:50.891830109Z"
    assert rfc3339_nano(1_795_497_830_000_000_000) == "2026-11-24T05:23:50Z"
    assert rfc3339_nano(1_795_497_830_100_000_000) == "2026-11-24T05:23:50.1Z"
    assert abs(parse_rfc3339("2026-11-24T05:23:50.891830109Z") - 1_795_497_830.891830109) < 1e-6
    assert parse_rfc3339("0001-01-01T00:00:00Z") == 0
    assert [human_duration(s) for s in (0.5, 1, 5, 60, 119, 3600, 7200, 86400 * 3)] == [
        "Less than a second", "1 second", "5 seconds", "About a minute", "About a minute",
        "About an hour", "2 hours", "3 days",
    ]  # fmt: skip


def test_network_files():
    hosts = hosts_content(["myhost:10.1.2.3", "v6=[::1]"])
    assert hosts.startswith("127.0.0.1\tlocalhost\n")
    assert hosts.endswith("10.1.2.3\tmyhost\n::1\tv6\n")
    with pytest.raises(InvalidParameterError):
        hosts_content(["nohost"])
    host = "nameserver 127.0.0.53\nnameserver 10.0.0.2\nsearch lan\noptions edns0\n"
    assert resolv_conf_content(host) == "nameserver 10.0.0.2\nsearch lan\noptions edns0\n"
    assert resolv_conf_content(host, host_network=True) == host
    custom = resolv_conf_content(host, dns=["10.9.9.9"], search=["a.b"], options=["ndots:2"])
    assert custom == "nameserver 10.9.9.9\nsearch a.b\noptions ndots:2\n"


async def test_event_bus_replay_and_filters():
    bus = EventBus()
    bus.publish("container", "create", "a" * 64, {"name": "one", "image": "busybox", "jtr": "1"})
    bus.publish("container", "start", "b" * 64, {"name": "two", "image": "busybox"})
    bus.publish("image", "tag", "sha256:x", {"name": "busybox:latest"})
    stream = bus.subscribe(since=0, until=2**40, filters={"container": ["one"]})
    got = []
    async for event in stream:
        got.append(event)
        break
    assert got[0]["Action"] == "create" and got[0]["status"] == "create" and got[0]["from"] == "busybox"
    event = got[0]
    assert matches(event, {"label": ["jtr=1"]}) and not matches(event, {"label": ["jtr=2"]})
    assert matches(event, {"type": ["container"], "event": ["create"]})
    assert not matches(event, {"type": ["image"]})
    with pytest.raises(InvalidParameterError):
        bus.subscribe(since=None, until=None, filters={"bogus": ["x"]})


def test_snapshot_merged_reads(tmp_path):
    from jockerd.imagestore.layers import LayerStore
    from jockerd.imagestore.snapshots import Snapshotter

    layers = LayerStore(tmp_path / "layers")
    lower = layers.diff_dir("sha256:" + "1" * 64)
    (lower / "etc").mkdir(parents=True)
    (lower / "etc" / "passwd").write_text("root:x:0:0::/root:/bin/sh\n")
    (lower / "etc" / "group").write_text("root:x:0:\n")
    snaps = Snapshotter(layers, tmp_path / "containers")
    mounts = snaps.prepare("c1", ["sha256:" + "1" * 64])
    assert mounts[0]["type"] == "overlay"
    init = snaps.init_dir("c1")  # dockerd's init layer, between the image and the changes
    assert f"lowerdir={init}:{lower}" in mounts[0]["options"]
    assert os.readlink(init / "etc" / "mtab") == "/proc/mounts"
    assert (init / ".dockerenv").stat().st_mode & 0o777 == 0o755
    assert snaps.read_file("c1", ["sha256:" + "1" * 64], "/etc/hostname") == ""
    assert snaps.read_file("c1", ["sha256:" + "1" * 64], "/etc/passwd").startswith("root:")
    upper = snaps.upper_dir("c1")
    (upper / "etc").mkdir()
    (upper / "etc" / "passwd").write_text("changed\n")
    assert snaps.read_file("c1", ["sha256:" + "1" * 64], "/etc/passwd") == "changed\n"
    if os.geteuid() == 0:
        os.mknod(upper / "etc" / "group", 0o600 | 0o020000, 0)  # an overlay whiteout
        assert snaps.read_file("c1", ["sha256:" + "1" * 64], "/etc/group") is None
    snaps.remove("c1")
    assert not upper.exists() and not (tmp_path / "containers" / "c1").exists()


@pytest.mark.parametrize(
    ("policy", "started", "manually_stopped", "exit_code", "expected"),
    [
        ("no", True, False, 1, False),
        ("always", True, True, 0, True),  # "always" comes back with the daemon even after a stop
        ("always", False, False, 0, False),  # never started: stays created
        ("unless-stopped", True, False, 0, True),
        ("unless-stopped", True, True, 0, False),
        ("on-failure", True, False, 0, False),
        ("on-failure", True, False, 3, True),
    ],
)
def test_restart_on_boot(policy, started, manually_stopped, exit_code, expected):
    from jockerd.services.containers import restart_on_boot
    from jockerd.store.containers import ContainerRecord

    record = ContainerRecord(
        id="a" * 64,
        name="/x",
        created="2026-11-25T00:00:00Z",
        image="sha256:" + "1" * 64,
        image_name="busybox",
        host_config={"RestartPolicy": {"Name": policy, "MaximumRetryCount": 0}},
    )
    record.state.has_been_started = started
    record.state.manually_stopped = manually_stopped
    record.state.exit_code = exit_code
    record.state.status = "exited"
    assert restart_on_boot(record) is expected


def test_ps_command_quotes_like_dockerd():
    from jockerd.services.container_queries import ps_command

    assert ps_command("sleep", ["300"]) == "sleep 300"
    assert ps_command("true", []) == "true"
    # trace 03: "sh -c 'for i in 1 2 3; do echo line$i; sleep 0.3; done'"
    script = "for i in 1 2 3; do echo line$i; sleep 0.3; done"
    assert ps_command("sh", ["-c", script]) == f"sh -c '{script}'"


def test_unsupported_blkio_weight_is_discarded_with_dockerds_warning(tmp_path):
    from jockerd.services.container_config import discard_unsupported_resources

    host = {"BlkioWeight": 300, "BlkioWeightDevice": [{"Path": "/dev/sda", "Weight": 10}]}
    warnings = discard_unsupported_resources(host, (str(tmp_path / "missing"),))
    assert warnings[0] == (
        "Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded."
    )
    assert host == {"BlkioWeight": 0, "BlkioWeightDevice": []}
    (tmp_path / "blkio.weight").write_text("100\n")
    kept = {"BlkioWeight": 300}
    assert discard_unsupported_resources(kept, (str(tmp_path / "blkio.weight"),)) == []
    assert kept == {"BlkioWeight": 300}
