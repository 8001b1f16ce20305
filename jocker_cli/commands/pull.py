"""`jocker pull`: POST /images/create?fromImage=<qualified>&tag= with X-Registry-Auth, progress shown
as docker shows it (bars on a terminal, plain lines elsewhere), then the full reference."""

from __future__ import annotations

import sys

USAGE = "[OPTIONS] NAME[:TAG|@DIGEST]"
ARGS = (1, 1)


def add_arguments(parser) -> None:
    parser.add_argument(
        "-a", "--all-tags", action="store_true", help="Download all tagged images in the repository"
    )
    parser.add_argument(
        "--platform", default="", metavar="string", help="Set platform if server is multi-platform capable"
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="Suppress verbose output")


def pull(client, reference: str, *, config_dir: str | None, platform: str = "", all_tags: bool = False,
         quiet: bool = False, out=None) -> str:  # fmt: skip
    """Pull one image; returns the fully qualified reference docker prints."""
    from jocker_cli.auth import config_dir as find_config
    from jocker_cli.auth import registry_auth_header
    from jocker_cli.commands.tag import qualify, split_reference
    from jocker_cli.progress import display

    out = out or sys.stdout
    repository, tag = split_reference(reference)
    explicit = reference != repository or "@" in reference
    if all_tags:
        tag = ""
    elif not explicit and not quiet:
        out.write("Using default tag: latest\n")
    qualified = qualify(repository)
    params = {"fromImage": qualified, "tag": tag or None, "platform": platform or None}
    header = registry_auth_header(find_config(config_dir), reference)
    response = client.transfer("POST", "/images/create", params=params, headers={"X-Registry-Auth": header})
    messages = response.iter_json()
    if quiet:
        for message in messages:
            if message.get("error") or message.get("errorDetail"):
                display([message], out)
    else:
        display(messages, out)
    separator = "@" if tag.startswith("sha256:") else ":"
    return qualified + (separator + tag if tag else "")


def run(args, client) -> int:
    name = pull(client, args.positionals[0], config_dir=args.config_dir, platform=args.platform,
                all_tags=args.all_tags, quiet=args.quiet)  # fmt: skip
    print(name)
    return 0
