"""`jocker`: a small client for jockerd. For now: `jocker version` and `jocker ping`.

The full docker-like command set arrives with the CLI issue; the real docker CLI already
drives jockerd through DOCKER_HOST.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.parse

DEFAULT_HOST = "unix:///var/run/jocker.sock"


def _session_get(host: str, path: str) -> tuple[int, bytes]:
    import requests_unixsocket

    socket_path = host.removeprefix("unix://")
    url = "http+unix://" + urllib.parse.quote(socket_path, safe="") + path
    with requests_unixsocket.Session() as session:
        response = session.get(url, timeout=30)
        return response.status_code, response.content


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="jocker")
    parser.add_argument("-H", "--host", default=os.environ.get("DOCKER_HOST", DEFAULT_HOST))
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("version", help="show the client and server versions")
    sub.add_parser("ping", help="check that the daemon answers")
    args = parser.parse_args(argv)
    if not args.host.startswith("unix://"):
        print(f"jocker: unsupported host {args.host}", file=sys.stderr)
        return 1
    try:
        if args.command == "ping":
            status, body = _session_get(args.host, "/_ping")
            print(body.decode())
            return 0 if status == 200 else 1
        status, body = _session_get(args.host, "/version")
    except OSError as e:
        print(f"Cannot connect to the jocker daemon at {args.host}: {e}", file=sys.stderr)
        return 1
    if status != 200:
        print(f"Error response from daemon: {json.loads(body).get('message', body)}", file=sys.stderr)
        return 1
    data = json.loads(body)
    version, api, minimum = data.get("Version"), data.get("ApiVersion"), data.get("MinAPIVersion")
    print(f"Server: jocker {version} (API {api}, min {minimum})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
