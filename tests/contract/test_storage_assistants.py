"""Storage contract: assistants and their versions. Every backend must pass these."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from graphport import errors
from graphport.models import Assistant, iso
from graphport.storage.base import Storage

VERSION_KEYS = [
    "assistant_id", "version", "graph_id", "config", "context", "metadata", "created_at",
    "name", "description",
]  # fmt: skip
ASSISTANT_KEYS = [
    "assistant_id", "graph_id", "config", "context", "metadata", "name", "created_at",
    "updated_at", "version", "description",
]  # fmt: skip


def make_assistant(**fields: Any) -> Assistant:
    now = iso()
    record: dict[str, Any] = {
        "assistant_id": str(uuid.uuid4()),
        "graph_id": "g",
        "config": {"tags": ["t"], "configurable": {"user": "u"}},
        "context": {"user": "u"},
        "metadata": {"team": "a", "nested": {"x": 1, "y": 2}},
        "name": "Assistant",
        "created_at": now,
        "updated_at": now,
        "version": 1,
        "description": "d",
    }
    record.update(fields)
    return record  # type: ignore[return-value]


async def search(storage: Storage, **kw: Any) -> tuple[list[Assistant], int]:
    args: dict[str, Any] = {
        "graph_id": None,
        "name": None,
        "metadata": None,
        "limit": 100,
        "offset": 0,
        "sort_by": "created_at",
        "sort_order": "desc",
    }
    return await storage.search_assistants(**{**args, **kw})


async def ids(storage: Storage, **kw: Any) -> list[str]:
    found, _ = await search(storage, **kw)
    return [a["assistant_id"] for a in found]


async def tick() -> None:
    await asyncio.sleep(0.002)  # timestamps are compared; keep them apart


# -------------------------------------------------------------------------------- create / get


async def test_create_then_get(storage: Storage) -> None:
    """A created assistant reads back equal, with the reference's key order."""
    a = make_assistant()
    assert await storage.create_assistant(a, if_exists="raise") == a
    got = await storage.get_assistant(a["assistant_id"])
    assert got == a
    assert got is not None and list(got) == ASSISTANT_KEYS


async def test_create_stores_version_1(storage: Storage) -> None:
    """Creating stores version 1 with the assistant's fields and its created_at."""
    a = make_assistant()
    await storage.create_assistant(a, if_exists="raise")
    versions = await storage.list_assistant_versions(
        a["assistant_id"], metadata=None, limit=10, offset=0
    )
    assert versions is not None
    [v] = versions
    assert list(v) == VERSION_KEYS
    assert v == {k: a[k] for k in VERSION_KEYS}  # type: ignore[literal-required]


async def test_create_existing_raises_conflict(storage: Storage) -> None:
    """if_exists=raise on a taken id raises Conflict in the reference's words."""
    a = make_assistant()
    await storage.create_assistant(a, if_exists="raise")
    with pytest.raises(errors.Conflict) as info:
        await storage.create_assistant(
            make_assistant(assistant_id=a["assistant_id"]), if_exists="raise"
        )
    assert info.value.detail == f"Assistant {a['assistant_id']} already exists"


async def test_create_existing_do_nothing_returns_stored(storage: Storage) -> None:
    """if_exists=do_nothing on a taken id returns the stored assistant, unchanged."""
    a = make_assistant()
    await storage.create_assistant(a, if_exists="raise")
    other = make_assistant(assistant_id=a["assistant_id"], graph_id="other", name="Other")
    assert await storage.create_assistant(other, if_exists="do_nothing") == a
    assert await storage.get_assistant(a["assistant_id"]) == a


async def test_get_unknown(storage: Storage) -> None:
    """Getting an unknown id gives None."""
    assert await storage.get_assistant(str(uuid.uuid4())) is None


# -------------------------------------------------------------------------------- system


async def test_sync_system_assistant_creates_then_keeps(storage: Storage) -> None:
    """The first sync creates version 1; a sync with the same name and description is a no-op."""
    a = make_assistant(metadata={"created_by": "system"}, config={}, context={})
    assert await storage.sync_system_assistant(a) == a
    again = make_assistant(**{**a, "created_at": iso(), "updated_at": iso()})
    assert await storage.sync_system_assistant(again) == a
    assert await storage.get_assistant(a["assistant_id"]) == a


async def test_sync_system_assistant_stores_a_new_name_as_a_version(storage: Storage) -> None:
    """A sync with another name or description stores them as version latest+1, keeping the
    rest of the current version (a user's PATCH of config survives a restart)."""
    a = make_assistant(metadata={"created_by": "system"}, config={}, context={})
    await storage.sync_system_assistant(a)
    await storage.update_assistant(a["assistant_id"], config={"recursion_limit": 3})
    await tick()
    renamed = await storage.sync_system_assistant({**a, "name": "New", "description": None})
    assert renamed["version"] == 3
    assert (renamed["name"], renamed["description"]) == ("New", None)
    assert renamed["config"] == {"recursion_limit": 3}
    assert renamed["created_at"] == a["created_at"] < renamed["updated_at"]
    assert await storage.get_assistant(a["assistant_id"]) == renamed


# -------------------------------------------------------------------------------- update


async def test_update_makes_a_new_current_version(storage: Storage) -> None:
    """update stores version n+1 and makes it current: created_at kept, updated_at moved."""
    a = make_assistant()
    await storage.create_assistant(a, if_exists="raise")
    await tick()
    updated = await storage.update_assistant(a["assistant_id"], name="Renamed")
    assert updated is not None
    assert updated == {
        **a,
        "name": "Renamed",
        "version": 2,
        "updated_at": updated["updated_at"],
    }
    assert updated["updated_at"] > a["updated_at"]
    assert list(updated) == ASSISTANT_KEYS
    assert await storage.get_assistant(a["assistant_id"]) == updated
    versions = await storage.list_assistant_versions(
        a["assistant_id"], metadata=None, limit=10, offset=0
    )
    assert versions is not None
    assert [(v["version"], v["name"]) for v in versions] == [(2, "Renamed"), (1, "Assistant")]
    assert versions[0]["created_at"] == updated["updated_at"]


async def test_update_none_keeps_every_field(storage: Storage) -> None:
    """An update with nothing given still makes a new version, equal to the last one."""
    a = make_assistant()
    await storage.create_assistant(a, if_exists="raise")
    updated = await storage.update_assistant(a["assistant_id"])
    assert updated is not None
    assert {k: v for k, v in updated.items() if k not in ("version", "updated_at")} == {
        k: v for k, v in a.items() if k not in ("version", "updated_at")
    }
    assert updated["version"] == 2


async def test_update_replaces_fields_and_merges_metadata(storage: Storage) -> None:
    """graph_id, config, context, name and description replace; metadata merges top-level keys."""
    a = make_assistant()
    await storage.create_assistant(a, if_exists="raise")
    updated = await storage.update_assistant(
        a["assistant_id"],
        graph_id="g2",
        config={"recursion_limit": 5},
        context={"model": "m"},
        metadata={"nested": {"z": 3}, "new": True},
        name="",
        description="d2",
    )
    assert updated is not None
    assert updated["graph_id"] == "g2"
    assert updated["config"] == {"recursion_limit": 5}
    assert updated["context"] == {"model": "m"}
    assert updated["metadata"] == {"team": "a", "nested": {"z": 3}, "new": True}
    assert (updated["name"], updated["description"]) == ("", "d2")


async def test_update_context_alone_becomes_configurable(storage: Storage) -> None:
    """A non-empty context given without config becomes config.configurable; other config
    keys stay."""
    a = make_assistant()
    await storage.create_assistant(a, if_exists="raise")
    updated = await storage.update_assistant(a["assistant_id"], context={"user": "v"})
    assert updated is not None
    assert updated["config"] == {"tags": ["t"], "configurable": {"user": "v"}}
    assert updated["context"] == {"user": "v"}


async def test_update_empty_context_leaves_config(storage: Storage) -> None:
    """An empty context replaces the context and leaves the config as it is."""
    a = make_assistant()
    await storage.create_assistant(a, if_exists="raise")
    updated = await storage.update_assistant(a["assistant_id"], context={})
    assert updated is not None
    assert (updated["config"], updated["context"]) == (a["config"], {})


async def test_update_unknown(storage: Storage) -> None:
    """Updating an unknown id gives None and stores nothing."""
    aid = str(uuid.uuid4())
    assert await storage.update_assistant(aid, name="x") is None
    assert await storage.get_assistant(aid) is None
    assert await storage.list_assistant_versions(aid, metadata=None, limit=10, offset=0) is None


async def test_update_after_set_latest_numbers_past_the_highest(storage: Storage) -> None:
    """After going back to an old version, the next update is numbered highest+1."""
    a = make_assistant()
    await storage.create_assistant(a, if_exists="raise")
    await storage.update_assistant(a["assistant_id"], name="v2")
    await storage.update_assistant(a["assistant_id"], name="v3")
    await storage.set_latest_assistant_version(a["assistant_id"], 1)
    updated = await storage.update_assistant(a["assistant_id"], description="v4")
    assert updated is not None
    assert (updated["version"], updated["name"], updated["description"]) == (4, "Assistant", "v4")


# -------------------------------------------------------------------------------- versions


async def test_set_latest_restores_the_whole_version(storage: Storage) -> None:
    """set_latest makes every field of the stored version current again, updated_at moves."""
    a = make_assistant()
    await storage.create_assistant(a, if_exists="raise")
    await storage.update_assistant(
        a["assistant_id"],
        graph_id="g2",
        config={"recursion_limit": 1},
        context={"other": 1},
        metadata={"team": "b"},
        name="v2",
        description="v2",
    )
    await tick()
    restored = await storage.set_latest_assistant_version(a["assistant_id"], 1)
    assert restored == {**a, "updated_at": restored["updated_at"]}
    assert restored["updated_at"] > a["updated_at"]
    assert await storage.get_assistant(a["assistant_id"]) == restored
    again = await storage.set_latest_assistant_version(a["assistant_id"], 2)
    assert (again["version"], again["graph_id"], again["context"]) == (2, "g2", {"other": 1})


async def test_set_latest_unknown(storage: Storage) -> None:
    """An unknown assistant or version raises NotFound in the reference's words."""
    a = make_assistant()
    await storage.create_assistant(a, if_exists="raise")
    with pytest.raises(errors.NotFound) as info:
        await storage.set_latest_assistant_version(a["assistant_id"], 7)
    assert info.value.detail == f"Version 7 not found for assistant {a['assistant_id']}"
    missing = str(uuid.uuid4())
    with pytest.raises(errors.NotFound) as info:
        await storage.set_latest_assistant_version(missing, 1)
    assert info.value.detail == f"Assistant {missing} not found"
    assert await storage.get_assistant(a["assistant_id"]) == a


async def test_list_versions_filters_and_pages(storage: Storage) -> None:
    """Versions come newest first; metadata is a containment filter; limit/offset page them."""
    a = make_assistant()
    aid = a["assistant_id"]
    await storage.create_assistant(a, if_exists="raise")
    await storage.update_assistant(aid, metadata={"stage": "beta"})
    await storage.update_assistant(aid, metadata={"nested": {"x": 1, "y": 3}})
    await storage.update_assistant(aid, name="four")

    async def versions(**kw: Any) -> list[int]:
        args = {"metadata": None, "limit": 10, "offset": 0, **kw}
        found = await storage.list_assistant_versions(aid, **args)
        assert found is not None
        return [v["version"] for v in found]

    assert await versions() == [4, 3, 2, 1]
    assert await versions(limit=2, offset=1) == [3, 2]
    assert await versions(metadata={"stage": "beta"}) == [4, 3, 2]
    assert await versions(metadata={"nested": {"x": 1}}) == [4, 3, 2, 1]
    assert await versions(metadata={"nested": {"y": 3}}) == [4, 3]
    assert await versions(metadata={"stage": "gamma"}) == []
    assert await versions(offset=10) == []


async def test_list_versions_unknown(storage: Storage) -> None:
    """Listing the versions of an unknown assistant gives None."""
    found = await storage.list_assistant_versions(
        str(uuid.uuid4()), metadata=None, limit=10, offset=0
    )
    assert found is None


# -------------------------------------------------------------------------------- delete


async def test_delete_removes_assistant_and_versions(storage: Storage) -> None:
    """delete removes the assistant and all its versions; the id can be created anew."""
    a = make_assistant()
    aid = a["assistant_id"]
    await storage.create_assistant(a, if_exists="raise")
    await storage.update_assistant(aid, name="v2")
    assert await storage.delete_assistant(aid) is True
    assert await storage.get_assistant(aid) is None
    assert await storage.list_assistant_versions(aid, metadata=None, limit=10, offset=0) is None
    assert await storage.delete_assistant(aid) is False
    again = await storage.create_assistant(make_assistant(assistant_id=aid), if_exists="raise")
    assert again["version"] == 1
    versions = await storage.list_assistant_versions(aid, metadata=None, limit=10, offset=0)
    assert versions is not None and len(versions) == 1


async def test_delete_leaves_other_assistants(storage: Storage) -> None:
    """Deleting one assistant leaves the others and their versions alone."""
    a, b = make_assistant(), make_assistant()
    for x in (a, b):
        await storage.create_assistant(x, if_exists="raise")
    await storage.delete_assistant(a["assistant_id"])
    assert await storage.get_assistant(b["assistant_id"]) == b
    versions = await storage.list_assistant_versions(
        b["assistant_id"], metadata=None, limit=10, offset=0
    )
    assert versions is not None and len(versions) == 1


# -------------------------------------------------------------------------------- search


async def test_search_filters(storage: Storage) -> None:
    """graph_id is exact, name a case-insensitive substring, metadata a containment filter."""
    a = make_assistant(graph_id="g1", name="Écho Bot", metadata={"team": "a", "n": {"x": 1}})
    b = make_assistant(graph_id="g2", name="helper", metadata={"team": "b", "n": {"x": 1}})
    c = make_assistant(graph_id="g1", name="other", metadata={"team": "a", "flag": True})
    for x in (a, b, c):
        await storage.create_assistant(x, if_exists="raise")
        await tick()
    assert await ids(storage) == [c["assistant_id"], b["assistant_id"], a["assistant_id"]]
    assert await ids(storage, graph_id="g1") == [c["assistant_id"], a["assistant_id"]]
    assert await ids(storage, name="éCHO") == [a["assistant_id"]]
    assert await ids(storage, name="") == await ids(storage)
    assert await ids(storage, metadata={"team": "a"}) == [c["assistant_id"], a["assistant_id"]]
    assert await ids(storage, metadata={"n": {"x": 1}}) == [b["assistant_id"], a["assistant_id"]]
    assert await ids(storage, metadata={"n": {"x": 1}, "team": "b"}) == [b["assistant_id"]]
    assert await ids(storage, metadata={"n": {"x": 2}}) == []
    assert await ids(storage, metadata={"flag": True}) == [c["assistant_id"]]
    assert await ids(storage, metadata={"flag": 1}) == []  # JSON true is not 1
    assert await ids(storage, graph_id="g1", name="bot", metadata={"team": "a"}) == [
        a["assistant_id"]
    ]


async def test_search_array_values_must_be_equal(storage: Storage) -> None:
    """A metadata array matches an equal array only."""
    a = make_assistant(metadata={"tags": ["x", "y"]})
    await storage.create_assistant(a, if_exists="raise")
    assert await ids(storage, metadata={"tags": ["x", "y"]}) == [a["assistant_id"]]
    assert await ids(storage, metadata={"tags": ["x"]}) == []


async def test_search_sorts(storage: Storage) -> None:
    """name and graph_id sort case-insensitively; ties are broken by assistant_id."""
    made = [
        make_assistant(assistant_id=f"0000000{i}-0000-4000-8000-000000000000", name=n, graph_id=g)
        for i, (n, g) in enumerate([("beta", "B"), ("Alpha", "a"), ("gamma", "b"), ("alpha", "C")])
    ]
    for x in made:
        await storage.create_assistant(x, if_exists="raise")
        await tick()
    aid = [x["assistant_id"] for x in made]
    assert await ids(storage, sort_by="name", sort_order="asc") == [aid[1], aid[3], aid[0], aid[2]]
    assert await ids(storage, sort_by="name", sort_order="desc") == [aid[2], aid[0], aid[3], aid[1]]
    assert await ids(storage, sort_by="graph_id", sort_order="asc") == [
        aid[1], aid[0], aid[2], aid[3]
    ]  # fmt: skip
    assert await ids(storage, sort_by="assistant_id", sort_order="asc") == aid
    assert await ids(storage, sort_by="created_at", sort_order="asc") == aid
    assert await ids(storage, sort_by="created_at", sort_order="desc") == aid[::-1]


async def test_search_sorts_by_updated_at(storage: Storage) -> None:
    """updated_at moves with every update."""
    a, b = make_assistant(), make_assistant()
    for x in (a, b):
        await storage.create_assistant(x, if_exists="raise")
        await tick()
    await storage.update_assistant(a["assistant_id"], name="touched")
    found = await ids(storage, sort_by="updated_at", sort_order="desc")
    assert found == [a["assistant_id"], b["assistant_id"]]


async def test_search_pages_and_total(storage: Storage) -> None:
    """limit/offset page the sorted matches; the total counts every match."""
    made = [make_assistant(graph_id="paged") for _ in range(5)]
    for x in made:
        await storage.create_assistant(x, if_exists="raise")
        await tick()
    await storage.create_assistant(make_assistant(graph_id="elsewhere"), if_exists="raise")
    newest_first = [x["assistant_id"] for x in reversed(made)]
    page, total = await search(storage, graph_id="paged", limit=2, offset=1)
    assert [a["assistant_id"] for a in page] == newest_first[1:3]
    assert total == 5
    page, total = await search(storage, graph_id="paged", limit=2, offset=9)
    assert (page, total) == ([], 5)


async def test_search_and_count_graph_ids_scope(storage: Storage) -> None:
    """graph_ids hides the assistants of every other graph, from search and count alike."""
    a, b = make_assistant(graph_id="kept"), make_assistant(graph_id="gone")
    for x in (a, b):
        await storage.create_assistant(x, if_exists="raise")
    found, total = await search(storage, graph_ids=["kept", "other"])
    assert ([x["assistant_id"] for x in found], total) == ([a["assistant_id"]], 1)
    assert await storage.count_assistants(
        graph_id=None, name=None, metadata=None, graph_ids=["kept"]
    ) == 1  # fmt: skip
    assert await storage.count_assistants(graph_id=None, name=None, metadata=None) == 2


async def test_count_matches_search(storage: Storage) -> None:
    """count gives the total search would give for the same filters."""
    for i in range(4):
        await storage.create_assistant(
            make_assistant(name=f"n{i}", metadata={"even": i % 2 == 0}), if_exists="raise"
        )
    for filters in (
        {"graph_id": None, "name": None, "metadata": None},
        {"graph_id": "g", "name": "N", "metadata": {"even": True}},
        {"graph_id": "none", "name": None, "metadata": None},
    ):
        _, total = await search(storage, **filters)
        assert await storage.count_assistants(**filters) == total
