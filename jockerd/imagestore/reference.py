"""Image references normalized as Docker does (distribution/reference's grammar).

`busybox` is `docker.io/library/busybox:latest`; `localhost:5000/a/b@sha256:...` keeps its
registry; `familiar()` gives back the short form Docker prints (`busybox:latest`, `jtr/bb:v1`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from jockerd.errors import InvalidParameterError

DEFAULT_DOMAIN = "docker.io"
LEGACY_DEFAULT_DOMAIN = "index.docker.io"
OFFICIAL_REPO_PREFIX = "library/"
DEFAULT_TAG = "latest"
NAME_TOTAL_LENGTH_MAX = 255

_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
_PATH_COMPONENT = rf"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_IPV6 = r"\[(?:[a-fA-F0-9:]+)\]"
_DOMAIN_NAME = rf"{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*"
_HOST = rf"(?:{_DOMAIN_NAME}|{_IPV6})"
_DOMAIN = rf"{_HOST}(?::[0-9]+)?"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9A-Fa-f]{32,}"
_NAME = rf"(?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
_REFERENCE = re.compile(rf"^({_NAME})(?::({_TAG}))?(?:@({_DIGEST}))?$")
_ANCHORED_TAG = re.compile(rf"^{_TAG}$")
_ANCHORED_NAME = re.compile(rf"^{_NAME}$")
_SHA256_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


def _invalid(value: str, why: str = "") -> InvalidParameterError:
    suffix = f": {why}" if why else ""
    return InvalidParameterError(f"invalid reference format{suffix}")


@dataclass(frozen=True)
class Reference:
    """A fully qualified image reference: domain/path[:tag][@digest]."""

    domain: str
    path: str
    tag: str | None = None
    digest: str | None = None

    @property
    def name(self) -> str:
        """The repository with its domain: `docker.io/library/busybox`."""
        return f"{self.domain}/{self.path}"

    def __str__(self) -> str:
        out = self.name
        if self.tag:
            out += f":{self.tag}"
        if self.digest:
            out += f"@{self.digest}"
        return out

    def familiar_name(self) -> str:
        """The repository as Docker prints it: `busybox`, `jtr/bb`, `localhost:5000/x`."""
        if self.domain == DEFAULT_DOMAIN:
            return self.path.removeprefix(OFFICIAL_REPO_PREFIX)
        return self.name

    def familiar(self) -> str:
        """The whole reference as Docker prints it: `busybox:latest`."""
        out = self.familiar_name()
        if self.tag:
            out += f":{self.tag}"
        if self.digest:
            out += f"@{self.digest}"
        return out

    def with_tag(self, tag: str) -> Reference:
        return Reference(self.domain, self.path, tag, None)

    def with_digest(self, digest: str) -> Reference:
        return Reference(self.domain, self.path, None, digest)


def _split_domain(name: str) -> tuple[str, str]:
    first, sep, rest = name.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost" or first != first.lower()):
        domain, path = first, rest
    else:
        domain, path = DEFAULT_DOMAIN, name
    if domain == LEGACY_DEFAULT_DOMAIN:
        domain = DEFAULT_DOMAIN
    if domain == DEFAULT_DOMAIN and "/" not in path:
        path = OFFICIAL_REPO_PREFIX + path
    return domain, path


def parse_reference(value: str, *, default_tag: bool = True) -> Reference:
    """Parse and normalize a reference as `docker pull`/`docker tag` do.

    A reference with neither tag nor digest gets `:latest` unless `default_tag` is False.
    Raises InvalidParameterError with Docker's wording for a malformed reference.
    """
    if not value:
        raise _invalid(value)
    match = _REFERENCE.match(value)
    if not match:
        if _REFERENCE.match(value.lower()):
            raise _invalid(value, f"repository name ({value.split('@')[0]}) must be lowercase")
        raise _invalid(value)
    name, tag, digest = match.groups()
    if len(name) > NAME_TOTAL_LENGTH_MAX:
        raise _invalid(value, f"repository name must not be more than {NAME_TOTAL_LENGTH_MAX} characters")
    domain, path = _split_domain(name)
    if path != path.lower():
        raise _invalid(value, f"repository name ({path}) must be lowercase")
    if _looks_like_id(path) and domain == DEFAULT_DOMAIN and path.startswith(OFFICIAL_REPO_PREFIX):
        bare = path.removeprefix(OFFICIAL_REPO_PREFIX)
        if len(bare) == 64 and not tag and not digest:
            raise _invalid(value, "cannot specify 64-byte hexadecimal strings")
    if default_tag and not tag and not digest:
        tag = DEFAULT_TAG
    return Reference(domain, path, tag, digest)


def _looks_like_id(path: str) -> bool:
    bare = path.removeprefix(OFFICIAL_REPO_PREFIX)
    return len(bare) == 64 and all(c in "0123456789abcdef" for c in bare)


def parse_repository(value: str) -> Reference:
    """Parse a repository name with no tag or digest (the `repo` of `POST /images/{name}/tag`)."""
    if not _ANCHORED_NAME.match(value):
        raise _invalid(value)
    domain, path = _split_domain(value)
    return Reference(domain, path)


def valid_tag(tag: str) -> bool:
    return bool(_ANCHORED_TAG.match(tag))


def is_sha256_digest(value: str) -> bool:
    return bool(_SHA256_DIGEST.match(value))
