"""`jocker attach`: wait (no condition) + attach to a running container; exit with its code.
ctrl-p ctrl-q detaches (TTY), leaving it running."""

from __future__ import annotations

import sys

from jocker_cli.client import CliError

USAGE = "[OPTIONS] CONTAINER"
ARGS = (1, 1)


def add_arguments(parser) -> None:
    parser.add_argument(
        "--detach-keys",
        default="",
        metavar="string",
        help="Override the key sequence for detaching a container",
    )
    parser.add_argument("--no-stdin", action="store_true", help="Do not attach STDIN")
    parser.add_argument(
        "--sig-proxy",
        action="store_true",
        default=True,
        help="Proxy all received signals to the process (default true)",
    )


def run(args, client) -> int:
    from jocker_cli.hijack import parse_detach_keys, raw_terminal, terminal_size
    from jocker_cli.session import Wait, attached_session, resize

    name = args.positionals[0]
    info = client.get_json(f"/containers/{name}/json")
    state = info.get("State") or {}
    if not state.get("Running"):
        raise CliError("You cannot attach to a stopped container, start it first")
    if state.get("Paused"):
        raise CliError("You cannot attach to a paused container, unpause it first")
    config = info.get("Config") or {}
    tty = bool(config.get("Tty"))
    stdin = bool(config.get("OpenStdin")) and not args.no_stdin
    if tty and stdin and not sys.stdin.isatty():
        raise CliError("the input device is not a TTY")
    waiter = Wait(client, name, None)
    params = {"stderr": "1", "stdin": "1" if stdin else None, "stdout": "1", "stream": "1"}
    stream = client.hijack(f"/containers/{name}/attach", params)
    if not stdin:
        stream.close_write()
    path = f"/containers/{info['Id']}"
    with raw_terminal(tty and stdin and sys.stdin.isatty()):
        if tty and sys.stdout.isatty():
            rows, cols = terminal_size()
            resize(client, path, rows + 1, cols + 1)  # docker forces a redraw: +1 then the real size
            resize(client, path, rows, cols)
        session = attached_session(
            client, stream, tty=tty, stdin=stdin, resize_path=path if tty else None,
            kill_path=path if args.sig_proxy and not tty else None, detach_keys=parse_detach_keys(args.detach_keys),  # noqa: E501
        )  # fmt: skip
        session.run()
    if session.detached:
        waiter.close()
        print("read escape sequence", file=sys.stderr)
        return 0
    return waiter.status()
