"""The daemon's libc doorway (jockerd/hostfs.py): mount option parsing, mount(2), detached
overlays whose lowerdir is longer than fsconfig takes in one string."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from jockerd import hostfs
from jockerd.mount_flags import parse_mount_options
from jockerd.services.volumes import mount_error


def test_parse_mount_options_splits_flags_from_data():
    assert parse_mount_options("") == (0, "")
    assert parse_mount_options("size=10m,uid=1000") == (0, "size=10m,uid=1000")
    flags, data = parse_mount_options("ro,noexec,size=1m,nosuid,rw")
    assert (flags, data) == (0x2 | 0x8, "size=1m")  # rw clears ro, as mount(8)
    assert parse_mount_options("bind,rbind")[0] == 0x1000 | 0x4000


def test_mount_error_text_is_mobys():
    error = OSError(errno.ENODEV, os.strerror(errno.ENODEV))
    assert mount_error("x", Path("/v/_data"), 0, "", error) == "mount x:/v/_data: no such device"
    expected = "mount /v, flags: 0x8, data: size=1m: no such device"
    assert mount_error("", Path("/v"), 0x8, "size=1m", error) == expected


@pytest.mark.root
def test_mount_and_umount_a_tmpfs(tmp_path):
    target = tmp_path / "t"
    target.mkdir()
    flags, data = parse_mount_options("noexec,size=1m,mode=0700")
    hostfs.mount("tmpfs", target, "tmpfs", flags, data)
    try:
        with open("/proc/self/mounts") as f:
            line = next(line for line in f if f" {target} " in line)
        assert line.startswith("tmpfs ") and "noexec" in line and "size=1024k" in line
        assert oct(target.stat().st_mode & 0o777) == "0o700"
    finally:
        assert hostfs.umount2(target, 0)
    with pytest.raises(OSError) as raised:
        hostfs.mount("x", target, "nosuchfs")
    assert raised.value.errno == errno.ENODEV


@pytest.mark.root
def test_detached_overlay_with_a_long_lowerdir(tmp_path):
    """Paths past fsconfig's 256-byte string limit (every real container's layers are)."""
    layers = []
    for i in range(6):
        layer = tmp_path / ("layer-" + "x" * 80 + str(i))
        layer.mkdir()
        (layer / f"f{i}").write_text(str(i))
        (layer / "shadowed").write_text(str(i))
        layers.append(str(layer))
    lowerdir = ":".join(layers)
    assert len(lowerdir) > hostfs.FSCONFIG_VALUE_MAX
    fd = hostfs.mount_detached("overlay", [("lowerdir", lowerdir)])
    try:
        root = f"/proc/self/fd/{fd}"
        assert sorted(os.listdir(root)) == [*(f"f{i}" for i in range(6)), "shadowed"]
        assert Path(root, "shadowed").read_text() == "0"  # the first lowerdir is on top
    finally:
        os.close(fd)
