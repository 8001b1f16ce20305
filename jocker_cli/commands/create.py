"""`jocker create`: POST /containers/create with docker's body; a missing image is pulled first."""

from __future__ import annotations

import sys

from jocker_cli.client import CliError

USAGE = "[OPTIONS] IMAGE [COMMAND] [ARG...]"
ARGS = (1, None)
INTERSPERSED = False


def add_arguments(parser) -> None:
    from jocker_cli import runopts

    runopts.add_arguments(parser, run=False)


def usage_error(command: str, error: CliError) -> CliError:
    """docker run/create's rendering of a failure: `docker: <msg>` + hint, exit 125."""
    message = error.message
    return CliError(f"jocker: {message}\n\nRun 'jocker {command} --help' for more information", 125)


def create_container(client, args, *, console: tuple[int, int]) -> str:
    """The container's ID; prints docker's warnings; pulls the image when it is missing."""
    from jocker_cli import runopts
    from jocker_cli.commands.pull import pull

    image, *command = args.positionals
    body = runopts.create_body(args, image, command, console=console)
    params = {"name": args.name or None, "platform": args.platform or None}
    if args.pull == "always":
        pull(
            client,
            image,
            config_dir=args.config_dir,
            platform=args.platform,
            quiet=args.quiet,
            out=sys.stderr,
        )
    elif args.pull not in ("missing", "never"):
        raise CliError(
            f'invalid pull option: \'{args.pull}\': must be one of "always", "missing" or "never"', 125
        )
    try:
        reply = client.request("POST", "/containers/create", params=params, json_body=body).json()
    except CliError as e:
        if not (e.not_found and "No such image" in e.message) or args.pull == "never":
            raise
        from jocker_cli.commands.tag import split_reference

        repository, tag = split_reference(image)
        shown = image if "@" in image else f"{repository}:{tag}"
        print(f"Unable to find image '{shown}' locally", file=sys.stderr)
        pull(
            client,
            image,
            config_dir=args.config_dir,
            platform=args.platform,
            quiet=args.quiet,
            out=sys.stderr,
        )
        reply = client.request("POST", "/containers/create", params=params, json_body=body).json()
    for warning in reply.get("Warnings") or []:
        print(f"WARNING: {warning}", file=sys.stderr)
    container_id = reply["Id"]
    if args.cidfile:
        with open(args.cidfile, "w") as f:
            f.write(container_id)
    return container_id


def run(args, client) -> int:
    from jocker_cli.hijack import terminal_size

    try:
        console = terminal_size() if args.tty and sys.stdout.isatty() else (0, 0)
        print(create_container(client, args, console=console))
    except CliError as e:
        raise usage_error("create", e) from None
    return 0
