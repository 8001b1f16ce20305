"""`jocker logout [SERVER]`: drops the server's entry from docker's config.json (no daemon call)."""

from __future__ import annotations

USAGE = "[SERVER]"
ARGS = (0, 1)
NO_CLIENT = True


def add_arguments(parser) -> None:
    pass


def run(args, client) -> int:
    from jocker_cli.auth import config_dir, load_config, normalize_server, save_config

    server = normalize_server(args.positionals[0] if args.positionals else "")
    directory = config_dir(args.config_dir)
    config = load_config(directory)
    auths = config.get("auths") or {}
    if server not in auths:
        print(f"Not logged in to {server}")
        return 0
    print(f"Removing login credentials for {server}")
    del auths[server]
    save_config(directory, config)
    return 0
