"""The image index: names ↔ manifest descriptors, kept in the layout's index.json.

Each entry is a manifest descriptor annotated with the full reference it answers to
(`org.opencontainers.image.ref.name`, as containerd's image store names images). An image
that has lost its last name keeps one entry without a name, which is how `<none>:<none>`
(dangling) images survive, as they do in Docker. The image ID (the config digest) is cached
in an annotation so listing never has to read a manifest.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

from jockerd.models.oci.image import (
    ANNOTATION_REF_NAME,
    Descriptor,
    ImageLayout,
    Index,
    dump,
)
from jockerd.store.atomic import write_json

ANNOTATION_IMAGE_ID = "io.jocker.image.id"
ANNOTATION_LAST_TAG_TIME = "io.jocker.image.last-tag-time"


@dataclass(frozen=True)
class ImageRecord:
    """One index entry: a name (None when dangling) pointing at a manifest."""

    name: str | None
    target: Descriptor
    image_id: str
    last_tag_time: str | None = None


class ImageIndex:
    """Loads and atomically rewrites `root/index.json`; callers serialize mutations."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.path = root / "index.json"
        root.mkdir(parents=True, exist_ok=True)
        layout = root / "oci-layout"
        if not layout.exists():
            write_json(layout, dump(ImageLayout()))
        self.records: list[ImageRecord] = self._load()

    def _load(self) -> list[ImageRecord]:
        if not self.path.exists():
            return []
        index = Index.model_validate(json.loads(self.path.read_bytes()))
        out = []
        for desc in index.manifests:
            annotations = dict(desc.annotations or {})
            name = annotations.pop(ANNOTATION_REF_NAME, None)
            image_id = annotations.pop(ANNOTATION_IMAGE_ID, "")
            last_tag = annotations.pop(ANNOTATION_LAST_TAG_TIME, None)
            target = desc.model_copy(update={"annotations": annotations or None})
            out.append(ImageRecord(name, target, image_id, last_tag))
        return out

    def save(self) -> None:
        manifests = []
        for record in self.records:
            annotations = dict(record.target.annotations or {})
            annotations[ANNOTATION_IMAGE_ID] = record.image_id
            if record.name is not None:
                annotations[ANNOTATION_REF_NAME] = record.name
            if record.last_tag_time:
                annotations[ANNOTATION_LAST_TAG_TIME] = record.last_tag_time
            manifests.append(record.target.model_copy(update={"annotations": annotations}))
        write_json(self.path, dump(Index(manifests=manifests)))

    # Queries

    def get(self, name: str) -> ImageRecord | None:
        return next((r for r in self.records if r.name == name), None)

    def by_image(self, image_id: str) -> list[ImageRecord]:
        return [r for r in self.records if r.image_id == image_id]

    def image_ids(self) -> list[str]:
        """Every image ID once, newest entry last (insertion order)."""
        return list(dict.fromkeys(r.image_id for r in self.records))

    def names(self, image_id: str) -> list[str]:
        return [r.name for r in self.records if r.image_id == image_id and r.name is not None]

    # Mutations (in memory; call save() after)

    def set_name(self, name: str, target: Descriptor, image_id: str, when: str | None) -> str | None:
        """Point `name` at an image; returns the image ID it pointed at before, if another.

        The previous image keeps a dangling entry if this was its last name; the new image
        loses its dangling entry, if it had one.
        """
        previous = self.get(name)
        self.records = [r for r in self.records if r.name != name]
        self.records = [r for r in self.records if not (r.image_id == image_id and r.name is None)]
        self.records.append(ImageRecord(name, target, image_id, when))
        if previous is not None and previous.image_id != image_id:
            self._keep_dangling(previous)
            return previous.image_id
        return None

    def add_dangling(self, target: Descriptor, image_id: str) -> None:
        """Record an image with no name (a load without tags, an import without repo)."""
        if not self.by_image(image_id):
            self.records.append(ImageRecord(None, target, image_id))

    def untag(self, name: str) -> ImageRecord | None:
        """Remove a name; the image is NOT kept dangling (rmi deletes an untagged image)."""
        record = self.get(name)
        if record is not None:
            self.records = [r for r in self.records if r.name != name]
        return record

    def remove_image(self, image_id: str) -> list[ImageRecord]:
        removed = self.by_image(image_id)
        self.records = [r for r in self.records if r.image_id != image_id]
        return removed

    def _keep_dangling(self, previous: ImageRecord) -> None:
        if not self.by_image(previous.image_id):
            self.records.append(replace(previous, name=None))
