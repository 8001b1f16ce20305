"""kill -9 of jockerd in the middle of a pull; after a restart the pull completes, reusing what was
verified before the crash.

The registry is reached through the test proxy throttled to 4 MB/s per connection, so the pull
of a ~20 MB image lasts long enough to be interrupted once some of its layers are in and others
are half downloaded.
"""

from __future__ import annotations

import json
import random
import signal
from urllib.parse import quote

import pytest

from images.testimages import file, layered_image
from tests.conftest import UnixHTTPConnection
from tests.registry.conftest import requests_of, seed, start_jockerd, start_proxy, stop_jockerd

pytestmark = [pytest.mark.root, pytest.mark.slow]

MB = 1_000_000


def short(digest: str) -> str:
    return digest.partition(":")[2][:12]


def test_kill_9_mid_pull_then_pull_again(netns, open_registry, tmp_path):
    noise = random.Random(11)
    sizes = (1 * MB, 3 * MB, 6 * MB, 10 * MB)
    layers = [[file(f"data{i}.bin", noise.randbytes(size))] for i, size in enumerate(sizes)]
    image = layered_image(tmp_path / "big.tar", layers, busybox=True)
    info = seed(open_registry, netns, "big:latest", f"docker-archive:{image.path}")
    proxy = start_proxy(netns, tmp_path / "slow-proxy", open_registry, "--throttle", str(4 * MB))
    daemon = start_jockerd(tmp_path / "jockerd", netns)
    try:
        ref = f"{proxy.host}/big"
        path = f"/v1.51/images/create?fromImage={quote(ref, safe='')}&tag=latest"
        conn = UnixHTTPConnection(str(daemon.sock), timeout=60)
        conn.request("POST", path)
        response = conn.getresponse()
        assert response.status == 200
        completed: list[str] = []
        while len(completed) < 2:  # busybox and the 1 MB layer: the others are still coming
            line = response.readline()
            assert line, "the pull ended before it could be interrupted"
            message = json.loads(line)
            assert "error" not in message, message
            if message.get("status") == "Download complete":
                completed.append(message["id"])
        daemon.stop(signal.SIGKILL)
        conn.close()

        data = daemon.data_root
        holds = list((data / "image/leases").iterdir())
        assert len(holds) == 1  # the interrupted pull's hold survives the crash
        verified = [d for d in info["layers"] if short(d) in completed]
        assert len(verified) == 2
        partial = list((data / "image/ingest").iterdir())
        assert partial, "no download was in flight at the kill"

        daemon.start()  # recover(): ingest/ emptied, the held blobs and layers kept
        assert list((data / "image/ingest").iterdir()) == []
        for digest in verified:
            assert (data / "image/blobs/sha256" / digest.partition(":")[2]).is_file()

        messages = daemon.pull_stream(ref)
        assert messages[-1] == {"status": f"Status: Downloaded newer image for {ref}:latest"}
        downloading = {m["id"] for m in messages if m.get("status") == "Downloading"}
        assert downloading and not downloading & set(completed)
        fetched = [r["path"].rsplit("/", 1)[1] for r in requests_of(proxy) if "/blobs/" in r["path"]]
        for digest in verified:
            assert fetched.count(digest) == 1, "a verified blob was downloaded again"
        assert list((data / "image/leases").iterdir()) == []
        assert json.loads(daemon.docker_ok("image", "inspect", f"{ref}:latest"))[0]["Id"] == info["image_id"]
        size = daemon.docker_ok("run", "--rm", f"{ref}:latest", "wc", "-c", "/data3.bin")
        assert size == f"{sizes[3]} /data3.bin\n"
    finally:
        stop_jockerd(daemon)
        proxy.stop()
