"""Crash recovery of the image store: `kill -9` in the middle of a load, and loads that fail.

The must-show: jockerd is SIGKILLed while it loads a 100 MiB image, once while the upload is
being spooled and once while layers are being unpacked (some already published, one half
written). After a restart on the same data root nothing of the interrupted load is left (no
image, no spooled upload, no ingest file, no tmp-* layer, no blob, no layer), and the same
load then succeeds with the right image ID and `docker save` round-trips.

The upload is streamed over the socket by the test itself, so the kill lands exactly where
it should: the test polls the data root until the daemon is visibly at that point.
"""

from __future__ import annotations

import io
import json
import os
import re
import signal
import socket
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from images.testimages import ImageInfo, big_image, layered_image
from tests.conftest import wait_for

pytestmark = [pytest.mark.root]

HEX = re.compile(r"[0-9a-f]{64}")
MiB = 1 << 20


def chain_ids(diff_ids: list[str]) -> list[str]:
    from jockerd.imagestore.layers import chain_id

    out: list[str] = []
    parent: str | None = None
    for diff_id in diff_ids:
        parent = chain_id(parent, diff_id)
        out.append(parent)
    return out


class Store:
    """What is on disk under a data root, by the names of DESIGN §5.4."""

    def __init__(self, data_root: Path) -> None:
        self.data_root = data_root

    def _names(self, *parts: str) -> list[str]:
        path = self.data_root.joinpath(*parts)
        return sorted(os.listdir(path)) if path.is_dir() else []

    def spooled(self) -> list[str]:
        return self._names("tmp")

    def ingest(self) -> list[str]:
        return self._names("image", "ingest")

    def blobs(self) -> list[str]:
        return self._names("image", "blobs", "sha256")

    def layer_dirs(self) -> list[str]:
        return [name for name in self._names("layers") if HEX.fullmatch(name)]

    def unpacking(self) -> list[str]:
        return [name for name in self._names("layers") if name.startswith("tmp-")]

    def leftovers(self) -> dict[str, list[str]]:
        return {
            "tmp": self.spooled(),
            "image/ingest": self.ingest(),
            "layers/tmp-*": self.unpacking(),
            "image/blobs/sha256": self.blobs(),
            "layers": self.layer_dirs(),
            "other entries in layers": [
                n for n in self._names("layers") if not HEX.fullmatch(n) and not n.startswith("tmp-")
            ],
        }


def assert_empty_store(jockerd) -> None:
    assert jockerd.docker_ok("images", "-a", "-q") == ""
    assert Store(jockerd.data_root).leftovers() == {
        "tmp": [],
        "image/ingest": [],
        "layers/tmp-*": [],
        "image/blobs/sha256": [],
        "layers": [],
        "other entries in layers": [],
    }


def assert_only_image(jockerd, info: ImageInfo) -> None:
    """Exactly `info`'s image is stored: its layers, its blobs, nothing half-done."""
    assert jockerd.docker_ok("images", "-a", "-q", "--no-trunc").split() == [info.id]
    store = Store(jockerd.data_root)
    assert store.layer_dirs() == sorted(c.removeprefix("sha256:") for c in chain_ids(info.diff_ids))
    assert len(store.blobs()) == len(info.diff_ids) + 2  # layers + config + manifest
    assert info.id.removeprefix("sha256:") in store.blobs()
    assert (store.spooled(), store.ingest(), store.unpacking()) == ([], [], [])


def assert_is_jockerd(pid: int) -> None:
    """The pid about to be killed is jockerd's python itself, not `unshare` or `sh`."""
    argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    assert b"-m" in argv and b"jockerd" in argv, argv
    assert "python" in os.path.basename(os.readlink(f"/proc/{pid}/exe")), argv


def kill9(jockerd) -> None:
    assert jockerd.proc is not None and jockerd.proc.poll() is None
    assert_is_jockerd(jockerd.proc.pid)
    os.kill(jockerd.proc.pid, signal.SIGKILL)
    assert jockerd.proc.wait(20) == -signal.SIGKILL


def open_load(jockerd, size: int) -> socket.socket:
    """Start `POST /images/load` with a body of `size` bytes; the caller sends the body."""
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.settimeout(60)
    conn.connect(str(jockerd.sock))
    conn.sendall(
        (
            "POST /v1.51/images/load?quiet=1 HTTP/1.1\r\nHost: localhost\r\n"
            f"Content-Type: application/x-tar\r\nContent-Length: {size}\r\n\r\n"
        ).encode()
    )
    return conn


def send_file(conn: socket.socket, path: Path, limit: int | None = None) -> None:
    with open(path, "rb") as f:
        sent = 0
        while limit is None or sent < limit:
            chunk = f.read(MiB if limit is None else min(MiB, limit - sent))
            if not chunk:
                break
            conn.sendall(chunk)
            sent += len(chunk)


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> ImageInfo:
    return big_image(tmp_path_factory.mktemp("big") / "big.tar", size_mb=100)


def kill_while_spooling(jockerd, big: ImageInfo) -> None:
    store = Store(jockerd.data_root)
    size = big.path.stat().st_size
    conn = open_load(jockerd, size)
    try:
        send_file(conn, big.path, limit=size // 2)

        def spooled_enough() -> bool:
            return any(
                (jockerd.data_root / "tmp" / name).stat().st_size >= size // 4 for name in store.spooled()
            )

        wait_for(spooled_enough, 30, "the upload to be half spooled")
        assert store.unpacking() == [] and store.layer_dirs() == [], "past spooling already"
        kill9(jockerd)
    finally:
        conn.close()
    assert store.spooled(), "the kill did not land mid-spool"


def kill_while_unpacking(jockerd, big: ImageInfo) -> None:
    store = Store(jockerd.data_root)
    conn = open_load(jockerd, big.path.stat().st_size)
    try:
        send_file(conn, big.path)
        # Mid-load: some layers published, the next one half unpacked, the image not named.
        wait_for(
            lambda: len(store.layer_dirs()) >= 2 and bool(store.unpacking()),
            60,
            "a layer to be unpacking after two were published",
        )
        kill9(jockerd)
    finally:
        conn.close()
    assert store.layer_dirs() and store.unpacking() and store.blobs(), "the kill did not land mid-unpack"
    index = jockerd.data_root / "image" / "index.json"
    if index.exists():
        assert not json.loads(index.read_text()).get("manifests"), "the image was named before the kill"


@pytest.mark.slow
@pytest.mark.timeout(240)
@pytest.mark.parametrize(
    "kill_point", [kill_while_spooling, kill_while_unpacking], ids=["spooling", "unpacking"]
)
def test_kill9_mid_load_leaves_nothing_and_load_then_works(jockerd, big, tmp_path, kill_point):
    kill_point(jockerd, big)
    jockerd.start()  # same data root, same flags
    assert_empty_store(jockerd)

    out = jockerd.docker_ok("load", "-i", str(big.path), timeout=180)
    assert out == "Loaded image: jocker-bench/big:latest\n"
    assert_only_image(jockerd, big)

    saved = tmp_path / "saved.tar"
    jockerd.docker_ok("save", "jocker-bench/big:latest", "-o", str(saved), timeout=180)
    with tarfile.open(saved) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
    assert manifest[0]["Config"] == "blobs/sha256/" + big.id.removeprefix("sha256:")
    assert manifest[0]["RepoTags"] == ["jocker-bench/big:latest"]
    jockerd.docker_ok("rmi", "jocker-bench/big:latest")
    assert_empty_store(jockerd)
    reloaded = jockerd.docker_ok("load", "-i", str(saved), timeout=180)
    assert reloaded == "Loaded image: jocker-bench/big:latest\n"
    assert_only_image(jockerd, big)


# -- loads that fail half-way ------------------------------------------------------------------


def rewrite_archive(src: Path, dest: Path, edit: Callable[[dict[str, bytes], dict], None]) -> None:
    """Copy a (small) docker-archive, letting `edit(members, manifest_entry)` change it."""
    with tarfile.open(src) as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}  # type: ignore[union-attr]
    manifest = json.loads(members["manifest.json"])
    edit(members, manifest[0])
    members["manifest.json"] = json.dumps(manifest).encode()
    with tarfile.open(dest, "w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))


def wrong_diff_id(members: dict[str, bytes], entry: dict) -> None:
    config = json.loads(members[entry["Config"]])
    config["rootfs"]["diff_ids"][-1] = "sha256:" + "0" * 64
    members[entry["Config"]] = json.dumps(config).encode()


def truncated_layer(members: dict[str, bytes], entry: dict) -> None:
    last = entry["Layers"][-1]
    members[last] = members[last][: len(members[last]) // 2]


def missing_layer(members: dict[str, bytes], entry: dict) -> None:
    del members[entry["Layers"][-1]]


BASE_LAYER = [("dir", "base"), ("file", "base/data", "base layer\n" * 1000)]
MIDDLE_LAYER = [("file", "middle", "middle layer\n" * 1000)]
TOP_LAYER = [("dir", "top"), ("file", "top/one", "1" * 70_000), ("file", "top/two", "2" * 70_000)]


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        (wrong_diff_id, "diff_id mismatch"),
        (truncated_layer, "invalid"),
        (missing_layer, "invalid image archive"),
    ],
    ids=["diff-id-mismatch", "truncated-layer", "missing-layer"],
)
def test_load_failing_half_way_leaves_no_orphans(jockerd, tmp_path, breakage, message):
    # An image already stored that shares the failing image's first layer must survive intact.
    base = layered_image(tmp_path / "base.tar", [BASE_LAYER], tag="jocker-test/base:v1")
    assert jockerd.docker_ok("load", "-i", str(base.path)) == "Loaded image: jocker-test/base:v1\n"
    before = Store(jockerd.data_root)
    blobs_before, layers_before = before.blobs(), before.layer_dirs()

    good = layered_image(tmp_path / "good.tar", [BASE_LAYER, MIDDLE_LAYER, TOP_LAYER], tag="jocker-test/x:v1")
    bad = tmp_path / "bad.tar"
    rewrite_archive(good.path, bad, breakage)
    result = jockerd.docker("load", "-i", str(bad))
    assert result.returncode == 1, result.stdout
    assert result.stderr.startswith("Error response from daemon: "), result.stderr
    assert message in result.stderr

    after = Store(jockerd.data_root)
    assert jockerd.docker_ok("images", "-a", "-q", "--no-trunc").split() == [base.id]
    assert after.blobs() == blobs_before, "orphan blobs"
    assert after.layer_dirs() == layers_before, "orphan layers"
    assert (after.spooled(), after.ingest(), after.unpacking()) == ([], [], [])

    assert jockerd.docker_ok("load", "-i", str(good.path)) == "Loaded image: jocker-test/x:v1\n"
    ids = jockerd.docker_ok("images", "-a", "-q", "--no-trunc").split()
    assert sorted(ids) == sorted([base.id, good.id])
    jockerd.docker_ok("rmi", "jocker-test/x:v1")
    assert Store(jockerd.data_root).layer_dirs() == layers_before
    assert Store(jockerd.data_root).blobs() == blobs_before
    saved = tmp_path / "base-saved.tar"
    jockerd.docker_ok("save", "jocker-test/base:v1", "-o", str(saved))
    jockerd.docker_ok("rmi", "jocker-test/base:v1")
    assert_empty_store(jockerd)
    assert jockerd.docker_ok("load", "-i", str(saved)) == "Loaded image: jocker-test/base:v1\n"
