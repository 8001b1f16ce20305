"""`jocker login [SERVER]`: POST /auth, then the credentials go to docker's config.json."""

from __future__ import annotations

import base64
import sys

from jocker_cli.client import CliError

USAGE = "[OPTIONS] [SERVER]"
ARGS = (0, 1)


def add_arguments(parser) -> None:
    parser.add_argument(
        "-p", "--password", default="", metavar="string", help="Password or Personal Access Token (PAT)"
    )
    parser.add_argument(
        "--password-stdin",
        action="store_true",
        help="Take the Password or Personal Access Token (PAT) from stdin",
    )
    parser.add_argument("-u", "--username", default="", metavar="string", help="Username")


def run(args, client) -> int:
    from jocker_cli.auth import config_dir, load_config, normalize_server, save_config

    server = normalize_server(args.positionals[0] if args.positionals else "")
    username, password = args.username, args.password
    if args.password:
        print("WARNING! Using --password via the CLI is insecure. Use --password-stdin.", file=sys.stderr)
    if args.password_stdin:
        if args.password:
            raise CliError("--password and --password-stdin are mutually exclusive")
        if not username:
            raise CliError("Must provide --username with --password-stdin")
        password = sys.stdin.read().rstrip("\r\n")
    if not username:
        if not sys.stdin.isatty():
            raise CliError("Error: Cannot perform an interactive login from a non TTY device")
        username = input("Username: ").strip()
    if not password:
        import getpass

        password = getpass.getpass("Password: ")
    if not username or not password:
        raise CliError("Error: Non-null Username Required" if not username else "Error: Password Required")
    body = {"username": username, "password": password, "serveraddress": server}
    reply = client.request("POST", "/auth", json_body=body).json() or {}
    directory = config_dir(args.config_dir)
    config = load_config(directory)
    entry = {"auth": base64.b64encode(f"{username}:{password}".encode()).decode()}
    if reply.get("IdentityToken"):
        entry = {
            "auth": base64.b64encode(f"{username}:".encode()).decode(),
            "identitytoken": reply["IdentityToken"],
        }
    config.setdefault("auths", {})[server] = entry
    save_config(directory, config)
    print(reply.get("Status") or "Login Succeeded")
    return 0
