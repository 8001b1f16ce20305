"""Base classes for the two wire conventions: Docker's PascalCase and OCI's camelCase."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel, to_pascal


class DockerModel(BaseModel):
    """Docker Engine API type: PascalCase keys; acronyms are overridden per field."""

    model_config = ConfigDict(
        alias_generator=to_pascal,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        extra="allow",
    )


class OciModel(BaseModel):
    """OCI spec type: camelCase keys; exceptions are overridden per field."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        extra="allow",
    )
