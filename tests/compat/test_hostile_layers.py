"""Hostile layers through the real daemon: `docker load` of every set in images.testimages.HOSTILE.

For each set the host must be untouched: no `jocker-escape*` file appears in /tmp, next to any
directory above the data root or in the repository; /etc/passwd keeps its inode, mtime and link
count; the whiteout victim /tmp/jocker-victim is still the same regular file; /tmp's xattrs are
unchanged. Then either the load was refused (`Error response from daemon: invalid ...`, exit 1,
no image, no blob or layer left) or it succeeded and everything it wrote lives inside
DATA_ROOT/layers/<chain>/diff. Either way `docker images` still answers.

One daemon serves the whole module (`shared_jockerd`); every test leaves its store empty.
"""

from __future__ import annotations

import glob
import hashlib
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from images.testimages import HOSTILE, Entry, layered_image
from jockerd.imagestore.layers import chain_id
from tests.conftest import REPO

pytestmark = [pytest.mark.root, pytest.mark.timeout(60)]

VICTIM = Path("/tmp/jocker-victim")
HEX = r"[0-9a-f]{64}"
# Everything jockerd itself may create under its data root; anything else is a stray write.
DATA_ROOT_PATHS = re.compile(
    rf"""(
        jockerd\.lock | engine-id | tmp | containers | volumes | network | network/predefined\.json
        | image | image/oci-layout | image/index\.json
        | image/ingest | image/leases(/.*)? | image/blobs | image/blobs/sha256 | image/blobs/sha256/{HEX}
        | layers | layers/{HEX} | layers/{HEX}/layer\.json | layers/{HEX}/diff(/.*)?
    )""",
    re.VERBOSE,
)

# More sets in the spirit of HOSTILE: links planted by one layer and used by the next, chains.
EXTRA: dict[str, list[list[Entry | tuple]]] = {
    "symlink-relative-next-layer": [
        [("symlink", "up", "../" * 16 + "tmp")],
        [("file", "up/jocker-escape-relnextlayer", "pwned")],
    ],
    "hardlink-through-lower-symlink": [
        [("symlink", "etc-link", "/etc")],
        [("hardlink", "pw", "etc-link/passwd")],
    ],
    "symlink-chain-then-write": [
        [("symlink", "a", "b"), ("symlink", "b", "/tmp"), ("file", "a/jocker-escape-chain", "pwned")]
    ],
    "dir-replaced-by-symlink": [
        [("dir", "d"), ("symlink", "d", "/tmp"), ("file", "d/jocker-escape-swap", "pwned")]
    ],
    "deep-dotdot-into-tmp": [[("file", "a/" + "../" * 16 + "tmp/jocker-escape-deepdotdot", "pwned")]],
    "whiteout-relative-next-layer": [
        [("symlink", "up", "../" * 16 + "tmp")],
        [("file", "up/.wh.jocker-victim")],
    ],
    "opaque-through-symlink": [[("symlink", "evil", "/tmp")], [("file", "evil/.wh..wh..opq")]],
    "symlink-overwrites-then-write-next-layer": [
        [("dir", "x"), ("file", "x/keep", "ok")],
        [("symlink", "x", "/tmp")],
        [("file", "x/jocker-escape-overwrite", "pwned")],
    ],
}

CASES = {**HOSTILE, **EXTRA}


def fingerprint(path: Path | str) -> tuple[int, int, int, int, str] | None:
    """Identity and content of a file, or None when absent."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    digest = ""
    if stat.S_ISREG(st.st_mode):
        digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    return st.st_ino, st.st_mtime_ns, st.st_nlink, st.st_mode, digest


def watched_globs(data_root: Path) -> list[str]:
    """Where an escaping write would land: /tmp, /, /etc, /root, the repo, and beside or in a
    `tmp` under every directory above the layer directories (where `../../tmp/x` resolves)."""
    patterns = [
        "/tmp/jocker-escape*",
        "/jocker-escape*",
        "/etc/jocker-escape*",
        "/root/jocker-escape*",
        "/var/tmp/jocker-escape*",
        f"{REPO}/jocker-escape*",
        f"{os.getcwd()}/jocker-escape*",
    ]
    for ancestor in (data_root / "layers" / "x" / "diff").parents:
        patterns += [str(ancestor / "jocker-*"), str(ancestor / "tmp" / "jocker-*")]
    return patterns


def host_snapshot(data_root: Path) -> dict[str, object]:
    found = {p: fingerprint(p) for pattern in watched_globs(data_root) for p in glob.glob(pattern)}
    victim = fingerprint(VICTIM)
    return {
        "escape-candidates": {
            p: f for p, f in found.items() if not Path(p).is_relative_to(data_root) and Path(p) != VICTIM
        },
        "/etc/passwd": fingerprint("/etc/passwd"),
        "/etc entries": sorted(os.listdir("/etc")),
        # inode, links, type and content: a whiteout applied to it would replace or remove it
        "victim": None if victim is None else (victim[0], *victim[2:]),
        "/tmp xattrs": sorted(os.listxattr("/tmp")),
    }


def stray_paths(data_root: Path) -> list[str]:
    out = []
    for dirpath, dirnames, filenames in os.walk(data_root):
        for name in dirnames + filenames:
            relative = os.path.relpath(os.path.join(dirpath, name), data_root)
            if not DATA_ROOT_PATHS.fullmatch(relative):
                out.append(relative)
    return out


def layer_dirs(data_root: Path) -> list[str]:
    return sorted(n for n in os.listdir(data_root / "layers") if re.fullmatch(HEX, n))


def assert_links_stay_inside(data_root: Path) -> None:
    """Every hard link of every regular file in the diffs is itself in the diffs, and no diff
    entry is the host's /etc/passwd."""
    passwd = os.stat("/etc/passwd")
    seen: dict[tuple[int, int], list[str]] = {}
    nlink: dict[tuple[int, int], int] = {}
    for layer in layer_dirs(data_root):
        diff = data_root / "layers" / layer / "diff"
        assert not diff.is_symlink() and diff.is_dir()
        for dirpath, dirnames, filenames in os.walk(diff):
            for name in dirnames + filenames:
                st = os.lstat(os.path.join(dirpath, name))
                key = (st.st_dev, st.st_ino)
                assert key != (passwd.st_dev, passwd.st_ino), f"{dirpath}/{name} is /etc/passwd"
                if stat.S_ISREG(st.st_mode):
                    seen.setdefault(key, []).append(os.path.join(dirpath, name))
                    nlink[key] = st.st_nlink
    for key, paths in seen.items():
        assert nlink[key] == len(paths), f"{paths} have links outside the layer diffs"


@pytest.fixture
def victim() -> Iterator[Path]:
    """The sentinel a whiteout of `jocker-victim` aims at; it must survive every load."""
    if not VICTIM.exists():
        VICTIM.write_text("victim\n")
    # Left in place: other runs of this module may be using it at the same time.
    yield VICTIM


@pytest.fixture
def daemon(shared_jockerd, victim) -> Iterator:
    """The module's daemon with an empty store, left empty again."""
    assert shared_jockerd.docker_ok("images", "-a", "-q") == ""
    yield shared_jockerd
    ids = shared_jockerd.docker_ok("images", "-a", "-q").split()
    if ids:
        shared_jockerd.docker_ok("rmi", "-f", *ids)


@pytest.mark.parametrize("name", list(CASES))
def test_hostile_layers_never_touch_the_host(daemon, tmp_path, name):
    data_root = daemon.data_root
    tag = f"jocker-hostile/{name}:latest"
    info = layered_image(tmp_path / f"{name}.tar", CASES[name], tag=tag, busybox=False)
    before = host_snapshot(data_root)
    assert before["victim"] is not None

    result = daemon.docker("load", "-i", str(info.path))

    assert host_snapshot(data_root) == before
    assert stray_paths(data_root) == []
    if result.returncode == 0:
        assert result.stdout == f"Loaded image: {tag}\n"
        assert daemon.docker_ok("images", "-a", "-q", "--no-trunc").split() == [info.id]
        assert len(layer_dirs(data_root)) == len(CASES[name])
        assert_links_stay_inside(data_root)
        daemon.docker_ok("rmi", tag)
    else:
        assert result.returncode == 1
        assert result.stderr.startswith("Error response from daemon: invalid "), result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert daemon.docker_ok("images", "-a", "-q") == ""
    assert layer_dirs(data_root) == []
    assert os.listdir(data_root / "image" / "blobs" / "sha256") == []
    assert os.listdir(data_root / "layers") == []
    assert daemon.docker("images").returncode == 0
    assert daemon.request("GET", "/_ping").status == 200


def test_escapes_that_load_are_kept_inside_the_diff(daemon, tmp_path):
    """The absolute path and the cross-layer symlink load; their files land in the diffs."""
    absolute = layered_image(tmp_path / "abs.tar", HOSTILE["absolute"], tag="jocker-hostile/abs:v1")
    daemon.docker_ok("load", "-i", str(absolute.path))
    diff = data_diff(daemon.data_root, absolute.diff_ids[0])
    assert (diff / "tmp" / "jocker-escape-absolute").read_text() == "pwned"

    nextlayer = layered_image(
        tmp_path / "next.tar", HOSTILE["symlink-next-layer"], tag="jocker-hostile/next:v1"
    )
    daemon.docker_ok("load", "-i", str(nextlayer.path))
    lower = data_diff(daemon.data_root, nextlayer.diff_ids[0])
    upper = data_diff(daemon.data_root, chain_id(nextlayer.diff_ids[0], nextlayer.diff_ids[1]))
    assert os.readlink(lower / "evil") == "/tmp"
    assert (upper / "evil").is_dir() and not (upper / "evil").is_symlink()
    assert (upper / "evil" / "jocker-escape-nextlayer").read_text() == "pwned"
    assert not Path("/tmp/jocker-escape-nextlayer").exists()


def data_diff(data_root: Path, chain: str) -> Path:
    diff = data_root / "layers" / chain.removeprefix("sha256:") / "diff"
    assert diff.is_dir(), f"layer {chain} is not stored"
    return diff


def test_special_files_survive_unpacking(daemon, tmp_path):
    """Device nodes, fifos, setuid/setgid/sticky modes and foreign owners are kept as they are."""
    layer = [
        Entry("dev", "dir", mode=0o755),
        Entry("dev/null", "char", mode=0o666, devmajor=1, devminor=3),
        Entry("dev/sda", "block", mode=0o660, devmajor=8, devminor=0, gid=6),
        Entry("dev/pipe", "fifo", mode=0o620),
        Entry("bin", "dir", mode=0o755),
        Entry("bin/su", "file", b"#!/bin/sh\n", mode=0o4755),
        Entry("bin/wall", "file", b"#!/bin/sh\n", mode=0o2755, gid=5),
        Entry("tmp", "dir", mode=0o1777),
        Entry("home", "dir", mode=0o755),
        Entry("home/user", "dir", mode=0o750, uid=1234, gid=1234),
        Entry("home/user/notes", "file", b"mine\n", mode=0o600, uid=1234, gid=1234),
    ]
    info = layered_image(tmp_path / "special.tar", [layer], tag="jocker-test/special:v1")
    assert daemon.docker_ok("load", "-i", str(info.path)) == "Loaded image: jocker-test/special:v1\n"
    diff = data_diff(daemon.data_root, info.diff_ids[0])

    def check(path: str, kind, mode: int, uid: int = 0, gid: int = 0) -> os.stat_result:
        st = os.lstat(diff / path)
        assert kind(st.st_mode), f"{path}: {stat.filemode(st.st_mode)}"
        assert stat.S_IMODE(st.st_mode) == mode, f"{path}: {oct(stat.S_IMODE(st.st_mode))}"
        assert (st.st_uid, st.st_gid) == (uid, gid), path
        return st

    assert check("dev/null", stat.S_ISCHR, 0o666).st_rdev == os.makedev(1, 3)
    assert check("dev/sda", stat.S_ISBLK, 0o660, gid=6).st_rdev == os.makedev(8, 0)
    check("dev/pipe", stat.S_ISFIFO, 0o620)
    check("bin/su", stat.S_ISREG, 0o4755)
    check("bin/wall", stat.S_ISREG, 0o2755, gid=5)
    check("tmp", stat.S_ISDIR, 0o1777)
    check("home/user", stat.S_ISDIR, 0o750, 1234, 1234)
    check("home/user/notes", stat.S_ISREG, 0o600, 1234, 1234)
    assert (diff / "home/user/notes").read_bytes() == b"mine\n"
    # The diffs hold setuid binaries and device nodes: host users must not reach them.
    assert stat.S_IMODE(os.stat(daemon.data_root / "layers").st_mode) & 0o077 == 0
