"""Fixtures for the registry tests: one private network namespace holding real registries and jockerds.

Network safety: nothing here leaves loopback. A holder process (`unshare --net`, `lo` up, then
sleeping) owns a network namespace for the whole session; Debian's docker-registry (the CNCF
distribution registry), the test-only proxy (tests/registry/proxy.py), skopeo when it seeds the
registries, and every jockerd of these tests enter it with `nsenter --net`. So jockerd reaches
the registries on 127.0.0.1 while neither can reach, or be reached from, any other network.

Registries (filesystem storage under the session's tmp dir, http on a free port):
- `open_registry`: no auth; seeded with busybox (docker schema2, gzip), library/busybox (what a
  Docker Hub mirror serves), an OCI index with a linux/amd64 busybox and a fake linux/arm64/v8
  image, the layered test image, an image with zstd layers;
- `basic_registry`: htpasswd (bcrypt, from apache2-utils' htpasswd) basic auth, seeded with busybox;
- `token_proxy`: the proxy in front of `open_registry` demanding Docker Hub style bearer tokens.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import json
import shutil
import signal
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from images.testimages import directory, file, layered_image, opaque, symlink, whiteout
from tests.conftest import Jockerd, kill_leftovers, remove_all_containers, stop_process

HERE = Path(__file__).resolve().parent
REGISTRY_BIN = shutil.which("docker-registry")
SKOPEO = shutil.which("skopeo")
HTPASSWD = shutil.which("htpasswd")
USER, PASSWORD = "alice", "s3cret-Pa55word"

# Three layers over busybox: adds, an overwrite, a symlink, a whiteout, an opaque directory.
# (images/testimages.sample_layers also hardlinks to a file of a lower layer, which no layer a
# registry serves does: a layer tar holds its hardlinks' targets.)
LAYERED = [
    [
        directory("app"),
        file("app/a.txt", "a1\n"),
        file("app/b.txt", "b1\n"),
        directory("app/cache"),
        file("app/cache/x", "x"),
    ],
    [file("app/a.txt", "a2\n"), symlink("app/link", "a.txt"), whiteout("app/b.txt")],
    [opaque("app/cache"), file("app/cache/y", "y"), file("etc/motd", "layered\n")],
]

# Extra jockerd flags for every daemon of these tests.
JOCKERD_ARGS: tuple[str, ...] = ()


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


# -- the network namespace ------------------------------------------------------------------------


@dataclass
class Netns:
    holder: subprocess.Popen[bytes]

    @property
    def path(self) -> str:
        return f"/proc/{self.holder.pid}/ns/net"

    def argv(self, *argv: str) -> list[str]:
        return ["nsenter", f"--net={self.path}", "--", *argv]

    def run(self, *argv: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[bytes]:
        result = subprocess.run(self.argv(*argv), capture_output=True, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"{' '.join(argv)} failed: {result.stderr.decode(errors='replace')}")
        return result

    def popen(self, argv: list[str], log: Path) -> subprocess.Popen[bytes]:
        with log.open("ab") as out:
            return subprocess.Popen(self.argv(*argv), stdout=out, stderr=out, start_new_session=True)

    def free_port(self) -> int:
        code = "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])"
        return int(self.run(sys.executable, "-c", code).stdout)

    def wait_port(self, port: int, proc: subprocess.Popen[bytes], log: Path, timeout: float = 20) -> None:
        """Wait until something listens on 127.0.0.1:port inside the namespace."""
        code = (
            "import socket,sys,time\n"
            f"end=time.time()+{timeout}\n"
            "while time.time()<end:\n"
            "    try:\n"
            f"        socket.create_connection(('127.0.0.1',{port}),0.2).close(); sys.exit(0)\n"
            "    except OSError: time.sleep(0.02)\n"
            "sys.exit(1)\n"
        )
        result = self.run(sys.executable, "-c", code, check=False, timeout=timeout + 5)
        if result.returncode != 0 or proc.poll() is not None:
            raise AssertionError(f"nothing listens on port {port}:\n{log.read_text(errors='replace')}")


@pytest.fixture(scope="session")
def netns() -> Iterator[Netns]:
    if not REGISTRY_BIN or not SKOPEO:
        pytest.skip("docker-registry and skopeo are needed (./setup.sh --no-start installs them)")
    holder = subprocess.Popen(
        ["unshare", "--net", "--", "sh", "-c", "ip link set lo up && exec sleep infinity"],
        start_new_session=True,
    )
    ns = Netns(holder)
    deadline = time.monotonic() + 10
    while True:
        with contextlib.suppress(OSError):
            if Path(ns.path).resolve() != Path("/proc/self/ns/net").resolve():
                link = subprocess.run(
                    ns.argv("ip", "-o", "link", "show", "lo"), capture_output=True, text=True
                )
                if "UP" in link.stdout.split(">")[0]:
                    break
        if time.monotonic() > deadline or holder.poll() is not None:
            raise AssertionError("could not set up the test network namespace")
        time.sleep(0.02)
    try:
        yield ns
    finally:
        stop_process(holder, signal.SIGKILL)


# -- registries -------------------------------------------------------------------------------------


@dataclass
class Server:
    port: int
    root: Path
    proc: subprocess.Popen[bytes]
    log: Path

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        stop_process(self.proc)


@dataclass
class Registry(Server):
    seeded: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def storage(self) -> Path:
        return self.root / "storage"

    def blob_path(self, digest: str) -> Path:
        hexpart = digest.partition(":")[2]
        return self.storage / "docker/registry/v2/blobs/sha256" / hexpart[:2] / hexpart / "data"


def start_registry(netns: Netns, root: Path, *, htpasswd: Path | None = None) -> Registry:
    root.mkdir(parents=True, exist_ok=True)
    port = netns.free_port()
    auth = ""
    if htpasswd is not None:
        auth = f"auth:\n  htpasswd:\n    realm: jocker-test\n    path: {htpasswd}\n"
    (root / "config.yml").write_text(
        "version: 0.1\n"
        "log:\n  level: info\n  accesslog:\n    disabled: false\n"
        f"storage:\n  filesystem:\n    rootdirectory: {root / 'storage'}\n  delete:\n    enabled: true\n"
        f"http:\n  addr: 127.0.0.1:{port}\n  secret: jocker-test-secret\n"
        f"{auth}"
    )
    log = root / "registry.log"
    assert REGISTRY_BIN is not None
    proc = netns.popen([REGISTRY_BIN, "serve", str(root / "config.yml")], log)
    netns.wait_port(port, proc, log)
    return Registry(port, root, proc, log)


def start_proxy(netns: Netns, root: Path, upstream: Server, *flags: str) -> Server:
    root.mkdir(parents=True, exist_ok=True)
    port = netns.free_port()
    log = root / "proxy.log"
    argv = [sys.executable, str(HERE / "proxy.py"), "--listen", f"127.0.0.1:{port}"]
    argv += ["--upstream", f"http://{upstream.host}", "--log", str(root / "requests.jsonl"), *flags]
    proc = netns.popen(argv, log)
    netns.wait_port(port, proc, log)
    return Server(port, root, proc, log)


def requests_of(proxy: Server) -> list[dict[str, Any]]:
    path = proxy.root / "requests.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def skopeo_copy(
    netns: Netns,
    source: str,
    dest: str,
    *,
    creds: str | None = None,
    all: bool = False,
    extra: tuple[str, ...] = (),
) -> None:
    assert SKOPEO is not None
    argv = [SKOPEO, "--insecure-policy", "copy", "-q", "--dest-tls-verify=false", *extra]
    if creds:
        argv += ["--dest-creds", creds]
    if all:
        argv.append("--all")
    netns.run(*argv, source, dest)


def raw_manifest(netns: Netns, ref: str, *, creds: str | None = None) -> bytes:
    assert SKOPEO is not None
    argv = [SKOPEO, "inspect", "--raw", "--tls-verify=false"]
    if creds:
        argv += ["--creds", creds]
    return netns.run(*argv, f"docker://{ref}").stdout


def seed(
    registry: Registry,
    netns: Netns,
    name: str,
    source: str,
    *,
    creds: str | None = None,
    all: bool = False,
    extra: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Copy `source` (a skopeo transport:path) to registry/name; record its digests."""
    ref = f"{registry.host}/{name}"
    skopeo_copy(netns, source, f"docker://{ref}", creds=creds, all=all, extra=extra)
    raw = raw_manifest(netns, ref, creds=creds)
    document = json.loads(raw)
    info: dict[str, Any] = {"ref": ref, "digest": sha256(raw), "mediaType": document.get("mediaType")}
    if "config" in document:
        info["image_id"] = document["config"]["digest"]
        info["layers"] = [layer["digest"] for layer in document["layers"]]
    registry.seeded[name] = info
    return info


# -- images -----------------------------------------------------------------------------------------


def _tar_gz(files: dict[str, bytes]) -> tuple[bytes, str]:
    """(gzip blob, diff_id) of a tar holding `files`."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            tar.addfile(info, io.BytesIO(data))
    tar_bytes = raw.getvalue()
    return gzip.compress(tar_bytes, mtime=0), sha256(tar_bytes)


def _put_blob(layout: Path, data: bytes) -> str:
    digest = sha256(data)
    (layout / "blobs/sha256" / digest.partition(":")[2]).write_bytes(data)
    return digest


def multi_platform_layout(netns: Netns, busybox: Path, layout: Path) -> None:
    """An OCI layout whose `multi` is an index: busybox for linux/amd64, a fake linux/arm64/v8."""
    assert SKOPEO is not None
    netns.run(SKOPEO, "--insecure-policy", "copy", "-q", f"docker-archive:{busybox}", f"oci:{layout}:amd64")
    index = json.loads((layout / "index.json").read_text())
    amd64 = dict(index["manifests"][0])
    amd64.pop("annotations", None)
    layer, diff_id = _tar_gz({"hello-arm64": b"this is not really arm64\n"})
    layer_digest = _put_blob(layout, layer)
    config = json.dumps(
        {
            "architecture": "arm64",
            "variant": "v8",
            "os": "linux",
            "config": {"Cmd": ["/hello-arm64"]},
            "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        }
    ).encode()
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": _put_blob(layout, config),
                "size": len(config),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": layer_digest,
                    "size": len(layer),
                }
            ],
        }
    ).encode()
    arm64 = {
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": _put_blob(layout, manifest),
        "size": len(manifest),
    }
    image_index = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [
                {**arm64, "platform": {"architecture": "arm64", "os": "linux", "variant": "v8"}},
                {**amd64, "platform": {"architecture": "amd64", "os": "linux"}},
            ],
        }
    ).encode()
    top = {
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "digest": _put_blob(layout, image_index),
        "size": len(image_index),
        "annotations": {"org.opencontainers.image.ref.name": "multi"},
    }
    index["manifests"] = [top]
    (layout / "index.json").write_text(json.dumps(index))


@pytest.fixture(scope="session")
def test_images(
    tmp_path_factory: pytest.TempPathFactory, busybox_archive: Path, netns: Netns
) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("registry-images")
    images = {
        "busybox": busybox_archive,
        "layered": layered_image(out / "layered.tar", LAYERED, busybox=True).path,
        "zstd": layered_image(out / "zstd.tar", [[file("zstd.txt", "zstd layers\n")]], busybox=True).path,
    }
    multi_platform_layout(netns, busybox_archive, out / "multi")
    images["multi"] = out / "multi"
    return images


@pytest.fixture(scope="session")
def open_registry(
    netns: Netns, tmp_path_factory: pytest.TempPathFactory, test_images: dict[str, Path]
) -> Iterator[Registry]:
    registry = start_registry(netns, tmp_path_factory.mktemp("open-registry"))
    try:
        seed(registry, netns, "busybox:latest", f"docker-archive:{test_images['busybox']}")
        seed(registry, netns, "library/busybox:latest", f"docker-archive:{test_images['busybox']}")
        seed(registry, netns, "layered:latest", f"docker-archive:{test_images['layered']}")
        zstd = ("--dest-compress-format", "zstd")  # an OCI manifest with tar+zstd layers
        seed(registry, netns, "zstd:latest", f"docker-archive:{test_images['zstd']}", extra=zstd)
        seed(registry, netns, "multi:latest", f"oci:{test_images['multi']}:multi", all=True)
        yield registry
    finally:
        registry.stop()


@pytest.fixture(scope="session")
def basic_registry(
    netns: Netns, tmp_path_factory: pytest.TempPathFactory, test_images: dict[str, Path]
) -> Iterator[Registry]:
    if not HTPASSWD:
        pytest.skip("htpasswd (apache2-utils) is needed for the basic-auth registry")
    root = tmp_path_factory.mktemp("basic-registry")
    htpasswd = root / "htpasswd"
    # -B: bcrypt, the only scheme the registry's htpasswd auth accepts; -i: password on stdin.
    subprocess.run(
        [HTPASSWD, "-B", "-i", "-c", str(htpasswd), USER],
        input=PASSWORD.encode(),
        check=True,
        capture_output=True,
    )
    registry = start_registry(netns, root, htpasswd=htpasswd)
    try:
        seed(
            registry,
            netns,
            "busybox:latest",
            f"docker-archive:{test_images['busybox']}",
            creds=f"{USER}:{PASSWORD}",
        )
        yield registry
    finally:
        registry.stop()


@pytest.fixture(scope="session")
def token_proxy(
    netns: Netns, tmp_path_factory: pytest.TempPathFactory, open_registry: Registry
) -> Iterator[Server]:
    proxy = start_proxy(
        netns,
        tmp_path_factory.mktemp("token-proxy"),
        open_registry,
        "--auth",
        "token",
        "--user",
        f"{USER}:{PASSWORD}",
    )
    try:
        yield proxy
    finally:
        proxy.stop()


# -- jockerd in the namespace -----------------------------------------------------------------------


@dataclass
class NetnsJockerd(Jockerd):
    """A jockerd that joins the registries' network namespace instead of getting its own."""

    netns: Netns | None = None

    def command(self, *extra: str) -> list[str]:
        isolated = super().command(*JOCKERD_ARGS, *extra)
        daemon = isolated[isolated.index("jockerd") + 1 :]  # drop the `unshare --net` wrapper
        assert self.netns is not None
        return self.netns.argv(*daemon)

    def pull_stream(
        self, ref: str, tag: str = "latest", headers: dict[str, str] | None = None
    ) -> list[dict[str, Any]]:
        """POST /images/create and the JSON lines it streams."""
        from urllib.parse import quote

        response = self.request(
            "POST", f"/v1.51/images/create?fromImage={quote(ref, safe='')}&tag={quote(tag)}", headers=headers
        )
        assert response.status == 200, response.body
        return response.lines()


def start_jockerd(root: Path, netns: Netns, *args: str) -> NetnsJockerd:
    root.mkdir(parents=True, exist_ok=True)
    daemon = NetnsJockerd(root, args=list(args), netns=netns)
    daemon.start()
    return daemon


def stop_jockerd(daemon: NetnsJockerd) -> None:
    if daemon.proc is not None and daemon.proc.poll() is None:
        remove_all_containers(daemon)
        daemon.stop()
    kill_leftovers(daemon.root)


@pytest.fixture
def registry_jockerd(tmp_path: Path, netns: Netns) -> Iterator[NetnsJockerd]:
    """A fresh jockerd in the registries' namespace."""
    daemon = start_jockerd(tmp_path / "jockerd", netns)
    try:
        yield daemon
    finally:
        stop_jockerd(daemon)


@pytest.fixture(scope="module")
def shared_registry_jockerd(tmp_path_factory: pytest.TempPathFactory, netns: Netns) -> Iterator[NetnsJockerd]:
    """One jockerd in the registries' namespace for a module's tests."""
    daemon = start_jockerd(tmp_path_factory.mktemp("jockerd"), netns)
    try:
        yield daemon
    finally:
        stop_jockerd(daemon)
