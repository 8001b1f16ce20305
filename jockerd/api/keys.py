"""Typed application keys: the only way handlers reach their backends (no globals).

Each routes module declares the Protocol it consumes and its key; this module gathers them
so the composition root (app.py) and tests find every key in one place.
"""

from __future__ import annotations

from jockerd.api.routes.containers import CONTAINERS
from jockerd.api.routes.exec import EXECS
from jockerd.api.routes.images import IMAGES
from jockerd.api.routes.jocker import JOCKER
from jockerd.api.routes.networks import NETWORKS
from jockerd.api.routes.system import EVENTS, SYSTEM
from jockerd.api.routes.volumes import VOLUMES

__all__ = ["CONTAINERS", "EVENTS", "EXECS", "IMAGES", "JOCKER", "NETWORKS", "SYSTEM", "VOLUMES"]
