"""Docker's identifier rules: 64-hex IDs, 12-character short IDs, prefix lookup."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable

_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_HEX_PREFIX = re.compile(r"^[0-9a-f]{1,64}$")


def new_id() -> str:
    """A random 64-hex ID, as moby's stringid.GenerateRandomID."""
    return secrets.token_hex(32)


def short_id(full: str) -> str:
    """The 12-character form Docker prints; strips a `sha256:` algorithm prefix."""
    return full.removeprefix("sha256:")[:12]


def is_full_id(value: str) -> bool:
    return bool(_HEX64.match(value))


def is_id_prefix(value: str) -> bool:
    return bool(_HEX_PREFIX.match(value))


def resolve_prefix(prefix: str, candidates: Iterable[str]) -> list[str]:
    """All candidates (64-hex IDs) that start with `prefix` (with or without `sha256:`)."""
    bare = prefix.removeprefix("sha256:")
    if not is_id_prefix(bare):
        return []
    return [c for c in candidates if c.startswith(bare)]
