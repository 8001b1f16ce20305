"""The content store: a blob gets its name only after its size and digest are verified.

Real files in a temporary directory; nothing here needs root.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest

from jockerd.errors import InvalidParameterError
from jockerd.imagestore.content import ContentStore


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def entries(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


@pytest.fixture
def store(tmp_path: Path) -> ContentStore:
    return ContentStore(tmp_path / "image")


def assert_nothing_left(store: ContentStore) -> None:
    assert entries(store.blobs_dir) == []
    assert entries(store.ingest_dir) == []


def test_layout(store: ContentStore, tmp_path: Path) -> None:
    assert store.blobs_dir == tmp_path / "image" / "blobs" / "sha256"
    assert store.ingest_dir == tmp_path / "image" / "ingest"
    assert store.blobs_dir.is_dir() and store.ingest_dir.is_dir()


def test_put_names_the_blob_by_its_digest(store: ContentStore) -> None:
    data = b'{"hello":"world"}'
    digest = store.put(data)
    assert digest == sha256(data)
    assert store.has(digest)
    assert store.path(digest) == store.blobs_dir / digest.removeprefix("sha256:")
    assert store.read(digest) == data
    assert store.size(digest) == len(data)
    with store.open(digest) as f:
        assert f.read() == data
    assert store.digests() == {digest}
    assert entries(store.ingest_dir) == []


def test_put_is_idempotent(store: ContentStore) -> None:
    data = b"same bytes"
    first = store.put(data)
    inode = store.path(first).stat().st_ino
    assert store.put(data) == first
    assert store.put(data, expected_digest=first) == first
    assert store.path(first).stat().st_ino == inode, "an existing blob is not rewritten"
    assert store.digests() == {first}
    assert entries(store.ingest_dir) == []


def test_put_with_a_wrong_expected_digest(store: ContentStore) -> None:
    with pytest.raises(InvalidParameterError, match="digest mismatch"):
        store.put(b"data", expected_digest=sha256(b"other"))
    assert_nothing_left(store)


def test_writer_commits_a_streamed_blob(store: ContentStore) -> None:
    data = bytes(range(256)) * 5000  # more than one copy chunk
    with store.writer(sha256(data), len(data)) as writer:
        writer.copy_from(io.BytesIO(data))
        assert entries(store.blobs_dir) == [], "nothing is named before commit"
        assert len(entries(store.ingest_dir)) == 1
        digest = writer.commit()
    assert digest == sha256(data) == writer.digest
    assert store.read(digest) == data
    assert entries(store.ingest_dir) == []


def test_copy_from_stops_at_length(store: ContentStore) -> None:
    with store.writer() as writer:
        writer.copy_from(io.BytesIO(b"0123456789"), length=4)
        digest = writer.commit()
    assert store.read(digest) == b"0123"


def test_writer_without_expectations_names_what_it_got(store: ContentStore) -> None:
    with store.writer() as writer:
        writer.write(b"a")
        writer.write(b"b")
        digest = writer.commit()
    assert digest == sha256(b"ab")
    assert writer.size == 2


def test_digest_mismatch_names_nothing(store: ContentStore) -> None:
    with (
        pytest.raises(InvalidParameterError, match="blob digest mismatch"),
        store.writer(sha256(b"expected")) as w,
    ):
        w.write(b"something else")
        w.commit()
    assert_nothing_left(store)


def test_size_mismatch_names_nothing(store: ContentStore) -> None:
    data = b"twelve bytes"
    # Right digest, wrong size: the size check alone must refuse it.
    with (
        pytest.raises(InvalidParameterError, match="blob size mismatch"),
        store.writer(sha256(data), 11) as w,
    ):
        w.write(data)
        w.commit()
    assert_nothing_left(store)


def test_short_blob_names_nothing(store: ContentStore) -> None:
    data = b"0123456789"
    with pytest.raises(InvalidParameterError, match="mismatch"), store.writer(sha256(data), len(data)) as w:
        w.write(data[:5])
        w.commit()
    assert_nothing_left(store)


def test_abandoned_writer_is_removed(store: ContentStore) -> None:
    with pytest.raises(RuntimeError), store.writer() as w:
        w.write(b"half")
        raise RuntimeError("connection lost")
    assert_nothing_left(store)


@pytest.mark.parametrize(
    "digest",
    [
        "sha256:abc",
        "md5:" + "0" * 32,
        "sha256:" + "A" * 64,
        "sha512:" + "0" * 128,
        "0" * 64,
        "sha256:../../x",
    ],
)
def test_invalid_digests_are_refused(store: ContentStore, digest: str) -> None:
    with pytest.raises(InvalidParameterError, match="invalid digest"):
        store.path(digest)
    with pytest.raises(InvalidParameterError, match="invalid digest"):
        store.writer(digest)
    assert entries(store.ingest_dir) == []


def test_delete(store: ContentStore) -> None:
    digest = store.put(b"x")
    store.delete(digest)
    assert not store.has(digest)
    store.delete(digest)  # deleting twice is fine
    assert store.digests() == set()


def test_digests_ignore_foreign_files(store: ContentStore) -> None:
    digest = store.put(b"x")
    (store.blobs_dir / ".tmp-something").write_bytes(b"")
    assert store.digests() == {digest}


def test_cleanup_ingest(store: ContentStore) -> None:
    digest = store.put(b"kept")
    # What a crash leaves: a half-written ingest file, and a per-ref directory (DESIGN §5.4).
    (store.ingest_dir / "0123456789abcdef").write_bytes(b"half-written")
    (store.ingest_dir / "a-ref-dir").mkdir()
    (store.ingest_dir / "a-ref-dir" / "data").write_bytes(b"partial")
    assert store.cleanup_ingest() == 2
    assert entries(store.ingest_dir) == []
    assert store.read(digest) == b"kept", "committed blobs are untouched"
    assert store.cleanup_ingest() == 0


def test_a_new_store_keeps_existing_blobs(store: ContentStore) -> None:
    digest = store.put(b"persisted")
    again = ContentStore(store.root)
    assert again.read(digest) == b"persisted"
