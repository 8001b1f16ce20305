"""`jocker images`: GET /images/json, one row per repository:tag as docker's formatter does."""

from __future__ import annotations

from jocker_cli.commands import add_format, filters_param

USAGE = "[OPTIONS] [REPOSITORY[:TAG]]"
ARGS = (0, 1)
DEFAULT = "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
DEFAULT_DIGESTS = "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
HEADERS = {
    "Repository": "REPOSITORY", "Tag": "TAG", "ID": "IMAGE ID", "CreatedSince": "CREATED",
    "CreatedAt": "CREATED AT", "Size": "SIZE", "Digest": "DIGEST", "Containers": "CONTAINERS",
    "VirtualSize": "VIRTUAL SIZE", "SharedSize": "SHARED SIZE", "UniqueSize": "UNIQUE SIZE",
}  # fmt: skip


def add_arguments(parser) -> None:
    parser.add_argument(
        "-a", "--all", action="store_true", help="Show all images (default hides intermediate images)"
    )
    parser.add_argument("--digests", action="store_true", help="Show digests")
    parser.add_argument(
        "-f",
        "--filter",
        action="append",
        default=[],
        metavar="filter",
        help="Filter output based on conditions provided",
    )
    add_format(parser)
    parser.add_argument("--no-trunc", action="store_true", help="Don't truncate output")
    parser.add_argument("-q", "--quiet", action="store_true", help="Only show image IDs")


def familiar(name: str) -> str:
    for prefix in ("docker.io/library/", "docker.io/", "index.docker.io/library/", "index.docker.io/"):
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


def _split(reference: str, separator: str) -> tuple[str, str]:
    index = reference.rfind(separator)
    if separator == ":" and index < reference.rfind("/"):
        return reference, ""
    if index < 0:
        return reference, ""
    return reference[:index], reference[index + 1 :]


class ImageRow:
    def __init__(self, image: dict, repo: str, tag: str, digest: str, trunc: bool) -> None:
        self.image = image
        self.Repository = repo
        self.Tag = tag
        self.Digest = digest
        self.trunc = trunc

    @property
    def ID(self) -> str:
        from jocker_cli.output import truncate_id

        ident = self.image.get("Id") or ""
        return truncate_id(ident) if self.trunc else ident

    @property
    def CreatedSince(self) -> str:
        from jocker_cli.output import since

        return since(self.image.get("Created") or 0)

    @property
    def CreatedAt(self) -> str:
        from jocker_cli.output import go_time

        return go_time(self.image.get("Created") or 0)

    @property
    def Size(self) -> str:
        from jocker_cli.output import human_size

        return human_size(self.image.get("Size") or 0, 3)

    @property
    def Containers(self) -> str:
        count = self.image.get("Containers", -1)
        return "N/A" if count == -1 else str(count)

    @property
    def VirtualSize(self) -> str:
        from jocker_cli.output import human_size

        return human_size(self.image.get("VirtualSize", self.image.get("Size")) or 0)

    @property
    def SharedSize(self) -> str:
        from jocker_cli.output import human_size

        shared = self.image.get("SharedSize", -1)
        return "N/A" if shared == -1 else human_size(shared)

    @property
    def UniqueSize(self) -> str:
        from jocker_cli.output import human_size

        shared = self.image.get("SharedSize", -1)
        return "N/A" if shared == -1 else human_size((self.image.get("Size") or 0) - shared)

    def to_json(self) -> dict:
        keys = ("Containers", "CreatedAt", "CreatedSince", "Digest", "ID", "Repository", "SharedSize", "Size",
                "Tag", "UniqueSize", "VirtualSize")  # fmt: skip
        return {k: getattr(self, k) for k in keys}


def rows_for(image: dict, *, digests: bool, trunc: bool) -> list[ImageRow]:
    tags: dict[str, list[str]] = {}
    for reference in image.get("RepoTags") or []:
        if reference == "<none>:<none>":
            continue
        repo, tag = _split(familiar(reference), ":")
        if tag:
            tags.setdefault(repo, []).append(tag)
    repo_digests: dict[str, list[str]] = {}
    for reference in image.get("RepoDigests") or []:
        if reference == "<none>@<none>":
            continue
        repo, digest = _split(familiar(reference), "@")
        if digest:
            repo_digests.setdefault(repo, []).append(digest)
    rows = []
    for repo, repo_tags in tags.items():
        found = repo_digests.pop(repo, [])
        for tag in repo_tags:
            if not digests or not found:
                rows.append(ImageRow(image, repo, tag, "<none>", trunc))
            else:
                rows += [ImageRow(image, repo, tag, d, trunc) for d in found]
    for repo, found in repo_digests.items():
        if digests:
            rows += [ImageRow(image, repo, "<none>", d, trunc) for d in found]
        else:
            rows.append(ImageRow(image, repo, "<none>", "<none>", trunc))
    if not rows:
        rows.append(ImageRow(image, "<none>", "<none>", "<none>", trunc))
    return rows


def run(args, client) -> int:
    from jocker_cli.output import render

    filters = list(args.filter)
    if args.positionals:
        filters.append(f"reference={args.positionals[0]}")
    params = {"all": "1" if args.all else None, "filters": filters_param(filters)}
    images = client.get_json("/images/json", params)
    rows = [row for image in images for row in rows_for(image, digests=args.digests, trunc=not args.no_trunc)]
    render(rows, args.format, DEFAULT_DIGESTS if args.digests else DEFAULT, headers=HEADERS,
           quiet=args.quiet, quiet_field="ID")  # fmt: skip
    return 0
