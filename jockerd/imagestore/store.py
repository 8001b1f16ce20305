"""ImageStore: the facade services use. Blobs + index + layers, and their garbage collection.

All methods are blocking (file and tar work); services call them through asyncio.to_thread.
Mutations of the index are serialized by one lock. Operations that write blobs or layers
before the index names them hold a lease on those digests, so a concurrent garbage
collection never deletes the pieces of an image still being assembled.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jockerd import hostfs
from jockerd.errors import ConflictError, InvalidParameterError, no_such_image
from jockerd.ids import resolve_prefix
from jockerd.imagestore.content import ContentStore, empty_directory
from jockerd.imagestore.index import ImageIndex, ImageRecord
from jockerd.imagestore.layers import LayerRecord, LayerStore, chain_id
from jockerd.imagestore.reference import Reference, is_sha256_digest, parse_reference
from jockerd.models.oci.image import Descriptor, Manifest
from jockerd.store.atomic import write_json

log = logging.getLogger("jockerd.imagestore")

# How long a held lease (an interrupted pull's pieces) protects its blobs and layers.
HOLD_TTL = 24 * 3600
_HOLD_KEY = re.compile(r"[a-z0-9][a-z0-9._-]{0,127}")


def now_rfc3339() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class Image:
    """Everything a service needs about one image, read once."""

    id: str
    target: Descriptor
    manifest: Manifest
    config: dict[str, Any]
    names: list[str]
    last_tag_time: str | None

    @property
    def diff_ids(self) -> list[str]:
        return list(self.config.get("rootfs", {}).get("diff_ids", []))

    def chain_ids(self) -> list[str]:
        out: list[str] = []
        parent: str | None = None
        for diff_id in self.diff_ids:
            parent = chain_id(parent, diff_id)
            out.append(parent)
        return out


class Lease:
    """Digests and chain IDs an in-flight operation uses but has not yet indexed.

    Known names are leased before they are written. A blob whose digest is only known once
    written is protected by its timestamp instead: garbage collection leaves alone anything
    changed after the oldest live lease began.
    """

    def __init__(self, store: ImageStore) -> None:
        self._store = store
        self.items: list[str] = []
        self.started = time.time()

    def add(self, item: str) -> None:
        with self._store.lock:
            self._store.leases[item] += 1
        self.items.append(item)


class ImageStore:
    def __init__(self, data_root: Path) -> None:
        self.content = ContentStore(data_root / "image")
        self.index = ImageIndex(data_root / "image")
        self.layers = LayerStore(data_root / "layers")
        self.tmp_dir = data_root / "tmp"
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        self.holds_dir = data_root / "image" / "leases"
        self.holds_dir.mkdir(parents=True, exist_ok=True)
        self.lock = threading.RLock()
        self.leases: Counter[str] = Counter()
        self.active_leases: list[Lease] = []

    # Start-up

    def recover(self) -> None:
        """Undo what a crash left half-done: ingest files, unpacking dirs, unindexed pieces."""
        ingest = self.content.cleanup_ingest()
        tmp_layers = self.layers.cleanup_incomplete()
        spooled = empty_directory(self.tmp_dir)
        removed = self.gc()
        if ingest or tmp_layers or spooled or removed:
            log.info(
                "recovered image store: %d ingest files, %d partial layers, %d spooled uploads, "
                "%d unreferenced blobs/layers removed",
                ingest,
                tmp_layers,
                spooled,
                removed,
            )

    # Leases

    @contextlib.contextmanager
    def lease(self) -> Iterator[Lease]:
        lease = Lease(self)
        with self.lock:
            self.active_leases.append(lease)
        try:
            yield lease
        finally:
            with self.lock:
                self.active_leases.remove(lease)
                self.leases.subtract(lease.items)
                self.leases += Counter()  # drop zero counts

    # Held leases: what an operation wants kept across a crash

    def hold(self, key: str, items: Iterable[str]) -> None:
        """Protect `items` (digests, chain IDs) from collection until release() or HOLD_TTL, even
        across a crash.

        A pull holds the pieces of the image it is assembling: a pull cut short by kill -9 leaves
        its verified blobs and unpacked layers behind, recover() keeps them, and the next pull of
        the same image reuses them. containerd keeps a pull's content under an expiring lease
        for the same reason.
        """
        if not _HOLD_KEY.fullmatch(key):
            raise InvalidParameterError(f"invalid lease key: {key}")
        write_json(
            self.holds_dir / f"{key}.json", {"expires": time.time() + HOLD_TTL, "items": sorted(set(items))}
        )

    def release(self, key: str) -> None:
        if _HOLD_KEY.fullmatch(key):
            (self.holds_dir / f"{key}.json").unlink(missing_ok=True)

    def held(self) -> set[str]:
        """Everything unexpired held leases protect; expired ones are deleted on the way."""
        out: set[str] = set()
        now = time.time()
        for path in self.holds_dir.glob("*.json"):
            try:
                data = json.loads(path.read_bytes())
                expires = float(data["expires"])
                items = [str(item) for item in data["items"]]
            except (OSError, ValueError, KeyError, TypeError):
                path.unlink(missing_ok=True)  # torn or foreign: it protects nothing
                continue
            if expires < now:
                path.unlink(missing_ok=True)
                continue
            out.update(items)
        return out

    # Reading

    def read_manifest(self, target: Descriptor) -> Manifest:
        return Manifest.model_validate(json.loads(self.content.read(target.digest)))

    def read_config(self, image_id: str) -> dict[str, Any]:
        return json.loads(self.content.read(image_id))

    def image(self, image_id: str) -> Image:
        with self.lock:
            records = self.index.by_image(image_id)
            if not records:
                raise no_such_image(image_id)
            # Docker lists an image's references sorted by their full string (lexicalRefs).
            names = sorted(r.name for r in records if r.name)
            record = records[0]
            tag_times = [r.last_tag_time for r in records if r.last_tag_time]
        manifest = self.read_manifest(record.target)
        return Image(
            id=image_id,
            target=record.target,
            manifest=manifest,
            config=self.read_config(image_id),
            names=names,
            last_tag_time=max(tag_times) if tag_times else None,
        )

    def images(self) -> list[Image]:
        with self.lock:
            ids = self.index.image_ids()
        return [self.image(i) for i in ids]

    def resolve(self, ref: str) -> str:
        """Image ID for a name, a digest reference, a full ID or an unambiguous ID prefix.

        Docker's order: a full ID, then a reference, then an ID prefix.
        """
        with self.lock:
            ids = self.index.image_ids()
            bare = ref.removeprefix("sha256:")
            if is_sha256_digest(ref) or (len(bare) == 64 and f"sha256:{bare}" in ids):
                if f"sha256:{bare}" in ids:
                    return f"sha256:{bare}"
                raise no_such_image(ref)
            try:
                parsed = parse_reference(ref)
            except InvalidParameterError:
                parsed = None
            if parsed is not None:
                found = self._by_reference(parsed)
                if found:
                    return found
            matches = resolve_prefix(ref, [i.removeprefix("sha256:") for i in ids])
            if len(matches) == 1 and (parsed is None or not parsed.tag or ref == bare):
                return f"sha256:{matches[0]}"
            if len(matches) > 1 and parsed is not None and ref == bare:
                raise ConflictError(f"ambiguous image ID prefix: {ref}")
        raise no_such_image(_familiar_or_raw(ref))

    def _by_reference(self, parsed: Reference) -> str | None:
        if parsed.digest:
            # A repository digest recorded by a pull or a push (`name@sha256:...` in the index);
            # it may be an index's digest, which is no manifest's.
            named = self.index.get(str(parsed))
            if named is not None:
                return named.image_id
            for record in self.index.records:
                if (
                    record.target.digest == parsed.digest
                    and record.name
                    and (parse_reference(record.name).name == parsed.name)
                ):
                    return record.image_id
            return None
        record = self.index.get(str(parsed))
        return record.image_id if record else None

    # Writing

    def commit_image(
        self,
        target: Descriptor,
        image_id: str,
        names: list[Reference],
        lease: Lease,
        *,
        tagged: bool = False,
    ) -> list[tuple[Reference, str]]:
        """Name a fully stored image (blobs and layers all present).

        Returns the (name, previous image ID) pairs of names taken from another image.

        `tagged` records a LastTagTime, as Docker does for `docker tag` and `docker import`
        but not for `docker load`.
        """
        when = now_rfc3339() if tagged else None
        hostfs.syncfs(self.content.root)
        with self.lock:
            displaced: list[tuple[Reference, str]] = []
            if names:
                for name in names:
                    previous = self.index.set_name(str(name), target, image_id, when)
                    if previous:
                        displaced.append((name, previous))
            else:
                self.index.add_dangling(target, image_id)
            self.index.save()
        return displaced

    def tag(self, image_id: str, name: Reference) -> None:
        with self.lock:
            records = self.index.by_image(image_id)
            if not records:
                raise no_such_image(image_id)
            self.index.set_name(str(name), records[0].target, image_id, now_rfc3339())
            self.index.save()

    def untag(self, name: str) -> ImageRecord | None:
        with self.lock:
            record = self.index.untag(name)
            if record is not None:
                self.index.save()
            return record

    def remove_image(self, image_id: str) -> list[str]:
        """Forget an image and collect its blobs and layers; returns the removed layer chain IDs."""
        with self.lock:
            self.index.remove_image(image_id)
            self.index.save()
        return self.gc()

    # Garbage collection

    def referenced(self) -> tuple[set[str], set[str]]:
        """Blob digests and layer chain IDs that indexed images need."""
        blobs: set[str] = set()
        chains: set[str] = set()
        with self.lock:
            records = list(self.index.records)
        for record in records:
            blobs.add(record.target.digest)
            try:
                manifest = self.read_manifest(record.target)
                config = self.read_config(record.image_id)
            except (OSError, ValueError) as e:
                log.warning("image %s is unreadable: %s", record.image_id, e)
                continue
            blobs.add(manifest.config.digest)
            blobs.update(layer.digest for layer in manifest.layers)
            parent: str | None = None
            for diff_id in config.get("rootfs", {}).get("diff_ids", []):
                parent = chain_id(parent, diff_id)
                chains.add(parent)
        return blobs, chains

    def gc(self) -> list[str]:
        """Delete blobs and layers no image references and no lease holds; returns what went."""
        with self.lock:
            blobs, chains = self.referenced()
            held = set(self.leases) | self.held()
            cutoff = min((lease.started for lease in self.active_leases), default=None)
            removed: list[str] = []
            for digest in self.content.digests() - blobs - held:
                if not _changed_since(self.content.path(digest), cutoff):
                    self.content.delete(digest)
            for layer in self.layers.list():
                if layer.chain_id in chains or layer.chain_id in held:
                    continue
                if not _changed_since(self.layers.diff_dir(layer.chain_id).parent, cutoff):
                    self.layers.remove(layer.chain_id)
                    removed.append(layer.chain_id)
            return removed

    def layer(self, chain: str) -> LayerRecord | None:
        return self.layers.get(chain)


def _changed_since(path: Path, cutoff: float | None) -> bool:
    """Whether `path` was written or renamed after `cutoff` (one second of clock slack)."""
    if cutoff is None:
        return False
    try:
        return path.stat().st_ctime >= cutoff - 1
    except FileNotFoundError:
        return False


def _familiar_or_raw(ref: str) -> str:
    try:
        return parse_reference(ref).familiar()
    except InvalidParameterError:
        return ref
