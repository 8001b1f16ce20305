"""ImageService: Docker's image semantics (list filters, untag vs delete, load, save, import).

Blocking store work runs in threads (asyncio.to_thread); uploads are spooled to a file under
the data root first, because an archive's manifest may come after its layers.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import re
import secrets
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

from jockerd.errors import ConflictError, InvalidParameterError, JockerError
from jockerd.ids import short_id
from jockerd.imagestore import archive
from jockerd.imagestore.layers import chain_id, detect_compression
from jockerd.imagestore.pull import Downloads, distribution_info, pull_all_tags
from jockerd.imagestore.pull import pull as pull_image
from jockerd.imagestore.push import push as push_image
from jockerd.imagestore.reference import (
    Reference,
    parse_reference,
    valid_tag,
)
from jockerd.imagestore.registry import (
    RegistryClient,
    credentials_from_auth_config,
    parse_registry_auth,
)
from jockerd.imagestore.store import Image, ImageStore, now_rfc3339
from jockerd.models.docker.common import Filters
from jockerd.models.docker.image import (
    LEGACY_CONTAINER_CONFIG,
    GraphDriverData,
    HistoryResponseItem,
    ImageDeleteResponseItem,
    ImageInspect,
    ImageMetadata,
    ImagePruneResponse,
    ImageSummary,
    RootFS,
)
from jockerd.models.oci.image import (
    Descriptor,
)
from jockerd.services.changes import apply_changes
from jockerd.services.filters import labels_match
from jockerd.services.timefmt import parse_time, until_filter

log = logging.getLogger("jockerd.images")


class ByteSource(Protocol):
    """An upload body (aiohttp's StreamReader satisfies it)."""

    async def read(self, n: int = -1) -> bytes: ...


SPOOL_CHUNK = 1 << 20
SAVE_BATCH = 1 << 20
LIST_FILTERS = {"reference", "dangling", "label", "before", "since", "until"}
PRUNE_FILTERS = {"dangling", "label", "until"}

# Who uses an image: (container ID, running) pairs. Containers arrive with a later service.
ImageUsage = Callable[[str], list[tuple[str, bool]]]


def _no_usage(image_id: str) -> list[tuple[str, bool]]:
    return []


def _created_seconds(config: dict[str, Any]) -> int:
    created = config.get("created")
    if not created:
        return 0
    return int(parse_time(created).timestamp())


def _glob(pattern: str) -> re.Pattern[str]:
    """Go's path.Match: `*` and `?` never cross `/`."""
    out = []
    for ch in pattern:
        if ch == "*":
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        else:
            out.append(re.escape(ch))
    return re.compile("^" + "".join(out) + "$")


def _matches_filter(reference: str, patterns: list[re.Pattern[str]]) -> bool:
    """With a reference filter, dockerd lists only the tags and digests that match it
    (reference.FamiliarMatch: the familiar string, or its repository name)."""
    if not patterns:
        return True
    if "@" in reference:
        name = reference.split("@", 1)[0]
    else:
        name = reference.rsplit(":", 1)[0] if ":" in reference.rsplit("/", 1)[-1] else reference
    return any(p.match(reference) or p.match(name) for p in patterns)


def _check_filters(filters: Filters, allowed: set[str]) -> None:
    for key in filters:
        if key not in allowed:
            raise InvalidParameterError(f"Invalid filter '{key}'")


def _labels(image: Image) -> dict[str, str]:
    return dict((image.config.get("config") or {}).get("Labels") or {})


def _match_labels(image: Image, wanted: list[str]) -> bool:
    return labels_match(_labels(image), {"label": wanted})


def _parse_bool_filter(values: list[str], name: str) -> bool:
    value = values[-1].lower()
    if value in ("true", "1"):
        return True
    if value in ("false", "0"):
        return False
    raise InvalidParameterError(f"Invalid filter '{name}={values[-1]}'")


class EventPublisher(Protocol):
    def publish(self, kind: str, action: str, actor_id: str, attributes: dict[str, str]) -> Any: ...


class ImageService:
    def __init__(
        self, store: ImageStore, usage: ImageUsage = _no_usage, registry: RegistryClient | None = None
    ) -> None:
        self.store = store
        self.usage = usage
        self.events: EventPublisher | None = None  # the daemon's event bus (image events)
        self.registry = registry or RegistryClient()
        self.downloads = Downloads()
        self._gc_lock = asyncio.Lock()

    async def close(self) -> None:
        await self.registry.close()

    def _event(self, action: str, actor_id: str, name: str) -> None:
        """An image event in dockerd's shape (traces 46*): Actor.ID and Attributes.name."""
        if self.events is not None:
            self.events.publish("image", action, actor_id, {"name": name})

    # Queries

    async def _image(self, name: str) -> Image:
        image_id = await asyncio.to_thread(self.store.resolve, name)
        return await asyncio.to_thread(self.store.image, image_id)

    def _size(self, image: Image) -> int:
        total = 0
        for chain in image.chain_ids():
            layer = self.store.layer(chain)
            if layer is not None:
                total += layer.size
        return total

    @staticmethod
    def _familiar_tags(image: Image) -> list[str]:
        return [parse_reference(n).familiar() for n in image.names if parse_reference(n).tag]

    @staticmethod
    def _familiar_digests(image: Image) -> list[str]:
        return [parse_reference(n).familiar() for n in image.names if parse_reference(n).digest]

    async def list(self, *, all: bool, filters: Filters) -> list[ImageSummary]:
        _check_filters(filters, LIST_FILTERS)
        images = await asyncio.to_thread(self.store.images)
        images = await self._filter(images, filters)
        patterns = [_glob(p) for p in filters.get("reference", [])]
        out = [
            ImageSummary(
                id=image.id,
                repo_tags=[t for t in self._familiar_tags(image) if _matches_filter(t, patterns)],
                repo_digests=[d for d in self._familiar_digests(image) if _matches_filter(d, patterns)],
                created=_created_seconds(image.config),
                size=self._size(image),
                labels=_labels(image),
            )
            for image in images
        ]
        out.sort(key=lambda s: s.created, reverse=True)
        return out

    async def _filter(self, images: list[Image], filters: Filters) -> list[Image]:
        if "dangling" in filters:
            dangling = _parse_bool_filter(filters["dangling"], "dangling")
            images = [i for i in images if (not i.names) == dangling]
        if "label" in filters:
            images = [i for i in images if _match_labels(i, filters["label"])]
        if "reference" in filters:
            patterns = [_glob(p) for p in filters["reference"]]
            images = [i for i in images if any(self._reference_matches(i, p) for p in patterns)]
        for key, newer in (("before", False), ("since", True)):
            if key in filters:
                pivot = await self._image(filters[key][-1])
                when = _created_seconds(pivot.config)
                images = [
                    i
                    for i in images
                    if (_created_seconds(i.config) > when if newer else _created_seconds(i.config) < when)
                ]
        if "until" in filters:
            limit = until_filter(filters["until"])
            images = [i for i in images if _created_seconds(i.config) < limit]
        return images

    @staticmethod
    def _reference_matches(image: Image, pattern: re.Pattern[str]) -> bool:
        for name in image.names:
            ref = parse_reference(name)
            if pattern.match(ref.familiar()) or pattern.match(ref.familiar_name()):
                return True
        return False

    async def inspect(self, name: str) -> ImageInspect:
        image = await self._image(name)
        config = image.config
        chains = image.chain_ids()
        diffs = [str(self.store.layers.diff_dir(c)) for c in reversed(chains)]
        graph: dict[str, str] = {}
        if diffs:
            graph["UpperDir"] = diffs[0]
            if len(diffs) > 1:
                graph["LowerDir"] = ":".join(diffs[1:])
        return ImageInspect(
            id=image.id,
            repo_tags=self._familiar_tags(image),
            repo_digests=self._familiar_digests(image),
            comment=config.get("comment", ""),
            created=config.get("created") or "0001-01-01T00:00:00Z",
            docker_version=config.get("docker_version", ""),
            author=config.get("author", ""),
            config=_image_config(config.get("config") or {}),
            architecture=config.get("architecture", ""),
            variant=config.get("variant"),
            os=config.get("os", ""),
            os_version=config.get("os.version"),
            size=self._size(image),
            graph_driver=GraphDriverData(data=graph),
            root_fs=RootFS(layers=image.diff_ids),
            metadata=ImageMetadata(last_tag_time=image.last_tag_time or "0001-01-01T00:00:00Z"),
        )

    async def history(self, name: str) -> list[HistoryResponseItem]:
        image = await self._image(name)
        chains = image.chain_ids()
        sizes = []
        for chain in chains:
            layer = self.store.layer(chain)
            sizes.append(layer.size if layer else 0)
        history = image.config.get("history") or [{} for _ in chains]
        items: list[HistoryResponseItem] = []
        layer_index = 0
        for entry in history:
            size = 0
            if not entry.get("empty_layer") and layer_index < len(sizes):
                size = sizes[layer_index]
                layer_index += 1
            created = entry.get("created")
            items.append(
                HistoryResponseItem(
                    id="<missing>",
                    created=int(parse_time(created).timestamp()) if created else 0,
                    created_by=entry.get("created_by", ""),
                    size=size,
                    comment=entry.get("comment", ""),
                )
            )
        items.reverse()
        if items:
            items[0].id = image.id
            items[0].tags = self._familiar_tags(image) or None
        return items

    async def disk_usage(self) -> tuple[int, list[dict[str, Any]]]:
        """`docker system df` for images: total layer bytes, and per image its shared bytes."""
        images = await asyncio.to_thread(self.store.images)
        users: dict[str, int] = {}
        for image in images:
            for chain in set(image.chain_ids()):
                users[chain] = users.get(chain, 0) + 1
        sizes = {layer.chain_id: layer.size for layer in await asyncio.to_thread(self.store.layers.list)}
        out = []
        for image in images:
            chains = image.chain_ids()
            out.append(
                {
                    "Id": image.id,
                    "ParentId": "",
                    "RepoTags": self._familiar_tags(image),
                    "RepoDigests": self._familiar_digests(image),
                    "Created": _created_seconds(image.config),
                    "Size": sum(sizes.get(c, 0) for c in chains),
                    "SharedSize": sum(sizes.get(c, 0) for c in chains if users.get(c, 0) > 1),
                    "Labels": _labels(image),
                    "Containers": len(self.usage(image.id)),
                }
            )
        out.sort(key=lambda i: i["Created"], reverse=True)
        return sum(sizes.values()), out

    # Names

    async def tag(self, name: str, repo: str, tag: str) -> None:
        target = _tag_reference(repo, tag)
        image_id = await asyncio.to_thread(self.store.resolve, name)
        await asyncio.to_thread(self.store.tag, image_id, target)
        self._event("tag", image_id, target.familiar())

    async def delete(self, name: str, *, force: bool, prune: bool) -> list[ImageDeleteResponseItem]:
        image_id = await asyncio.to_thread(self.store.resolve, name)
        image = await asyncio.to_thread(self.store.image, image_id)
        by_name = _matching_name(name, image.names)
        items: list[ImageDeleteResponseItem] = []
        users = self.usage(image_id)
        doomed = _names_to_untag(by_name, image.names) if by_name is not None else image.names
        if by_name is not None and len(doomed) < len(image.names):
            for n in doomed:
                await asyncio.to_thread(self.store.untag, n)
                items.append(ImageDeleteResponseItem(untagged=parse_reference(n).familiar()))
                self._event("untag", image_id, image_id)
            return items
        if by_name is None:
            repos = {parse_reference(n).name for n in image.names}
            if len(repos) > 1 and not force:
                raise ConflictError(
                    f"conflict: unable to delete {short_id(image_id)} (must be forced) - "
                    "image is referenced in multiple repositories"
                )
        for container_id, running in users:
            if running:
                raise ConflictError(
                    f"conflict: unable to delete {short_id(image_id)} (cannot be forced) - "
                    f"image is being used by running container {short_id(container_id)}"
                )
            if not force and by_name is None:
                raise ConflictError(
                    f"conflict: unable to delete {short_id(image_id)} (must be forced) - "
                    f"image is being used by stopped container {short_id(container_id)}"
                )
        for n in doomed:
            await asyncio.to_thread(self.store.untag, n)
            items.append(ImageDeleteResponseItem(untagged=parse_reference(n).familiar()))
            self._event("untag", image_id, image_id)
        if users:
            return items
        items.extend(await self._remove(image_id))
        return items

    async def _remove(self, image_id: str) -> list[ImageDeleteResponseItem]:
        async with self._gc_lock:
            layers = await asyncio.to_thread(self.store.remove_image, image_id)
        self._event("delete", image_id, image_id)
        return [ImageDeleteResponseItem(deleted=image_id)] + [
            ImageDeleteResponseItem(deleted=chain) for chain in layers
        ]

    async def prune(self, filters: Filters) -> ImagePruneResponse:
        _check_filters(filters, PRUNE_FILTERS)
        dangling_only = True
        if "dangling" in filters:
            dangling_only = _parse_bool_filter(filters["dangling"], "dangling")
        images = await asyncio.to_thread(self.store.images)
        if "label" in filters:
            images = [i for i in images if _match_labels(i, filters["label"])]
        if "until" in filters:
            limit = until_filter(filters["until"])
            images = [i for i in images if _created_seconds(i.config) < limit]
        deleted: list[ImageDeleteResponseItem] = []
        reclaimed = 0
        for image in images:
            if dangling_only and image.names:
                continue
            if self.usage(image.id):
                continue
            size = self._size(image)
            for name in image.names:
                await asyncio.to_thread(self.store.untag, name)
                deleted.append(ImageDeleteResponseItem(untagged=parse_reference(name).familiar()))
            removed = await self._remove(image.id)
            deleted.extend(removed)
            if len(removed) > 1:
                reclaimed += size
        return ImagePruneResponse(images_deleted=deleted or None, space_reclaimed=reclaimed)

    # Registries

    async def pull(
        self, from_image: str, tag: str, *, platform: str, registry_auth: str | None
    ) -> AsyncIterator[dict[str, Any]]:
        """`POST /images/create?fromImage=`: Docker's progress messages; see imagestore/pull.py."""
        ref = _pull_reference(from_image, tag)
        credentials = parse_registry_auth(registry_auth)
        log.info("pulling %s", ref)
        transfer = pull_image if ref.tag or ref.digest else pull_all_tags  # no tag: every tag
        try:
            async for message in transfer(
                self.store, self.registry, self.downloads, ref, platform=platform, credentials=credentials
            ):
                yield message
        except Exception:
            async with self._gc_lock:
                await asyncio.to_thread(self.store.gc)
            raise
        self._event("pull", ref.familiar(), ref.familiar())

    async def push(self, name: str, tag: str, *, registry_auth: str | None) -> AsyncIterator[dict[str, Any]]:
        """`POST /images/{name}/push`: every tag of the repository when `tag` is empty."""
        ref = parse_reference(name, default_tag=False)
        if ref.digest:
            raise InvalidParameterError(f"cannot push a digest reference: {name}")
        if tag:
            if not valid_tag(tag):
                raise InvalidParameterError(f"invalid tag format: {tag}")
            ref = ref.with_tag(tag)
        credentials = parse_registry_auth(registry_auth)
        log.info("pushing %s", ref)
        async for message in push_image(self.store, self.registry, ref, credentials=credentials):
            yield message
        self._event("push", ref.familiar(), ref.familiar())

    async def auth(self, config: dict[str, Any]) -> dict[str, str]:
        """`POST /auth` (docker login): check the credentials against the registry."""
        credentials = credentials_from_auth_config(config)
        token = await self.registry.login(credentials.server_address, credentials)
        return {"Status": "Login Succeeded", "IdentityToken": token}

    async def distribution_inspect(self, name: str, *, registry_auth: str | None) -> dict[str, Any]:
        """`GET /distribution/{name}/json`: the descriptor a name resolves to, and its platforms."""
        ref = parse_reference(name)
        credentials = parse_registry_auth(registry_auth)
        return await distribution_info(self.registry, ref, credentials)

    # Archives

    async def _spool(self, body: ByteSource) -> Path:
        """Copy an upload into data_root/tmp; a crash leaves it for recover() to delete."""
        path = self.store.tmp_dir / f"upload-{secrets.token_hex(8)}"
        fd = await asyncio.to_thread(
            os.open, path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600
        )
        try:
            buffered: list[bytes] = []
            pending = 0
            while True:
                chunk = await body.read(SPOOL_CHUNK)
                if chunk:
                    buffered.append(chunk)
                    pending += len(chunk)
                if pending >= SPOOL_CHUNK or (not chunk and buffered):
                    data = b"".join(buffered)
                    buffered, pending = [], 0
                    await asyncio.to_thread(_write_all, fd, data)
                if not chunk:
                    break
        except BaseException:
            os.close(fd)
            path.unlink(missing_ok=True)
            raise
        os.close(fd)
        return path

    async def load(self, body: ByteSource, *, quiet: bool) -> AsyncIterator[dict[str, Any]]:
        started = time.monotonic()
        path = await self._spool(body)
        log.debug("load: upload spooled in %.3fs", time.monotonic() - started)
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

        def progress(message: dict[str, Any]) -> None:
            loop.call_soon_threadsafe(queue.put_nowait, message)

        try:
            task = asyncio.ensure_future(
                asyncio.to_thread(archive.load_archive, self.store, path, None if quiet else progress)
            )
            while not task.done() or not queue.empty():
                getter = asyncio.ensure_future(queue.get())
                await asyncio.wait({task, getter}, return_when=asyncio.FIRST_COMPLETED)
                if getter.done():
                    yield getter.result()
                else:
                    getter.cancel()
            try:
                lines = task.result()
            except Exception:
                async with self._gc_lock:
                    await asyncio.to_thread(self.store.gc)
                raise
            log.debug("load: done in %.3fs", time.monotonic() - started)
            await self._load_events(lines)
            for line in lines:
                yield {"stream": line}
        finally:
            path.unlink(missing_ok=True)

    async def _load_events(self, lines: list[str]) -> None:
        """dockerd's `load` event per image (name: its ID), then a `tag` per name it got."""
        for line in lines:
            text = line.strip()
            name = text.removeprefix("Loaded image ID: ").removeprefix("Loaded image: ")
            try:
                image_id = await asyncio.to_thread(self.store.resolve, name)
            except JockerError:
                continue
            self._event("load", image_id, image_id)
            if text.startswith("Loaded image: "):
                self._event("tag", image_id, name)

    async def save(self, names: list[str]) -> AsyncIterator[bytes]:
        items = [await self._save_item(name) for name in names]
        merged: dict[str, archive.SaveItem] = {}
        for item in items:
            existing = merged.setdefault(item.image_id, archive.SaveItem(item.image_id, []))
            existing.names.extend(n for n in item.names if n not in existing.names)
        generator = _batched(archive.save_archive(self.store, list(merged.values())), SAVE_BATCH)
        sentinel = b""
        while True:
            chunk = await asyncio.to_thread(next, generator, sentinel)
            if chunk is sentinel:
                break
            yield chunk

    async def _save_item(self, name: str) -> archive.SaveItem:
        """Which image and which of its names a `docker save` argument stands for."""
        image_id = await asyncio.to_thread(self.store.resolve, name)
        image = await asyncio.to_thread(self.store.image, image_id)
        by_name = _matching_name(name, image.names)
        if by_name is not None:
            return archive.SaveItem(image_id, [parse_reference(by_name)])
        try:
            repo_only = parse_reference(name, default_tag=False)
        except InvalidParameterError:
            repo_only = None
        if repo_only is not None and not repo_only.tag and not repo_only.digest:
            # `docker save busybox` saves every tag of the repository.
            tags = [parse_reference(n) for n in image.names if parse_reference(n).name == repo_only.name]
            if tags:
                return archive.SaveItem(image_id, tags)
        return archive.SaveItem(image_id, [])

    async def import_image(
        self, body: ByteSource, *, repo: str, tag: str, message: str, changes: list[str], platform: str
    ) -> AsyncIterator[dict[str, Any]]:
        target = _tag_reference(repo, tag) if repo else None
        config_section = apply_changes({}, changes)
        path = await self._spool(body)
        try:
            image_id = await asyncio.to_thread(
                _import_layer, self.store, path, target, message, config_section, platform
            )
        except Exception:
            async with self._gc_lock:
                await asyncio.to_thread(self.store.gc)
            raise
        finally:
            path.unlink(missing_ok=True)
        self._event("import", image_id, image_id)
        yield {"status": image_id}

    async def commit(
        self,
        parent_id: str,
        layer: Path,
        *,
        config_section: dict[str, Any],
        repo: str,
        tag: str,
        comment: str,
        author: str,
        changes: list[str],
        container_id: str,
        created_by: str,
    ) -> str:
        """`docker commit`: the parent image plus one layer (an uncompressed tar) and a new config."""
        target = _tag_reference(repo, tag) if repo else None
        section = apply_changes(dict(config_section), changes)
        return await asyncio.to_thread(
            _commit_layer,
            self.store,
            parent_id,
            layer,
            target,
            section,
            comment,
            author,
            container_id,
            created_by,
        )


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _batched(chunks: Iterator[bytes], size: int) -> Iterator[bytes]:
    buffered: list[bytes] = []
    pending = 0
    for chunk in chunks:
        buffered.append(chunk)
        pending += len(chunk)
        if pending >= size:
            yield b"".join(buffered)
            buffered, pending = [], 0
    if buffered:
        yield b"".join(buffered)


def _pull_reference(from_image: str, tag: str) -> Reference:
    """fromImage and tag as dockerd combines them: the tag may be a digest, or ride in fromImage."""
    # dockerd's special case: `pull -a` may send the name with a trailing ":".
    ref = parse_reference(from_image.removesuffix(":"), default_tag=False)
    if tag:
        if ref.digest:
            raise InvalidParameterError(f"cannot pull a tag of a digest reference: {from_image}")
        if ":" in tag and tag.partition(":")[0] in ("sha256", "sha384", "sha512"):
            return parse_reference(f"{ref.name}@{tag}")
        if not valid_tag(tag):
            raise InvalidParameterError(f"invalid tag format: {tag}")
        return ref.with_tag(tag)
    return ref  # no tag and no digest: every tag (docker pull --all-tags)


def _names_to_untag(name: str, names: list[str]) -> list[str]:
    """What `docker rmi <name>` untags: the name, and when it was its repository's last tag, that
    repository's digest references too (moby daemon/images/image_delete.go)."""
    ref = parse_reference(name)
    doomed = [name]
    if ref.digest:
        return doomed
    rest = [parse_reference(n) for n in names if n != name]
    if any(other.name == ref.name and not other.digest for other in rest):
        return doomed
    return doomed + [str(other) for other in rest if other.name == ref.name and other.digest]


def _matching_name(name: str, names: list[str]) -> str | None:
    """The stored name `name` denotes, if it is a reference rather than an ID."""
    try:
        ref = str(parse_reference(name))
    except InvalidParameterError:
        return None
    return ref if ref in names else None


def _tag_reference(repo: str, tag: str) -> Reference:
    """`POST /images/{name}/tag` and import's `repo`/`tag`: the tag may ride inside `repo`.

    As dockerd does, an explicit `tag` replaces any tag given inside `repo`.
    """
    if not repo:
        raise InvalidParameterError("repository name must have at least one component")
    ref = parse_reference(repo)
    if ref.digest:
        raise InvalidParameterError("refusing to create a tag with a digest reference")
    if tag:
        if not valid_tag(tag):
            raise InvalidParameterError(f"invalid tag format: {tag}")
        return ref.with_tag(tag)
    return ref


def _image_config(section: dict[str, Any]) -> dict[str, Any]:
    """The image's `config` as Docker's inspect shows it: every field present, even when empty."""
    return {**LEGACY_CONTAINER_CONFIG, **section}


def _import_layer(
    store: ImageStore,
    path: Path,
    target: Reference | None,
    message: str,
    config_section: dict[str, Any],
    platform: str,
) -> str:
    """Make a one-layer image from a rootfs tar (plain, gzip or zstd), as `docker import` does."""
    os_name, _, arch = (platform or f"linux/{archive.host_architecture()}").partition("/")
    created = now_rfc3339()
    comment = message or "Imported from -"
    with store.lease() as lease, open(path, "rb") as handle:
        compression = detect_compression(handle.read(8))
        handle.seek(0)
        size = path.stat().st_size
        with store.content.writer(None, size) as writer:
            tee = archive.TeeReader(handle, writer, lambda n: None)
            record = store.layers.create(None, io.BufferedReader(tee, 1 << 20))
            tee.drain()
            layer_digest = writer.commit()
        lease.add(layer_digest)
        lease.add(record.chain_id)
        if record.chain_id != chain_id(None, record.diff_id):
            raise InvalidParameterError("imported layer has a parent")
        config = {
            "architecture": arch or archive.host_architecture(),
            "comment": comment,
            "config": config_section,
            "created": created,
            "history": [{"created": created, "comment": comment}],
            "os": os_name or "linux",
            "rootfs": {"type": "layers", "diff_ids": [record.diff_id]},
        }
        config_bytes = json.dumps(config, separators=(",", ":")).encode()
        config_digest = archive.put_leased(store, lease, config_bytes)
        layer = Descriptor(
            media_type=archive.MEDIA_TYPE_BY_COMPRESSION[compression], digest=layer_digest, size=size
        )
        descriptor = archive.put_manifest(store, lease, config_digest, len(config_bytes), [layer])
        store.commit_image(descriptor, config_digest, [target] if target else [], lease, tagged=True)
    return config_digest


def _commit_layer(
    store: ImageStore,
    parent_id: str,
    path: Path,
    target: Reference | None,
    config_section: dict[str, Any],
    comment: str,
    author: str,
    container_id: str,
    created_by: str,
) -> str:
    parent = store.image(parent_id)
    created = now_rfc3339()
    chains = parent.chain_ids()
    with store.lease() as lease, open(path, "rb") as handle:
        size = path.stat().st_size
        with store.content.writer(None, size) as writer:
            tee = archive.TeeReader(handle, writer, lambda n: None)
            record = store.layers.create(chains[-1] if chains else None, io.BufferedReader(tee, 1 << 20))
            tee.drain()
            layer_digest = writer.commit()
        lease.add(layer_digest)
        lease.add(record.chain_id)
        config = dict(parent.config)
        config.pop("container_config", None)
        history = [*list(config.get("history") or []), {"created": created, "created_by": created_by}]
        if author:
            history[-1]["author"] = author
        if comment:
            history[-1]["comment"] = comment
        config.update(
            {
                "config": config_section,
                "container": container_id,
                "created": created,
                "history": history,
                "rootfs": {"type": "layers", "diff_ids": [*parent.diff_ids, record.diff_id]},
            }
        )
        for key, value in (("author", author), ("comment", comment)):
            if value:
                config[key] = value
            else:
                config.pop(key, None)
        config_bytes = json.dumps(config, separators=(",", ":")).encode()
        config_digest = archive.put_leased(store, lease, config_bytes)
        layer = Descriptor(
            media_type=archive.MEDIA_TYPE_BY_COMPRESSION["none"], digest=layer_digest, size=size
        )
        layers = [*parent.manifest.layers, layer]
        descriptor = archive.put_manifest(store, lease, config_digest, len(config_bytes), layers)
        store.commit_image(descriptor, config_digest, [target] if target else [], lease, tagged=bool(target))
    return config_digest
