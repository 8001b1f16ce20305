"""The image index: names ↔ manifests, persisted as an OCI image layout's index.json.

Docker's naming rules at this level: moving a name off an image that has no other name leaves
that image dangling (`<none>:<none>`); untagging the last name forgets the image entirely (rmi
then collects it); an image with a name has no dangling entry. The persisted files must be a
valid OCI image layout: index.json and oci-layout are validated against the image-spec's own
JSON schemas (../shared/reference/oci-image-spec/schema).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from jockerd.imagestore.index import (
    ANNOTATION_IMAGE_ID,
    ANNOTATION_LAST_TAG_TIME,
    ImageIndex,
    ImageRecord,
)
from jockerd.models.oci.image import (
    ANNOTATION_REF_NAME,
    MEDIA_TYPE_IMAGE_INDEX,
    MEDIA_TYPE_IMAGE_MANIFEST,
    Descriptor,
    Platform,
)

SCHEMA_DIR = Path(__file__).resolve().parents[2].parent / "shared/reference/oci-image-spec/schema"

BUSYBOX = "docker.io/library/busybox:latest"
BUSYBOX_OLD = "docker.io/library/busybox:1.35"
JTR = "docker.io/jtr/bb:v1"
T1 = "2025-01-01T00:00:00.000000Z"
T2 = "2025-01-02T00:00:00.000000Z"


def image_id(char: str) -> str:
    return "sha256:" + char * 64


def manifest(char: str, **extra: Any) -> Descriptor:
    return Descriptor(media_type=MEDIA_TYPE_IMAGE_MANIFEST, digest="sha256:" + char * 64, size=500, **extra)


A, B, C = image_id("a"), image_id("b"), image_id("c")
MA, MB, MC = manifest("1"), manifest("2"), manifest("3")


@pytest.fixture
def index(tmp_path: Path) -> ImageIndex:
    return ImageIndex(tmp_path / "image")


def dangling(index: ImageIndex) -> list[str]:
    return [r.image_id for r in index.records if r.name is None]


# -- schema validation ---------------------------------------------------------------------------


def oci_validator(schema_file: str) -> Any:
    """A validator for one of the image-spec schemas, with its relative $refs resolved in SCHEMA_DIR."""
    jsonschema = pytest.importorskip("jsonschema")
    referencing = pytest.importorskip("referencing")
    from referencing.jsonschema import DRAFT4

    if not SCHEMA_DIR.is_dir():
        pytest.skip(f"OCI image-spec schemas not found in {SCHEMA_DIR}")

    def load(name: str) -> Any:
        return json.loads((SCHEMA_DIR / name).read_text())

    def retrieve(uri: str) -> Any:
        # The schemas refer to each other by file name ("defs-descriptor.json#/..."), relative
        # to ids that do not share one base (…/schema/image/index, …/schema/descriptor), so
        # every retrieval is answered by file name from the schema directory.
        return referencing.Resource.from_contents(load(uri.rsplit("/", 1)[-1]), default_specification=DRAFT4)

    schema = load(schema_file)
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema, registry=referencing.Registry(retrieve=retrieve), format_checker=cls.FORMAT_CHECKER)


def test_the_schema_validator_resolves_refs() -> None:
    """The check below would be worthless if $refs silently resolved to nothing."""
    validator = oci_validator("image-index-schema.json")
    good = {
        "schemaVersion": 2,
        "mediaType": MEDIA_TYPE_IMAGE_INDEX,
        "manifests": [{"mediaType": MEDIA_TYPE_IMAGE_MANIFEST, "digest": A, "size": 1}],
    }
    validator.validate(good)
    bad_media_type = json.loads(json.dumps(good))
    bad_media_type["manifests"][0]["mediaType"] = "not a media type"
    assert not validator.is_valid(bad_media_type), "mediaType comes from defs-descriptor.json"
    bad_annotations = json.loads(json.dumps(good))
    bad_annotations["manifests"][0]["annotations"] = {"k": 1}
    assert not validator.is_valid(bad_annotations), "annotations come from defs.json via defs-descriptor.json"
    missing_digest = json.loads(json.dumps(good))
    del missing_digest["manifests"][0]["digest"]
    assert not validator.is_valid(missing_digest)


def test_saved_layout_is_valid_oci(index: ImageIndex) -> None:
    index.set_name(BUSYBOX, MA, A, T1)
    index.set_name(JTR, MA, A, T2)
    index.add_dangling(MB, B)
    index.set_name(
        "localhost:5000/x:v1",
        manifest("3", platform=Platform(architecture="amd64", os="linux"), annotations={"k": "v"}),
        C,
        T1,
    )
    index.save()

    document = json.loads(index.path.read_text())
    oci_validator("image-index-schema.json").validate(document)
    oci_validator("image-layout-schema.json").validate(json.loads((index.root / "oci-layout").read_text()))
    assert document["schemaVersion"] == 2
    assert document["mediaType"] == MEDIA_TYPE_IMAGE_INDEX
    names = [m["annotations"].get(ANNOTATION_REF_NAME) for m in document["manifests"]]
    assert names == [BUSYBOX, JTR, None, "localhost:5000/x:v1"]
    assert all(m["annotations"][ANNOTATION_IMAGE_ID] for m in document["manifests"])
    assert document["manifests"][3]["platform"] == {"architecture": "amd64", "os": "linux"}


def test_empty_index_is_valid_oci(index: ImageIndex) -> None:
    index.save()
    oci_validator("image-index-schema.json").validate(json.loads(index.path.read_text()))


# -- layout and persistence ----------------------------------------------------------------------


def test_new_index(tmp_path: Path) -> None:
    root = tmp_path / "does" / "not" / "exist"
    index = ImageIndex(root)
    assert json.loads((root / "oci-layout").read_text()) == {"imageLayoutVersion": "1.0.0"}
    assert index.records == []
    assert not index.path.exists(), "index.json is written by save(), not by opening"


def test_round_trip(index: ImageIndex) -> None:
    own = manifest("3", annotations={"org.opencontainers.image.created": "2024-05-01T00:00:00Z"})
    index.set_name(BUSYBOX, MA, A, T1)
    index.set_name(BUSYBOX_OLD, MA, A, T2)
    index.add_dangling(MB, B)
    index.set_name(JTR, own, C, T2)
    index.save()

    again = ImageIndex(index.root)
    assert again.records == index.records
    assert again.get(JTR) == ImageRecord(JTR, own, C, T2), "the manifest's own annotations survive"
    assert again.get(BUSYBOX) == ImageRecord(BUSYBOX, MA, A, T1)
    assert dangling(again) == [B]
    # Our bookkeeping annotations do not leak into the records' descriptors.
    assert all(
        not (
            {ANNOTATION_REF_NAME, ANNOTATION_IMAGE_ID, ANNOTATION_LAST_TAG_TIME}
            & set(r.target.annotations or {})
        )
        for r in again.records
    )


def test_save_leaves_no_temporary_files(index: ImageIndex) -> None:
    index.set_name(BUSYBOX, MA, A, T1)
    index.save()
    index.save()
    assert sorted(p.name for p in index.root.iterdir()) == ["index.json", "oci-layout"]


def test_existing_oci_layout_is_kept(tmp_path: Path) -> None:
    root = tmp_path / "image"
    root.mkdir()
    (root / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    ImageIndex(root)
    assert (root / "oci-layout").read_text() == '{"imageLayoutVersion": "1.0.0"}'


# -- naming --------------------------------------------------------------------------------------


def test_set_name_and_queries(index: ImageIndex) -> None:
    assert index.set_name(BUSYBOX, MA, A, T1) is None
    assert index.set_name(JTR, MA, A, T2) is None
    assert index.set_name("docker.io/library/other:latest", MB, B, T2) is None
    assert index.get(BUSYBOX) == ImageRecord(BUSYBOX, MA, A, T1)
    assert index.get("docker.io/library/nosuch:latest") is None
    assert index.names(A) == [BUSYBOX, JTR]
    assert [r.name for r in index.by_image(A)] == [BUSYBOX, JTR]
    assert index.image_ids() == [A, B], "each image once, in insertion order"
    assert dangling(index) == []


def test_moving_the_last_name_leaves_the_old_image_dangling(index: ImageIndex) -> None:
    index.set_name(BUSYBOX, MA, A, T1)
    assert index.set_name(BUSYBOX, MB, B, T2) == A, "the displaced image is reported"
    assert index.get(BUSYBOX) == ImageRecord(BUSYBOX, MB, B, T2)
    assert index.names(A) == []
    assert dangling(index) == [A]
    [old] = index.by_image(A)
    assert old.target == MA, "the dangling entry still points at the old manifest"
    assert sorted(index.image_ids()) == [A, B]


def test_moving_one_of_several_names_leaves_no_dangling_entry(index: ImageIndex) -> None:
    index.set_name(BUSYBOX, MA, A, T1)
    index.set_name(JTR, MA, A, T1)
    assert index.set_name(BUSYBOX, MB, B, T2) == A
    assert index.names(A) == [JTR]
    assert dangling(index) == []


def test_naming_a_dangling_image_removes_its_dangling_entry(index: ImageIndex) -> None:
    index.add_dangling(MA, A)
    assert dangling(index) == [A]
    index.set_name(BUSYBOX, MA, A, T1)
    assert dangling(index) == []
    assert [r.name for r in index.by_image(A)] == [BUSYBOX]


def test_retagging_the_same_image_only_refreshes_the_time(index: ImageIndex) -> None:
    index.set_name(BUSYBOX, MA, A, T1)
    assert index.set_name(BUSYBOX, MA, A, T2) is None
    assert index.by_image(A) == [ImageRecord(BUSYBOX, MA, A, T2)]


def test_add_dangling_only_for_an_unknown_image(index: ImageIndex) -> None:
    index.add_dangling(MA, A)
    index.add_dangling(MA, A)
    assert index.by_image(A) == [ImageRecord(None, MA, A)]
    index.set_name(BUSYBOX, MB, B, T1)
    index.add_dangling(MB, B)
    assert dangling(index) == [A], "an image with a name gets no dangling entry"


def test_untag_forgets_an_image_with_no_other_name(index: ImageIndex) -> None:
    index.set_name(BUSYBOX, MA, A, T1)
    record = index.untag(BUSYBOX)
    assert record == ImageRecord(BUSYBOX, MA, A, T1)
    assert index.by_image(A) == [], "untag never leaves a dangling entry: rmi deletes the image"
    assert index.image_ids() == []


def test_untag_keeps_other_names(index: ImageIndex) -> None:
    index.set_name(BUSYBOX, MA, A, T1)
    index.set_name(JTR, MA, A, T1)
    index.untag(JTR)
    assert index.names(A) == [BUSYBOX]
    assert index.untag(JTR) is None, "untagging an unknown name is a no-op"
    assert index.names(A) == [BUSYBOX]


def test_remove_image(index: ImageIndex) -> None:
    index.set_name(BUSYBOX, MA, A, T1)
    index.set_name(JTR, MA, A, T1)
    index.set_name("docker.io/library/other:latest", MB, B, T1)
    removed = index.remove_image(A)
    assert [r.name for r in removed] == [BUSYBOX, JTR]
    assert index.image_ids() == [B]
    assert index.remove_image(A) == []


def test_remove_a_dangling_image(index: ImageIndex) -> None:
    index.add_dangling(MC, C)
    assert index.remove_image(C) == [ImageRecord(None, MC, C)]
    assert index.records == []


def test_mutations_reach_disk_only_on_save(index: ImageIndex) -> None:
    index.set_name(BUSYBOX, MA, A, T1)
    index.save()
    index.untag(BUSYBOX)
    assert ImageIndex(index.root).get(BUSYBOX) is not None
    index.save()
    assert ImageIndex(index.root).records == []
