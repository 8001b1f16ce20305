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
_PATH = rf"{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
# Go's \w is ASCII-only; Python's would also accept "é".
_TAG = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9A-Fa-f]{32,}"
_NAME = rf"(?:(?P<domain>{_DOMAIN})/)?(?P<path>{_PATH})"
# Always used with fullmatch(): `$` would also accept a trailing newline.
_REFERENCE = re.compile(rf"{_NAME}(?::(?P<tag>{_TAG}))?(?:@(?P<digest>{_DIGEST}))?")
_ANCHORED_TAG = re.compile(_TAG)
_IDENTIFIER = re.compile(r"[a-f0-9]{64}")
_SHA256_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
# go-digest's registered algorithms and the length of their hex encoding.
_DIGEST_HEX_LENGTHS = {"sha256": 64, "sha384": 96, "sha512": 128}

INVALID_REFERENCE_FORMAT = "invalid reference format"


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
        return f"{self.domain}/{self.path}" if self.domain else self.path

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
            rest = self.path.removeprefix(OFFICIAL_REPO_PREFIX)
            # `library/` is only dropped from a one-component official name, as Docker does.
            return self.path if "/" in rest else rest
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


def _split_docker_domain(value: str) -> tuple[str, str]:
    """distribution/reference splitDockerDomain: the domain, and the rest (tag and digest included).

    A first component is a domain only if it is `localhost` or has a `.`, a `:` or an uppercase
    letter; a name of one component never has one (`localhost:5000` alone is a tag of
    `library/localhost`). Docker Hub names get `library/` when they have one component.
    """
    first, sep, rest = value.partition("/")
    if not sep:
        return DEFAULT_DOMAIN, OFFICIAL_REPO_PREFIX + value
    if first == LEGACY_DEFAULT_DOMAIN:
        domain, remainder = DEFAULT_DOMAIN, rest
    elif first == "localhost" or "." in first or ":" in first or first != first.lower():
        domain, remainder = first, rest
    else:
        domain, remainder = DEFAULT_DOMAIN, value
    if domain == DEFAULT_DOMAIN and "/" not in remainder:
        remainder = OFFICIAL_REPO_PREFIX + remainder
    return domain, remainder


def parse_reference(value: str, *, default_tag: bool = True) -> Reference:
    """Parse and normalize a reference as `docker pull`/`docker tag` do (ParseNormalizedNamed).

    A reference with neither tag nor digest gets `:latest` unless `default_tag` is False.
    Raises InvalidParameterError with Docker's wording for a malformed reference.
    """
    if _IDENTIFIER.fullmatch(value):
        raise InvalidParameterError(
            f"invalid repository name ({value}), cannot specify 64-byte hexadecimal strings"
        )
    domain, remainder = _split_docker_domain(value)
    remote = remainder.partition(":")[0]
    if remote != remote.lower():
        raise InvalidParameterError(
            f"{INVALID_REFERENCE_FORMAT}: repository name ({remote}) must be lowercase"
        )
    ref = _parse(f"{domain}/{remainder}")
    if default_tag and not ref.tag and not ref.digest:
        return ref.with_tag(DEFAULT_TAG)
    return ref


def _parse(value: str) -> Reference:
    """distribution/reference Parse() of a string whose domain is already explicit."""
    match = _REFERENCE.fullmatch(value)
    if match is None:
        lowered = value.lower()
        if lowered != value and _REFERENCE.fullmatch(lowered):
            raise InvalidParameterError("repository name must be lowercase")
        raise InvalidParameterError(INVALID_REFERENCE_FORMAT)
    if len(match["path"]) > NAME_TOTAL_LENGTH_MAX:
        raise InvalidParameterError(
            f"repository name must not be more than {NAME_TOTAL_LENGTH_MAX} characters"
        )
    digest = match["digest"]
    if digest:
        _check_digest(digest)
    return Reference(match["domain"] or "", match["path"], match["tag"], digest)


def _check_digest(digest: str) -> None:
    """go-digest's Validate for a digest the grammar accepted: a known algorithm, exact length."""
    algorithm, _, encoded = digest.partition(":")
    length = _DIGEST_HEX_LENGTHS.get(algorithm)
    if length is None:
        raise InvalidParameterError("unsupported digest algorithm")
    if len(encoded) != length:
        raise InvalidParameterError("invalid checksum digest length")
    if encoded != encoded.lower():
        raise InvalidParameterError("invalid checksum digest format")


def parse_repository(value: str) -> Reference:
    """Parse a repository name with no tag or digest (the `repo` of `POST /images/{name}/tag`)."""
    ref = parse_reference(value, default_tag=False)
    if ref.tag or ref.digest:
        raise InvalidParameterError(INVALID_REFERENCE_FORMAT)
    return ref


def valid_tag(tag: str) -> bool:
    return bool(_ANCHORED_TAG.fullmatch(tag))


def is_sha256_digest(value: str) -> bool:
    return bool(_SHA256_DIGEST.fullmatch(value))
