"""OCI image-spec documents (specs-go/v1): descriptors, manifests, indexes, media types."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from jockerd.models.base import OciModel

MEDIA_TYPE_DESCRIPTOR = "application/vnd.oci.descriptor.v1+json"
MEDIA_TYPE_LAYOUT_HEADER = "application/vnd.oci.layout.header.v1+json"
MEDIA_TYPE_IMAGE_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MEDIA_TYPE_IMAGE_INDEX = "application/vnd.oci.image.index.v1+json"
MEDIA_TYPE_IMAGE_CONFIG = "application/vnd.oci.image.config.v1+json"
MEDIA_TYPE_IMAGE_LAYER = "application/vnd.oci.image.layer.v1.tar"
MEDIA_TYPE_IMAGE_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
MEDIA_TYPE_IMAGE_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"
MEDIA_TYPE_DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
MEDIA_TYPE_DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
MEDIA_TYPE_DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
MEDIA_TYPE_DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar"
MEDIA_TYPE_DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"
MEDIA_TYPE_DOCKER_FOREIGN_LAYER = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"

MANIFEST_MEDIA_TYPES = {MEDIA_TYPE_IMAGE_MANIFEST, MEDIA_TYPE_DOCKER_MANIFEST}
INDEX_MEDIA_TYPES = {MEDIA_TYPE_IMAGE_INDEX, MEDIA_TYPE_DOCKER_MANIFEST_LIST}
LAYER_MEDIA_TYPES = {
    MEDIA_TYPE_IMAGE_LAYER,
    MEDIA_TYPE_IMAGE_LAYER_GZIP,
    MEDIA_TYPE_IMAGE_LAYER_ZSTD,
    MEDIA_TYPE_DOCKER_LAYER,
    MEDIA_TYPE_DOCKER_LAYER_GZIP,
}

ANNOTATION_REF_NAME = "org.opencontainers.image.ref.name"
ANNOTATION_CONTAINERD_IMAGE_NAME = "io.containerd.image.name"
ANNOTATION_CREATED = "org.opencontainers.image.created"
IMAGE_LAYOUT_VERSION = "1.0.0"


class Platform(OciModel):
    architecture: str
    os: str
    os_version: str | None = Field(None, alias="os.version")
    os_features: list[str] | None = Field(None, alias="os.features")
    variant: str | None = None


class Descriptor(OciModel):
    media_type: str
    digest: str
    size: int
    urls: list[str] | None = None
    annotations: dict[str, str] | None = None
    platform: Platform | None = None


class Manifest(OciModel):
    schema_version: int = 2
    media_type: str | None = MEDIA_TYPE_IMAGE_MANIFEST
    config: Descriptor
    layers: list[Descriptor] = Field(default_factory=list)
    annotations: dict[str, str] | None = None


class Index(OciModel):
    schema_version: int = 2
    media_type: str | None = MEDIA_TYPE_IMAGE_INDEX
    manifests: list[Descriptor] = Field(default_factory=list)
    annotations: dict[str, str] | None = None


class ImageLayout(OciModel):
    image_layout_version: str = IMAGE_LAYOUT_VERSION


def dump(model: OciModel) -> dict[str, Any]:
    """Serialize the way the specs write documents: aliases, no null fields."""
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)
