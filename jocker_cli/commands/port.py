"""`jocker port CONTAINER [PRIVATE_PORT[/PROTO]]`: the container's published ports, from inspect's
NetworkSettings.Ports, printed as docker's `port` command prints them (natural order)."""

from __future__ import annotations

from jocker_cli.client import CliError

USAGE = "CONTAINER [PRIVATE_PORT[/PROTO]]"
ARGS = (1, 2)


def add_arguments(parser) -> None:
    pass


def join_host_port(ip: str, port: str) -> str:
    """Go's net.JoinHostPort: an IPv6 address is put in brackets."""
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def natural_key(text: str) -> list[tuple[int, int | str]]:
    """sortorder.NaturalLess as a key: runs of digits compare as numbers, the rest as text."""
    key: list[tuple[int, int | str]] = []
    run = ""
    for char in text + "\0":
        if run and char.isdigit() != run[0].isdigit():
            key.append((0, int(run)) if run[0].isdigit() else (1, run))
            run = ""
        run += char
    return key


def port_lines(ports: dict, name: str, wanted: str | None = None) -> list[str]:
    """docker's runPort: every `PORT/PROTO -> HOST:PORT`, or the host addresses of one port."""
    out = []
    if wanted is not None:
        port, _, proto = wanted.partition("/")
        if not port.isdigit() or int(port) > 65535:
            raise CliError(
                f'Error: invalid port ({port}): strconv.ParseUint: parsing "{port}": invalid syntax'
            )
        frontends = ports.get(f"{port}/{proto or 'tcp'}") or []
        if not frontends:
            raise CliError(f"Error: No public port '{wanted}' published for {name}")
        out = [join_host_port(f.get("HostIp", ""), f.get("HostPort", "")) for f in frontends]
    else:
        for private, frontends in ports.items():
            for f in frontends or []:
                out.append(f"{private} -> {join_host_port(f.get('HostIp', ''), f.get('HostPort', ''))}")
    return sorted(out, key=natural_key)


def run(args, client) -> int:
    name, *rest = args.positionals
    info = client.get_json(f"/containers/{name}/json")
    ports = (info.get("NetworkSettings") or {}).get("Ports") or {}
    lines = port_lines(ports, name, rest[0] if rest else None)
    if lines:
        print("\n".join(lines))
    return 0
