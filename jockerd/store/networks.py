"""The predefined networks' identities, on disk: data_root/network/predefined.json.

dockerd keeps its networks in libnetwork's local store, so `host` and `none` keep their IDs and
creation times across restarts. jocker has only those two networks (no bridge networking yet);
their 64-hex IDs and Created times are generated on the first start and written atomically,
then read back on every start.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from jockerd.store.atomic import write_json

log = logging.getLogger("jockerd.store")

PREDEFINED_FILE = "predefined.json"


class NetworkRecord(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str
    id: str
    driver: str
    created: str  # Go's RFC3339Nano, as inspect shows it


class NetworkStore:
    """data_root/network/: the records of the predefined networks."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.path = root / PREDEFINED_FILE

    def load(self) -> dict[str, NetworkRecord]:
        """The stored records by name; an unreadable file counts as none (new IDs are made)."""
        try:
            data = json.loads(self.path.read_text())
            return {name: NetworkRecord.model_validate(item) for name, item in data.items()}
        except FileNotFoundError:
            return {}
        except (OSError, ValueError, AttributeError) as e:
            log.error("ignoring unreadable network records %s: %s", self.path, e)
            return {}

    def save(self, records: dict[str, NetworkRecord]) -> None:
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_json(self.path, {name: record.model_dump() for name, record in records.items()})
