"""The volume rules without a daemon: names, local driver options, list and prune filters,
--volumes-from, the record store and copy-up (no root needed)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from jockerd.bundle.mounts import BindSpec, volume_specs
from jockerd.errors import InvalidParameterError
from jockerd.services.container_volumes import mount_point_view, parse_volumes_from
from jockerd.services.volumes import (
    ANONYMOUS_LABEL,
    check_list_filters,
    check_name,
    check_options,
    copy_up,
    list_matches,
    needs_mount,
    prune_filters,
)
from jockerd.store.volumes import VolumeRecord, VolumeStore


@pytest.mark.parametrize("name", ["ab", "a1", "my-vol_1.x", "0abc", "A" * 200])
def test_valid_names(name: str) -> None:
    check_name(name)


@pytest.mark.parametrize("name", ["x/y", "-ab", ".ab", "_ab", "a b", "a:b", "été"])
def test_invalid_names(name: str) -> None:
    message = (
        f'"{name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" '
        "are allowed. If you intended to pass a host directory, use absolute path"
    )
    with pytest.raises(InvalidParameterError) as raised:
        check_name(name)
    assert str(raised.value) == message


def test_short_name() -> None:
    with pytest.raises(
        InvalidParameterError, match=r"^volume name is too short, names should be at least two"
    ):
        check_name("a")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"bogus": "1"}, 'invalid option: "bogus"'),
        ({"type": "tmpfs"}, 'missing required option: "device"'),
        ({"device": "tmpfs"}, 'missing required option: "type"'),
        ({"o": "size=1m"}, 'missing required option: "device"'),
        ({"size": "1g"}, "quota size requested but no quota support"),
    ],
)
def test_option_errors(options: dict[str, str], message: str) -> None:
    with pytest.raises(InvalidParameterError) as raised:
        check_options(options)
    assert str(raised.value) == message


def test_options_and_mounting() -> None:
    check_options({})
    check_options({"type": "tmpfs", "device": "tmpfs", "o": "size=10m"})
    assert needs_mount({"type": "tmpfs", "device": "tmpfs"})
    assert not needs_mount(None) and not needs_mount({})


def test_list_filters() -> None:
    record = VolumeRecord(name="data-1", created_at="T", labels={"a": "b", "c": ""})
    assert check_list_filters({}) is None
    assert check_list_filters({"dangling": ["1"]}) is True
    assert check_list_filters({"dangling": ["false"]}) is False
    with pytest.raises(InvalidParameterError, match=r"^invalid filter 'dangling=maybe'$"):
        check_list_filters({"dangling": ["maybe"]})
    with pytest.raises(InvalidParameterError, match=r"^invalid filter 'until'$"):
        check_list_filters({"until": ["1h"]})
    assert list_matches(record, {"dangling": ["true"]}, in_use=False)
    assert not list_matches(record, {"dangling": ["true"]}, in_use=True)
    assert list_matches(record, {"name": ["^data"], "driver": ["local"]}, in_use=False)
    assert not list_matches(record, {"name": ["x"]}, in_use=False)
    assert list_matches(record, {"label": ["a=b", "c"]}, in_use=False)
    assert not list_matches(record, {"label": ["a=c"]}, in_use=False)


def test_prune_filters() -> None:
    assert prune_filters({}, anonymous_only=True) == {"label": [ANONYMOUS_LABEL]}
    assert prune_filters({"all": ["true"]}, anonymous_only=True) == {}
    assert prune_filters({"label": ["x"]}, anonymous_only=False) == {"label": ["x"]}
    with pytest.raises(InvalidParameterError, match=r"^invalid filter 'all'$"):
        prune_filters({"all": ["true"]}, anonymous_only=False)  # API < 1.42
    with pytest.raises(InvalidParameterError, match=r"^invalid filter 'all=maybe'$"):
        prune_filters({"all": ["maybe"]}, anonymous_only=True)
    with pytest.raises(InvalidParameterError, match=r"^invalid filter 'until'$"):
        prune_filters({"until": ["1h"]}, anonymous_only=True)


def test_volume_specs() -> None:
    config = {"Volumes": {"/image": {}, "/named": {}, "/bound": {}, "/tmp": {}, "/inherited": {}}}
    host = {
        "Binds": ["named:/named:ro,nocopy", "/srv:/bound"],
        "Mounts": [
            {"Type": "volume", "Target": "/m", "VolumeOptions": {"DriverConfig": {"Name": "local",
             "Options": {"type": "tmpfs", "device": "tmpfs"}}, "Labels": {"k": "v"}}},
        ],
        "Tmpfs": {"/tmp": ""},
    }  # fmt: skip
    specs, others = volume_specs(config, host, covered=["/inherited"])
    assert others == {"/bound", "/tmp"}
    assert specs == [
        BindSpec("named", "/named", False, kind="volume", mode="ro,nocopy", copy_data=False),
        BindSpec("", "/m", kind="volume", driver="local",
                 driver_options=(("device", "tmpfs"), ("type", "tmpfs")), labels=(("k", "v"),)),
        BindSpec("", "/image", kind="volume", from_config=True),
    ]  # fmt: skip


def test_volumes_from_and_view() -> None:
    assert parse_volumes_from("c1") == ("c1", True)
    assert parse_volumes_from("c1:ro") == ("c1", False)
    with pytest.raises(InvalidParameterError, match=r"^invalid mode: bad$"):
        parse_volumes_from("c1:bad")
    point = {"Type": "volume", "Name": "n", "Source": "/s", "Destination": "/d", "Driver": "local",
             "Mode": "z", "RW": True, "Propagation": "", "CopyData": True, "Named": True}  # fmt: skip
    assert list(mount_point_view(point)) == [
        "Type", "Name", "Source", "Destination", "Driver", "Mode", "RW", "Propagation",
    ]  # fmt: skip


def test_store_round_trip_and_crash_leftovers(tmp_path: Path) -> None:
    store = VolumeStore(tmp_path / "volumes")
    store.save(VolumeRecord(name="v1", created_at="2026-01-01T00:00:00Z", labels={"a": "b"}))
    assert store.data_dir("v1").is_dir()
    (tmp_path / "volumes" / "half").mkdir()  # a create that never wrote its record
    (tmp_path / "volumes" / ".removing-old").mkdir()  # a removal cut short
    records = store.load_all()
    assert [(r.name, r.labels) for r in records] == [("v1", {"a": "b"})]
    assert sorted(p.name for p in (tmp_path / "volumes").iterdir()) == ["v1"]
    store.delete("v1")
    assert list((tmp_path / "volumes").iterdir()) == []


def test_copy_up(tmp_path: Path) -> None:
    rootfs = tmp_path / "rootfs"
    (rootfs / "data" / "sub").mkdir(parents=True)
    (rootfs / "data" / "f").write_text("hi")
    os.link(rootfs / "data" / "f", rootfs / "data" / "hard")
    (rootfs / "data" / "l").symlink_to("/etc/passwd")
    (rootfs / "data").chmod(0o750)
    (rootfs / "escape").symlink_to("/etc")  # resolved inside the rootfs: no /etc there
    target = tmp_path / "vol"
    target.mkdir()
    assert not copy_up(rootfs, "/escape", target)
    assert copy_up(rootfs, "/data", target)
    assert (target / "f").read_text() == "hi" and (target / "sub").is_dir()
    assert os.readlink(target / "l") == "/etc/passwd"
    assert (target / "hard").stat().st_ino == (target / "f").stat().st_ino
    assert target.stat().st_mode & 0o777 == 0o750
    assert not copy_up(rootfs, "/data", target)  # not empty any more: left alone
    assert (
        not copy_up(rootfs, "/missing", tmp_path / "other") if (tmp_path / "other").mkdir() is None else False
    )
