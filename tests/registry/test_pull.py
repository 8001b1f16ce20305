"""docker pull / run / images / inspect through the real docker CLI against a real registry.

Expected wordings are dockerd's (../shared/traces/68*, 38*): `latest: Pulling from busybox`,
`<id>: Pull complete`, `Digest: sha256:...`, `Status: Downloaded newer image for ...`, and
`manifest for X not found: manifest unknown: manifest unknown` as a 404 before any progress.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from urllib.parse import quote

import pytest

from images.testimages import file, layered_image
from jockerd.imagestore.archive import host_architecture
from tests.registry.conftest import requests_of, seed, start_jockerd, start_proxy, stop_jockerd

pytestmark = [pytest.mark.root]


def inspect(daemon, ref: str) -> dict:
    return json.loads(daemon.docker_ok("image", "inspect", ref))[0]


def short(digest: str) -> str:
    return digest.partition(":")[2][:12]


def store_listing(daemon) -> dict[str, set[str]]:
    data = daemon.data_root
    return {
        "blobs": {p.name for p in (data / "image/blobs/sha256").iterdir()},
        "ingest": {p.name for p in (data / "image/ingest").iterdir()},
        "layers": {p.name for p in (data / "layers").iterdir()},
        "leases": {p.name for p in (data / "image/leases").iterdir()},
    }


def test_pull_by_tag_and_by_digest(registry_jockerd, open_registry):
    info = open_registry.seeded["busybox:latest"]
    ref = f"{open_registry.host}/busybox:latest"
    layer = short(info["layers"][0])
    out = registry_jockerd.docker_ok("pull", ref)
    assert out.splitlines() == [
        "latest: Pulling from busybox",
        f"{layer}: Pulling fs layer",
        f"{layer}: Verifying Checksum",
        f"{layer}: Download complete",
        f"{layer}: Pull complete",
        f"Digest: {info['digest']}",
        f"Status: Downloaded newer image for {ref}",
        ref,
    ]
    image = inspect(registry_jockerd, ref)
    assert image["Id"] == info["image_id"]
    assert image["RepoTags"] == [ref]
    assert image["RepoDigests"] == [f"{open_registry.host}/busybox@{info['digest']}"]
    listing = registry_jockerd.docker_ok(
        "images", "--digests", "--format", "{{.Repository}} {{.Tag}} {{.Digest}}"
    )
    assert listing.splitlines() == [f"{open_registry.host}/busybox latest {info['digest']}"]
    assert registry_jockerd.docker_ok("run", "--rm", ref, "echo", "pulled") == "pulled\n"

    again = registry_jockerd.docker_ok("pull", ref)
    assert again.splitlines()[-2:] == [f"Status: Image is up to date for {ref}", ref]

    # rmi of the last tag takes the repository's digest reference with it (dockerd's rule).
    removed = registry_jockerd.docker_ok("rmi", ref)
    assert removed.splitlines()[:2] == [
        f"Untagged: {ref}",
        f"Untagged: {open_registry.host}/busybox@{info['digest']}",
    ]
    assert f"Deleted: {info['image_id']}" in removed
    assert store_listing(registry_jockerd)["blobs"] == set()

    # by digest: a RepoDigest and no tag
    ref = f"{open_registry.host}/busybox@{info['digest']}"
    out = registry_jockerd.docker_ok("pull", ref)
    assert out.splitlines()[0] == f"{info['digest']}: Pulling from busybox"
    assert out.splitlines()[-2:] == [f"Status: Downloaded newer image for {ref}", ref]
    image = inspect(registry_jockerd, ref)
    assert image["Id"] == info["image_id"]
    assert image["RepoTags"] == []
    assert image["RepoDigests"] == [ref]
    listing = registry_jockerd.docker_ok(
        "images", "--digests", "--format", "{{.Repository}} {{.Tag}} {{.Digest}}"
    )
    assert listing.splitlines() == [f"{open_registry.host}/busybox <none> {info['digest']}"]
    assert registry_jockerd.docker_ok("run", "--rm", ref, "echo", "by-digest") == "by-digest\n"
    # a digest the registry does not have: dockerd's 404 wording
    missing = f"{open_registry.host}/busybox@sha256:{'0' * 64}"
    result = registry_jockerd.docker("pull", missing)
    assert result.returncode == 1
    assert result.stderr == (
        f"Error response from daemon: manifest for {missing} not found: manifest unknown: manifest unknown\n"
    )


def test_run_pulls_a_missing_image(shared_registry_jockerd, open_registry):
    registry_jockerd = shared_registry_jockerd
    info = open_registry.seeded["layered:latest"]
    ref = f"{open_registry.host}/layered:latest"
    result = registry_jockerd.docker("run", "--rm", ref, "cat", "/etc/motd", "/app/a.txt")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "layered\na2\n"
    lines = result.stderr.splitlines()
    assert lines[0] == f"Unable to find image '{ref}' locally"
    assert lines[1] == "latest: Pulling from layered"
    assert [line for line in lines if line.endswith("Pull complete")] == [
        f"{short(d)}: Pull complete" for d in info["layers"]
    ]
    # four layers, three download slots: one layer waits its turn
    assert any(line.endswith(": Waiting") for line in lines)
    assert lines[-1] == f"Status: Downloaded newer image for {ref}"
    assert inspect(registry_jockerd, ref)["Id"] == info["image_id"]


def test_multi_platform_index(shared_registry_jockerd, open_registry):
    registry_jockerd = shared_registry_jockerd
    if host_architecture() != "amd64":
        pytest.skip("the index's runnable entry is linux/amd64")
    info = open_registry.seeded["multi:latest"]
    busybox = open_registry.seeded["busybox:latest"]
    ref = f"{open_registry.host}/multi:latest"
    out = registry_jockerd.docker_ok("pull", ref)
    assert f"Digest: {info['digest']}" in out.splitlines()
    image = inspect(registry_jockerd, ref)
    assert (image["Os"], image["Architecture"]) == ("linux", "amd64")
    assert image["Id"] == busybox["image_id"]
    # the repo digest is the index's, as dockerd records it
    assert image["RepoDigests"] == [f"{open_registry.host}/multi@{info['digest']}"]
    assert registry_jockerd.docker_ok("run", "--rm", ref, "echo", "amd64") == "amd64\n"

    out = registry_jockerd.docker_ok("pull", "--platform", "linux/arm64", ref)
    assert out.splitlines()[-2] == f"Status: Downloaded newer image for {ref}"
    arm = inspect(registry_jockerd, ref)
    assert (arm["Os"], arm["Architecture"], arm["Variant"]) == ("linux", "arm64", "v8")

    result = registry_jockerd.docker("pull", "--platform", "linux/s390x", ref)
    assert result.returncode == 1
    assert "no matching manifest for linux/s390x in the manifest list entries" in result.stderr

    # GET /distribution/{name}/json: the index and its platforms, straight from the registry
    response = registry_jockerd.request("GET", f"/v1.51/distribution/{ref}/json")
    assert response.status == 200, response.body
    body = response.json()
    assert body["Descriptor"] == {
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "digest": info["digest"],
        "size": body["Descriptor"]["size"],
    }
    assert body["Platforms"] == [
        {"architecture": "arm64", "os": "linux", "variant": "v8"},
        {"architecture": "amd64", "os": "linux"},
    ]


def test_zstd_layers(shared_registry_jockerd, open_registry):
    registry_jockerd = shared_registry_jockerd
    info = open_registry.seeded["zstd:latest"]
    assert info["mediaType"] == "application/vnd.oci.image.manifest.v1+json"
    ref = f"{open_registry.host}/zstd:latest"
    registry_jockerd.docker_ok("pull", ref)
    assert inspect(registry_jockerd, ref)["Id"] == info["image_id"]
    assert registry_jockerd.docker_ok("run", "--rm", ref, "cat", "/zstd.txt") == "zstd layers\n"


def test_errors_before_progress_are_http_errors(shared_registry_jockerd, open_registry):
    registry_jockerd = shared_registry_jockerd
    host = open_registry.host
    result = registry_jockerd.docker("pull", f"{host}/busybox:nosuchtag")
    assert result.returncode == 1
    assert result.stderr == (
        f"Error response from daemon: manifest for {host}/busybox:nosuchtag not found: "
        "manifest unknown: manifest unknown\n"
    )
    response = registry_jockerd.request(
        "POST", f"/v1.41/images/create?fromImage={quote(host + '/busybox', safe='')}&tag=nosuchtag"
    )
    assert response.status == 404
    assert response.json() == {
        "message": f"manifest for {host}/busybox:nosuchtag not found: manifest unknown: manifest unknown"
    }
    result = registry_jockerd.docker("pull", "127.0.0.1:1/busybox")
    assert result.returncode == 1
    assert result.stdout == "Using default tag: latest\n"
    assert result.stderr == (
        'Error response from daemon: Get "http://127.0.0.1:1/v2/": '
        "dial tcp 127.0.0.1:1: connect: connection refused\n"
    )


def test_corrupt_blob_fails_and_leaves_nothing(shared_registry_jockerd, open_registry, netns, tmp_path):
    registry_jockerd = shared_registry_jockerd
    # An image of its own: its blobs are corrupted in the registry's storage, and must not be
    # shared with the other tests' images.
    noise = random.Random(5).randbytes(3 << 20)
    image = layered_image(
        tmp_path / "corrupt.tar", [[file("noise.bin", noise)], [file("small.txt", "small\n")]], busybox=True
    )
    info = seed(open_registry, netns, "corrupt:latest", f"docker-archive:{image.path}")
    bad = info["layers"][1]  # the noise layer
    blob = open_registry.blob_path(bad)
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size, other bytes: only the digest can tell
    blob.write_bytes(bytes(data))

    before = store_listing(registry_jockerd)
    result = registry_jockerd.docker("pull", f"{open_registry.host}/corrupt:latest")
    assert result.returncode == 1
    assert f"filesystem layer verification failed for digest {bad}" in result.stderr
    assert store_listing(registry_jockerd) == before
    assert registry_jockerd.docker_ok("images", "-q", f"{open_registry.host}/corrupt") == ""
    log = registry_jockerd.log.read_text()
    assert "Traceback" not in log


def test_resume_after_broken_connection(shared_registry_jockerd, open_registry, netns, tmp_path):
    """The proxy cuts the first response of every blob after 200 kB; the pull resumes with Range."""
    registry_jockerd = shared_registry_jockerd
    image = layered_image(
        tmp_path / "resume.tar", [[file("noise.bin", random.Random(7).randbytes(600_000))]], busybox=True
    )
    info = seed(open_registry, netns, "resume:latest", f"docker-archive:{image.path}")
    noise = f"/v2/resume/blobs/{info['layers'][1]}"
    proxy = start_proxy(netns, tmp_path / "cutting-proxy", open_registry, "--cut-after", "200000")
    try:
        ref = f"{proxy.host}/resume:latest"
        registry_jockerd.docker_ok("pull", ref)
        assert inspect(registry_jockerd, ref)["Id"] == info["image_id"]
        requests = requests_of(proxy)
        assert noise in [r["path"] for r in requests if r.get("cut")]
        resumed = [r for r in requests if r["path"] == noise and r.get("range")]
        assert [(r["range"], r["status"]) for r in resumed] == [("bytes=200000-", 206)]
        assert (
            registry_jockerd.docker_ok("run", "--rm", ref, "wc", "-c", "/noise.bin") == "600000 /noise.bin\n"
        )
    finally:
        proxy.stop()


def test_docker_hub_mirror(netns, open_registry, tmp_path: Path):
    """docker.io names go to the configured mirror first (the registry serves library/busybox)."""
    daemon = start_jockerd(tmp_path / "jockerd", netns, "--registry-mirror", f"http://{open_registry.host}")
    try:
        info = open_registry.seeded["library/busybox:latest"]
        out = daemon.docker_ok("pull", "busybox")
        assert out.splitlines()[0] == "Using default tag: latest"
        assert out.splitlines()[1] == "latest: Pulling from library/busybox"
        assert out.splitlines()[-2:] == [
            "Status: Downloaded newer image for busybox:latest",
            "docker.io/library/busybox:latest",
        ]
        image = inspect(daemon, "busybox")
        assert image["RepoTags"] == ["busybox:latest"]
        assert image["RepoDigests"] == [f"busybox@{info['digest']}"]
        assert "GET /v2/library/busybox/manifests/latest" in open_registry.log.read_text()
    finally:
        stop_jockerd(daemon)


def test_pull_all_tags(shared_registry_jockerd, open_registry, netns, test_images):
    """`docker pull -a`: each tag the registry lists, in its order (a `TAG: Pulling from` ...
    `Digest:` run per tag), then one Status line for the repository, as dockerd 20.10 prints it."""
    d = shared_registry_jockerd
    sources = {"latest": "busybox", "lay": "layered", "v2": "busybox"}
    for tag, image in sources.items():
        seed(open_registry, netns, f"alltags:{tag}", f"docker-archive:{test_images[image]}")
    repo = f"{open_registry.host}/alltags"
    out = d.docker_ok("pull", "-a", repo).splitlines()
    assert [line for line in out if "Pulling from" in line] == [
        "latest: Pulling from alltags",
        "lay: Pulling from alltags",
        "v2: Pulling from alltags",
    ]
    assert len([line for line in out if line.startswith("Digest: sha256:")]) == 3
    assert out[-2:] == [f"Status: Downloaded newer image for {repo}", repo]
    listing = d.docker_ok("images", "--digests", repo, "--format", "{{.Tag}} {{.Digest}} {{.ID}}")
    assert sorted(line.split()[0] for line in listing.splitlines()) == ["latest", "lay", "v2"], listing
    again = d.docker_ok("pull", "-a", repo).splitlines()
    assert again[-2:] == [f"Status: Image is up to date for {repo}", repo]
    missing = d.docker("pull", "-a", f"{open_registry.host}/nosuchrepo")
    assert missing.returncode == 1
    assert missing.stderr == (
        f"Error response from daemon: repository {open_registry.host}/nosuchrepo not found: "
        "name unknown: repository name not known to registry\n"
    )
    d.docker_ok("rmi", *(f"{repo}:{tag}" for tag in sources))
