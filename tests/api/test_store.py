"""Store: items, search, namespaces; graphs share it through the run's store (spec §1.6)."""

from __future__ import annotations

import uuid

import httpx
from langgraph_sdk import get_sync_client


def test_store_crud_search_and_namespaces(url: str, http: httpx.Client) -> None:
    client = get_sync_client(url=url)
    user = f"u{uuid.uuid4().hex[:8]}"
    client.store.put_item(["memories", user], "color", {"value": "blue", "kind": "pref"})
    client.store.put_item(["memories", user], "food", {"value": "pasta", "kind": "pref"})
    client.store.put_item(["memories", user, "work"], "job", {"value": "pilot", "kind": "fact"})
    item = client.store.get_item(["memories", user], "color")
    assert item["value"] == {"value": "blue", "kind": "pref"}
    assert item["namespace"] == ["memories", user] and item["key"] == "color"
    found = client.store.search_items(["memories", user], filter={"kind": "pref"})
    assert sorted(i["key"] for i in found["items"]) == ["color", "food"]
    everything = client.store.search_items(["memories", user], limit=10)
    assert len(everything["items"]) == 3
    spaces = client.store.list_namespaces(prefix=["memories", user])
    assert sorted(spaces["namespaces"]) == [["memories", user], ["memories", user, "work"]]
    client.store.delete_item(["memories", user], "color")
    assert (
        http.get("/store/items", params={"namespace": f"memories.{user}", "key": "color"}).json()
        is None
    )


def test_store_validation(http: httpx.Client) -> None:
    r = http.put("/store/items", json={"namespace": ["a.b"], "key": "k", "value": {}})
    assert r.status_code == 422
    assert r.json() == {
        "detail": "Namespace label 'a.b' must be a non-empty string without periods"
    }
    missing = http.get("/store/items", params={"namespace": "a"})
    assert missing.status_code == 400 and missing.json() == {"error": "Key is required"}


def test_graphs_share_the_store_with_the_api(url: str) -> None:
    client = get_sync_client(url=url)
    client.runs.wait(None, "memory", input={"messages": ["one"]})
    second = client.runs.wait(None, "memory", input={"messages": ["two"]})
    assert second["messages"][-1] == "before:['one']"
    assert client.store.get_item(["graph-memory"], "last")["value"] == {"messages": ["two"]}
