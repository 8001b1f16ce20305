"""imagestore/rootfs.py without root: docker cp's path rules, the stat header, the in-root view,
the tarballer's names, and extraction through the layer extractor (layers.extract_archive)."""

from __future__ import annotations

import base64
import io
import json
import os
import stat
import tarfile
from pathlib import Path

import pytest

from jockerd.imagestore import layers, rootfs


@pytest.mark.parametrize(
    ("path", "expected"),
    [("etc", "/etc"), ("/etc/", "/etc/"), ("/etc/.", "/etc/."), (".", "/."), ("/", "/"),
     ("/../../etc//passwd", "/etc/passwd"), ("a/b/../c/", "/a/c/")],
)  # fmt: skip
def test_archive_path_keeps_trailing_dot_and_slash(path, expected):
    assert rootfs.archive_path(path) == expected


@pytest.mark.parametrize(("path", "base"), [("/etc/", "etc"), ("/etc/.", "."), ("/", "/"), ("/a/b", "b")])
def test_path_base_is_gos(path, base):
    assert rootfs.path_base(path) == base


def test_go_file_mode_bits():
    assert rootfs.go_file_mode(stat.S_IFDIR | 0o755) == (1 << 31) | 0o755  # 2147484141
    assert rootfs.go_file_mode(stat.S_IFLNK | 0o777) == 134218239
    assert rootfs.go_file_mode(stat.S_IFREG | stat.S_ISUID | 0o755) == (1 << 23) | 0o755
    assert rootfs.go_file_mode(stat.S_IFCHR | 0o666) == (1 << 26) | (1 << 21) | 0o666
    assert rootfs.go_file_mode(stat.S_IFDIR | stat.S_ISVTX | 0o777) == (1 << 31) | (1 << 20) | 0o777


def test_stat_header_is_base64_json_in_gos_order():
    header = rootfs.format_path_stat(rootfs.PathStat("passwd", 12, 0o644, "2024-01-02T03:04:05Z", ""))
    raw = base64.b64decode(header).decode()
    assert raw == '{"name":"passwd","size":12,"mode":420,"mtime":"2024-01-02T03:04:05Z","linkTarget":""}'
    assert rootfs.parse_path_stat(header).name == "passwd"


def test_go_time_trims_nanoseconds(monkeypatch):
    import time

    with monkeypatch.context() as patched:
        patched.setenv("TZ", "UTC")
        time.tzset()
        assert rootfs.go_time(1_700_000_000_120_000_000) == "2023-11-14T22:13:20.12Z"
        assert rootfs.go_time(1_700_000_000_000_000_000) == "2023-11-14T22:13:20Z"
        patched.setenv("TZ", "CET-1")
        time.tzset()
        assert rootfs.go_time(1_700_000_000_000_000_000) == "2023-11-14T23:13:20+01:00"
    time.tzset()


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc/passwd").write_text("root:x:0:0\n")
    (root / "d/sub").mkdir(parents=True)
    (root / "d/sub/f").write_text("f\n")
    os.symlink("/etc/passwd", root / "abs")
    os.symlink("../../../../../outside", root / "d/up")
    (tmp_path / "outside").write_text("host secret\n")
    (tmp_path / "bind").mkdir()
    (tmp_path / "bind/inbind").write_text("b\n")
    return root


def view_of(root: Path, *binds: rootfs.BindMount) -> rootfs.RootView:
    return rootfs.RootView(os.open(root, os.O_PATH | os.O_DIRECTORY), list(binds))


def names(chunks) -> list[str]:
    with tarfile.open(fileobj=io.BytesIO(b"".join(chunks))) as tar:
        return tar.getnames()


def test_symlinks_resolve_in_root(tree: Path):
    view = view_of(tree)
    assert view.resolve("/abs", follow_final=True) == ("etc", "passwd")
    found = view.stat_path("/abs")
    assert found.is_symlink and found.link_target == "/etc/passwd"
    # A link climbing out stays inside: /outside of the container, which does not exist.
    assert view.stat_path("/d/up").link_target == "/outside"
    with pytest.raises(FileNotFoundError):
        view.resolve("/d/up", follow_final=True)


def test_archive_names_follow_the_request(tree: Path):
    view = view_of(tree)
    for path, expected in [
        ("/d", ["d", "d/sub", "d/sub/f", "d/up"]),
        ("/d/.", [".", "./sub", "./sub/f", "./up"]),
        ("/d/sub/f", ["f"]),
        ("/abs", ["abs"]),
    ]:
        found = view.stat_path(rootfs.archive_path(path))
        assert names(view.archive(rootfs.archive_path(path), found)) == expected, path
    assert names(view.export()) == ["abs", "d", "d/sub", "d/sub/f", "d/up", "etc", "etc/passwd"]


def test_tar_ends_like_gos(tree: Path):
    view = view_of(tree)
    data = b"".join(view.archive("/etc/passwd", view.stat_path("/etc/passwd")))
    assert len(data) == 2048  # header, one data block, two zero blocks: no 10 KiB record


def test_bind_mounts_are_read_through_their_source(tree: Path, tmp_path: Path):
    (tree / "mnt").mkdir()
    view = view_of(tree, rootfs.BindMount("/mnt/b", str(tmp_path / "bind")))
    assert view.stat_path("/mnt/b/inbind").size == 2
    assert "mnt/b/inbind" in [n.lstrip("/") for n in names(view.archive("/", view.stat_path("/")))]
    assert view.bind_for(("mnt", "b", "x")).source == str(tmp_path / "bind")


def make_tar(*entries: tuple[str, str, str]) -> io.BytesIO:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for name, kind, payload in entries:
            info = tarfile.TarInfo(name)
            info.uid, info.gid = os.getuid(), os.getgid()
            if kind == "file":
                info.size = len(payload)
                tar.addfile(info, io.BytesIO(payload.encode()))
            else:
                info.type, info.linkname = (
                    (tarfile.SYMTYPE if kind == "symlink" else tarfile.LNKTYPE),
                    payload,
                )
                tar.addfile(info)
    out.seek(0)
    return out


def test_extract_stays_in_root(tree: Path, tmp_path: Path):
    root_fd = os.open(tree, os.O_PATH | os.O_DIRECTORY)
    owner = (os.getuid(), os.getgid())
    hostile = make_tar(
        ("/abs-name", "file", "1"),
        ("esc", "symlink", "../../../.."),
        ("esc/" + tmp_path.name + "-pwned", "file", "2"),
        ("pw", "hardlink", "/sub/f"),  # relative to the extraction point, as moby's
        (".wh.kept", "file", "3"),
    )
    layers.extract_archive(hostile, root_fd, ("d",), owner=owner)
    assert (tree / "d/abs-name").read_text() == "1"
    assert (tree / (tmp_path.name + "-pwned")).read_text() == "2"  # at the container's root
    assert not (tmp_path.parent / (tmp_path.name + "-pwned")).exists()
    assert os.path.samefile(tree / "d/pw", tree / "d/sub/f")
    assert (tree / "d/.wh.kept").read_text() == "3"  # no whiteouts in docker cp
    with pytest.raises(layers.LayerError):
        layers.extract_archive(make_tar(("../x", "file", "x")), root_fd, ("d",), owner=owner)
    with pytest.raises(
        layers.LayerError, match='cannot overwrite directory "/d/sub" with non-directory "/d"'
    ):
        layers.extract_archive(make_tar(("sub", "file", "x")), root_fd, ("d",), owner=owner,
                               no_overwrite_dir_non_dir=True)  # fmt: skip
    os.close(root_fd)
    assert json.loads(json.dumps(rootfs.clean_path("/../x"))) == "/x"
