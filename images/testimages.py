"""Images the tests need, built offline and reproducibly (no registry, no docker).

Why: image load/pull/unpack code must be tested against archives whose every byte we control:
multi-layer images with whiteouts, deliberately HOSTILE layers (path traversal, absolute
names, symlink and hardlink escapes, malformed whiteouts), OCI archives in each compression,
and a ~100 MB image for the load benchmark and the kill-during-load test.

Import from the repo root (``from images.testimages import layered_image, file, symlink``) or
run ``python images/testimages.py --out images/out`` to write the standard set.

The layer writer is deliberately raw: an :class:`Entry` goes into the tar exactly as given
(``../x``, ``/abs``, links anywhere, any type byte, data after a symlink header); only Python's
tarfile adds a trailing ``/`` to directory names.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import random
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the `images` package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from images.busybox.build import (
    ANNOTATION_REF_NAME,
    DEFAULT_PATH_ENV,
    EPOCH,
    MEDIA_TYPE_INDEX,
    MEDIA_TYPE_LAYER,
    MEDIA_TYPE_LAYER_GZIP,
    MEDIA_TYPE_LAYER_ZSTD,
    LayerBlob,
    blob_name,
    build_busybox,
    busybox_rootfs_entries,
    file_digest,
    go_json,
    image_config,
    oci_manifest,
    rfc3339,
    tar_info,
    write_docker_archive,
    write_layer,
    write_tar_tree,
)

DEFAULT_BUSYBOX = Path("/bin/busybox")
MiB = 1 << 20

# --------------------------------------------------------------------------- layer entries

_TYPES = {
    "file": tarfile.REGTYPE,
    "dir": tarfile.DIRTYPE,
    "symlink": tarfile.SYMTYPE,
    "hardlink": tarfile.LNKTYPE,
    "char": tarfile.CHRTYPE,
    "block": tarfile.BLKTYPE,
    "fifo": tarfile.FIFOTYPE,
}
_DEFAULT_MODES = {tarfile.DIRTYPE: 0o755, tarfile.SYMTYPE: 0o777}


@dataclass(frozen=True)
class Entry:
    """One raw tar member. ``type`` is a name from ``_TYPES`` or a raw tar type byte (b"0", b"7", ...)."""

    name: str
    type: str | bytes = "file"
    content: bytes = b""
    linkname: str = ""
    mode: int | None = None  # default: 0644 files, 0755 dirs, 0777 symlinks
    uid: int = 0
    gid: int = 0
    mtime: int = EPOCH
    devmajor: int = 0
    devminor: int = 0
    pax: dict[str, str] = field(default_factory=dict)  # e.g. {"SCHILY.xattr.user.x": "1"}

    def tarinfo(self) -> tarfile.TarInfo:
        kind = _TYPES[self.type] if isinstance(self.type, str) else self.type
        mode = self.mode if self.mode is not None else _DEFAULT_MODES.get(kind, 0o644)
        ti = tar_info(
            self.name,
            kind,
            mode=mode,
            size=len(self.content),
            linkname=self.linkname,
            uid=self.uid,
            gid=self.gid,
            mtime=self.mtime,
        )
        ti.devmajor, ti.devminor, ti.pax_headers = self.devmajor, self.devminor, dict(self.pax)
        return ti


def _bytes(content: bytes | str) -> bytes:
    return content.encode() if isinstance(content, str) else content


def file(name: str, content: bytes | str = b"", mode: int = 0o644, **kw) -> Entry:
    return Entry(name, "file", _bytes(content), mode=mode, **kw)


def directory(name: str, mode: int = 0o755, **kw) -> Entry:
    return Entry(name, "dir", mode=mode, **kw)


def symlink(name: str, target: str, **kw) -> Entry:
    return Entry(name, "symlink", linkname=target, **kw)


def hardlink(name: str, target: str, **kw) -> Entry:
    return Entry(name, "hardlink", linkname=target, **kw)


def whiteout(path: str) -> Entry:
    """AUFS-style whiteout deleting ``path`` from lower layers: ``dir/.wh.name``."""
    parent, _, base = path.rstrip("/").rpartition("/")
    return Entry(f"{parent}/.wh.{base}" if parent else f".wh.{base}")


def opaque(directory: str) -> Entry:
    """Opaque-directory marker: hides everything lower layers had in ``directory``."""
    return Entry(f"{directory.rstrip('/')}/.wh..wh..opq")


def as_entry(spec: Entry | tuple) -> Entry:
    """Accept an Entry or a tuple shorthand:

    ("file", name[, content[, mode]]) ("dir", name[, mode]) ("symlink"|"hardlink", name, target)
    ("whiteout", path) ("opaque", dir) ("fifo", name) ("char"|"block", name, major, minor)
    """
    if isinstance(spec, Entry):
        return spec
    kind, name, *args = spec
    if kind == "file":
        return file(name, *args)
    if kind == "dir":
        return directory(name, *args)
    if kind in ("symlink", "hardlink"):
        return Entry(name, kind, linkname=args[0])
    if kind == "whiteout":
        return whiteout(name)
    if kind == "opaque":
        return opaque(name)
    if kind == "fifo":
        return Entry(name, "fifo")
    if kind in ("char", "block"):
        return Entry(name, kind, devmajor=args[0], devminor=args[1])
    raise ValueError(f"unknown entry kind {kind!r} in {spec!r}")


def tar_entries(specs: Iterable[Entry | tuple]) -> Iterator[tuple[tarfile.TarInfo, bytes | None]]:
    """Specs -> (TarInfo, data) pairs for ``write_layer``; data goes out even for non-regular types."""
    for spec in specs:
        e = as_entry(spec)
        yield e.tarinfo(), (e.content or None)


# Named hostile layer sets: a correct loader must refuse them or keep every write inside the
# layer directory. Files are named `jocker-escape*` so a test can look for them on the host.
HOSTILE: dict[str, list[list[Entry | tuple]]] = {
    "dotdot": [[("file", "../../../../../../tmp/jocker-escape-dotdot", "pwned")]],
    "absolute": [[("file", "/tmp/jocker-escape-absolute", "pwned")]],
    "symlink-then-write": [[("symlink", "evil", "/tmp"), ("file", "evil/jocker-escape-symlink", "pwned")]],
    "symlink-relative-escape": [
        [("symlink", "up", "../../../../../../../tmp"), ("file", "up/jocker-escape-relsymlink", "pwned")]
    ],
    "symlink-next-layer": [
        [("symlink", "evil", "/tmp")],
        [("file", "evil/jocker-escape-nextlayer", "pwned")],
    ],
    "hardlink-host-file": [[("hardlink", "passwd-link", "/etc/passwd")]],
    "hardlink-dotdot": [[("hardlink", "passwd-link", "../../../../../../etc/passwd")]],
    "hardlink-through-symlink": [[("symlink", "etc-link", "/etc"), ("hardlink", "pw", "etc-link/passwd")]],
    "whiteout-dotdot": [[("file", "../../../../../../tmp/.wh.jocker-victim")]],
    "whiteout-of-dotdot": [[("dir", "a"), ("file", "a/.wh..."), ("file", "a/.wh..")]],
    "whiteout-empty-name": [[("dir", "a"), ("file", "a/.wh.")]],
    "whiteout-through-symlink": [[("symlink", "evil", "/tmp")], [("file", "evil/.wh.jocker-victim")]],
}

# --------------------------------------------------------------------------- images


@dataclass(frozen=True)
class ImageInfo:
    path: Path
    id: str  # sha256:<config digest>, what `docker images --no-trunc` shows
    diff_ids: list[str]
    tags: list[str]


def _tags(tag: str | Sequence[str] | None) -> list[str]:
    return [] if tag is None else [tag] if isinstance(tag, str) else list(tag)


def _build(
    dest: Path,
    layer_specs: Sequence[Iterable[tuple[tarfile.TarInfo, bytes | None]]],
    tag: str | Sequence[str] | None,
    config: dict,
    compression: str,
    history: list[dict] | None,
    created_by: Sequence[str],
) -> ImageInfo:
    with tempfile.TemporaryDirectory(prefix="jocker-testimage-", dir=Path(dest).parent) as tmp:
        layers = [
            write_layer(Path(tmp) / f"layer{i}.tar", entries, compression)
            for i, entries in enumerate(layer_specs)
        ]
        if history is None:
            history = [{"created": rfc3339(EPOCH), "created_by": by} for by in created_by]
        cfg = image_config(layers, config, history)
        image_id = write_docker_archive(dest, layers, cfg, _tags(tag))
    return ImageInfo(Path(dest), image_id, [lb.diff_id for lb in layers], _tags(tag))


def layered_image(
    dest: Path,
    layers: Sequence[Sequence[Entry | tuple]],
    tag: str | Sequence[str] | None = "jocker-test/layered:latest",
    *,
    config: dict | None = None,
    busybox: bool | Path = False,
    compression: str = "none",
    history: list[dict] | None = None,
) -> ImageInfo:
    """A docker-archive with one layer per entry list, written verbatim (see HOSTILE for examples).

    ``busybox=True`` (or a path) puts the busybox rootfs underneath as layer 0 so the image runs.
    ``config`` is the container config (Env, Cmd, Entrypoint, User, WorkingDir, Labels, ...).
    ``compression`` is "none" (what docker save writes) or "gzip". ``tag=None`` -> untagged.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    specs: list[Iterable[tuple[tarfile.TarInfo, bytes | None]]] = [tar_entries(lay) for lay in layers]
    created_by = [f"jocker testimages layer {i}" for i in range(len(layers))]
    if busybox:
        specs.insert(0, busybox_rootfs_entries(DEFAULT_BUSYBOX if busybox is True else Path(busybox)))
        created_by.insert(0, "busybox rootfs")
    if config is None:
        config = {"Env": [DEFAULT_PATH_ENV], "Cmd": ["sh"]} if busybox else {"Env": [DEFAULT_PATH_ENV]}
    return _build(dest, specs, tag, config, compression, history, created_by)


def big_image(
    dest: Path,
    size_mb: int = 100,
    tag: str | Sequence[str] | None = "jocker-bench/big:latest",
    *,
    seed: int = 0,
    layers: int = 4,
    file_mb: int = 8,
    busybox: bool | Path = True,
) -> ImageInfo:
    """~``size_mb`` MiB of incompressible, seeded-random files over ``layers`` layers (+ busybox).

    Same seed -> same bytes -> same image ID. Files are generated one at a time (bounded memory).
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    per_layer = size_mb * MiB // layers

    def layer_entries(i: int) -> Iterator[tuple[tarfile.TarInfo, bytes | None]]:
        yield tar_info(f"data{i}", tarfile.DIRTYPE, mode=0o755), None
        left, n = per_layer, 0
        while left > 0:
            size = min(file_mb * MiB, left)
            data = rng.randbytes(size)  # generated lazily, in order: deterministic
            yield tar_info(f"data{i}/blob{n:04d}.bin", size=size), data
            left, n = left - size, n + 1

    specs: list[Iterable[tuple[tarfile.TarInfo, bytes | None]]] = [layer_entries(i) for i in range(layers)]
    created_by = [f"jocker testimages big layer {i} ({per_layer // MiB} MiB random)" for i in range(layers)]
    if busybox:
        specs.insert(0, busybox_rootfs_entries(DEFAULT_BUSYBOX if busybox is True else Path(busybox)))
        created_by.insert(0, "busybox rootfs")
    config = {"Env": [DEFAULT_PATH_ENV], "Cmd": ["sh"]}
    return _build(dest, specs, tag, config, "none", None, created_by)


def busybox_image(
    dest: Path, tag: str | Sequence[str] = "busybox:latest", busybox: Path = DEFAULT_BUSYBOX
) -> ImageInfo:
    """The default busybox image (images/busybox/build.py) as a docker-archive."""
    image_id = build_busybox(Path(dest), Path(busybox), _tags(tag))
    manifest = _read_member(Path(dest), "manifest.json")
    config = json.loads(_read_member(Path(dest), json.loads(manifest)[0]["Config"]))
    return ImageInfo(Path(dest), image_id, config["rootfs"]["diff_ids"], _tags(tag))


# --------------------------------------------------------------------------- OCI archives


def _read_member(archive: Path, name: str) -> bytes:
    with tarfile.open(archive) as tf:
        f = tf.extractfile(name)
        if f is None:
            raise FileNotFoundError(f"{archive}: no member {name}")
        return f.read()


def _compress(src: Path, dst: Path, compression: str) -> None:
    with src.open("rb") as fin, dst.open("wb") as fout:
        if compression == "none":
            shutil.copyfileobj(fin, fout, MiB)
        elif compression == "gzip":
            with gzip.GzipFile(filename="", mode="wb", fileobj=fout, mtime=0) as gz:
                shutil.copyfileobj(fin, gz, MiB)
        elif compression == "zstd":
            try:
                import zstandard
            except ImportError:
                subprocess.run(["zstd", "-q", "-3", "-c"], stdin=fin, stdout=fout, check=True)
            else:
                zstandard.ZstdCompressor(level=3).copy_stream(fin, fout)
        else:
            raise ValueError(f"unsupported compression {compression!r}")


def _oci_archive_python(src: Path, dest: Path, compression: str, ref: str) -> None:
    """Write an OCI layout archive from a docker-archive whose layers are uncompressed tars."""
    media = {"none": MEDIA_TYPE_LAYER, "gzip": MEDIA_TYPE_LAYER_GZIP, "zstd": MEDIA_TYPE_LAYER_ZSTD}
    with tempfile.TemporaryDirectory(prefix="jocker-oci-", dir=dest.parent) as tmp, tarfile.open(src) as tf:
        legacy = json.loads(tf.extractfile("manifest.json").read())[0]
        config_bytes = tf.extractfile(legacy["Config"]).read()
        diff_ids = json.loads(config_bytes)["rootfs"]["diff_ids"]
        layers: list[LayerBlob] = []
        for i, (name, diff_id) in enumerate(zip(legacy["Layers"], diff_ids, strict=True)):
            raw, out = Path(tmp) / f"{i}.tar", Path(tmp) / f"{i}.blob"
            with tf.extractfile(name) as f, raw.open("wb") as w:
                shutil.copyfileobj(f, w, MiB)
            _compress(raw, out, compression)
            raw.unlink()
            layers.append(LayerBlob(out, file_digest(out), diff_id, out.stat().st_size, media[compression]))
        manifest_bytes, desc = oci_manifest(config_bytes, layers)
        index = {
            "schemaVersion": 2,
            "mediaType": MEDIA_TYPE_INDEX,
            "manifests": [{**desc, "annotations": {ANNOTATION_REF_NAME: ref}}],
        }
        members: dict[str, bytes | Path] = {blob_name(lb.digest): lb.path for lb in layers}
        members |= {
            blob_name("sha256:" + hashlib.sha256(config_bytes).hexdigest()): config_bytes,
            blob_name(desc["digest"]): manifest_bytes,
            "index.json": go_json(index),
            "oci-layout": go_json({"imageLayoutVersion": "1.0.0"}),
        }
        write_tar_tree(dest, members)


def legacy_docker_archive(src: Path, dest: Path) -> None:
    """Rewrite a docker-archive in the layout Docker Engine < 25 writes with `docker save`.

    Why: most archives in the wild come from older engines: `<id>.json` for the config,
    `<layer-id>/{VERSION,json,layer.tar}` per layer (the v1 layer ID is a hash of the chain, here
    simply sha256 of the chain of diff_ids) and a `repositories` file; no OCI layout files.
    """
    manifest = json.loads(_read_member(src, "manifest.json"))[0]
    config_bytes = _read_member(src, manifest["Config"])
    config = json.loads(config_bytes)
    image_id = hashlib.sha256(config_bytes).hexdigest()
    members: dict[str, bytes] = {f"{image_id}.json": config_bytes}
    layer_paths = []
    parent = ""
    for layer, diff_id in zip(manifest["Layers"], config["rootfs"]["diff_ids"], strict=True):
        layer_id = hashlib.sha256(f"{parent} {diff_id}".encode()).hexdigest()
        v1 = {"id": layer_id, "created": config.get("created", "")}
        if parent:
            v1["parent"] = parent
        members[f"{layer_id}/VERSION"] = b"1.0"
        members[f"{layer_id}/json"] = json.dumps(v1).encode()
        members[f"{layer_id}/layer.tar"] = _read_member(src, layer)
        layer_paths.append(f"{layer_id}/layer.tar")
        parent = layer_id
    tags = manifest.get("RepoTags") or []
    members["manifest.json"] = json.dumps(
        [{"Config": f"{image_id}.json", "RepoTags": tags, "Layers": layer_paths}]
    ).encode()
    repositories: dict[str, dict[str, str]] = {}
    for tag in tags:
        repo, _, name = tag.rpartition(":")
        repositories.setdefault(repo, {})[name] = parent
    members["repositories"] = json.dumps(repositories).encode()
    write_tar_tree(Path(dest), members)


def oci_archive(
    src_docker_archive: Path,
    dest: Path,
    compression: str = "gzip",
    *,
    ref: str | None = None,
    use_skopeo: bool | None = None,
) -> Path:
    """Convert a docker-archive into an OCI layout archive, like
    ``skopeo copy docker-archive:SRC oci-archive:DEST:REF``; layers gzip, zstd or uncompressed.

    ``ref`` (the ``org.opencontainers.image.ref.name`` annotation) defaults to the source's first
    RepoTag. skopeo is used for gzip/zstd when installed (``use_skopeo=None``); "none" is always
    written here because skopeo 1.9's --dest-oci-accept-uncompressed-layers labels the raw tar
    ``tar+gzip``. Both paths keep the config bytes, hence the image ID.
    """
    src, dest = Path(src_docker_archive), Path(dest)
    if compression not in ("none", "gzip", "zstd"):
        raise ValueError(f"unsupported compression {compression!r}")
    if ref is None:
        tags = json.loads(_read_member(src, "manifest.json"))[0].get("RepoTags") or []
        ref = tags[0] if tags else "latest"
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.unlink(missing_ok=True)
    if use_skopeo is None:
        use_skopeo = compression != "none" and shutil.which("skopeo") is not None
    if use_skopeo:
        cmd = ["skopeo", "--insecure-policy", "copy", "-q"]
        cmd += ["--dest-oci-accept-uncompressed-layers"] if compression == "none" else []
        cmd += ["--dest-compress-format", compression] if compression != "none" else []
        subprocess.run([*cmd, f"docker-archive:{src}", f"oci-archive:{dest}:{ref}"], check=True)
    else:
        _oci_archive_python(src, dest, compression, ref)
    return dest


# --------------------------------------------------------------------------- CLI


def sample_layers() -> list[list[Entry | tuple]]:
    """Three layers over busybox exercising add, overwrite, symlink, hardlink, whiteout, opaque."""
    return [
        [
            directory("app"),
            file("app/a.txt", "a1\n"),
            file("app/b.txt", "b1\n"),
            directory("app/cache"),
            file("app/cache/x", "x"),
        ],
        [file("app/a.txt", "a2\n"), symlink("app/link", "a.txt"), hardlink("app/hard", "app/b.txt")],
        [whiteout("app/b.txt"), opaque("app/cache"), file("app/cache/y", "y"), file("etc/motd", "layered\n")],
    ]


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Write the standard test images into --out.")
    p.add_argument("--out", type=Path, default=Path("images/out"))
    p.add_argument("--busybox", type=Path, default=DEFAULT_BUSYBOX)
    p.add_argument("--size-mb", type=int, default=100, help="size of big.tar (0 to skip)")
    args = p.parse_args(argv)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    results: dict[str, str] = {}
    bb = busybox_image(out / "busybox.tar", busybox=args.busybox)
    results["busybox.tar"] = bb.id
    for comp in ("gzip", "zstd", "none"):
        oci_archive(bb.path, out / f"busybox-oci-{comp}.tar", comp)
        results[f"busybox-oci-{comp}.tar"] = bb.id
    lay = layered_image(out / "layered.tar", sample_layers(), busybox=args.busybox)
    results["layered.tar"] = lay.id
    if args.size_mb:
        results["big.tar"] = big_image(out / "big.tar", args.size_mb, busybox=args.busybox).id
    for name, image_id in results.items():
        print(f"{out / name}\t{image_id}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
