"""routes/archive.py with a fake backend: HEAD, GET, PUT and export reach their own handlers,
with Docker's header and query rules."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from jockerd.api.app import Backends, create_app
from jockerd.errors import NotFoundError
from tests.api.test_unsupported import FakeEvents, FakeExecs, FakeImages, FakeSystem


class FakeArchives:
    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self.closed = False

    async def stat_path(self, ref: str, path: str) -> str:
        self.calls.append(("stat", ref, path))
        if path == "/nope":
            raise NotFoundError(f"Could not find the file {path} in container {ref}")
        return "e30="

    async def archive_path(self, ref: str, path: str) -> tuple[str, AsyncIterator[bytes]]:
        self.calls.append(("archive", ref, path))

        async def chunks() -> AsyncIterator[bytes]:
            try:
                yield b"tar"
            finally:
                self.closed = True

        return "e30=", chunks()

    async def extract_to_dir(self, ref: str, path: str, body: Any, **flags: bool) -> None:
        self.calls.append(("extract", ref, path, await body.read(), flags))

    async def export(self, ref: str) -> AsyncIterator[bytes]:
        async def chunks() -> AsyncIterator[bytes]:
            yield b"exported"

        return chunks()


@pytest.fixture
async def setup(aiohttp_client: Any) -> tuple[Any, FakeArchives]:
    fake = FakeArchives()
    app = create_app(Backends(images=FakeImages(), system=FakeSystem(), containers=fake,  # type: ignore[arg-type]
                              execs=FakeExecs(), events=FakeEvents()))  # fmt: skip
    return await aiohttp_client(app), fake


async def test_head_get_put_export(setup):
    client, fake = setup
    head = await client.head("/v1.51/containers/my/c/archive?path=/etc")
    assert (head.status, head.headers["X-Docker-Container-Path-Stat"]) == (200, "e30=")
    get = await client.get("/v1.51/containers/c1/archive?path=/etc/.")
    assert get.headers["Content-Type"] == "application/x-tar" and await get.read() == b"tar"
    assert get.headers["X-Docker-Container-Path-Stat"] == "e30=" and fake.closed
    put = await client.put(
        "/containers/c1/archive?path=/tmp&noOverwriteDirNonDir=true&copyUIDGID=0", data=b"x"
    )
    assert put.status == 200
    export = await client.get("/v1.51/containers/c1/export")
    assert await export.read() == b"exported"
    assert fake.calls == [
        ("stat", "my/c", "/etc"),
        ("archive", "c1", "/etc/."),
        ("extract", "c1", "/tmp", b"x", {"copy_uid_gid": False, "no_overwrite_dir_non_dir": True}),
    ]
    missing = await client.head("/v1.51/containers/c1/archive?path=/nope")
    assert missing.status == 404 and await missing.read() == b""
