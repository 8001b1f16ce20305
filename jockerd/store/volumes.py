"""VolumeRecord and VolumeStore: the local driver's volumes, on disk as dockerd lays them out.

data_root/volumes/<name>/_data is the volume's content (what containers mount) and
data_root/volumes/<name>/volume.json its record (driver, creation time, labels, driver
options), written atomically after _data exists, so a directory without a record is a create
that never finished and `load_all()` removes it. Removal renames the directory to
`.removing-<name>` before deleting it (volume names never start with "."), so a crash never
leaves half a volume under its name. Which containers use a volume is not stored here: the
service rebuilds it from the container records.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from jockerd.store.atomic import fsync_dir, write_json

log = logging.getLogger("jockerd.store")

RECORD_FILE = "volume.json"
DATA_DIR = "_data"
REMOVING_PREFIX = ".removing-"


class VolumeRecord(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str
    driver: str = "local"
    created_at: str  # RFC 3339, seconds (the local driver's CreatedAt)
    labels: dict[str, str] | None = None
    options: dict[str, str] | None = None


class VolumeStore:
    """One directory per volume under `root` (data_root/volumes, mode 0701 as dockerd's)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True, mode=0o701)

    def dir(self, name: str) -> Path:
        return self.root / name

    def data_dir(self, name: str) -> Path:
        return self.root / name / DATA_DIR

    def save(self, record: VolumeRecord) -> None:
        directory = self.dir(record.name)
        directory.mkdir(exist_ok=True, mode=0o701)
        self.data_dir(record.name).mkdir(exist_ok=True, mode=0o755)
        write_json(directory / RECORD_FILE, record.model_dump(mode="json"))

    def load_all(self) -> list[VolumeRecord]:
        """Every complete record; leftovers of a crash (half-created or half-removed) are removed."""
        records = []
        for directory in sorted(self.root.iterdir()):
            if directory.name.startswith(REMOVING_PREFIX):
                shutil.rmtree(directory, ignore_errors=True)
                continue
            path = directory / RECORD_FILE
            try:
                records.append(VolumeRecord.model_validate(json.loads(path.read_text())))
            except FileNotFoundError:
                log.warning("removing incomplete volume directory %s", directory)
                shutil.rmtree(directory, ignore_errors=True)
            except (OSError, ValueError) as e:
                log.error("skipping unreadable volume record %s: %s", path, e)
        return records

    def delete(self, name: str) -> None:
        directory = self.dir(name)
        doomed = self.root / f"{REMOVING_PREFIX}{name}"
        try:
            os.rename(directory, doomed)
        except FileNotFoundError:
            return
        fsync_dir(self.root)
        shutil.rmtree(doomed, ignore_errors=True)
