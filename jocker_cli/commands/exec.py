"""`jocker exec`: inspect (existence), POST /containers/{id}/exec, start (upgraded unless -d),
resize for a TTY, then GET /exec/{id}/json for the exit code."""

from __future__ import annotations

import sys

from jocker_cli.client import CliError

USAGE = "[OPTIONS] CONTAINER COMMAND [ARG...]"
ARGS = (2, None)
INTERSPERSED = False


def add_arguments(parser) -> None:
    parser.add_argument(
        "-d", "--detach", action="store_true", help="Detached mode: run command in the background"
    )
    parser.add_argument(
        "--detach-keys",
        default="",
        metavar="string",
        help="Override the key sequence for detaching a container",
    )
    parser.add_argument(
        "-e", "--env", action="append", default=[], metavar="list", help="Set environment variables"
    )
    parser.add_argument(
        "--env-file",
        action="append",
        default=[],
        metavar="list",
        help="Read in a file of environment variables",
    )
    parser.add_argument(
        "-i", "--interactive", action="store_true", help="Keep STDIN open even if not attached"
    )
    parser.add_argument("--privileged", action="store_true", help="Give extended privileges to the command")
    parser.add_argument("-t", "--tty", action="store_true", help="Allocate a pseudo-TTY")
    parser.add_argument(
        "-u",
        "--user",
        default="",
        metavar="string",
        help='Username or UID (format: "<name|uid>[:<group|gid>]")',
    )
    parser.add_argument(
        "-w", "--workdir", default="", metavar="string", help="Working directory inside the container"
    )


def run(args, client) -> int:
    from jocker_cli.hijack import Session, parse_detach_keys, raw_terminal, terminal_size
    from jocker_cli.runopts import parse_env
    from jocker_cli.session import resize

    name, *command = args.positionals
    if args.tty and args.interactive and not sys.stdin.isatty() and not args.detach:
        raise CliError("the input device is not a TTY")
    client.get_json(f"/containers/{name}/json")
    rows, cols = terminal_size() if args.tty and sys.stdout.isatty() else (0, 0)
    body: dict = {"User": args.user, "Privileged": bool(args.privileged), "Tty": bool(args.tty)}
    if args.tty and client.at_least("1.42"):
        body["ConsoleSize"] = [rows, cols]
    body.update({
        "AttachStdin": bool(args.interactive) and not args.detach,
        "AttachStderr": not args.detach,
        "AttachStdout": not args.detach,
        "Detach": bool(args.detach),
        "DetachKeys": args.detach_keys,
        "Env": parse_env(args.env, args.env_file),
        "WorkingDir": args.workdir,
        "Cmd": command,
    })  # fmt: skip
    exec_id = client.request("POST", f"/containers/{name}/exec", json_body=body).json()["Id"]
    start: dict = {"Detach": bool(args.detach), "Tty": bool(args.tty)}
    if args.tty and client.at_least("1.42"):
        start["ConsoleSize"] = [rows, cols]
    if args.detach:
        client.post(f"/exec/{exec_id}/start", json_body=start)
        return 0
    stream = client.hijack(f"/exec/{exec_id}/start", json_body=start)
    stdin = bool(args.interactive)
    if not stdin:
        stream.close_write()
    path = f"/exec/{exec_id}"
    with raw_terminal(args.tty and stdin and sys.stdin.isatty()):
        if args.tty and sys.stdout.isatty():
            resize(client, path)
        session = Session(
            stream, tty=bool(args.tty), stdin=stdin, detach_keys=parse_detach_keys(args.detach_keys),
            on_resize=(lambda: resize(client, path)) if args.tty else None,
        )  # fmt: skip
        session.run()
    if session.detached:
        return 0
    info = client.get_json(f"/exec/{exec_id}/json")
    return int(info.get("ExitCode") or 0)
