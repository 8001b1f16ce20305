"""Image archives: `docker load` input and `docker save` output.

Load reads both formats Docker reads:
- docker-archive: `manifest.json` ([{Config, RepoTags, Layers}]), legacy `<id>/layer.tar` or
  Docker 25+ `blobs/sha256/<hex>` paths, layers uncompressed, gzip or zstd;
- OCI image layout (what `skopeo copy ... oci-archive:` writes): `oci-layout`, `index.json`
  (names from `io.containerd.image.name` or `org.opencontainers.image.ref.name`), blobs whose
  digest and size are checked against their descriptors.
Every layer's diff ID is checked against the config's `rootfs.diff_ids` before the image is
named, so an archive whose layers do not match its config never becomes an image.

Save writes what Docker 25+ writes: an OCI image layout plus `manifest.json` and
`repositories`, so both Docker (any version) and jocker load it.
"""

from __future__ import annotations

import hashlib
import io
import json
import platform
import posixpath
import tarfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, BinaryIO

from jockerd.errors import InvalidParameterError
from jockerd.imagestore.content import BlobWriter
from jockerd.imagestore.layers import chain_id, detect_compression
from jockerd.imagestore.reference import Reference, parse_reference
from jockerd.imagestore.store import ImageStore, Lease
from jockerd.models.oci.image import (
    ANNOTATION_CONTAINERD_IMAGE_NAME,
    ANNOTATION_REF_NAME,
    INDEX_MEDIA_TYPES,
    LAYER_MEDIA_TYPES,
    MANIFEST_MEDIA_TYPES,
    MEDIA_TYPE_IMAGE_CONFIG,
    MEDIA_TYPE_IMAGE_LAYER,
    MEDIA_TYPE_IMAGE_LAYER_GZIP,
    MEDIA_TYPE_IMAGE_LAYER_ZSTD,
    MEDIA_TYPE_IMAGE_MANIFEST,
    Descriptor,
    ImageLayout,
    Index,
    Manifest,
    dump,
)

Progress = Callable[[dict[str, Any]], None]

MEDIA_TYPE_BY_COMPRESSION = {
    "none": MEDIA_TYPE_IMAGE_LAYER,
    "gzip": MEDIA_TYPE_IMAGE_LAYER_GZIP,
    "zstd": MEDIA_TYPE_IMAGE_LAYER_ZSTD,
}
MAX_METADATA_SIZE = 16 * 1024 * 1024
MAX_SYMLINK_HOPS = 16


def _invalid(message: str) -> InvalidParameterError:
    return InvalidParameterError(f"invalid image archive: {message}")


# ---------------------------------------------------------------------------------------------
# Reading an archive


class ArchiveReader:
    """Random access to the regular files of a (spooled, seekable) tar archive."""

    def __init__(self, path: Path) -> None:
        try:
            self.tar = tarfile.open(path, mode="r:*")  # noqa: SIM115 - closed by close()
            members = self.tar.getmembers()
        except (tarfile.TarError, EOFError, OSError) as e:
            raise _invalid(f"not a tar archive: {e}") from None
        self.members: dict[str, tarfile.TarInfo] = {}
        for member in members:
            self.members[posixpath.normpath(member.name.lstrip("/")).removeprefix("./")] = member

    def close(self) -> None:
        self.tar.close()

    def _member(self, name: str) -> tarfile.TarInfo:
        path = posixpath.normpath(name.lstrip("/"))
        for _ in range(MAX_SYMLINK_HOPS):
            member = self.members.get(path)
            if member is None:
                raise _invalid(f"{name} not found in the archive")
            if member.issym():
                path = posixpath.normpath(posixpath.join(posixpath.dirname(path), member.linkname))
                if path.startswith("../"):
                    raise _invalid(f"{name} links outside the archive")
                continue
            if not member.isfile():
                raise _invalid(f"{name} is not a regular file")
            return member
        raise _invalid(f"{name}: too many levels of symbolic links")

    def has(self, name: str) -> bool:
        return posixpath.normpath(name) in self.members

    def size(self, name: str) -> int:
        return self._member(name).size

    def open(self, name: str) -> IO[bytes]:
        handle = self.tar.extractfile(self._member(name))
        assert handle is not None
        return handle

    def read_json(self, name: str) -> Any:
        member = self._member(name)
        if member.size > MAX_METADATA_SIZE:
            raise _invalid(f"{name} is too large ({member.size} bytes)")
        try:
            return json.loads(self.open(name).read())
        except (ValueError, UnicodeDecodeError) as e:
            raise _invalid(f"{name}: {e}") from None

    def read_bytes(self, name: str) -> bytes:
        member = self._member(name)
        if member.size > MAX_METADATA_SIZE:
            raise _invalid(f"{name} is too large ({member.size} bytes)")
        return self.open(name).read()


@dataclass
class LayerSource:
    """Where one layer of an image comes from inside the archive."""

    path: str
    descriptor: Descriptor | None  # known for OCI layouts; None for docker-archive


@dataclass
class ImageSource:
    config: bytes
    config_digest: str | None
    layers: list[LayerSource]
    names: list[Reference]
    manifest: bytes | None = None  # an OCI manifest blob to keep as-is
    manifest_descriptor: Descriptor | None = None
    untagged_names: list[str] = field(default_factory=list)


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _blob_path(digest: str) -> str:
    algorithm, _, hexpart = digest.partition(":")
    if not algorithm or not hexpart or "/" in digest or ".." in digest:
        raise _invalid(f"bad digest {digest!r}")
    return f"blobs/{algorithm}/{hexpart}"


def _parse_name(value: str, where: str) -> Reference:
    try:
        ref = parse_reference(value)
    except InvalidParameterError:
        raise _invalid(f"invalid reference {value!r} in {where}") from None
    if ref.digest:
        raise _invalid(f"reference {value!r} in {where} has a digest")
    return ref


def read_docker_archive(archive: ArchiveReader) -> list[ImageSource]:
    manifest = archive.read_json("manifest.json")
    if not isinstance(manifest, list):
        raise _invalid("manifest.json is not a list")
    out = []
    for entry in manifest:
        if not isinstance(entry, dict) or not isinstance(entry.get("Config"), str):
            raise _invalid("manifest.json entry without Config")
        layers = entry.get("Layers") or []
        tags = entry.get("RepoTags") or []
        if not isinstance(layers, list) or not isinstance(tags, list):
            raise _invalid("manifest.json Layers and RepoTags must be lists")
        out.append(
            ImageSource(
                config=archive.read_bytes(entry["Config"]),
                config_digest=None,
                layers=[LayerSource(str(p), None) for p in layers],
                names=[_parse_name(str(t), "manifest.json") for t in tags],
            )
        )
    return out


def _ref_names(desc: Descriptor) -> list[Reference]:
    annotations = desc.annotations or {}
    full = annotations.get(ANNOTATION_CONTAINERD_IMAGE_NAME)
    if full:
        return [_parse_name(full, "index.json")]
    ref = annotations.get(ANNOTATION_REF_NAME, "")
    # A bare tag ("latest") names no repository: such an image loads untagged, as in Docker.
    if ref and (":" in ref or "/" in ref):
        return [_parse_name(ref, "index.json")]
    return []


def _read_blob(archive: ArchiveReader, desc: Descriptor) -> bytes:
    data = archive.read_bytes(_blob_path(desc.digest))
    if len(data) != desc.size:
        raise _invalid(f"blob {desc.digest} has size {len(data)}, descriptor says {desc.size}")
    actual = sha256_digest(data)
    if actual != desc.digest:
        raise _invalid(f"blob digest mismatch: expected {desc.digest}, got {actual}")
    return data


def _manifest_descriptors(archive: ArchiveReader, desc: Descriptor, depth: int = 0) -> Iterator[Descriptor]:
    """Image manifests under a descriptor, choosing linux/host-arch entries in nested indexes."""
    if desc.media_type in MANIFEST_MEDIA_TYPES:
        yield desc
        return
    if desc.media_type not in INDEX_MEDIA_TYPES or depth > 4:
        raise _invalid(f"unsupported media type {desc.media_type} in index.json")
    nested = Index.model_validate(json.loads(_read_blob(archive, desc)))
    chosen = _choose_platform(nested.manifests)
    for child in chosen:
        merged = child.model_copy(
            update={"annotations": {**(desc.annotations or {}), **(child.annotations or {})}}
        )
        yield from _manifest_descriptors(archive, merged, depth + 1)


def host_architecture() -> str:
    machine = platform.machine()
    return {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "i686": "386"}.get(machine, machine)


def _choose_platform(manifests: list[Descriptor]) -> list[Descriptor]:
    candidates = [m for m in manifests if m.media_type in MANIFEST_MEDIA_TYPES | INDEX_MEDIA_TYPES]
    for m in candidates:
        if m.platform and m.platform.os == "linux" and m.platform.architecture == host_architecture():
            return [m]
    untyped = [m for m in candidates if m.platform is None]
    if untyped:
        return untyped[:1]
    if candidates:
        return candidates[:1]
    raise _invalid("no image manifest in index")


def read_oci_layout(archive: ArchiveReader) -> list[ImageSource]:
    layout = archive.read_json("oci-layout")
    if not isinstance(layout, dict) or "imageLayoutVersion" not in layout:
        raise _invalid("oci-layout has no imageLayoutVersion")
    try:
        index = Index.model_validate(archive.read_json("index.json"))
    except ValueError as e:
        raise _invalid(f"index.json: {e}") from None
    by_manifest: dict[str, ImageSource] = {}
    for top in index.manifests:
        for desc in _manifest_descriptors(archive, top):
            names = _ref_names(desc)
            existing = by_manifest.get(desc.digest)
            if existing is not None:
                existing.names.extend(n for n in names if n not in existing.names)
                continue
            manifest_bytes = _read_blob(archive, desc)
            try:
                manifest = Manifest.model_validate(json.loads(manifest_bytes))
            except ValueError as e:
                raise _invalid(f"manifest {desc.digest}: {e}") from None
            for layer in manifest.layers:
                if layer.media_type not in LAYER_MEDIA_TYPES:
                    raise _invalid(f"unsupported layer media type {layer.media_type}")
            by_manifest[desc.digest] = ImageSource(
                config=_read_blob(archive, manifest.config),
                config_digest=manifest.config.digest,
                layers=[LayerSource(_blob_path(layer.digest), layer) for layer in manifest.layers],
                names=list(names),
                manifest=manifest_bytes,
                manifest_descriptor=Descriptor(
                    media_type=desc.media_type, digest=desc.digest, size=desc.size
                ),
            )
    if not by_manifest:
        raise _invalid("index.json lists no image")
    return list(by_manifest.values())


def read_archive(archive: ArchiveReader) -> list[ImageSource]:
    if archive.has("manifest.json"):
        return read_docker_archive(archive)
    if archive.has("index.json"):
        return read_oci_layout(archive)
    raise _invalid("neither manifest.json nor index.json found")


# ---------------------------------------------------------------------------------------------
# Storing what was read


class TeeReader(io.RawIOBase):
    """Reads from a source while copying every byte into a blob writer (one pass, two uses)."""

    def __init__(self, source: IO[bytes], writer: BlobWriter, on_read: Callable[[int], None]) -> None:
        self._source = source
        self._writer = writer
        self._on_read = on_read

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._source.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        if n:
            self._writer.write(data)
            self._on_read(n)
        return n

    def drain(self) -> None:
        while self.read(1 << 20):
            pass


def _validate_config(config: bytes) -> dict[str, Any]:
    try:
        data = json.loads(config)
    except (ValueError, UnicodeDecodeError) as e:
        raise _invalid(f"image config is not JSON: {e}") from None
    if not isinstance(data, dict):
        raise _invalid("image config is not an object")
    rootfs = data.get("rootfs")
    if not isinstance(rootfs, dict) or not isinstance(rootfs.get("diff_ids", []), list):
        raise _invalid("image config has no rootfs.diff_ids")
    return data


def progress_bar(current: int, total: int, width: int = 50) -> str:
    """Docker's textual progress bar (jsonmessage): `[=====>     ]  1.2MB/3.4MB`."""
    if total <= 0:
        return f"{human_size(current):>8}"
    filled = min(width, int(width * current / total))
    return f"[{'=' * filled}>{' ' * (width - filled)}] {human_size(current):>8}/{human_size(total)}"


def human_size(size: float) -> str:
    """Decimal units with 4 significant digits, as Docker's go-units HumanSize."""
    units = ["B", "kB", "MB", "GB", "TB", "PB"]
    i = 0
    while size >= 1000 and i < len(units) - 1:
        size /= 1000
        i += 1
    return f"{size:.4g}{units[i]}"


class _LayerProgress:
    """Emits `Loading layer` progress lines, throttled to about 1% steps."""

    def __init__(self, progress: Progress | None, layer_id: str, total: int) -> None:
        self.progress = progress
        self.layer_id = layer_id
        self.total = total
        self.current = 0
        self._last = -1
        self._step = max(total // 100, 512 * 1024)

    def advance(self, n: int) -> None:
        self.current += n
        if self.current - self._last >= self._step:
            self.emit()

    def emit(self) -> None:
        if self.progress is None:
            return
        self._last = self.current
        self.progress(
            {
                "status": "Loading layer",
                "progressDetail": {"current": self.current, "total": self.total},
                "progress": progress_bar(self.current, self.total),
                "id": self.layer_id,
            }
        )


def put_leased(store: ImageStore, lease: Lease, data: bytes, digest: str | None = None) -> str:
    """Store a small blob, leasing its digest first so no garbage collection can race it."""
    digest = digest or sha256_digest(data)
    lease.add(digest)
    return store.content.put(data, digest)


def put_manifest(
    store: ImageStore, lease: Lease, config_digest: str, config_size: int, layers: list[Descriptor]
) -> Descriptor:
    """Write the OCI manifest of an image whose config and layer blobs are stored."""
    manifest = Manifest(
        config=Descriptor(media_type=MEDIA_TYPE_IMAGE_CONFIG, digest=config_digest, size=config_size),
        layers=layers,
    )
    data = json.dumps(dump(manifest), separators=(",", ":")).encode()
    return Descriptor(
        media_type=MEDIA_TYPE_IMAGE_MANIFEST, digest=put_leased(store, lease, data), size=len(data)
    )


def store_image(
    store: ImageStore,
    archive: ArchiveReader,
    source: ImageSource,
    lease: Lease,
    progress: Progress | None,
) -> tuple[Descriptor, str]:
    """Store one image's blobs and unpack its layers; returns (manifest descriptor, image ID).

    The image is not named here: the caller names it with commit_image() once every piece
    is in place, so an interrupted load never shows up as an image.
    """
    config = _validate_config(source.config)
    diff_ids = config["rootfs"].get("diff_ids", [])
    if len(diff_ids) != len(source.layers):
        raise _invalid(f"config lists {len(diff_ids)} layers, the manifest {len(source.layers)}")
    config_digest = put_leased(store, lease, source.config, source.config_digest)
    layer_descriptors: list[Descriptor] = []
    parent: str | None = None
    for diff_id, layer in zip(diff_ids, source.layers, strict=True):
        chain = chain_id(parent, diff_id)
        layer_descriptors.append(_store_layer(store, archive, layer, parent, chain, diff_id, lease, progress))
        parent = chain
    if source.manifest is not None and source.manifest_descriptor is not None:
        target = source.manifest_descriptor
        put_leased(store, lease, source.manifest, target.digest)
    else:
        target = put_manifest(store, lease, config_digest, len(source.config), layer_descriptors)
    return target, config_digest


def _store_layer(
    store: ImageStore,
    archive: ArchiveReader,
    layer: LayerSource,
    parent: str | None,
    chain: str,
    diff_id: str,
    lease: Lease,
    progress: Progress | None,
) -> Descriptor:
    """Put one layer blob in the content store and its unpacked tree in the layer store."""
    lease.add(chain)
    desc = layer.descriptor
    if desc is not None:
        lease.add(desc.digest)
    size = archive.size(layer.path)
    if desc is not None and desc.size != size:
        raise _invalid(f"blob {desc.digest} has size {size}, descriptor says {desc.size}")
    have_blob = desc is not None and store.content.has(desc.digest)
    have_layer = store.layers.get(chain) is not None
    meter = _LayerProgress(progress, diff_id.removeprefix("sha256:")[:12], size)
    if have_blob and have_layer:
        assert desc is not None
        meter.current = size
        meter.emit()
        return desc
    handle = archive.open(layer.path)
    head = handle.read(8)
    handle.seek(0)
    compression = detect_compression(head)
    with store.content.writer(desc.digest if desc else None, size) as writer:
        tee = TeeReader(handle, writer, meter.advance)
        meter.emit()
        if have_layer:
            tee.drain()
        else:
            store.layers.create(parent, io.BufferedReader(tee, 1 << 20), expected_diff_id=diff_id)
            tee.drain()
        digest = writer.commit()
    lease.add(digest)
    meter.emit()
    if desc is not None:
        return desc
    return Descriptor(media_type=MEDIA_TYPE_BY_COMPRESSION[compression], digest=digest, size=size)


def load_archive(store: ImageStore, path: Path, progress: Progress | None) -> list[str]:
    """Load every image of an archive; returns Docker's `Loaded image...` lines.

    The archive at `path` is a spooled upload and is consumed: it is deleted once every piece
    is stored and before the images are named, so the flush that precedes naming never writes
    the upload's pages to disk.
    """
    archive = ArchiveReader(path)
    try:
        sources = read_archive(archive)
        with store.lease() as lease:
            stored = [store_image(store, archive, source, lease, progress) for source in sources]
            archive.close()
            path.unlink(missing_ok=True)
            lines: list[str] = []
            for source, (target, image_id) in zip(sources, stored, strict=True):
                for name, previous in store.commit_image(target, image_id, source.names, lease):
                    lines.append(
                        f"The image {name.familiar()} already exists, renaming the old one with ID "
                        f"{previous} to empty string\n"
                    )
                if source.names:
                    lines.extend(f"Loaded image: {name.familiar()}\n" for name in source.names)
                else:
                    lines.append(f"Loaded image ID: {image_id}\n")
        return lines
    finally:
        archive.close()


# ---------------------------------------------------------------------------------------------
# Writing an archive


@dataclass
class SaveItem:
    image_id: str
    names: list[Reference]


class _TarStream:
    """Builds a tar stream member by member, yielding bytes as they are produced."""

    MTIME = 0

    def header(self, name: str, size: int, *, directory: bool = False) -> bytes:
        info = tarfile.TarInfo(name)
        info.size = 0 if directory else size
        info.type = tarfile.DIRTYPE if directory else tarfile.REGTYPE
        info.mode = 0o755 if directory else 0o644
        info.mtime = self.MTIME
        return info.tobuf(format=tarfile.PAX_FORMAT)

    def file(self, name: str, data: bytes) -> Iterator[bytes]:
        yield self.header(name, len(data))
        yield data
        yield self.padding(len(data))

    def stream(self, name: str, size: int, source: BinaryIO, chunk: int = 1 << 20) -> Iterator[bytes]:
        yield self.header(name, size)
        remaining = size
        while remaining:
            data = source.read(min(chunk, remaining))
            if not data:
                raise OSError(f"blob {name} ended {remaining} bytes early")
            remaining -= len(data)
            yield data
        yield self.padding(size)

    @staticmethod
    def padding(size: int) -> bytes:
        return b"\0" * (-size % tarfile.BLOCKSIZE)

    @staticmethod
    def end() -> bytes:
        return b"\0" * (tarfile.BLOCKSIZE * 2)


def save_archive(store: ImageStore, items: list[SaveItem]) -> Iterator[bytes]:
    """Yield a docker-archive + OCI layout tar of the given images (Docker 25+'s `docker save`)."""
    tar = _TarStream()
    images = [(item, store.image(item.image_id)) for item in items]
    yield tar.header("blobs/", 0, directory=True)
    yield tar.header("blobs/sha256/", 0, directory=True)
    written: set[str] = set()
    index_entries: list[Descriptor] = []
    docker_manifest: list[dict[str, Any]] = []
    repositories: dict[str, dict[str, str]] = {}
    for item, image in images:
        blobs = [
            image.target.digest,
            image.manifest.config.digest,
            *(layer.digest for layer in image.manifest.layers),
        ]
        for digest in blobs:
            if digest in written:
                continue
            written.add(digest)
            with store.content.open(digest) as handle:
                yield from tar.stream(_blob_path(digest), store.content.size(digest), handle)
        plain = Descriptor(
            media_type=image.target.media_type, digest=image.target.digest, size=image.target.size
        )
        if item.names:
            for name in item.names:
                index_entries.append(
                    plain.model_copy(
                        update={
                            "annotations": {
                                ANNOTATION_CONTAINERD_IMAGE_NAME: str(name),
                                ANNOTATION_REF_NAME: name.tag or "latest",
                            }
                        }
                    )
                )
                if name.tag:
                    top = (
                        image.manifest.layers[-1].digest.removeprefix("sha256:")
                        if image.manifest.layers
                        else ""
                    )
                    repositories.setdefault(name.familiar_name(), {})[name.tag] = top
        else:
            index_entries.append(plain)
        docker_manifest.append(
            {
                "Config": _blob_path(image.manifest.config.digest),
                "RepoTags": [name.familiar() for name in item.names if name.tag] or None,
                "Layers": [_blob_path(layer.digest) for layer in image.manifest.layers],
            }
        )
    yield from tar.file("index.json", json.dumps(dump(Index(manifests=index_entries))).encode())
    yield from tar.file("manifest.json", json.dumps(docker_manifest).encode())
    yield from tar.file("oci-layout", json.dumps(dump(ImageLayout())).encode())
    if repositories:
        yield from tar.file("repositories", json.dumps(repositories).encode())
    yield tar.end()
