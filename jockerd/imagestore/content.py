"""Content-addressed blob store (OCI image layout's blobs/sha256/<hex>).

A blob is written under ingest/ and only gets its name (a rename into blobs/) after its size
and sha256 have been checked, as containerd's content store commits; so a crash or a bad
upload never leaves a blob whose name lies about its content.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from jockerd.errors import InvalidParameterError

DIGEST_ALGORITHM = "sha256"
COPY_CHUNK = 1 << 20


def _hex(digest: str) -> str:
    algorithm, _, hexpart = digest.partition(":")
    if (
        algorithm != DIGEST_ALGORITHM
        or len(hexpart) != 64
        or not all(c in "0123456789abcdef" for c in hexpart)
    ):
        raise InvalidParameterError(f"invalid digest: {digest!r}")
    return hexpart


class BlobWriter:
    """Writes one blob into ingest/; `commit()` verifies and moves it to its content address."""

    def __init__(self, store: ContentStore, expected_digest: str | None, expected_size: int | None) -> None:
        self._store = store
        self.expected_digest = expected_digest
        self.expected_size = expected_size
        self.path = store.ingest_dir / f"{secrets.token_hex(8)}"
        self._file = open(self.path, "xb")  # noqa: SIM115 - closed in commit/abort
        self._hash = hashlib.sha256()
        self.size = 0
        self.digest: str | None = None

    def write(self, data: bytes) -> None:
        self._file.write(data)
        self._hash.update(data)
        self.size += len(data)

    def copy_from(self, source: BinaryIO, length: int | None = None) -> None:
        remaining = length
        while remaining is None or remaining > 0:
            chunk = source.read(COPY_CHUNK if remaining is None else min(COPY_CHUNK, remaining))
            if not chunk:
                break
            self.write(chunk)
            if remaining is not None:
                remaining -= len(chunk)

    def commit(self) -> str:
        """Verify size and digest, then give the blob its name; returns the digest.

        No fsync here: the image store flushes the whole filesystem once (syncfs) before the
        index names an image, which orders data before names at a fraction of the cost.
        """
        self._file.close()
        digest = f"{DIGEST_ALGORITHM}:{self._hash.hexdigest()}"
        if self.expected_size is not None and self.size != self.expected_size:
            self.abort()
            raise InvalidParameterError(
                f"blob size mismatch for {self.expected_digest or digest}: "
                f"expected {self.expected_size}, got {self.size}"
            )
        if self.expected_digest is not None and digest != self.expected_digest:
            self.abort()
            raise InvalidParameterError(
                f"blob digest mismatch: expected {self.expected_digest}, got {digest}"
            )
        target = self._store.path(digest)
        os.replace(self.path, target)
        self.digest = digest
        return digest

    def abort(self) -> None:
        if not self._file.closed:
            self._file.close()
        self.path.unlink(missing_ok=True)

    def __enter__(self) -> BlobWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.digest is None:
            self.abort()


class ContentStore:
    """blobs/sha256/<hex> under `root`, with an ingest/ area for blobs being written."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.blobs_dir = root / "blobs" / DIGEST_ALGORITHM
        self.ingest_dir = root / "ingest"
        self.blobs_dir.mkdir(parents=True, exist_ok=True)
        self.ingest_dir.mkdir(parents=True, exist_ok=True)

    def path(self, digest: str) -> Path:
        return self.blobs_dir / _hex(digest)

    def has(self, digest: str) -> bool:
        return self.path(digest).is_file()

    def size(self, digest: str) -> int:
        return self.path(digest).stat().st_size

    def open(self, digest: str) -> BinaryIO:
        return open(self.path(digest), "rb")

    def read(self, digest: str) -> bytes:
        return self.path(digest).read_bytes()

    def writer(self, expected_digest: str | None = None, expected_size: int | None = None) -> BlobWriter:
        if expected_digest is not None:
            _hex(expected_digest)
        return BlobWriter(self, expected_digest, expected_size)

    def put(self, data: bytes, expected_digest: str | None = None) -> str:
        """Store a small blob already in memory; returns its digest."""
        digest = f"{DIGEST_ALGORITHM}:{hashlib.sha256(data).hexdigest()}"
        if expected_digest is not None and digest != expected_digest:
            raise InvalidParameterError(f"blob digest mismatch: expected {expected_digest}, got {digest}")
        if self.has(digest):
            return digest
        with self.writer(digest, len(data)) as w:
            w.write(data)
            return w.commit()

    def delete(self, digest: str) -> None:
        self.path(digest).unlink(missing_ok=True)

    def digests(self) -> set[str]:
        return {f"{DIGEST_ALGORITHM}:{p.name}" for p in self.blobs_dir.iterdir() if len(p.name) == 64}

    def cleanup_ingest(self) -> int:
        """Drop half-written blobs left by a crash; returns how many."""
        return empty_directory(self.ingest_dir)


def empty_directory(path: Path) -> int:
    """Remove everything inside `path` (never following symlinks); returns how many entries."""
    count = 0
    for entry in path.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        count += 1
    return count
