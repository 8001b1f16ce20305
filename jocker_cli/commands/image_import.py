"""`jocker import file|URL|- [REPOSITORY[:TAG]]`: POST /images/create?fromSrc=…&repo=… (tag inside repo)."""

from __future__ import annotations

import sys

from jocker_cli.client import CliError

USAGE = "[OPTIONS] file|URL|- [REPOSITORY[:TAG]]"
ARGS = (1, 2)


def add_arguments(parser) -> None:
    parser.add_argument(
        "-c",
        "--change",
        action="append",
        default=[],
        metavar="list",
        help="Apply Dockerfile instruction to the created image",
    )
    parser.add_argument(
        "-m", "--message", default="", metavar="string", help="Set commit message for imported image"
    )
    parser.add_argument(
        "--platform", default="", metavar="string", help="Set platform if server is multi-platform capable"
    )


def run(args, client) -> int:
    from jocker_cli.commands.load import chunks
    from jocker_cli.progress import display

    source = args.positionals[0]
    params = {
        "fromSrc": "-" if not source.startswith(("http://", "https://")) else source,
        "repo": args.positionals[1] if len(args.positionals) > 1 else None,
        "message": args.message or None,
        "changes": args.change or None,
        "platform": args.platform or None,
    }
    data = None
    opened = None
    if source == "-":
        data = chunks(sys.stdin.buffer)
    elif params["fromSrc"] == "-":
        try:
            opened = open(source, "rb")  # noqa: SIM115 - closed below
        except OSError as e:
            raise CliError(f"open {source}: {(e.strerror or str(e)).lower()}") from None
        data = chunks(opened)
    try:
        response = client.transfer(
            "POST",
            "/images/create",
            params=params,
            data=data,
            headers={"Content-Type": "text/plain"} if data is not None else None,
        )
        display(response.iter_json(), sys.stdout, terminal=False)
    finally:
        if opened is not None:
            opened.close()
    return 0
