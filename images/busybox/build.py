#!/usr/bin/env python3
"""Assemble ``busybox:latest`` offline from the host's static busybox, reproducibly.

Why: jocker ships a default image and its tests need one without any network access. Debian's
``busybox-static`` gives us a self-contained binary; this script lays it out like the official
image (``bin/busybox`` plus one hardlink per applet, the usual skeleton directories and
``/etc/{passwd,group,shadow,nsswitch.conf}``) and writes a docker-archive the way Docker 25+
``docker save`` does: ``manifest.json`` + ``repositories`` (legacy loaders) *and* an OCI image
layout (``oci-layout``, ``index.json``, ``blobs/sha256/``) in the same tar.

Every byte is deterministic (fixed mtime, uid/gid 0, fixed member order, PAX format, compact
JSON in Go field order), so one busybox binary always yields the same image ID, and skopeo
re-marshalling the config keeps it.

Stdlib only. The archive helpers (``write_layer``, ``image_config``, ``write_docker_archive``)
are reused by ``images/testimages.py``.

    python images/busybox/build.py --out images/out/busybox.tar [--busybox PATH] [--tag busybox:latest]
"""

from __future__ import annotations

import argparse
import datetime
import gzip
import hashlib
import io
import json
import os
import platform
import re
import struct
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

# 2024-01-01T00:00:00Z unless SOURCE_DATE_EPOCH says otherwise (reproducible-builds.org convention).
EPOCH = int(os.environ.get("SOURCE_DATE_EPOCH", "1704067200"))
DEFAULT_PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

MEDIA_TYPE_INDEX = "application/vnd.oci.image.index.v1+json"
MEDIA_TYPE_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MEDIA_TYPE_CONFIG = "application/vnd.oci.image.config.v1+json"
MEDIA_TYPE_LAYER = "application/vnd.oci.image.layer.v1.tar"
MEDIA_TYPE_LAYER_GZIP = MEDIA_TYPE_LAYER + "+gzip"
MEDIA_TYPE_LAYER_ZSTD = MEDIA_TYPE_LAYER + "+zstd"
ANNOTATION_REF_NAME = "org.opencontainers.image.ref.name"
ANNOTATION_CONTAINERD_NAME = "io.containerd.image.name"

# uname -m -> (GOARCH, variant); the OCI config uses Go's names.
_ARCHES = {
    "x86_64": ("amd64", None),
    "amd64": ("amd64", None),
    "aarch64": ("arm64", "v8"),
    "arm64": ("arm64", "v8"),
    "armv7l": ("arm", "v7"),
    "armv6l": ("arm", "v6"),
    "i386": ("386", None),
    "i686": ("386", None),
    "ppc64le": ("ppc64le", None),
    "s390x": ("s390x", None),
    "riscv64": ("riscv64", None),
}

# The official image's account files (buildroot's skeleton, as the busybox image ships them).
PASSWD = """\
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
sys:x:3:3:sys:/dev:/bin/false
sync:x:4:100:sync:/bin:/bin/sync
mail:x:8:8:mail:/var/spool/mail:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
operator:x:37:37:Operator:/var:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
"""
GROUP = """\
root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:
tty:x:5:
disk:x:6:
lp:x:7:
mail:x:8:
kmem:x:9:
wheel:x:10:root
cdrom:x:11:
dialout:x:18:
floppy:x:19:
video:x:28:
audio:x:29:
tape:x:32:
www-data:x:33:
operator:x:37:
utmp:x:43:
plugdev:x:46:
staff:x:50:
lock:x:54:
netdev:x:82:
users:x:100:
nobody:x:65534:
"""
SHADOW = "".join(f"{line.split(':')[0]}:*:10933:0:99999:7:::\n" for line in PASSWD.splitlines())
NSSWITCH = "hosts: files dns\nnetworks: files\n"
# (path, mode): the skeleton directories of the official image.
SKELETON_DIRS = [
    ("bin", 0o755),
    ("dev", 0o755),
    ("etc", 0o755),
    ("home", 0o755),
    ("proc", 0o755),
    ("root", 0o700),
    ("sys", 0o755),
    ("tmp", 0o1777),
    ("usr", 0o755),
    ("usr/sbin", 0o755),
    ("var", 0o755),
    ("var/spool", 0o755),
    ("var/spool/mail", 0o755),
    ("var/www", 0o755),
]


class BuildError(Exception):
    """A problem the user can fix (missing or dynamic busybox, bad tag)."""


# --------------------------------------------------------------------------- host inspection


def host_platform() -> tuple[str, str | None]:
    """(architecture, variant) of this host in OCI/Go naming."""
    machine = platform.machine().lower()
    return _ARCHES.get(machine, (machine, None))


def check_static_elf(path: Path) -> None:
    """Raise BuildError unless ``path`` is an ELF executable without a PT_INTERP (i.e. static)."""
    hint = "install Debian's static busybox with: apt-get install busybox-static (or pass --busybox PATH)"
    if not path.is_file():
        raise BuildError(f"{path}: no such file; {hint}")
    with path.open("rb") as f:
        head = f.read(64)
        if head[:4] != b"\x7fELF":
            raise BuildError(f"{path}: not an ELF binary; {hint}")
        is64, endian = head[4] == 2, "<" if head[5] == 1 else ">"
        if is64:
            phoff, phentsize, phnum = (
                struct.unpack_from(endian + "Q", head, 32)[0],
                *struct.unpack_from(endian + "HH", head, 54),
            )
        else:
            phoff, phentsize, phnum = (
                struct.unpack_from(endian + "I", head, 28)[0],
                *struct.unpack_from(endian + "HH", head, 42),
            )
        for i in range(phnum):
            f.seek(phoff + i * phentsize)
            (p_type,) = struct.unpack(endian + "I", f.read(4))
            if p_type == 3:  # PT_INTERP: needs a dynamic loader that the image would not have
                raise BuildError(f"{path}: dynamically linked, not usable in an empty rootfs; {hint}")


def busybox_version(busybox: Path) -> str:
    """'1.35.0' from the banner busybox prints when run without arguments."""
    out = subprocess.run([str(busybox)], capture_output=True, text=True, check=False)
    m = re.search(r"BusyBox v(\S+)", out.stdout + out.stderr)
    return m.group(1) if m else "unknown"


def busybox_applets(busybox: Path) -> list[str]:
    """Applet names from ``busybox --list``, sorted; ``busybox`` itself excluded."""
    out = subprocess.run([str(busybox), "--list"], capture_output=True, text=True, check=True).stdout
    names = {n.strip() for n in out.splitlines()}
    return sorted(n for n in names if n and "/" not in n and n != "busybox")


# --------------------------------------------------------------------------- layers


def tar_info(
    name: str,
    type: bytes = tarfile.REGTYPE,
    *,
    mode: int = 0o644,
    size: int = 0,
    linkname: str = "",
    uid: int = 0,
    gid: int = 0,
    mtime: int = EPOCH,
) -> tarfile.TarInfo:
    """A TarInfo with every field set explicitly, so nothing leaks in from the host."""
    ti = tarfile.TarInfo(name)
    ti.type, ti.mode, ti.size, ti.linkname = type, mode, size, linkname
    ti.uid, ti.gid, ti.uname, ti.gname, ti.mtime = uid, gid, "", "", mtime
    return ti


@dataclass(frozen=True)
class LayerBlob:
    """A layer written to disk: ``digest`` names the blob, ``diff_id`` the uncompressed tar."""

    path: Path
    digest: str
    diff_id: str
    size: int
    media_type: str


class _HashingWriter(io.RawIOBase):
    """File-like sink that hashes what passes through it (the uncompressed tar stream)."""

    def __init__(self, sink) -> None:
        self.sink, self.sha = sink, hashlib.sha256()

    def writable(self) -> bool:
        return True

    def write(self, b) -> int:
        self.sha.update(b)
        self.sink.write(b)
        return len(b)


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return "sha256:" + h.hexdigest()


def write_layer(
    path: Path,
    entries: Iterable[tuple[tarfile.TarInfo, bytes | None]],
    compression: str = "none",
) -> LayerBlob:
    """Write ``entries`` in the given order, verbatim (no name cleaning), as a layer tar.

    ``compression`` is ``none`` or ``gzip`` (gzip mtime 0, no file name: reproducible).
    """
    if compression not in ("none", "gzip"):
        raise ValueError(f"unsupported layer compression {compression!r}")
    path = Path(path)
    with path.open("wb") as raw:
        gz = gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) if compression == "gzip" else None
        hashing = _HashingWriter(gz or raw)
        with tarfile.open(fileobj=hashing, mode="w|", format=tarfile.PAX_FORMAT) as tf:
            for ti, data in entries:
                tf.addfile(ti, io.BytesIO(data) if data is not None else None)
        if gz:
            gz.close()
    diff_id = "sha256:" + hashing.sha.hexdigest()
    digest = diff_id if gz is None else file_digest(path)
    media_type = MEDIA_TYPE_LAYER_GZIP if gz else MEDIA_TYPE_LAYER
    return LayerBlob(path, digest, diff_id, path.stat().st_size, media_type)


def busybox_rootfs_entries(busybox: Path, mtime: int = EPOCH) -> list[tuple[tarfile.TarInfo, bytes | None]]:
    """The busybox rootfs as tar entries: bin/busybox first in bin/, applets hardlinked to it."""
    check_static_elf(busybox)
    binary = busybox.read_bytes()
    items: dict[str, tuple[tarfile.TarInfo, bytes | None]] = {}
    for d, mode in SKELETON_DIRS:
        items[d] = (tar_info(d, tarfile.DIRTYPE, mode=mode, mtime=mtime), None)
    for name, text, mode in [
        ("etc/group", GROUP, 0o644),
        ("etc/nsswitch.conf", NSSWITCH, 0o644),
        ("etc/passwd", PASSWD, 0o644),
        ("etc/shadow", SHADOW, 0o600),
    ]:
        data = text.encode()
        items[name] = (tar_info(name, mode=mode, size=len(data), mtime=mtime), data)
    for applet in busybox_applets(busybox):
        name = f"bin/{applet}"
        items[name] = (tar_info(name, tarfile.LNKTYPE, mode=0o755, linkname="bin/busybox", mtime=mtime), None)
    ordered = [items[k] for k in sorted(items)]
    # A hardlink's target must precede it in the stream: put bin/busybox right after bin/.
    ordered.insert(1, (tar_info("bin/busybox", mode=0o755, size=len(binary), mtime=mtime), binary))
    return ordered


# --------------------------------------------------------------------------- image + archive


def go_json(obj) -> bytes:
    """Compact JSON as Go's encoding/json writes it (keys in the order given, HTML-safe escapes).

    Objects are built in the image-spec Go structs' field order (maps sorted), so skopeo, which
    re-marshals configs through those structs, reproduces our bytes and keeps the image ID.
    """
    text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
    for ch, esc in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(ch, esc)
    return text.encode()


def rfc3339(ts: int) -> str:
    return datetime.datetime.fromtimestamp(ts, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# Field order of image-spec's v1.ImageConfig and v1.History; Docker-only keys go after, sorted.
_CONTAINER_CONFIG_ORDER = [
    "User",
    "ExposedPorts",
    "Env",
    "Entrypoint",
    "Cmd",
    "Volumes",
    "WorkingDir",
    "Labels",
    "StopSignal",
    "ArgsEscaped",
]
_HISTORY_ORDER = ["created", "created_by", "author", "comment", "empty_layer"]
_MAP_KEYS = {"ExposedPorts", "Volumes", "Labels"}


def _ordered(d: dict, order: list[str]) -> dict:
    out = {k: d[k] for k in order if k in d}
    out.update({k: d[k] for k in sorted(d) if k not in out})
    return {
        k: dict(sorted(v.items())) if k in _MAP_KEYS and isinstance(v, dict) else v for k, v in out.items()
    }


def image_config(
    layers: Sequence[LayerBlob],
    config: dict,
    history: list[dict],
    *,
    created: int = EPOCH,
    architecture: str | None = None,
    variant: str | None = None,
) -> dict:
    """An OCI image config (config.md) for ``layers``; ``config`` is the container config part."""
    if architecture is None:
        architecture, variant = host_platform()
    out: dict = {"created": rfc3339(created), "architecture": architecture}
    if variant:
        out["variant"] = variant
    out["os"] = "linux"
    out["config"] = _ordered(config, _CONTAINER_CONFIG_ORDER)
    out["rootfs"] = {"type": "layers", "diff_ids": [layer.diff_id for layer in layers]}
    out["history"] = [_ordered(h, _HISTORY_ORDER) for h in history]
    return out


_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_PATH_RE = re.compile(rf"{_COMPONENT}(?:/{_COMPONENT})*")
_TAG_RE = re.compile(r"\w[\w.-]{0,127}")


@dataclass(frozen=True)
class Ref:
    """A tag in its three spellings: RepoTags, io.containerd.image.name and ref.name."""

    familiar_repo: str  # busybox, jtr/x, 127.0.0.1:5000/x
    full_repo: str  # docker.io/library/busybox
    tag: str

    @classmethod
    def parse(cls, ref: str) -> Ref:
        """Docker's normalization: ``busybox`` -> docker.io/library/busybox:latest."""
        name, tag = ref.rsplit(":", 1) if ":" in ref.rsplit("/", 1)[-1] else (ref, "latest")
        first, sep, rest = name.partition("/")
        if sep and ("." in first or ":" in first or first == "localhost"):
            domain, path = first, rest
        else:
            domain, path = "docker.io", name
        if not (_PATH_RE.fullmatch(path) and _TAG_RE.fullmatch(tag)):
            raise BuildError(f"invalid reference format: {ref!r}")
        if domain == "docker.io" and "/" not in path:
            path = "library/" + path
        if domain != "docker.io":
            familiar = f"{domain}/{path}"
        elif path.startswith("library/") and "/" not in path[len("library/") :]:
            familiar = path[len("library/") :]
        else:
            familiar = path
        return cls(familiar, f"{domain}/{path}", tag)

    @property
    def repo_tag(self) -> str:
        return f"{self.familiar_repo}:{self.tag}"


def blob_name(digest: str) -> str:
    """Archive path of a blob: sha256:abc -> blobs/sha256/abc."""
    algo, _, hexpart = digest.partition(":")
    return f"blobs/{algo}/{hexpart}"


def oci_manifest(config_bytes: bytes, layers: Sequence[LayerBlob]) -> tuple[bytes, dict]:
    """(manifest bytes, its descriptor) for an OCI image manifest over ``config_bytes``."""
    manifest = {
        "schemaVersion": 2,
        "mediaType": MEDIA_TYPE_MANIFEST,
        "config": {
            "mediaType": MEDIA_TYPE_CONFIG,
            "digest": "sha256:" + hashlib.sha256(config_bytes).hexdigest(),
            "size": len(config_bytes),
        },
        "layers": [{"mediaType": lb.media_type, "digest": lb.digest, "size": lb.size} for lb in layers],
    }
    data = go_json(manifest)
    desc = {
        "mediaType": MEDIA_TYPE_MANIFEST,
        "digest": "sha256:" + hashlib.sha256(data).hexdigest(),
        "size": len(data),
    }
    return data, desc


def write_tar_tree(dest: Path, members: dict[str, bytes | Path], *, mtime: int = EPOCH) -> None:
    """Atomically write ``members`` (name -> bytes or file) as a sorted, reproducible tar.

    Parent directories of every member get their own entries (0755), as ``docker save`` writes them.
    Temp file + rename: a half-written archive never appears at ``dest``.
    """
    dest = Path(dest)
    dirs = {str(Path(n).parents[i]) for n in members for i in range(len(Path(n).parts) - 1)}
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", dir=dest.parent)
    try:
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tf:
            for name in sorted(dirs | set(members)):
                data = members.get(name)
                if data is None:
                    tf.addfile(tar_info(name, tarfile.DIRTYPE, mode=0o755, mtime=mtime))
                elif isinstance(data, bytes):
                    tf.addfile(tar_info(name, size=len(data), mtime=mtime), io.BytesIO(data))
                else:
                    with Path(data).open("rb") as f:
                        size = os.fstat(f.fileno()).st_size
                        tf.addfile(tar_info(name, size=size, mtime=mtime), f)
        os.chmod(tmp, 0o644)  # mkstemp creates 0600
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_docker_archive(
    dest: Path,
    layers: Sequence[LayerBlob],
    config: dict,
    tags: Sequence[str] = (),
    *,
    mtime: int = EPOCH,
) -> str:
    """Write a Docker 25+ style docker-archive (legacy manifest.json + OCI layout); return the image ID.

    ``tags`` may be empty: the image is then untagged (RepoTags null, no index annotations).
    """
    refs = [Ref.parse(t) for t in tags]
    config_bytes = go_json(config)
    config_digest = "sha256:" + hashlib.sha256(config_bytes).hexdigest()
    manifest_bytes, manifest_desc = oci_manifest(config_bytes, layers)
    index_manifests = [
        {
            **manifest_desc,
            "annotations": {ANNOTATION_CONTAINERD_NAME: f"{r.full_repo}:{r.tag}", ANNOTATION_REF_NAME: r.tag},
        }
        for r in refs
    ] or [manifest_desc]
    index = {"schemaVersion": 2, "mediaType": MEDIA_TYPE_INDEX, "manifests": index_manifests}
    legacy_manifest = [
        {
            "Config": blob_name(config_digest),
            "RepoTags": [r.repo_tag for r in refs] or None,
            "Layers": [blob_name(lb.digest) for lb in layers],
        }
    ]
    members: dict[str, bytes | Path] = {blob_name(lb.digest): lb.path for lb in layers}
    members |= {
        blob_name(config_digest): config_bytes,
        blob_name(manifest_desc["digest"]): manifest_bytes,
        "index.json": go_json(index),
        "manifest.json": go_json(legacy_manifest),
        "oci-layout": go_json({"imageLayoutVersion": "1.0.0"}),
    }
    # Legacy `repositories`: repo -> tag -> top layer id. Loaders prefer manifest.json.
    repositories: dict[str, dict[str, str]] = {}
    for r in refs:
        if layers:
            repositories.setdefault(r.familiar_repo, {})[r.tag] = layers[-1].digest.partition(":")[2]
    if repositories:
        members["repositories"] = go_json(repositories)
    write_tar_tree(dest, members, mtime=mtime)
    return config_digest


def build_busybox(
    dest: Path, busybox: Path = Path("/bin/busybox"), tags: Sequence[str] = ("busybox:latest",)
) -> str:
    """Build the busybox image archive at ``dest``; return its image ID (sha256:...)."""
    busybox = Path(busybox)
    entries = busybox_rootfs_entries(busybox)
    version = busybox_version(busybox)
    with tempfile.TemporaryDirectory(prefix="jocker-busybox-") as tmp:
        layer = write_layer(Path(tmp) / "layer.tar", entries)
        history = [
            {
                "created": rfc3339(EPOCH),
                "created_by": f"BUSYBOX_VERSION={version} /bin/sh -c #(nop) ADD file:"
                f"{layer.diff_id.split(':')[1]} in / ",
            },
            {"created": rfc3339(EPOCH), "created_by": '/bin/sh -c #(nop)  CMD ["sh"]', "empty_layer": True},
        ]
        config = image_config([layer], {"Env": [DEFAULT_PATH_ENV], "Cmd": ["sh"]}, history)
        return write_docker_archive(dest, [layer], config, tags)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, default=Path("images/out/busybox.tar"), help="archive to write")
    p.add_argument("--busybox", type=Path, default=Path("/bin/busybox"), help="static busybox binary")
    p.add_argument("--tag", action="append", help="image reference (repeatable; default busybox:latest)")
    args = p.parse_args(argv)
    try:
        image_id = build_busybox(args.out, args.busybox, args.tag or ["busybox:latest"])
    except BuildError as e:
        print(f"build.py: error: {e}", file=sys.stderr)
        return 1
    print(f"{args.out}: {image_id}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
