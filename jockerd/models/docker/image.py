"""Image endpoints' bodies (swagger ImageSummary, ImageInspect, HistoryResponseItem, ...)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from jockerd.models.base import DockerModel

# The empty container config images carried before API 1.45 (`ContainerConfig`).
LEGACY_CONTAINER_CONFIG: dict[str, Any] = {
    "Hostname": "",
    "Domainname": "",
    "User": "",
    "AttachStdin": False,
    "AttachStdout": False,
    "AttachStderr": False,
    "Tty": False,
    "OpenStdin": False,
    "StdinOnce": False,
    "Env": None,
    "Cmd": None,
    "Image": "",
    "Volumes": None,
    "WorkingDir": "",
    "Entrypoint": None,
    "OnBuild": None,
    "Labels": None,
}


class ImageSummary(DockerModel):
    id: str = Field(alias="Id")
    parent_id: str = ""
    repo_tags: list[str] = Field(default_factory=list)
    repo_digests: list[str] = Field(default_factory=list)
    created: int
    size: int
    shared_size: int = -1
    virtual_size: int | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    containers: int = -1


class RootFS(DockerModel):
    type: str = "layers"
    layers: list[str] = Field(default_factory=list)


class ImageMetadata(DockerModel):
    last_tag_time: str | None = None


class GraphDriverData(DockerModel):
    name: str = "overlay2"
    data: dict[str, str] = Field(default_factory=dict)


class ImageInspect(DockerModel):
    id: str = Field(alias="Id")
    repo_tags: list[str] = Field(default_factory=list)
    repo_digests: list[str] = Field(default_factory=list)
    parent: str = ""
    comment: str = ""
    created: str | None = None
    docker_version: str = ""
    author: str = ""
    config: dict[str, Any] | None = None
    architecture: str = ""
    variant: str | None = None
    os: str = ""
    os_version: str | None = None
    size: int = 0
    virtual_size: int | None = None
    graph_driver: GraphDriverData = Field(default_factory=GraphDriverData)
    root_fs: RootFS = Field(default_factory=RootFS, alias="RootFS")
    metadata: ImageMetadata = Field(default_factory=ImageMetadata)


class HistoryResponseItem(DockerModel):
    id: str = Field(alias="Id")
    created: int
    created_by: str = ""
    tags: list[str] | None = None
    size: int = 0
    comment: str = ""


class ImageDeleteResponseItem(DockerModel):
    untagged: str | None = None
    deleted: str | None = None


class ImagePruneResponse(DockerModel):
    images_deleted: list[ImageDeleteResponseItem] | None = None
    space_reclaimed: int = 0
