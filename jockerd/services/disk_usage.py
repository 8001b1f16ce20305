"""How much disk a directory tree takes, as dockerd counts it (moby's directory.Size)."""

from __future__ import annotations

import os
from pathlib import Path


def dir_size(path: Path) -> int:
    """Bytes of the files under `path`, each inode once (busybox is hundreds of hard links).

    Blocking (a walk of the tree): call it from a thread. Files that vanish meanwhile count 0.
    """
    total = 0
    seen: set[tuple[int, int]] = set()
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                st = os.lstat(os.path.join(root, name))
            except OSError:
                continue
            if (st.st_dev, st.st_ino) not in seen:
                seen.add((st.st_dev, st.st_ino))
                total += st.st_size
    return total
