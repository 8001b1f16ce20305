"""`jocker push`: POST /images/{name}/push?tag= with X-Registry-Auth, progress as docker shows it."""

from __future__ import annotations

import sys

USAGE = "[OPTIONS] NAME[:TAG]"
ARGS = (1, 1)


def add_arguments(parser) -> None:
    parser.add_argument(
        "-a", "--all-tags", action="store_true", help="Push all tags of an image to the repository"
    )
    parser.add_argument("--platform", default="", metavar="string", help="Push a platform-specific manifest")
    parser.add_argument("-q", "--quiet", action="store_true", help="Suppress verbose output")


def run(args, client) -> int:
    from jocker_cli.auth import config_dir, registry_auth_header
    from jocker_cli.commands.tag import split_reference
    from jocker_cli.progress import display

    reference = args.positionals[0]
    repository, tag = split_reference(reference)
    explicit = reference != repository
    if not explicit and not args.all_tags and not args.quiet:
        print("Using default tag: latest")
    params = {"tag": None if args.all_tags else tag, "platform": args.platform or None}
    header = registry_auth_header(config_dir(args.config_dir), reference)
    response = client.transfer("POST", f"/images/{repository}/push", params=params,
                               headers={"X-Registry-Auth": header})  # fmt: skip
    if args.quiet:
        for message in response.iter_json():
            if message.get("error") or message.get("errorDetail"):
                display([message], sys.stdout)
        print(reference)
    else:
        display(response.iter_json(), sys.stdout)
    return 0
