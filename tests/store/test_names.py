"""NameRegistry and ContainerStore: Docker's name rules and atomic records (no root needed)."""

from __future__ import annotations

import pytest

from jockerd.errors import ConflictError, InvalidParameterError
from jockerd.store.containers import ContainerRecord, ContainerStore
from jockerd.store.names import NameRegistry, validate


def test_validate_names():
    assert validate("web") == "/web"
    assert validate("/web_1.a-b") == "/web_1.a-b"
    for bad in ("a", "-x", "has space", "x/y", "", "é"):
        with pytest.raises(InvalidParameterError, match=r"Invalid container name \(.*\), only \[a-zA-Z0-9\]"):
            validate(bad)


def test_reserve_release_conflict_wording():
    names = NameRegistry()
    names.reserve("/web", "a" * 64)
    names.reserve("web", "a" * 64)  # idempotent for the owner
    with pytest.raises(ConflictError) as e:
        names.reserve("web", "b" * 64)
    assert str(e.value) == (
        f'Conflict. The container name "/web" is already in use by container "{"a" * 64}". '
        "You have to remove (or rename) that container to be able to reuse that name."
    )
    names.release("web")
    names.reserve("web", "b" * 64)
    assert names.get("/web") == "b" * 64


def test_generated_names_are_unique_and_valid():
    names = NameRegistry()
    seen = {names.generate(str(i) * 64) for i in range(10)}
    assert len(seen) == 10
    assert all(validate(n.lstrip("/")) == n for n in seen)


def test_store_roundtrip_and_incomplete_dirs(tmp_path):
    store = ContainerStore(tmp_path)
    record = ContainerRecord(
        id="c" * 64,
        name="/x",
        created="2026-11-25T00:00:00Z",
        image="sha256:" + "1" * 64,
        image_name="busybox",
        config={"Cmd": ["true"]},
    )
    store.save(record)
    (tmp_path / ("d" * 64)).mkdir()  # a crash between mkdir and the first save
    loaded = store.load_all()
    assert [r.id for r in loaded] == ["c" * 64]
    assert loaded[0].config == {"Cmd": ["true"]}
    assert not (tmp_path / ("d" * 64)).exists()
    store.delete("c" * 64)
    assert store.load_all() == []
