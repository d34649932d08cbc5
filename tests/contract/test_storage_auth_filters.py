"""Storage contract: an auth filter (`visible=`) hides in a search exactly what
`graphport.auth.filters.matches` hides by id. Every backend must pass these."""

from __future__ import annotations

from typing import Any

import pytest

from graphport.auth.filters import matches, normalise
from graphport.models import Assistant, iso, uuid7
from graphport.storage.base import Cron, Storage
from tests.contract.test_storage_threads import idle_thread

METADATA: list[dict[str, Any]] = [
    {"owner": "alice", "tags": ["a", "b"], "n": 1},
    {"owner": "bob", "tags": ["b"], "n": 2},
    {"owner": "alice", "tags": "a", "flag": True},  # a string is not a list holding "a"
    {"owner": 'al"ice', "tags": [{"k": 1}, 2, True, None], "n": 1.5},
    {"tags": [], "flag": 1},
    {},
]
FILTERS: list[dict[str, Any]] = [
    {"owner": "alice"},
    {"owner": {"$eq": "bob"}},
    {"owner": 'al"ice'},
    {"tags": {"$contains": "a"}},
    {"tags": {"$contains": ["a", "b"]}},
    {"tags": {"$contains": {"k": 1}}},
    {"tags": {"$contains": True}},
    {"tags": {"$contains": 2}},
    {"owner": "alice", "tags": {"$contains": "b"}},
    {"flag": True},
    {"flag": 1},
    {"n": 1},
    {"missing": None},
]


def test_normalise_refuses_what_is_not_a_filter() -> None:
    from graphport.auth.filters import BadFilter

    for bad in ({"a": {"$gt": 1}}, {"a": {"$eq": 1, "$contains": 2}}, {1: "x"}):
        with pytest.raises(BadFilter):
            normalise(bad)


@pytest.mark.parametrize("raw", FILTERS, ids=[str(f) for f in FILTERS])
async def test_thread_search_hides_what_matches_hides(
    storage: Storage, raw: dict[str, Any]
) -> None:
    conditions = normalise(raw)
    ids = {}
    for metadata in METADATA:
        thread = idle_thread(metadata=metadata)
        await storage.create_thread(thread, if_exists="raise", ttl=None)
        ids[thread["thread_id"]] = metadata
    found, total = await storage.search_threads(limit=100, visible=conditions)
    expected = {tid for tid, metadata in ids.items() if matches(conditions, metadata)}
    assert {t["thread_id"] for t in found} == expected and total == len(expected)


async def test_assistant_and_cron_searches_apply_the_filter(storage: Storage) -> None:
    conditions = normalise({"owner": "alice"})
    now = iso()
    owners = {}
    for owner in ("alice", "bob"):
        assistant: Assistant = {
            "assistant_id": uuid7(), "graph_id": "g", "config": {}, "context": {},
            "metadata": {"owner": owner}, "name": owner, "created_at": now, "updated_at": now,
            "version": 1, "description": None,
        }  # fmt: skip
        await storage.create_assistant(assistant, if_exists="raise")
        owners[owner] = assistant["assistant_id"]
        cron: Cron = {
            "cron_id": uuid7(), "assistant_id": assistant["assistant_id"], "thread_id": None,
            "user_id": owner, "end_time": None, "schedule": "0 0 1 1 *", "timezone": None,
            "payload": {"assistant_id": assistant["assistant_id"]},
            "next_run_date": "2100-01-01T00:00:00+00:00", "metadata": {"owner": owner},
            "on_run_completed": "delete", "enabled": True, "created_at": now, "updated_at": now,
        }  # fmt: skip
        await storage.create_cron(cron)
    found, total = await storage.search_assistants(
        graph_id=None, name=None, metadata=None, limit=10, offset=0, sort_by="created_at",
        sort_order="asc", visible=conditions,
    )  # fmt: skip
    assert [a["assistant_id"] for a in found] == [owners["alice"]] and total == 1
    count = await storage.count_assistants(
        graph_id=None, name=None, metadata=None, visible=conditions
    )
    assert count == 1
    crons, total = await storage.search_crons(visible=conditions)
    assert [c["user_id"] for c in crons] == ["alice"] and total == 1
