"""`jocker inspect` (and `container inspect`, `image inspect`): the daemon's JSON, re-indented as
docker prints it, or a Go template per object. Untyped names try containers, then images."""

from __future__ import annotations

from jocker_cli.client import CliError

USAGE = "[OPTIONS] NAME|ID [NAME|ID...]"
ARGS = (1, None)


def add_arguments(parser) -> None:
    parser.add_argument("-f", "--format", default="", metavar="string",
                        help="Format output using a custom template:\n'json':             Print in JSON format\n"  # noqa: E501
                             "'TEMPLATE':         Print output using the given Go template")  # fmt: skip
    parser.add_argument(
        "-s", "--size", action="store_true", help="Display total file sizes if the type is container"
    )
    parser.add_argument("--type", default="", metavar="string", help="Only inspect objects of the given type")


def _get(client, path: str, params=None) -> str | None:
    try:
        response = client.request("GET", path, params=params)
    except CliError as e:
        if e.not_found:
            return None
        raise
    return response.read().decode("utf-8")


# --type → the object's path; untyped names are tried in this order, as the docker CLI does
# (its swarm kinds are skipped outside a swarm, and jocker has no plugins).
PATHS = {
    "container": "/containers/{}/json",
    "image": "/images/{}/json",
    "network": "/networks/{}",
    "volume": "/volumes/{}",
}
TYPED_ONLY = {
    "service": "/services/{}",
    "task": "/tasks/{}",
    "node": "/nodes/{}",
    "plugin": "/plugins/{}/json",
    "secret": "/secrets/{}",
    "config": "/configs/{}",
}
TYPES = ", ".join(f'"{t}"' for t in sorted([*PATHS, *TYPED_ONLY]))


def run(args, client) -> int:
    from jocker_cli.inspecting import InspectFormat

    kind = args.type
    if args.command_name == "container inspect":
        kind = "container"
    elif args.command_name == "image inspect":
        kind = "image"
    if kind and kind not in PATHS and kind not in TYPED_ONLY:
        raise CliError(f'unknown type: "{kind}": must be one of {TYPES}')
    output = InspectFormat(args.format)
    found: list[str] = []
    errors: list[str] = []
    for name in args.positionals:
        size = {"size": "1" if args.size else None}
        if kind:  # one kind: the daemon's own words when it is not there
            path = {**PATHS, **TYPED_ONLY}[kind].format(name)
            try:
                found.append(client.request("GET", path, params=size if kind == "container" else None)
                             .read().decode("utf-8"))  # fmt: skip
            except CliError as e:
                errors.append(e.message)
            continue
        raw = None
        try:
            for candidate, path in PATHS.items():
                raw = _get(client, path.format(name), size if candidate == "container" else None)
                if raw is not None:
                    break
        except CliError as e:
            errors.append(e.message)
            continue
        if raw is None:
            errors.append(f"Error: No such object: {name}")
            continue
        found.append(raw)
    return output.print(found, errors)
