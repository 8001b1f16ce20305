"""`jocker top CONTAINER [ps OPTIONS]`: GET /containers/{id}/top, columns as docker prints them."""

from __future__ import annotations

USAGE = "CONTAINER [ps OPTIONS]"
ARGS = (1, None)
INTERSPERSED = False


def add_arguments(parser) -> None:
    pass


def run(args, client) -> int:
    from jocker_cli.output import tabwrite

    name, *ps_args = args.positionals
    body = client.get_json(f"/containers/{name}/top", {"ps_args": " ".join(ps_args) if ps_args else None})
    lines = ["\t".join(body.get("Titles") or [])]
    lines += ["\t".join(process) for process in body.get("Processes") or []]
    print(tabwrite("\n".join(lines) + "\n", minwidth=20).rstrip("\n"))
    return 0
