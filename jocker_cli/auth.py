"""Registry credentials in docker's client config (config.json `auths`), and X-Registry-Auth.

The file is docker's own (`--config`, DOCKER_CONFIG, ~/.docker), so a `docker login` serves
`jocker pull` and the other way round. Only inline `auth` entries are read and written;
credential helpers (`credsStore`) are not run.
"""

from __future__ import annotations

import base64
import json
import os

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing costs start-up time
    from typing import Any

INDEX_SERVER = "https://index.docker.io/v1/"


def config_dir(flag: str | None) -> str:
    return flag or os.environ.get("DOCKER_CONFIG") or os.path.join(os.path.expanduser("~"), ".docker")


def load_config(directory: str) -> dict[str, Any]:
    try:
        with open(os.path.join(directory, "config.json"), encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def save_config(directory: str, config: dict[str, Any]) -> None:
    os.makedirs(directory, mode=0o700, exist_ok=True)
    path = os.path.join(directory, "config.json")
    temporary = path + ".tmp"
    with open(temporary, "w", encoding="utf-8") as f:
        os.fchmod(f.fileno(), 0o600)
        json.dump(config, f, indent="\t")
    os.replace(temporary, path)


def registry_of(reference: str) -> str:
    """The config key for an image reference's registry (docker.io → the index server)."""
    first, sep, _ = reference.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        return first
    return INDEX_SERVER


def normalize_server(server: str) -> str:
    if not server or server in ("docker.io", "index.docker.io", "registry-1.docker.io"):
        return INDEX_SERVER
    for scheme in ("https://", "http://"):
        if server.startswith(scheme) and server != INDEX_SERVER:
            server = server[len(scheme) :]
    return server.rstrip("/") if server != INDEX_SERVER else server


def credentials(directory: str, server: str) -> dict[str, str]:
    auths = load_config(directory).get("auths") or {}
    entry = auths.get(server) or auths.get("https://" + server) or auths.get("http://" + server) or {}
    user = password = ""
    if entry.get("auth"):
        decoded = base64.b64decode(entry["auth"]).decode("utf-8", "replace")
        user, _, password = decoded.partition(":")
    out = {"username": user, "password": password, "serveraddress": server}
    if entry.get("identitytoken"):
        out["identitytoken"] = entry["identitytoken"]
    return out if user or out.get("identitytoken") else {}


def registry_auth_header(directory: str, reference: str) -> str:
    """X-Registry-Auth: base64url of the credentials JSON ("e30=" for `{}` when there are none)."""
    creds = credentials(directory, registry_of(reference))
    return base64.urlsafe_b64encode(json.dumps(creds, separators=(",", ":")).encode()).decode()
