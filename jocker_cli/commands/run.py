"""`jocker run`: create, then (without -d) attach → wait → start → stream → exit with the code.

As the docker CLI: `/wait` (condition next-exit, or removed with --rm) is always sent before
`/start`, even with -d; a failed start exits 125/126/127 from the error text; daemon errors print
as `jocker: Error response from daemon: …` with exit 125; the container's own code otherwise.
"""

from __future__ import annotations

import sys

from jocker_cli.client import CliError

USAGE = "[OPTIONS] IMAGE [COMMAND] [ARG...]"
ARGS = (1, None)
INTERSPERSED = False


def add_arguments(parser) -> None:
    from jocker_cli import runopts

    runopts.add_arguments(parser, run=True)


def run(args, client) -> int:
    from jocker_cli import runopts
    from jocker_cli.commands.create import create_container, usage_error
    from jocker_cli.hijack import parse_detach_keys, terminal_size
    from jocker_cli.session import Wait, run_attached, start_error_status

    if args.tty and args.interactive and not sys.stdin.isatty() and not args.detach:
        raise CliError("the input device is not a TTY", 1)
    condition = "removed" if args.rm else "next-exit"
    try:
        console = terminal_size() if args.tty and sys.stdout.isatty() else (0, 0)
        container = create_container(client, args, console=console)
    except CliError as e:
        raise usage_error("run", e) from None
    if args.detach:
        waiter = Wait(client, container, condition)
        try:
            client.post(f"/containers/{container}/start")
        except CliError as e:
            waiter.close()
            raise CliError(f"jocker: {e.message}", start_error_status(e.message)) from None
        waiter.close()
        print(container)
        return 0
    stdin, stdout, stderr = runopts.attach_streams(args)

    def failed_start(error: CliError, waiter: Wait) -> None:
        # With --rm docker still waits for the removal before exiting.
        if args.rm:
            try:
                waiter.status()
            except CliError:
                pass
        waiter.close()
        raise CliError(f"jocker: {error.message}", start_error_status(error.message)) from None

    return run_attached(
        client, container, tty=args.tty, stdin=stdin, stdout=stdout, stderr=stderr,
        condition=condition, start=True, sig_proxy=args.sig_proxy,
        detach_keys=parse_detach_keys(args.detach_keys), on_start_error=failed_start,
    )  # fmt: skip
