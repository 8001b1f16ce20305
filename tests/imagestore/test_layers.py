"""Layer unpacking and the layer store.

Most tests need root (chown, mknod, trusted.* xattrs). Every hostile layer is checked against
sentinels outside the target: an `outside` directory next to it, a unique /tmp/jocker-escape-<uuid>
path and the state of /etc, so "rejected" and "contained" are both proven, never assumed.
"""

from __future__ import annotations

import errno
import gzip
import hashlib
import io
import os
import random
import shutil
import stat
import subprocess
import tarfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import zstandard

from jockerd.errors import InvalidParameterError, NotFoundError, UnsupportedError
from jockerd.imagestore import layers
from jockerd.imagestore.layers import (
    AppliedLayer,
    LayerError,
    LayerRecord,
    LayerStore,
    apply_layer,
    chain_id,
    detect_compression,
    open_decompressed,
)

MTIME = 1_600_000_000
EMPTY_LAYER_DIFF_ID = "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef"
# VFS_CAP_REVISION_2 with the effective flag, permitted = inheritable = {CAP_NET_BIND_SERVICE}.
CAP_NET_BIND_SERVICE = bytes.fromhex("0100000200040000000400000000000000000000")


class Layer:
    """A layer tar built in memory entry by entry, in any order a hostile registry could choose."""

    def __init__(self) -> None:
        self._buffer = io.BytesIO()
        # Open across builder calls; bytes() closes it.
        self._tar = tarfile.open(fileobj=self._buffer, mode="w", format=tarfile.PAX_FORMAT)  # noqa: SIM115

    def _add(self, info: tarfile.TarInfo, data: bytes = b"", **attrs: object) -> Layer:
        info.mtime = MTIME
        info.mode = 0o644
        for key, value in attrs.items():
            setattr(info, key, value)
        info.size = len(data)
        self._tar.addfile(info, io.BytesIO(data) if data else None)
        return self

    def file(self, name: str, data: bytes = b"", **attrs: object) -> Layer:
        return self._add(tarfile.TarInfo(name), data, **attrs)

    def dir(self, name: str, **attrs: object) -> Layer:
        info = tarfile.TarInfo(name)
        info.type = tarfile.DIRTYPE
        return self._add(info, **{"mode": 0o755, **attrs})

    def symlink(self, name: str, target: str, **attrs: object) -> Layer:
        info = tarfile.TarInfo(name)
        info.type = tarfile.SYMTYPE
        info.linkname = target
        return self._add(info, **{"mode": 0o777, **attrs})

    def hardlink(self, name: str, target: str) -> Layer:
        info = tarfile.TarInfo(name)
        info.type = tarfile.LNKTYPE
        info.linkname = target
        return self._add(info)

    def node(self, name: str, kind: bytes, major: int = 0, minor: int = 0, **attrs: object) -> Layer:
        info = tarfile.TarInfo(name)
        info.type = kind
        info.devmajor, info.devminor = major, minor
        return self._add(info, **attrs)

    def typed(self, name: str, kind: bytes) -> Layer:
        info = tarfile.TarInfo(name)
        info.type = kind
        return self._add(info)

    def raw_pax(self, records: dict[bytes, bytes]) -> Layer:
        """A PAX extended header with raw byte values for the next entry: tarfile's writer only
        takes UTF-8 text, but xattrs such as security.capability are binary."""
        body = b""
        for key, value in records.items():
            payload = b" " + key + b"=" + value + b"\n"
            length = len(payload)
            while len(str(length)) + len(payload) != length:
                length = len(str(length)) + len(payload)
            body += str(length).encode() + payload
        info = tarfile.TarInfo("././@PaxHeader")
        info.type = tarfile.XHDTYPE
        info.size = len(body)
        self._tar.addfile(info, io.BytesIO(body))
        return self

    def bytes(self) -> bytes:
        self._tar.close()
        return self._buffer.getvalue()


@pytest.fixture
def target(tmp_path: Path) -> Path:
    path = tmp_path / "layer"
    path.mkdir()
    return path


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A host directory next to the target that no layer may touch."""
    path = tmp_path / "outside"
    path.mkdir()
    (path / "secret").write_text("host data")
    return path


@pytest.fixture
def escape() -> Iterator[Path]:
    """A unique host path a hostile layer aims at; it must never exist."""
    path = Path(f"/tmp/jocker-escape-{uuid.uuid4().hex}")
    yield path
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path)


@pytest.fixture(autouse=True)
def etc_untouched() -> Iterator[None]:
    def snapshot() -> tuple[object, ...]:
        st = os.stat("/etc/passwd")
        return sorted(os.listdir("/etc")), st.st_ino, st.st_nlink, st.st_mtime_ns, st.st_size

    before = snapshot()
    yield
    assert snapshot() == before, "/etc changed"


def outside_untouched(outside: Path) -> None:
    assert sorted(p.name for p in outside.iterdir()) == ["secret"]
    assert (outside / "secret").read_text() == "host data"
    assert os.stat(outside / "secret").st_nlink == 1
    assert os.listxattr(outside) == []


def apply(data: bytes, target: Path) -> AppliedLayer:
    return apply_layer(io.BytesIO(data), target)


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


# -- pure functions -----------------------------------------------------------------------------


def test_detect_compression() -> None:
    assert detect_compression(gzip.compress(b"x")[:4]) == "gzip"
    assert detect_compression(zstandard.ZstdCompressor().compress(b"x")[:4]) == "zstd"
    assert detect_compression(b"\0" * 4) == "none"
    assert detect_compression(b"") == "none"
    assert detect_compression(b"\x1f") == "none"


def test_chain_id_known_vectors() -> None:
    # Computed by hand: printf '%s %s' "$parent" "$diff" | sha256sum
    hello = "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
    assert chain_id(None, EMPTY_LAYER_DIFF_ID) == EMPTY_LAYER_DIFF_ID
    first = chain_id(EMPTY_LAYER_DIFF_ID, hello)
    assert first == "sha256:4f7d145b49775d3f8b9ae2dabf2e4d368e748f6695e12cd5902305eff78f2447"
    assert chain_id(first, EMPTY_LAYER_DIFF_ID) == (
        "sha256:a825bba9bc96c88cecdb24c11b428e987441a3e8bc6426163d53581ad1fedd43"
    )


class Trickle(io.RawIOBase):
    """A pipe-like stream that returns at most 3 bytes per read."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        size = 3 if size is None or size < 0 else min(size, 3)
        chunk, self._data = self._data[:size], self._data[size:]
        return chunk


@pytest.mark.parametrize("compress", [lambda d: d, gzip.compress, zstandard.ZstdCompressor().compress])
def test_open_decompressed_sniffs_short_reads(compress) -> None:  # type: ignore[no-untyped-def]
    payload = os.urandom(5000)
    out = open_decompressed(Trickle(compress(payload)))  # type: ignore[arg-type]
    assert b"".join(iter(lambda: out.read(1000), b"")) == payload


def test_openat2_missing_is_reported_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_openat2(*args: object, **kwargs: object) -> int:
        raise OSError(errno.ENOSYS, os.strerror(errno.ENOSYS))

    layers.check_openat2.cache_clear()
    monkeypatch.setattr(layers, "_openat2", no_openat2)
    try:
        with pytest.raises(UnsupportedError, match=r"kernel lacks openat2 \(Linux >= 5.6 needed\)"):
            layers.check_openat2()
    finally:
        monkeypatch.undo()
        layers.check_openat2.cache_clear()
    layers.check_openat2()


# -- faithful unpacking -------------------------------------------------------------------------


@pytest.mark.root
def test_tree_round_trips_and_digests_cover_the_whole_stream(target: Path) -> None:
    data = (
        Layer()
        .dir("./")
        .dir("etc")
        .file("etc/hostname", b"box\n")
        .file("./usr//bin/tool", b"#!/bin/sh\n", mode=0o755)
        .symlink("bin", "usr/bin")
        .symlink("abs", "/usr/bin/tool")
        .bytes()
    )
    data += b"\0" * 4096  # extra padding after the end blocks belongs to the diff_id too
    applied = apply(data, target)
    assert applied == AppliedLayer(diff_id=sha256(data), size=14, tar_size=len(data))
    assert (target / "etc/hostname").read_bytes() == b"box\n"
    assert (target / "usr/bin/tool").read_bytes() == b"#!/bin/sh\n"
    assert stat.S_IMODE(os.stat(target / "usr/bin/tool").st_mode) == 0o755
    assert stat.S_IMODE(os.stat(target / "usr").st_mode) == 0o755  # implicit parent
    assert os.readlink(target / "bin") == "usr/bin"
    assert os.readlink(target / "abs") == "/usr/bin/tool"


@pytest.mark.root
def test_empty_layer_has_the_well_known_diff_id(target: Path) -> None:
    applied = apply(b"\0" * 1024, target)
    assert applied == AppliedLayer(diff_id=EMPTY_LAYER_DIFF_ID, size=0, tar_size=1024)
    assert os.listdir(target) == []


@pytest.mark.root
def test_compressed_layers_have_the_uncompressed_diff_id(tmp_path: Path) -> None:
    payload = os.urandom(300_000)
    data = Layer().dir("d").file("d/f", payload).bytes()
    half = len(data) // 2
    zstd = zstandard.ZstdCompressor()
    variants = {
        "none": data,
        "gzip": gzip.compress(data),
        "zstd": zstd.compress(data),
        "zstd-frames": zstd.compress(data[:half]) + zstd.compress(data[half:]),
    }
    for kind, blob in variants.items():
        out = tmp_path / kind
        out.mkdir()
        applied = apply(blob, out)
        assert applied.diff_id == sha256(data), kind
        assert applied.tar_size == len(data), kind
        assert (out / "d/f").read_bytes() == payload, kind


@pytest.mark.root
def test_metadata_is_kept(target: Path) -> None:
    data = (
        Layer()
        .dir("srv", mode=0o1777, uid=1234, gid=5678, pax_headers={"mtime": "1500000000.987654321"})
        .file("srv/su", b"x", mode=0o4755, uid=1234, gid=5678, pax_headers={"mtime": "1700000000.123456789"})
        .file("srv/sg", b"y", mode=0o2711)
        .symlink("srv/ln", "su", uid=1234, gid=5678)
        .node("srv/null", tarfile.CHRTYPE, 1, 3, mode=0o666)
        .node("srv/loop", tarfile.BLKTYPE, 7, 0, mode=0o660, gid=6)
        .node("srv/fifo", tarfile.FIFOTYPE, mode=0o620, uid=1234)
        .bytes()
    )
    apply(data, target)
    srv = os.stat(target / "srv")
    assert (stat.S_IMODE(srv.st_mode), srv.st_uid, srv.st_gid) == (0o1777, 1234, 5678)
    assert srv.st_mtime_ns == 1_500_000_000_987_654_321  # set after its children were written
    su = os.stat(target / "srv/su")
    assert (stat.S_IMODE(su.st_mode), su.st_uid, su.st_gid) == (0o4755, 1234, 5678)
    assert su.st_mtime_ns == 1_700_000_000_123_456_789
    assert stat.S_IMODE(os.stat(target / "srv/sg").st_mode) == 0o2711
    assert os.stat(target / "srv/sg").st_mtime_ns == MTIME * 10**9
    ln = os.lstat(target / "srv/ln")
    assert (ln.st_uid, ln.st_gid, ln.st_mtime_ns) == (1234, 5678, MTIME * 10**9)
    null = os.lstat(target / "srv/null")
    assert stat.S_ISCHR(null.st_mode) and (os.major(null.st_rdev), os.minor(null.st_rdev)) == (1, 3)
    assert stat.S_IMODE(null.st_mode) == 0o666 and null.st_mtime_ns == MTIME * 10**9
    loop = os.lstat(target / "srv/loop")
    assert stat.S_ISBLK(loop.st_mode) and (os.major(loop.st_rdev), os.minor(loop.st_rdev)) == (7, 0)
    assert (stat.S_IMODE(loop.st_mode), loop.st_gid) == (0o660, 6)
    fifo = os.lstat(target / "srv/fifo")
    assert stat.S_ISFIFO(fifo.st_mode) and (stat.S_IMODE(fifo.st_mode), fifo.st_uid) == (0o620, 1234)


@pytest.mark.root
def test_xattrs_are_kept_byte_exact(target: Path) -> None:
    odd = b"\xff\xfe\x00\n=\xed\xa0\x80"  # not UTF-8, a NUL, a newline, an encoded surrogate
    data = (
        Layer()
        .raw_pax(
            {
                b"SCHILY.xattr.security.capability": CAP_NET_BIND_SERVICE,
                b"SCHILY.xattr.user.odd": odd,
                b"SCHILY.xattr.user.foo": b"bar",
            }
        )
        .file("ping", b"\x7fELF", mode=0o755, uid=1234)
        .dir("d", pax_headers={"SCHILY.xattr.user.dir": "yes"})
        .bytes()
    )
    apply(data, target)
    assert os.getxattr(target / "ping", "security.capability") == CAP_NET_BIND_SERVICE
    assert os.getxattr(target / "ping", "user.odd") == odd
    assert os.getxattr(target / "ping", "user.foo") == b"bar"
    assert os.stat(target / "ping").st_uid == 1234  # chown came before the capability
    assert os.getxattr(target / "d", "user.dir") == b"yes"


@pytest.mark.root
@pytest.mark.skipif(shutil.which("tar") is None, reason="needs GNU tar")
def test_gnu_tar_xattrs_interoperate(tmp_path: Path, target: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "ping").write_bytes(b"\x7fELF")
    os.setxattr(src / "ping", "user.foo", b"bar")
    os.setxattr(src / "ping", "security.capability", CAP_NET_BIND_SERVICE)
    blob = tmp_path / "layer.tar"
    subprocess.run(
        ["tar", "--xattrs", "--xattrs-include=*", "-cf", str(blob), "-C", str(src), "."], check=True
    )
    apply(blob.read_bytes(), target)
    assert os.getxattr(target / "ping", "user.foo") == b"bar"
    assert os.getxattr(target / "ping", "security.capability") == CAP_NET_BIND_SERVICE


@pytest.mark.root
def test_hardlinks_share_the_inode_and_count_once(target: Path) -> None:
    data = (
        Layer()
        .file("a", b"12345")
        .hardlink("b", "a")
        .hardlink("/c", "/a")  # absolute names count from the layer root
        .symlink("s", "/nowhere")
        .hardlink("t", "s")
        .bytes()
    )
    applied = apply(data, target)
    assert applied.size == 5
    inode = os.stat(target / "a").st_ino
    assert os.stat(target / "b").st_ino == inode == os.stat(target / "c").st_ino
    assert os.stat(target / "a").st_nlink == 3
    # A hardlink to a symlink links the symlink itself, not what it points to.
    assert os.path.islink(target / "t") and os.readlink(target / "t") == "/nowhere"
    assert os.lstat(target / "t").st_ino == os.lstat(target / "s").st_ino


@pytest.mark.root
def test_large_random_payload_round_trips(tmp_path: Path, target: Path) -> None:
    big = os.urandom(24 * 1024 * 1024 + 17)
    small = {f"many/f{i}": os.urandom(i * 37) for i in range(200)}
    layer = Layer().file("big", big)
    for name, content in small.items():
        layer.file(name, content)
    data = gzip.compress(layer.bytes(), compresslevel=1)
    applied = apply(data, target)
    assert hashlib.sha256((target / "big").read_bytes()).digest() == hashlib.sha256(big).digest()
    for name, content in small.items():
        assert (target / name).read_bytes() == content
    assert applied.size == len(big) + sum(map(len, small.values()))


# -- later entries replace earlier ones, as Docker's unpacker does ------------------------------


@pytest.mark.root
def test_symlink_replaced_by_dir(target: Path, outside: Path) -> None:
    apply(Layer().symlink("d", str(outside)).dir("d").file("d/f", b"in").bytes(), target)
    assert not os.path.islink(target / "d") and (target / "d/f").read_bytes() == b"in"
    outside_untouched(outside)


@pytest.mark.root
def test_dir_replaced_by_file(target: Path) -> None:
    apply(Layer().dir("d").file("d/f", b"x").dir("d/sub").file("d", b"now a file").bytes(), target)
    assert (target / "d").read_bytes() == b"now a file"


@pytest.mark.root
def test_dir_over_dir_merges_and_file_over_file_replaces(target: Path) -> None:
    data = Layer().dir("d").file("d/a", b"1").dir("d", mode=0o700).file("d/a", b"2").bytes()
    apply(data, target)
    assert (target / "d/a").read_bytes() == b"2"
    assert stat.S_IMODE(os.stat(target / "d").st_mode) == 0o700


# -- whiteouts ----------------------------------------------------------------------------------


@pytest.mark.root
def test_whiteouts_become_overlay_whiteouts(target: Path) -> None:
    data = (
        Layer()
        .dir("etc")
        .file("etc/.wh.motd")
        .file("deep/er/.wh.gone")  # parents are created as for any entry
        .dir("opt")
        .file("opt/.wh..wh..opq")
        .file("opt/new", b"n")
        .file("var/.wh..wh..opq")  # opaque marker before (and without) its directory entry
        .bytes()
    )
    applied = apply(data, target)
    assert applied.size == 1  # whiteouts are not content
    for path in ("etc/motd", "deep/er/gone"):
        st = os.lstat(target / path)
        assert stat.S_ISCHR(st.st_mode) and st.st_rdev == os.makedev(0, 0), path
    assert not os.path.lexists(target / "etc/.wh.motd")
    assert os.getxattr(target / "opt", "trusted.overlay.opaque") == b"y"
    assert os.getxattr(target / "var", "trusted.overlay.opaque") == b"y"
    assert sorted(os.listdir(target / "opt")) == ["new"]


@pytest.mark.root
def test_whiteouts_hide_lower_layers_in_a_real_overlay(tmp_path: Path) -> None:
    lower = tmp_path / "lower"
    upper = tmp_path / "upper"
    merged = tmp_path / "merged"
    for path in (lower, upper, merged):
        path.mkdir()
    apply(Layer().file("a/keep", b"k").file("a/gone", b"g").file("b/old", b"o").bytes(), lower)
    apply(Layer().dir("a").file("a/.wh.gone").dir("b").file("b/.wh..wh..opq").file("b/new").bytes(), upper)
    result = subprocess.run(
        ["mount", "-t", "overlay", "overlay", "-o", f"lowerdir={upper}:{lower}", str(merged)],
        capture_output=True,
    )
    if result.returncode != 0:
        pytest.skip(f"overlay mount unavailable: {result.stderr.decode().strip()}")
    try:
        assert sorted(os.listdir(merged / "a")) == ["keep"]
        assert sorted(os.listdir(merged / "b")) == ["new"]
    finally:
        subprocess.run(["umount", str(merged)], check=True)


MALFORMED_WHITEOUTS: dict[str, Callable[[], Layer]] = {
    "empty name": lambda: Layer().file("d/.wh."),
    "aufs meta": lambda: Layer().file("d/.wh..wh.plnk"),
    "bare meta prefix": lambda: Layer().file(".wh..wh."),
    "dot": lambda: Layer().file("d/.wh.."),
    "dotdot": lambda: Layer().file("d/.wh..."),
    "directory": lambda: Layer().dir("d/.wh.x"),
    "symlink": lambda: Layer().symlink("d/.wh.x", "y"),
    "hardlink": lambda: Layer().file("y").hardlink("d/.wh.x", "y"),
    "opaque as directory": lambda: Layer().dir("d/.wh..wh..opq"),
    "used as a parent": lambda: Layer().file("d/.wh.x/child"),
    "same name later": lambda: Layer().file("d/.wh.x").file("d/x", b"back"),
    "same name earlier": lambda: Layer().file("d/x", b"here").file("d/.wh.x"),
}


@pytest.mark.root
@pytest.mark.parametrize("case", sorted(MALFORMED_WHITEOUTS))
def test_malformed_whiteouts_are_rejected(case: str, target: Path) -> None:
    with pytest.raises(LayerError, match=r"^invalid layer: .*whiteout"):
        apply(MALFORMED_WHITEOUTS[case]().bytes(), target)


# -- hostile layers: rejected or contained, never on the host -----------------------------------


@pytest.mark.root
@pytest.mark.parametrize("prefix", ["../", "a/../../", "./a/../", "/../../../"])
def test_dotdot_is_rejected(prefix: str, target: Path, outside: Path, escape: Path) -> None:
    name = f"{prefix}{escape.name}"
    with pytest.raises(LayerError, match=r"^invalid layer: path escapes the layer root: "):
        apply(Layer().file(name, b"pwned").bytes(), target)
    assert not escape.exists() and not (target.parent / escape.name).exists()
    outside_untouched(outside)


@pytest.mark.root
def test_dotdot_in_hardlink_target_is_rejected(target: Path) -> None:
    with pytest.raises(LayerError, match=r"path escapes the layer root: \.\./\.\./etc/passwd"):
        apply(Layer().hardlink("pw", "../../etc/passwd").bytes(), target)


@pytest.mark.root
def test_absolute_names_land_inside(target: Path, escape: Path) -> None:
    apply(Layer().file(str(escape), b"contained").bytes(), target)
    assert not os.path.lexists(escape)
    assert (target / str(escape).lstrip("/")).read_bytes() == b"contained"


@pytest.mark.root
def test_write_through_symlink_to_host_dir(target: Path, outside: Path) -> None:
    # In-root, "evil" points at target/<outside's path>, which does not exist: nothing to write into.
    with pytest.raises(LayerError, match="evil"):
        apply(Layer().symlink("evil", str(outside)).file("evil/file", b"pwned").bytes(), target)
    outside_untouched(outside)


@pytest.mark.root
def test_write_through_symlink_to_host_dir_lands_in_its_in_root_twin(target: Path, outside: Path) -> None:
    twin = str(outside).lstrip("/")
    apply(Layer().dir(twin).symlink("evil", str(outside)).file("evil/file", b"in").bytes(), target)
    assert (target / twin / "file").read_bytes() == b"in"
    outside_untouched(outside)


@pytest.mark.root
def test_write_through_symlink_climbing_out(target: Path, escape: Path) -> None:
    data = Layer().symlink("evil", "../../../../../../../..").file(f"evil/tmp/{escape.name}", b"in").bytes()
    apply(data, target)
    assert not os.path.lexists(escape)
    assert (target / "tmp" / escape.name).read_bytes() == b"in"


@pytest.mark.root
def test_symlink_chains(target: Path, outside: Path, escape: Path) -> None:
    data = (
        Layer()
        .symlink("a", "b")
        .symlink("b", "c/../c")
        .symlink("c", str(outside))
        .file("a/pwned", b"x")
        .bytes()
    )
    with pytest.raises(LayerError):
        apply(data, target)
    outside_untouched(outside)

    relative = target.parent / "relative"
    relative.mkdir()
    data = (
        Layer()
        .dir("tmp")
        .dir("x/y")
        .symlink("x/y/up", "../../../../../../..")
        .symlink("l2", "x/y/up/tmp")
        .symlink("l3", "l2")
        .file(f"l3/{escape.name}", b"in")
        .bytes()
    )
    apply(data, relative)
    assert not os.path.lexists(escape)
    assert (relative / "tmp" / escape.name).read_bytes() == b"in"


@pytest.mark.root
def test_symlink_loops_are_rejected(target: Path) -> None:
    with pytest.raises(LayerError):
        apply(Layer().symlink("a", "b").symlink("b", "a").file("a/x").bytes(), target)


@pytest.mark.root
def test_magic_links_are_not_followed(target: Path, escape: Path) -> None:
    data = Layer().symlink("p", "/proc/self/root").file(f"p/tmp/{escape.name}", b"x").bytes()
    with pytest.raises(LayerError):
        apply(data, target)
    assert not os.path.lexists(escape)


@pytest.mark.root
def test_overwriting_a_symlink_replaces_it_not_its_target(target: Path, outside: Path) -> None:
    secret = outside / "secret"
    data = (
        Layer()
        .symlink("f", str(secret))
        .file("f", b"pwned")
        .symlink("g", str(secret))
        .file("src", b"s")
        .hardlink("g", "src")
        .symlink("h", str(outside))
        .dir("h", mode=0o700)
        .symlink("n", str(secret))
        .node("n", tarfile.FIFOTYPE)
        .bytes()
    )
    apply(data, target)
    assert (target / "f").read_bytes() == b"pwned" and not os.path.islink(target / "f")
    assert os.stat(target / "g").st_ino == os.stat(target / "src").st_ino
    assert stat.S_ISDIR(os.lstat(target / "h").st_mode)
    assert stat.S_ISFIFO(os.lstat(target / "n").st_mode)
    outside_untouched(outside)
    assert stat.S_IMODE(os.stat(outside).st_mode) == 0o755


@pytest.mark.root
@pytest.mark.parametrize("linkname", ["/etc/passwd", "etc/passwd", "/etc/../etc/passwd"])
def test_hardlink_to_host_file_is_rejected(linkname: str, target: Path) -> None:
    with pytest.raises(LayerError):
        apply(Layer().hardlink("pw", linkname).bytes(), target)
    assert not os.path.lexists(target / "pw")


@pytest.mark.root
def test_hardlink_to_absolute_path_means_the_layer_copy(target: Path) -> None:
    apply(
        Layer().file("etc/passwd", b"root:x:0:0::/:/bin/sh\n").hardlink("pw", "/etc/passwd").bytes(), target
    )
    assert os.stat(target / "pw").st_ino == os.stat(target / "etc/passwd").st_ino
    assert os.stat(target / "pw").st_ino != os.stat("/etc/passwd").st_ino


@pytest.mark.root
@pytest.mark.parametrize("via", ["outside", "etc"])
def test_hardlink_through_symlinked_parent(via: str, target: Path, outside: Path) -> None:
    if via == "outside":
        data = Layer().symlink("evil", str(outside)).hardlink("stolen", "evil/secret").bytes()
    else:
        data = Layer().symlink("evil", "/etc").hardlink("stolen", "evil/passwd").bytes()
    with pytest.raises(LayerError, match="hardlink target not in the layer"):
        apply(data, target)
    assert not os.path.lexists(target / "stolen")
    outside_untouched(outside)


@pytest.mark.root
@pytest.mark.parametrize(
    "entry",
    ["evil/.wh.secret", "evil/.wh..wh..opq", "evil/node", "evil/dir/", "evil/ln"],
)
def test_other_entry_kinds_through_symlink_to_host_dir(entry: str, tmp_path: Path, outside: Path) -> None:
    target = tmp_path / "t"
    target.mkdir()
    layer = Layer().symlink("evil", str(outside))
    if entry.endswith("/"):
        layer.dir(entry)
    elif entry.endswith("node"):
        layer.node(entry, tarfile.CHRTYPE, 1, 3)
    elif entry.endswith("ln"):
        layer.symlink(entry, "/etc/shadow")
    else:
        layer.file(entry)
    with pytest.raises(LayerError):
        apply(layer.bytes(), target)
    outside_untouched(outside)


@pytest.mark.root
def test_root_entry_must_be_a_directory(target: Path) -> None:
    with pytest.raises(LayerError, match="replaces the layer root"):
        apply(Layer().symlink("./", "/etc").bytes(), target)
    assert os.path.isdir(target) and not os.path.islink(target)


@pytest.mark.root
@pytest.mark.parametrize(
    ("kind", "message"),
    [(tarfile.GNUTYPE_SPARSE, "sparse files are not supported"), (b"V", "unsupported tar entry type")],
)
def test_unknown_entry_types_are_rejected(kind: bytes, message: str, target: Path) -> None:
    with pytest.raises(LayerError, match=message):
        apply(Layer().typed("x", kind).bytes(), target)


@pytest.mark.root
def test_contiguous_files_are_regular_files(target: Path) -> None:
    apply(Layer().file("c", b"data", type=tarfile.CONTTYPE).bytes(), target)
    assert (target / "c").read_bytes() == b"data"


@pytest.mark.root
def test_overlay_xattrs_from_the_tar_are_rejected(target: Path) -> None:
    data = Layer().dir("d", pax_headers={"SCHILY.xattr.trusted.overlay.redirect": "/etc"}).bytes()
    with pytest.raises(LayerError, match=r"reserved xattr trusted\.overlay\.redirect: d"):
        apply(data, target)


@pytest.mark.root
@pytest.mark.parametrize(
    "mangle",
    [
        lambda data: data[: len(data) // 2],  # truncated tar
        lambda data: gzip.compress(data)[:-20],  # truncated gzip
        lambda data: gzip.compress(data)[:10] + b"\0" * 50,  # corrupt gzip
        lambda data: zstandard.ZstdCompressor().compress(data)[:-10],  # truncated zstd
        lambda data: b"not a tar at all" * 100,
        lambda data: b"",
    ],
)
def test_corrupt_streams_are_layer_errors(mangle, target: Path) -> None:  # type: ignore[no-untyped-def]
    data = Layer().file("f", os.urandom(100_000)).bytes()
    with pytest.raises(LayerError, match=r"^invalid layer: "):
        apply(mangle(data), target)


@pytest.mark.root
def test_target_must_be_empty(target: Path) -> None:
    (target / "x").touch()
    with pytest.raises(ValueError, match="not empty"):
        apply(b"\0" * 1024, target)


# -- the store ----------------------------------------------------------------------------------


@pytest.fixture
def store(tmp_path: Path) -> LayerStore:
    return LayerStore(tmp_path / "layers")


def leftovers(store: LayerStore) -> list[str]:
    return sorted(name for name in os.listdir(store.root) if name.startswith("tmp-"))


@pytest.mark.root
def test_store_creates_persists_and_lists(store: LayerStore, tmp_path: Path) -> None:
    base = Layer().file("etc/os-release", b"ID=test\n").bytes()
    top = gzip.compress(Layer().file("etc/.wh.os-release").file("app", b"app").bytes())
    first = store.create(None, io.BytesIO(base))
    assert first == LayerRecord(
        chain_id=sha256(base), diff_id=sha256(base), parent=None, size=8, tar_size=len(base)
    )
    second = store.create(first.chain_id, io.BytesIO(top))
    assert second.parent == first.chain_id
    assert second.chain_id == chain_id(first.chain_id, second.diff_id)
    assert second.diff_id == sha256(gzip.decompress(top))
    assert (store.diff_dir(first.chain_id) / "etc/os-release").read_bytes() == b"ID=test\n"
    assert (store.diff_dir(second.chain_id) / "app").read_bytes() == b"app"
    assert store.diff_dir(second.chain_id) == store.root / second.chain_id.removeprefix("sha256:") / "diff"
    assert stat.S_IMODE(os.stat(store.root).st_mode) == 0o700

    reopened = LayerStore(tmp_path / "layers")
    assert reopened.get(second.chain_id) == second
    assert reopened.list() == sorted([first, second], key=lambda r: r.chain_id)
    assert reopened.get(chain_id(second.chain_id, EMPTY_LAYER_DIFF_ID)) is None
    assert leftovers(store) == []


class Unreadable(io.RawIOBase):
    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        raise AssertionError("the stream was read")


@pytest.mark.root
def test_store_unpacks_each_chain_once(store: LayerStore) -> None:
    data = Layer().file("f", b"once").bytes()
    first = store.create(None, io.BytesIO(data))
    diff = store.diff_dir(first.chain_id)
    marker_inode = os.stat(diff / "f").st_ino
    (diff / "marker").touch()

    # Without the diff_id the stream must be read to learn it; the copy is then dropped.
    assert store.create(None, io.BytesIO(data)) == first
    # With it, the existing layer is returned without reading at all.
    assert store.create(None, Unreadable(), expected_diff_id=first.diff_id) == first  # type: ignore[arg-type]
    assert os.stat(diff / "f").st_ino == marker_inode and (diff / "marker").exists()
    assert leftovers(store) == [] and len(store.list()) == 1


@pytest.mark.root
def test_store_diff_id_mismatch_leaves_nothing(store: LayerStore) -> None:
    data = Layer().file("f", b"real").bytes()
    claimed = sha256(b"something else")
    with pytest.raises(LayerError, match=f"^layer diff_id mismatch: expected {claimed}, got {sha256(data)}$"):
        store.create(None, io.BytesIO(data), expected_diff_id=claimed)
    assert os.listdir(store.root) == []


@pytest.mark.root
def test_store_hostile_layer_leaves_nothing(store: LayerStore, outside: Path) -> None:
    data = Layer().dir("d").file("d/f", b"x").symlink("evil", str(outside)).file("evil/x").bytes()
    with pytest.raises(LayerError):
        store.create(None, io.BytesIO(data))
    assert os.listdir(store.root) == []
    outside_untouched(outside)


@pytest.mark.root
def test_store_requires_the_parent(store: LayerStore) -> None:
    with pytest.raises(NotFoundError, match="parent layer not found"):
        store.create(EMPTY_LAYER_DIFF_ID, io.BytesIO(b"\0" * 1024))


@pytest.mark.root
@pytest.mark.parametrize("bad", ["sha256:../../etc", "../x", "sha256:" + "A" * 64, "sha256:" + "0" * 63])
def test_store_rejects_malformed_ids(bad: str, store: LayerStore) -> None:
    with pytest.raises(InvalidParameterError):
        store.get(bad)
    with pytest.raises(InvalidParameterError):
        store.remove(bad)
    with pytest.raises(InvalidParameterError):
        store.create(None, io.BytesIO(b"\0" * 1024), expected_diff_id=bad)


def make_hostile_tree(root: Path, outside: Path) -> None:
    """Content a layer can hold, plus what only an admin can add, that must not stop removal."""
    (root / "locked").mkdir(parents=True)
    (root / "locked/file").write_text("x")
    (root / "to-outside").symlink_to(outside)
    (root / "to-secret").symlink_to(outside / "secret")
    os.link(root / "locked/file", root / "hard")
    os.chmod(root / "locked", 0)
    if shutil.which("chattr"):
        (root / "frozen").mkdir()
        (root / "frozen/file").write_text("immutable")
        subprocess.run(["chattr", "+i", str(root / "frozen/file")], check=True)
        subprocess.run(["chattr", "+a", str(root / "frozen")], check=True)


@pytest.mark.root
def test_store_remove(store: LayerStore, outside: Path) -> None:
    record = store.create(None, io.BytesIO(Layer().symlink("up", "/").file("f").bytes()))
    make_hostile_tree(store.diff_dir(record.chain_id) / "extra", outside)
    store.remove(record.chain_id)
    assert store.get(record.chain_id) is None and os.listdir(store.root) == []
    store.remove(record.chain_id)  # missing is fine
    outside_untouched(outside)


@pytest.mark.root
def test_cleanup_incomplete(store: LayerStore, outside: Path) -> None:
    kept = store.create(None, io.BytesIO(b"\0" * 1024))
    make_hostile_tree(store.root / "tmp-crashed" / "diff", outside)
    (store.root / "tmp-empty").mkdir()
    (store.root / "tmp-file").touch()
    assert store.cleanup_incomplete() == 3
    assert os.listdir(store.root) == [kept.chain_id.removeprefix("sha256:")]
    assert store.cleanup_incomplete() == 0
    outside_untouched(outside)


@pytest.mark.root
def test_symlink_in_one_layer_used_by_the_next(store: LayerStore, escape: Path) -> None:
    escape.mkdir()
    lower = store.create(None, io.BytesIO(Layer().symlink("lnk", str(escape)).bytes()))
    upper = store.create(lower.chain_id, io.BytesIO(Layer().file("lnk/pwned", b"x").bytes()))
    assert os.listdir(escape) == []
    # Each layer is extracted standalone: the child has a real directory where its parent has a link.
    upper_diff = store.diff_dir(upper.chain_id)
    assert stat.S_ISDIR(os.lstat(upper_diff / "lnk").st_mode)
    assert (upper_diff / "lnk/pwned").read_bytes() == b"x"
    assert os.readlink(store.diff_dir(lower.chain_id) / "lnk") == str(escape)


def tree_state(root: Path, skip: Path) -> dict[str, tuple[object, ...]]:
    """Everything observable about a host tree: type, owner, mode, size, times, links, xattrs."""
    state = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if Path(dirpath, d) != skip]
        for name in [".", *dirnames, *filenames]:
            path = os.path.join(dirpath, name)
            st = os.lstat(path)
            xattrs = () if stat.S_ISLNK(st.st_mode) else tuple(sorted(os.listxattr(path)))
            state[path] = (st.st_mode, st.st_uid, st.st_size, st.st_mtime_ns, st.st_ino, st.st_nlink, xattrs)
    return state


@pytest.mark.root
def test_random_hostile_layers_stay_inside(tmp_path: Path, escape: Path) -> None:
    """Random sequences of entries aimed at the host: each layer is rejected or contained."""
    rng = random.Random(20240601)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_text("host data")
    targets = tmp_path / "targets"
    targets.mkdir()
    components = ["a", "b", "evil", "tmp", escape.name, "outside", "etc", "passwd", ".", "secret"]
    aims = [
        "/", "..", "../..", "../../../../../../..", "a", "a/b", "evil/..", str(outside), str(tmp_path),
        str(outside / "secret"), "/tmp", str(escape), "/etc", "/etc/passwd", "/proc/self/root",
        "/proc/self/cwd", "/proc/1/root", "evil/../../..",
    ]  # fmt: skip

    def name() -> str:
        path = "/".join(rng.choice(components) for _ in range(rng.randint(1, 4)))
        return ("/" if rng.random() < 0.3 else "") + path

    before = tree_state(tmp_path, skip=targets)
    outcomes = {"applied": 0, "rejected": 0}
    for round_ in range(300):
        layer = Layer()
        for _ in range(rng.randint(1, 12)):
            kind = rng.choice(["file", "dir", "symlink", "symlink", "hardlink", "fifo", "whiteout", "opaque"])
            if kind == "file":
                layer.file(name(), b"pwned", mode=rng.choice([0o644, 0o4755]))
            elif kind == "dir":
                layer.dir(name(), mode=rng.choice([0o755, 0o000, 0o1777]))
            elif kind == "symlink":
                layer.symlink(name(), rng.choice(aims))
            elif kind == "hardlink":
                layer.hardlink(name(), rng.choice([name(), *aims]))
            elif kind == "fifo":
                layer.node(name(), tarfile.FIFOTYPE)
            elif kind == "whiteout":
                layer.file(f"{name()}/.wh.{rng.choice([*components, '', '..'])}")
            else:
                layer.file(f"{name()}/.wh..wh..opq")
        target = targets / str(round_)
        target.mkdir()
        try:
            apply(layer.bytes(), target)
            outcomes["applied"] += 1
        except LayerError:
            outcomes["rejected"] += 1
        assert not os.path.lexists(escape), round_
        assert tree_state(tmp_path, skip=targets) == before, round_
    assert min(outcomes.values()) > 30, outcomes  # both paths were exercised
