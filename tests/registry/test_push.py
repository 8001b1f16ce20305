"""docker push to a real registry, then docker pull on a clean jockerd: the same image.

The stream follows trace 67 (dockerd 20.10 pushing to a local registry): `The push refers to
repository [...]`, one `Preparing` per layer (top layer first, diff_id short IDs), `Pushed`,
`<tag>: digest: sha256:... size: N`, then the `aux` message the CLI reads.
"""

from __future__ import annotations

import json
import re
from urllib.parse import quote

import pytest

from tests.registry.conftest import start_jockerd, stop_jockerd

pytestmark = [pytest.mark.root]


def inspect(daemon, ref: str) -> dict:
    return json.loads(daemon.docker_ok("image", "inspect", ref))[0]


def short(digest: str) -> str:
    return digest.partition(":")[2][:12]


def test_push_then_pull_on_a_clean_daemon(registry_jockerd, open_registry, netns, tmp_path, test_images):
    host = open_registry.host
    daemon = registry_jockerd
    daemon.docker_ok("load", "-i", str(test_images["layered"]))
    local = inspect(daemon, "jocker-test/layered:latest")
    layers = [short(d) for d in reversed(local["RootFS"]["Layers"])]  # top layer first
    ref = f"{host}/jtr/pushed:v1"
    daemon.docker_ok("tag", "jocker-test/layered:latest", ref)

    lines = daemon.docker_ok("push", ref).splitlines()
    assert lines[0] == f"The push refers to repository [{host}/jtr/pushed]"
    assert lines[1 : 1 + len(layers)] == [f"{layer}: Preparing" for layer in layers]
    assert sorted(line for line in lines if line.endswith(": Pushed")) == sorted(
        f"{x}: Pushed" for x in layers
    )
    match = re.fullmatch(r"v1: digest: (sha256:[0-9a-f]{64}) size: (\d+)", lines[-1])
    assert match, lines
    digest, size = match[1], int(match[2])
    # the pushed digest becomes a RepoDigest of the local image, as with dockerd
    assert f"{host}/jtr/pushed@{digest}" in inspect(daemon, ref)["RepoDigests"]
    # small blobs went up in one PUT, the 2 MB busybox layer as a chunked upload (PATCH, then PUT)
    registry_log = open_registry.log.read_text()
    assert '"PATCH /v2/jtr/pushed/blobs/uploads/' in registry_log
    assert '"PUT /v2/jtr/pushed/blobs/uploads/' in registry_log

    # again: the registry has every blob (HEAD), only the manifest is sent
    response = daemon.request(
        "POST", f"/v1.51/images/{ref.rsplit(':', 1)[0]}/push?tag=v1", headers={"X-Registry-Auth": "e30="}
    )
    assert response.status == 200
    messages = response.lines()
    assert [m["status"] for m in messages if m.get("id") in layers and m["status"] != "Preparing"] == [
        "Layer already exists"
    ] * len(layers)
    assert messages[-1] == {"progressDetail": {}, "aux": {"Tag": "v1", "Digest": digest, "Size": size}}

    # another repository of the same registry: the blobs are mounted, not sent
    copy = f"{host}/jtr/copy:v1"
    daemon.docker_ok("tag", ref, copy)
    lines = daemon.docker_ok("push", copy).splitlines()
    assert sorted(line for line in lines if "Mounted from" in line) == sorted(
        f"{x}: Mounted from jtr/pushed" for x in layers
    )
    assert lines[-1] == f"v1: digest: {digest} size: {size}"

    # a clean daemon pulls what was pushed: the same image
    clean = start_jockerd(tmp_path / "clean", netns)
    try:
        out = clean.docker_ok("pull", ref)
        assert f"Digest: {digest}" in out
        pulled = inspect(clean, ref)
        assert pulled["Id"] == local["Id"]
        assert pulled["RootFS"]["Layers"] == local["RootFS"]["Layers"]
        assert pulled["RepoDigests"] == [f"{host}/jtr/pushed@{digest}"]
        assert clean.docker_ok("run", "--rm", ref, "cat", "/etc/motd") == "layered\n"
    finally:
        stop_jockerd(clean)


def test_push_errors(shared_registry_jockerd, open_registry):
    daemon = shared_registry_jockerd
    host = open_registry.host
    name = quote(f"{host}/jtr/nothing", safe="/:")
    # no X-Registry-Auth and no body: dockerd's 400
    response = daemon.request("POST", f"/v1.51/images/{name}/push?tag=v1")
    assert response.status == 400
    assert response.json() == {"message": "Bad parameters and missing X-Registry-Auth: EOF"}
    # errors found once the stream is going travel in it
    result = daemon.docker("push", f"{host}/jtr/nothing:v1")
    assert result.returncode == 1
    assert result.stdout == f"The push refers to repository [{host}/jtr/nothing]\n"
    assert result.stderr == f"tag does not exist: {host}/jtr/nothing:v1\n"
