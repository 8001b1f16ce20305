"""`jocker tag SOURCE TARGET`: POST /images/{source}/tag?repo=&tag= (repo fully qualified, as docker)."""

from __future__ import annotations

from jocker_cli.client import CliError

USAGE = "SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]"
ARGS = (2, 2)


def add_arguments(parser) -> None:
    pass


def split_reference(reference: str) -> tuple[str, str]:
    """(repository, tag) of a reference; the tag defaults to latest, a digest is kept whole."""
    if "@" in reference:
        name, _, digest = reference.partition("@")
        return name, digest
    slash = reference.rfind("/")
    colon = reference.rfind(":")
    if colon > slash:
        return reference[:colon], reference[colon + 1 :]
    return reference, "latest"


def qualify(repository: str) -> str:
    """docker.io/library/busybox for busybox (the CLI sends fully qualified names)."""
    first = repository.split("/", 1)[0]
    if "/" in repository and ("." in first or ":" in first or first == "localhost"):
        return repository
    if "/" not in repository:
        return "docker.io/library/" + repository
    return "docker.io/" + repository


def run(args, client) -> int:
    source, target = args.positionals
    repository, tag = split_reference(target)
    if repository != repository.lower():
        raise CliError(f"invalid reference format: repository name ({repository}) must be lowercase")
    client.post(f"/images/{source}/tag", {"repo": qualify(repository), "tag": tag})
    return 0
