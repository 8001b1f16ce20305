"""pull(): resolve → fetch into the content store → unpack → name, with Docker's progress messages.

The order of things, and what a crash leaves:
1. The manifest (or index) is resolved before anything is streamed, so "manifest unknown" and
   "connection refused" are ordinary HTTP errors (404/500), as dockerd answers them.
2. `Pulling from <path>`; an index is narrowed to one platform (linux and the host's
   architecture unless `platform` says otherwise); the config is fetched and checked.
3. If the image (its config digest) is already in the store, only names change (dockerd prints
   no layer lines then). Otherwise the image's digests and chain IDs are **held**
   (`ImageStore.hold`, a lease that survives a crash) and the layers are fetched:
   - `Already exists` for a layer whose blob and unpacked tree are both here;
   - else `Pulling fs layer`; blobs download concurrently (3 at a time for the whole daemon, as
     dockerd's max-concurrent-downloads; a blob several pulls want is downloaded once), each
     streamed into `image/ingest/` and given its name only after `Verifying Checksum` found the
     size and digest right (`Download complete`);
   - layers are unpacked in order as soon as their blob is in (`Extracting`, `Pull complete`);
     the layer store checks each diff_id against the config.
4. The names (`repo:tag` and `repo@<digest>`, Docker's RepoDigests) are written last, then the
   hold is released. `Digest:` and `Status:` close the stream.

kill -9 at any point: the ingest file of a blob being downloaded and a half-unpacked layer are
dropped at start-up (`ImageStore.recover`), but the verified blobs and unpacked layers stay held,
so pulling again downloads only what was missing. A pull that fails cleanly (a bad blob, a
registry error) releases its hold and the caller collects what it wrote.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from jockerd.errors import InvalidParameterError, JockerError, NotFoundError
from jockerd.imagestore.archive import host_architecture, human_size
from jockerd.imagestore.content import BlobWriter
from jockerd.imagestore.layers import chain_id
from jockerd.imagestore.reference import DEFAULT_DOMAIN, Reference
from jockerd.imagestore.registry import (
    ANONYMOUS,
    Credentials,
    RegistryClient,
    RegistryError,
    Repository,
    VerificationError,
    _errcode_text,
)
from jockerd.imagestore.store import ImageStore, Lease
from jockerd.models.oci.image import (
    INDEX_MEDIA_TYPES,
    LAYER_MEDIA_TYPES,
    MANIFEST_MEDIA_TYPES,
    MEDIA_TYPE_DOCKER_FOREIGN_LAYER,
    Descriptor,
    Index,
    Manifest,
    Platform,
    dump,
)

log = logging.getLogger("jockerd.pull")

Message = dict[str, Any]
Emit = Callable[[Message], None]
T = TypeVar("T")

MAX_CONCURRENT_DOWNLOADS = 3  # dockerd's default --max-concurrent-downloads
WRITE_BATCH = 1 << 20  # bytes handed to the writer thread at a time
PROGRESS_INTERVAL = 0.1  # seconds between two progress lines of one layer
EXTRACT_READ = 1 << 20


# -- Docker's progress messages (pkg/jsonmessage, pkg/progress) ----------------------------------


def progress_text(current: int, total: int, width: int = 50) -> str:
    """JSONProgress.String() as dockerd puts it in `progress`: bar, then current/total."""
    if current <= 0 and total <= 0:
        return ""
    if total <= 0:
        return f"{human_size(current):>8}"
    filled = min(width, int(current / total * 100) // 2)
    bar = f"[{'=' * filled}>{' ' * (width - filled)}] "
    if current > total:
        return bar + f"{human_size(current):>8}"
    return bar + f"{human_size(current):>8}/{human_size(total)}"


def status(text: str, ident: str | None = None) -> Message:
    message: Message = {"status": text}
    if ident is not None:
        message["id"] = ident
    return message


def update(ident: str, text: str) -> Message:
    return {"status": text, "progressDetail": {}, "id": ident}


def progress(ident: str, text: str, current: int, total: int) -> Message:
    return {
        "status": text,
        "progressDetail": {"current": current, "total": total},
        "progress": progress_text(current, total),
        "id": ident,
    }


class Meter:
    """Progress lines for one layer, at most one per PROGRESS_INTERVAL (and always the last)."""

    def __init__(self, emit: Emit, ident: str, text: str, total: int) -> None:
        self.emit = emit
        self.ident = ident
        self.text = text
        self.total = total
        self.current = 0
        self._last = 0.0

    def advance(self, n: int) -> None:
        self.current += n
        now = time.monotonic()
        if now - self._last >= PROGRESS_INTERVAL or self.current >= self.total:
            self._last = now
            self.emit(progress(self.ident, self.text, self.current, self.total))


def short_id(digest: str) -> str:
    return digest.partition(":")[2][:12]


# -- platforms ------------------------------------------------------------------------------------

_ARCH_ALIASES = {
    "x86_64": "amd64",
    "x86-64": "amd64",
    "aarch64": "arm64",
    "armhf": "arm",
    "armel": "arm",
    "i386": "386",
}
_DEFAULT_VARIANTS = {"arm64": "v8"}


@dataclass(frozen=True)
class PlatformSpec:
    os: str
    architecture: str
    variant: str = ""

    def __str__(self) -> str:
        return "/".join(p for p in (self.os, self.architecture, self.variant) if p)


def parse_platform(value: str) -> PlatformSpec | None:
    """`linux/arm64/v8`, `linux/amd64`, `linux` (containerd's platforms.Parse, normalized); "" → None."""
    value = value.strip().lower()
    if not value:
        return None
    parts = value.split("/")
    if len(parts) > 3 or not all(parts):
        raise InvalidParameterError(f'"{value}": unknown operating system or architecture: invalid argument')
    os_name = parts[0]
    arch = _ARCH_ALIASES.get(parts[1], parts[1]) if len(parts) > 1 else host_architecture()
    variant = parts[2] if len(parts) > 2 else ""
    if os_name in ("amd64", "arm64", "arm", "386", "x86_64", "aarch64") and len(parts) == 1:
        os_name, arch = "linux", _ARCH_ALIASES.get(os_name, os_name)
    if arch == "arm64" and variant == "v8":
        variant = ""
    return PlatformSpec(os_name, arch, variant)


def default_platform() -> PlatformSpec:
    return PlatformSpec("linux", host_architecture())


def _matches(platform: Platform, wanted: PlatformSpec) -> bool:
    if (
        platform.os != wanted.os
        or _ARCH_ALIASES.get(platform.architecture, platform.architecture) != wanted.architecture
    ):
        return False
    variant = platform.variant or ""
    if variant == _DEFAULT_VARIANTS.get(wanted.architecture):
        variant = ""
    return not wanted.variant or variant == wanted.variant


def choose_manifest(manifests: list[Descriptor], wanted: PlatformSpec) -> Descriptor:
    """The index entry for `wanted` (one without a variant first, as containerd orders them)."""
    candidates = [m for m in manifests if m.media_type in MANIFEST_MEDIA_TYPES and m.platform is not None]
    matching = [m for m in candidates if m.platform is not None and _matches(m.platform, wanted)]
    if matching:
        matching.sort(key=lambda m: bool(m.platform and m.platform.variant))
        return matching[0]
    raise NotFoundError(f"no matching manifest for {wanted} in the manifest list entries")


# -- errors (moby distribution/errors.go TranslatePullError) ------------------------------------


def translate_pull_error(error: RegistryError, ref: Reference) -> JockerError:
    if not error.codes:
        return error
    code, message = error.codes[0]
    cause = _errcode_text(code, message)
    if code == "MANIFEST_UNKNOWN":
        return NotFoundError(f"manifest for {ref.familiar()} not found: {cause}")
    if code == "NAME_UNKNOWN":
        return NotFoundError(f"repository {ref.familiar_name()} not found: {cause}")
    if code == "DENIED":
        return NotFoundError(
            f"pull access denied for {ref.familiar_name()}, repository does not exist or may require "
            f"'docker login': {cause}"
        )
    return RegistryError(cause, error.codes, error.status)


# -- downloads shared by every pull of the daemon -------------------------------------------------


class Downloads:
    """The daemon's download slots, and the blobs being downloaded (each downloaded once)."""

    def __init__(self, limit: int = MAX_CONCURRENT_DOWNLOADS) -> None:
        self.slots = asyncio.Semaphore(limit)
        self.inflight: dict[str, asyncio.Future[None]] = {}

    async def fetch(self, store: ImageStore, repo: Repository, desc: Descriptor, emit: Emit) -> None:
        """Put the blob `desc` names into the content store, verified. Emits Waiting/Downloading/
        Verifying Checksum for the layer (the caller emits Download complete)."""
        ident = short_id(desc.digest)
        shared = self.inflight.get(desc.digest)
        if shared is not None:
            emit(update(ident, "Waiting"))
            try:
                await asyncio.shield(shared)
                return
            except Exception:
                pass  # that pull failed or went away: try ourselves
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.inflight[desc.digest] = future
        try:
            if self.slots.locked():
                emit(update(ident, "Waiting"))
            async with self.slots:
                await download_blob(store, repo, desc, emit)
            future.set_result(None)
        except BaseException as e:
            future.set_exception(e if isinstance(e, Exception) else RegistryError("download cancelled"))
            future.exception()  # retrieved: nobody may be waiting
            raise
        finally:
            del self.inflight[desc.digest]


async def download_blob(store: ImageStore, repo: Repository, desc: Descriptor, emit: Emit) -> None:
    """Stream one blob into ingest/, then commit it under its digest once size and digest match.

    Network reads and the writer thread overlap: a batch is written (and hashed) in a thread
    while the next one arrives.
    """
    ident = short_id(desc.digest)
    meter = Meter(emit, ident, "Downloading", desc.size)
    writer: BlobWriter = await asyncio.to_thread(store.content.writer, desc.digest, desc.size)
    committed = False
    pending: asyncio.Future[None] | None = None
    try:
        batch: list[bytes] = []
        batched = 0
        async for chunk in repo.blob_chunks(desc.digest, desc.size):
            batch.append(chunk)
            batched += len(chunk)
            if batched >= WRITE_BATCH:
                if pending is not None:
                    await pending
                data = batch[0] if len(batch) == 1 else b"".join(batch)
                pending = asyncio.ensure_future(asyncio.to_thread(writer.write, data))
                batch, batched = [], 0
            meter.advance(len(chunk))
        if pending is not None:
            await pending
            pending = None
        if batch:
            await asyncio.to_thread(writer.write, b"".join(batch))
        emit(update(ident, "Verifying Checksum"))
        try:
            await asyncio.to_thread(writer.commit)
        except InvalidParameterError:
            raise VerificationError(
                f"filesystem layer verification failed for digest {desc.digest}"
            ) from None
        committed = True
    finally:
        if pending is not None and not pending.done():
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await pending
        if not committed:
            await asyncio.to_thread(writer.abort)


# -- one pull -------------------------------------------------------------------------------------


@dataclass
class _Layer:
    descriptor: Descriptor
    diff_id: str
    chain: str
    parent: str | None
    have_blob: bool
    have_layer: bool
    ready: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def ident(self) -> str:
        return short_id(self.descriptor.digest)


async def open_repository(
    client: RegistryClient, ref: Reference, credentials: Credentials
) -> tuple[Repository, Descriptor, bytes]:
    """The repository and the manifest `ref` names; Docker Hub's mirrors first, then the hub."""
    reference = ref.digest or ref.tag or "latest"
    if ref.domain == DEFAULT_DOMAIN:
        for endpoint in client.endpoints(ref.domain):
            if not endpoint.mirror:
                continue
            try:
                repo = await client.open(ref.domain, ref.path, credentials, endpoint=endpoint)
                desc, data = await repo.get_manifest(reference)
                return repo, desc, data
            except RegistryError as e:
                log.info("mirror %s failed for %s, trying the next endpoint: %s", endpoint.url, ref, e)
    repo = await client.open(ref.domain, ref.path, credentials)
    desc, data = await repo.get_manifest(reference)
    return repo, desc, data


async def relay_progress(start: Callable[[Emit], Awaitable[T]], results: list[T]) -> AsyncIterator[Message]:
    """Run `start(emit)` and yield what it emits (from any thread) while it runs; its result is
    appended to `results`, its exception raised after the messages it emitted. Leaving the
    iteration early cancels it (pull and push stream their transfers' progress this way)."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[Message] = asyncio.Queue()

    def emit(message: Message) -> None:
        loop.call_soon_threadsafe(queue.put_nowait, message)

    work = asyncio.ensure_future(start(emit))
    try:
        while True:
            getter = asyncio.ensure_future(queue.get())
            done, _ = await asyncio.wait({work, getter}, return_when=asyncio.FIRST_COMPLETED)
            if getter in done:
                yield getter.result()
                continue
            getter.cancel()
            await asyncio.sleep(0)  # let call_soon_threadsafe deliveries land
            while not queue.empty():
                yield queue.get_nowait()
            results.append(work.result())
            return
    finally:
        if not work.done():
            work.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await work


@dataclass
class _Outcome:
    up_to_date: bool = True


def _final_status(name: str, up_to_date: bool) -> Message:
    word = "Image is up to date for" if up_to_date else "Downloaded newer image for"
    return status(f"Status: {word} {name}")


async def pull(
    store: ImageStore,
    client: RegistryClient,
    downloads: Downloads,
    ref: Reference,
    *,
    platform: str = "",
    credentials: Credentials = ANONYMOUS,
) -> AsyncIterator[Message]:
    """Pull `ref` (a tag or a digest reference); yields Docker's JSON progress messages."""
    outcome = _Outcome()
    async for message in _pull_one(store, client, downloads, ref, platform, credentials, outcome):
        yield message
    yield _final_status(ref.familiar(), outcome.up_to_date)


async def pull_all_tags(
    store: ImageStore,
    client: RegistryClient,
    downloads: Downloads,
    ref: Reference,
    *,
    platform: str = "",
    credentials: Credentials = ANONYMOUS,
) -> AsyncIterator[Message]:
    """`docker pull --all-tags`: each tag the repository lists, in its order, as moby's
    pullRepository does: a `TAG: Pulling from` ... `Digest:` run per tag, a tag whose manifest
    is of a kind jocker cannot pull skipped (logged), one `Status:` line for the repository."""
    try:
        repo = await client.open(ref.domain, ref.path, credentials)
        tags = await repo.tags()
    except RegistryError as e:
        raise translate_pull_error(e, ref) from None
    up_to_date = True
    for tag in tags:
        outcome = _Outcome()
        try:
            async for message in _pull_one(
                store, client, downloads, ref.with_tag(tag), platform, credentials, outcome
            ):
                yield message
        except JockerError as e:
            if "unsupported" not in str(e) or "media type" not in str(e):
                raise
            log.warning("pull of every tag: skipping %s:%s: %s", ref, tag, e)
            continue
        up_to_date = up_to_date and outcome.up_to_date
    yield _final_status(ref.familiar(), up_to_date)


async def _pull_one(
    store: ImageStore,
    client: RegistryClient,
    downloads: Downloads,
    ref: Reference,
    platform: str,
    credentials: Credentials,
    outcome: _Outcome,
) -> AsyncIterator[Message]:
    """One tag or digest, up to its `Digest:` line; `outcome` learns whether it was new."""
    wanted = parse_platform(platform)
    try:
        repo, top, top_bytes = await open_repository(client, ref, credentials)
    except RegistryError as e:
        raise translate_pull_error(e, ref) from None
    yield status(f"Pulling from {ref.path}", ref.digest or ref.tag)

    results: list[bool] = []
    try:
        async for message in relay_progress(
            lambda emit: _assemble(store, downloads, repo, ref, top, top_bytes, wanted, emit), results
        ):
            yield message
    except RegistryError as e:
        raise translate_pull_error(e, ref) from None
    (up_to_date,) = results
    outcome.up_to_date = up_to_date
    yield status(f"Digest: {top.digest}")


async def _assemble(
    store: ImageStore,
    downloads: Downloads,
    repo: Repository,
    ref: Reference,
    top: Descriptor,
    top_bytes: bytes,
    wanted: PlatformSpec | None,
    emit: Emit,
) -> bool:
    """Everything after `Pulling from`; returns whether the name already meant this image."""
    desc, manifest_bytes = top, top_bytes
    if top.media_type in INDEX_MEDIA_TYPES:
        index = Index.model_validate(json.loads(top_bytes))
        chosen = choose_manifest(index.manifests, wanted or default_platform())
        desc, manifest_bytes = await repo.get_manifest(chosen.digest)
        if desc.size != chosen.size:
            raise VerificationError(f"manifest verification failed for digest {chosen.digest}")
    if desc.media_type not in MANIFEST_MEDIA_TYPES:
        raise RegistryError(f"unsupported manifest media type {desc.media_type}")
    try:
        manifest = Manifest.model_validate(json.loads(manifest_bytes))
    except ValueError as e:
        raise RegistryError(f"invalid manifest {desc.digest}: {e}") from None
    for layer in manifest.layers:
        if layer.media_type not in LAYER_MEDIA_TYPES:
            what = (
                "foreign layer" if layer.media_type == MEDIA_TYPE_DOCKER_FOREIGN_LAYER else "layer media type"
            )
            raise RegistryError(f"unsupported {what} {layer.media_type} in {desc.digest}")
    config_bytes = await repo.get_blob(manifest.config)
    try:
        config = json.loads(config_bytes)
        diff_ids = list(config["rootfs"]["diff_ids"])
    except (ValueError, KeyError, TypeError):
        raise RegistryError(f"invalid image config {manifest.config.digest}") from None
    if len(diff_ids) != len(manifest.layers):
        raise RegistryError(
            f"invalid image config {manifest.config.digest}: {len(diff_ids)} diff_ids for "
            f"{len(manifest.layers)} layers"
        )
    if wanted is not None:
        actual = PlatformSpec(
            config.get("os", ""), config.get("architecture", ""), config.get("variant", "") or ""
        )
        if not _matches(
            Platform(os=actual.os, architecture=actual.architecture, variant=actual.variant), wanted
        ):
            raise NotFoundError(
                f"image with reference {ref.familiar()} was found but does not match the specified "
                f"platform: wanted {wanted}, actual: {actual}"
            )

    image_id = manifest.config.digest
    # Docker's RepoDigests: a pull by tag also records `repo@<digest of what the tag named>`.
    names = [ref] if not ref.tag else [ref, ref.with_digest(top.digest)]
    target = Descriptor(media_type=desc.media_type, digest=desc.digest, size=desc.size)
    named = await asyncio.to_thread(_name_if_present, store, ref, names, image_id)
    if named is not None:
        return named
    return await _fetch_layers(
        store,
        downloads,
        repo,
        manifest,
        manifest_bytes,
        config_bytes,
        diff_ids,
        target,
        image_id,
        names,
        emit,
    )


def _name_if_present(store: ImageStore, ref: Reference, names: list[Reference], image_id: str) -> bool | None:
    """If the image is already here, only name it (dockerd pulls no layer then).

    Returns whether `ref` already named it (`Image is up to date`), None if the image is not here.
    """
    with store.lock:
        existing = store.index.by_image(image_id)
        if not existing:
            return None
        before = store.index.get(str(ref))
        target = existing[0].target
    with store.lease() as lease:
        store.commit_image(target, image_id, names, lease)
    return before is not None and before.image_id == image_id


async def _fetch_layers(
    store: ImageStore,
    downloads: Downloads,
    repo: Repository,
    manifest: Manifest,
    manifest_bytes: bytes,
    config_bytes: bytes,
    diff_ids: list[str],
    target: Descriptor,
    image_id: str,
    names: list[Reference],
    emit: Emit,
) -> bool:
    layers: list[_Layer] = []
    parent: str | None = None
    for descriptor, diff_id in zip(manifest.layers, diff_ids, strict=True):
        chain = chain_id(parent, diff_id)
        layers.append(_Layer(descriptor, diff_id, chain, parent, False, False))
        parent = chain
    hold_key = f"pull-{target.digest.partition(':')[2]}"
    items = [target.digest, image_id, *(la.descriptor.digest for la in layers), *(la.chain for la in layers)]
    async with _leased(store, items) as lease:
        await asyncio.to_thread(store.hold, hold_key, items)
        try:
            await asyncio.to_thread(_put_small, store, lease, config_bytes, image_id)
            await asyncio.to_thread(_put_small, store, lease, manifest_bytes, target.digest)
            for layer in layers:
                layer.have_blob = await asyncio.to_thread(store.content.has, layer.descriptor.digest)
                layer.have_layer = await asyncio.to_thread(store.layers.get, layer.chain) is not None
            await _transfer(store, downloads, repo, layers, emit)
            previous = await asyncio.to_thread(_image_named, store, names[0])
            await asyncio.to_thread(store.commit_image, target, image_id, names, lease)
        finally:
            await asyncio.to_thread(store.release, hold_key)
    return previous == image_id


@contextlib.asynccontextmanager
async def _leased(store: ImageStore, items: list[str]) -> AsyncIterator[Lease]:
    """A store lease on `items`, taken and given back in threads: the store's lock may be held by
    a garbage collection for a while, and the event loop must not wait for it."""
    manager = store.lease()
    lease = await asyncio.to_thread(manager.__enter__)
    try:
        await asyncio.to_thread(lambda: [lease.add(item) for item in items])
        yield lease
    finally:
        await asyncio.to_thread(manager.__exit__, None, None, None)


def _image_named(store: ImageStore, ref: Reference) -> str | None:
    with store.lock:
        record = store.index.get(str(ref))
    return record.image_id if record is not None else None


def _put_small(store: ImageStore, lease: Lease, data: bytes, digest: str) -> None:
    lease.add(digest)
    store.content.put(data, digest)


async def _transfer(
    store: ImageStore, downloads: Downloads, repo: Repository, layers: list[_Layer], emit: Emit
) -> None:
    """Download what is missing (concurrently) and unpack in order as blobs arrive."""
    wanted_blobs: dict[str, list[_Layer]] = {}
    for layer in layers:
        if layer.have_blob and layer.have_layer:
            emit(update(layer.ident, "Already exists"))
            layer.ready.set()
            continue
        emit(update(layer.ident, "Pulling fs layer"))
        if layer.have_blob:
            layer.ready.set()
        else:
            wanted_blobs.setdefault(layer.descriptor.digest, []).append(layer)

    async def fetch(group: list[_Layer]) -> None:
        await downloads.fetch(store, repo, group[0].descriptor, emit)
        for layer in group:
            emit(update(layer.ident, "Download complete"))
            layer.ready.set()

    tasks = [asyncio.ensure_future(fetch(group)) for group in wanted_blobs.values()]
    unpacking = asyncio.ensure_future(_unpack_in_order(store, layers, emit))
    everything = [*tasks, unpacking]
    try:
        pending: set[asyncio.Future[None]] = set(everything)
        while pending:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_EXCEPTION)
            for task in done:
                if task.exception() is not None:
                    raise task.exception()  # type: ignore[misc]
    finally:
        for task in everything:
            if not task.done():
                task.cancel()
        await asyncio.gather(*everything, return_exceptions=True)


async def _unpack_in_order(store: ImageStore, layers: list[_Layer], emit: Emit) -> None:
    for layer in layers:
        await layer.ready.wait()
        if layer.have_layer or await asyncio.to_thread(store.layers.get, layer.chain) is not None:
            if not (layer.have_blob and layer.have_layer):
                emit(update(layer.ident, "Pull complete"))
            continue
        meter = Meter(emit, layer.ident, "Extracting", layer.descriptor.size)
        await _finish_in_thread(_unpack, store, layer, meter)
        emit(update(layer.ident, "Pull complete"))


async def _finish_in_thread(func: Callable[..., Any], *args: Any) -> Any:
    """Run `func` in a thread; if cancelled, still wait for the thread before re-raising.

    A thread cannot be stopped: a pull that fails while a layer is being unpacked must not return
    (and have its pieces collected) before the unpacker has published or dropped its directory.
    """
    future = asyncio.ensure_future(asyncio.to_thread(func, *args))
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            await future
        raise


class _CountingReader(io.RawIOBase):
    def __init__(self, source: Any, on_read: Callable[[int], None]) -> None:
        self._source = source
        self._on_read = on_read

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = self._source.readinto(buffer)
        if n:
            self._on_read(n)
        return n


def _unpack(store: ImageStore, layer: _Layer, meter: Meter) -> None:
    with store.content.open(layer.descriptor.digest) as blob:
        reader = io.BufferedReader(_CountingReader(blob, meter.advance), EXTRACT_READ)
        store.layers.create(layer.parent, reader, expected_diff_id=layer.diff_id)


async def distribution_info(
    client: RegistryClient, ref: Reference, credentials: Credentials
) -> dict[str, Any]:
    """What `GET /distribution/{name}/json` answers: the descriptor `ref` resolves to, and the
    platforms it serves (an index's entries, or a manifest's config)."""
    try:
        repo, desc, data = await open_repository(client, ref, credentials)
        platforms: list[dict[str, Any]] = []
        if desc.media_type in INDEX_MEDIA_TYPES:
            index = Index.model_validate(json.loads(data))
            platforms = [dump(m.platform) for m in index.manifests if m.platform is not None]
        elif desc.media_type in MANIFEST_MEDIA_TYPES:
            manifest = Manifest.model_validate(json.loads(data))
            config = json.loads(await repo.get_blob(manifest.config))
            entry = {"architecture": config.get("architecture", ""), "os": config.get("os", "")}
            for key in ("os.version", "os.features", "variant"):
                if config.get(key):
                    entry[key] = config[key]
            platforms = [entry]
    except RegistryError as e:
        raise translate_pull_error(e, ref) from None
    return {
        "Descriptor": {"mediaType": desc.media_type, "digest": desc.digest, "size": desc.size},
        "Platforms": platforms,
    }
