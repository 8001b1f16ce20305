"""Shapes shared by several Docker endpoints."""

from __future__ import annotations

from jockerd.models.base import DockerModel


class ErrorResponse(DockerModel):
    message: str


class IDResponse(DockerModel):
    id: str


Filters = dict[str, list[str]]
