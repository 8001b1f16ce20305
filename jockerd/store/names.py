"""NameRegistry: container names, unique, with Docker's rules and wording.

Names are stored with their leading slash ("/web"), as Docker does; lookups accept both forms.
Generated names follow Docker's adjective_surname shape from the project's own word lists.
"""

from __future__ import annotations

import re
import secrets

from jockerd.errors import ConflictError, InvalidParameterError

VALID_NAME = re.compile(r"^/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$")

_ADJECTIVES = (
    "agile", "bold", "brave", "bright", "calm", "clever", "crisp", "eager", "fair", "fond", "gentle",
    "happy", "hardy", "keen", "kind", "lucid", "merry", "modest", "nimble", "noble", "patient",
    "plucky", "proud", "quick", "quiet", "serene", "sharp", "steady", "sunny", "swift", "tender",
    "upbeat", "vivid", "warm", "wise", "witty", "zealous", "jolly", "mellow", "tidy",
)  # fmt: skip
_SURNAMES = (
    "babbage", "bohr", "cantor", "curie", "darwin", "dijkstra", "euler", "faraday", "fermi",
    "gauss", "goodall", "hamilton", "hopper", "hypatia", "kepler", "knuth", "lamport", "lovelace",
    "maxwell", "meitner", "mendel", "newton", "noether", "pascal", "planck", "ritchie", "shannon",
    "tesla", "thompson", "torvalds", "turing", "volta", "wozniak", "yalow", "ramanujan", "ride",
)  # fmt: skip


def normalize(name: str) -> str:
    return name if name.startswith("/") else "/" + name


def validate(name: str) -> str:
    """The stored form of a client-given name; Docker's 400 for an invalid one."""
    if not VALID_NAME.match(name):
        raise InvalidParameterError(
            f"Invalid container name ({name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
        )
    return normalize(name)


def name_in_use(name: str, owner: str) -> ConflictError:
    return ConflictError(
        f'Conflict. The container name "{name}" is already in use by container "{owner}". '
        "You have to remove (or rename) that container to be able to reuse that name."
    )


class NameRegistry:
    def __init__(self) -> None:
        self._owners: dict[str, str] = {}

    def get(self, name: str) -> str | None:
        return self._owners.get(normalize(name))

    def reserve(self, name: str, container_id: str) -> None:
        name = normalize(name)
        owner = self._owners.get(name)
        if owner is not None and owner != container_id:
            raise name_in_use(name, owner)
        self._owners[name] = container_id

    def release(self, name: str) -> None:
        self._owners.pop(normalize(name), None)

    def generate(self, container_id: str) -> str:
        """Reserve and return a fresh adjective_surname name (a numeric suffix if all clash)."""
        for attempt in range(20):
            base = f"/{secrets.choice(_ADJECTIVES)}_{secrets.choice(_SURNAMES)}"
            name = base if attempt < 10 else f"{base}{secrets.randbelow(10)}"
            if name not in self._owners:
                self._owners[name] = container_id
                return name
        name = "/" + container_id[:12]
        self._owners[name] = container_id
        return name
