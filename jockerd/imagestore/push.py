"""push(): send an image's blobs and manifest to a registry, with Docker's progress messages.

For each tag: the layers are listed top first (`Preparing`), then up to five at a time
(dockerd's max-concurrent-uploads):
- `Layer already exists` when the repository has the blob (HEAD);
- `Mounted from <repo>` when another repository of the same registry has it: the candidates are
  the repositories this daemon knows on that registry whose images use the blob (what dockerd
  keeps as v2 metadata), and the registry mounts it without a byte sent;
- otherwise `Pushing` with progress, then `Pushed`: one PUT for a small blob, PATCH chunks then
  the closing PUT for a bigger one.
The config goes up the same way, silently; the manifest last, byte for byte as stored (so its
digest is the one the store knows), then `<tag>: digest: <digest> size: <n>` and the `aux`
message the CLI reads. The pushed digest is recorded as a RepoDigest, as dockerd does.

Blobs are sent as stored: a layer pulled compressed goes back compressed, a layer loaded from a
docker-archive goes up as the uncompressed tar its manifest names (dockerd would gzip it; the
image ID, the config digest, is the same either way).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from jockerd.errors import NotFoundError
from jockerd.imagestore.pull import Meter, relay_progress, status, update
from jockerd.imagestore.reference import Reference, parse_reference
from jockerd.imagestore.registry import ANONYMOUS, Credentials, RegistryClient, RegistryError, Repository
from jockerd.imagestore.store import ImageStore
from jockerd.models.oci.image import Descriptor, Manifest

log = logging.getLogger("jockerd.push")

Message = dict[str, Any]
Emit = Callable[[Message], None]

MAX_CONCURRENT_UPLOADS = 5  # dockerd's default --max-concurrent-uploads


@dataclass(frozen=True)
class _Tagged:
    tag: str
    image_id: str
    target: Descriptor


def _tags_to_push(store: ImageStore, ref: Reference) -> list[_Tagged]:
    """The tags `docker push` sends: the one named, or every tag of the repository."""
    with store.lock:
        records = list(store.index.records)
    if ref.tag:
        found = next((r for r in records if r.name == str(ref)), None)
        if found is None:
            raise NotFoundError(f"tag does not exist: {ref.familiar()}")
        return [_Tagged(ref.tag, found.image_id, found.target)]
    out = []
    for record in records:
        if record.name is None:
            continue
        named = parse_reference(record.name)
        if named.name == ref.name and named.tag:
            out.append(_Tagged(named.tag, record.image_id, record.target))
    if not out:
        raise NotFoundError(f"An image does not exist locally with the tag: {ref.familiar_name()}")
    return sorted(out, key=lambda t: t.tag)


def _mount_sources(store: ImageStore, ref: Reference) -> dict[str, list[str]]:
    """Blob digest → other repositories (paths) on ref's registry whose local images use it."""
    with store.lock:
        records = [r for r in store.index.records if r.name]
    out: dict[str, list[str]] = {}
    for record in records:
        assert record.name is not None
        named = parse_reference(record.name)
        if named.domain != ref.domain or named.path == ref.path:
            continue
        try:
            manifest = store.read_manifest(record.target)
        except (OSError, ValueError):
            continue
        for layer in manifest.layers:
            sources = out.setdefault(layer.digest, [])
            if named.path not in sources:
                sources.append(named.path)
    return out


async def push(
    store: ImageStore, client: RegistryClient, ref: Reference, *, credentials: Credentials = ANONYMOUS
) -> AsyncIterator[Message]:
    yield status(f"The push refers to repository [{ref.name}]")
    tagged = await asyncio.to_thread(_tags_to_push, store, ref)
    repo = await client.open(ref.domain, ref.path, credentials, actions=("pull", "push"))
    sources = await asyncio.to_thread(_mount_sources, store, ref)
    for item in tagged:
        async for message in _push_tag(store, repo, ref, item, sources):
            yield message


async def _push_tag(
    store: ImageStore, repo: Repository, ref: Reference, item: _Tagged, sources: dict[str, list[str]]
) -> AsyncIterator[Message]:
    manifest_bytes = await asyncio.to_thread(store.content.read, item.target.digest)
    manifest = Manifest.model_validate(json.loads(manifest_bytes))
    config = json.loads(await asyncio.to_thread(store.content.read, manifest.config.digest))
    diff_ids = list(config.get("rootfs", {}).get("diff_ids", []))
    pairs = list(zip(manifest.layers, diff_ids, strict=True))
    pairs.reverse()  # dockerd lists layers top first
    for _, diff_id in pairs:
        yield update(diff_id.partition(":")[2][:12], "Preparing")

    async def upload(emit: Emit) -> None:
        slots = asyncio.Semaphore(MAX_CONCURRENT_UPLOADS)

        async def one(desc: Descriptor, ident: str | None) -> None:
            if ident is not None and slots.locked():
                emit(update(ident, "Waiting"))
            async with slots:
                await _push_blob(store, repo, desc, ident, sources.get(desc.digest, []), emit)

        seen: set[str] = set()
        jobs = []
        for desc, diff_id in pairs:
            if desc.digest in seen:
                continue
            seen.add(desc.digest)
            jobs.append(one(desc, diff_id.partition(":")[2][:12]))
        jobs.append(one(manifest.config, None))
        await _all(jobs)

    async for message in relay_progress(upload, []):
        yield message
    digest = await repo.put_manifest(item.tag, item.target.media_type, manifest_bytes)
    yield status(f"{item.tag}: digest: {digest} size: {len(manifest_bytes)}")
    yield {"progressDetail": {}, "aux": {"Tag": item.tag, "Digest": digest, "Size": len(manifest_bytes)}}
    await asyncio.to_thread(_record_digest, store, item, ref.with_digest(digest))


def _record_digest(store: ImageStore, item: _Tagged, ref: Reference) -> None:
    with store.lease() as lease:
        store.commit_image(item.target, item.image_id, [ref], lease)


async def _all(jobs: list[Any]) -> None:
    tasks = [asyncio.ensure_future(job) for job in jobs]
    try:
        pending: set[asyncio.Future[None]] = set(tasks)
        while pending:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_EXCEPTION)
            for task in done:
                error = task.exception()
                if error is not None:
                    raise error
    finally:
        for task in tasks:
            if not task.done():
                task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def _push_blob(
    store: ImageStore,
    repo: Repository,
    desc: Descriptor,
    ident: str | None,
    sources: list[str],
    emit: Emit,
) -> None:
    def say(text: str) -> None:
        if ident is not None:
            emit(update(ident, text))

    if await repo.blob_exists(desc.digest):
        say("Layer already exists")
        return
    location = None
    for source in sources:
        repo.add_scope(f"repository:{source}:pull")
        try:
            location = await repo.start_upload(mount=desc.digest, source=source)
        except RegistryError as e:
            log.info("cannot mount %s from %s: %s", desc.digest, source, e)
            continue
        if location is None:
            say(f"Mounted from {source}")
            return
        break
    if location is None:
        location = await repo.start_upload()
    meter = Meter(emit, ident or "", "Pushing", desc.size) if ident is not None else None
    fd = await asyncio.to_thread(os.open, store.content.path(desc.digest), os.O_RDONLY | os.O_CLOEXEC)
    try:

        async def read(offset: int, length: int) -> bytes:
            return await asyncio.to_thread(os.pread, fd, length, offset)

        done = 0

        def advance(position: int) -> None:
            nonlocal done
            if meter is not None:
                meter.advance(position - done)
            done = position

        await repo.upload_blob(location, desc.digest, desc.size, read, advance)
    finally:
        os.close(fd)
    say("Pushed")
