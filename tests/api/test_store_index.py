"""The `store` block of langgraph.json: semantic search (`store.index`) and item TTLs
(`store.ttl`), through the SDK's `client.store.*` and through graphs' `runtime.store`.

`langgraph-store.json` embeds with tests/graphs/embeddings.py (words hashed into 64 dims: texts
sharing words are close); `langgraph-store-ttl.json` expires items quickly (default_ttl 3 s,
swept every 1.2 s). Expiry is awaited with a bounded poll, never timed.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from langgraph_sdk import get_sync_client

from tests.conftest import (
    BACKEND,
    POSTGRES,
    ROOT,
    Server,
    postgres_url,
    start_server,
    wait_until,
)

STORE_CONFIG = ROOT / "tests" / "graphs" / "langgraph-store.json"
TTL_CONFIG = ROOT / "tests" / "graphs" / "langgraph-store-ttl.json"
EXPIRY_WAIT = 60.0  # seconds: a bound on the wait for a sweep, far above the 1.2 s interval


def pgvector_missing() -> str | None:
    """Why semantic search cannot run on the test PostgreSQL, or None."""
    if BACKEND != "postgres":
        return None
    import psycopg

    with psycopg.connect(postgres_url("postgres")) as conn:
        row = conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'")
        if row.fetchone():
            return None
    return (
        f"the PostgreSQL server at {POSTGRES} has no pgvector extension ('vector' is not in "
        "pg_available_extensions), which semantic search needs; graphport refuses to start "
        "with store.index there (test_index_without_pgvector_is_refused)"
    )


@pytest.fixture(scope="module")
def store_server(tmp_path_factory: pytest.TempPathFactory, server: Server) -> Iterator[Server]:
    if server.process is None:
        pytest.skip("needs a graphport server with its own store settings")
    reason = pgvector_missing()
    if reason:
        pytest.skip(reason)
    srv = start_server(tmp_path_factory.mktemp("store"), config=STORE_CONFIG)
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def ttl_server(tmp_path_factory: pytest.TempPathFactory, server: Server) -> Iterator[Server]:
    if server.process is None:
        pytest.skip("needs a graphport server with its own store settings (the reference's dev "
                    "server keeps items in memory and never expires them)")  # fmt: skip
    srv = start_server(tmp_path_factory.mktemp("store-ttl"), config=TTL_CONFIG)
    yield srv
    srv.stop()


def ns(label: str) -> list[str]:
    return [label, uuid.uuid4().hex[:8]]


# -- semantic search ---------------------------------------------------------------------------


def test_query_ranks_items_by_meaning(store_server: Server) -> None:
    client = get_sync_client(url=store_server.url)
    space = ns("docs")
    client.store.put_item(space, "pets", {"text": "a kitten plays with yarn"})
    client.store.put_item(space, "music", {"text": "guitar and piano music", "kind": "art"})
    client.store.put_item(space, "food", {"text": "banana smoothie recipe", "kind": "food"})
    # only `text` is embedded (store.index.fields): the note does not make it about pianos
    client.store.put_item(space, "trail", {"text": "mountain trail", "note": "piano piano"})

    found = client.store.search_items(space, query="piano music lessons")["items"]
    assert found[0]["key"] == "music"
    scores = {i["key"]: i["score"] for i in found}
    assert scores["music"] == pytest.approx(2 / (3**0.5 * 4**0.5), abs=1e-4)
    assert abs(scores["trail"]) < 1e-6 and abs(scores["pets"]) < 1e-6
    assert [i["score"] for i in found] == sorted((i["score"] for i in found), reverse=True)
    assert found[0]["value"] == {"text": "guitar and piano music", "kind": "art"}
    assert found[0]["created_at"].endswith("+00:00")  # UTC, whatever the backend

    assert client.store.search_items(space, query="kitten")["items"][0]["key"] == "pets"
    filtered = client.store.search_items(space, query="piano", filter={"kind": "food"})["items"]
    assert [i["key"] for i in filtered] == ["food"]
    page = client.store.search_items(space, query="piano music", limit=1, offset=1)["items"]
    assert len(page) == 1 and page[0]["key"] != "music"

    # without a query: listing by last update, no score
    listed = client.store.search_items(space)["items"]
    assert {i["key"] for i in listed} == {"pets", "music", "food", "trail"}
    assert all(i["score"] is None for i in listed)


def test_put_index_false_or_fields(store_server: Server) -> None:
    client = get_sync_client(url=store_server.url)
    space = ns("idx")
    client.store.put_item(space, "plain", {"text": "banana"}, index=False)
    client.store.put_item(space, "titled", {"text": "zzz", "title": "banana"}, index=["title"])
    client.store.put_item(space, "food", {"text": "banana smoothie recipe"})

    found = client.store.search_items(space, query="banana")["items"]
    assert [i["key"] for i in found] == ["titled", "food"]  # not "plain": not indexed
    assert found[0]["score"] == pytest.approx(1.0, abs=1e-4)
    assert {i["key"] for i in client.store.search_items(space)["items"]} == {
        "plain", "titled", "food",
    }  # fmt: skip

    # put again without an index: the item's vectors go with its old value
    client.store.put_item(space, "food", {"text": "banana smoothie recipe"}, index=False)
    assert [i["key"] for i in client.store.search_items(space, query="banana")["items"]] == [
        "titled"
    ]
    client.store.delete_item(space, "titled")
    assert client.store.search_items(space, query="banana")["items"] == []


def test_graphs_search_the_same_store(store_server: Server) -> None:
    client = get_sync_client(url=store_server.url)
    space = ns("recall")
    client.store.put_item(space, "api", {"text": "banana smoothie recipe"})
    out = client.runs.wait(
        None,
        "recall",
        input={
            "namespace": space,
            "remember": {"g1": "guitar and piano music", "g2": "a kitten plays with yarn"},
            "query": "piano music",
        },
    )
    assert isinstance(out, dict)
    assert out["found"][0]["key"] == "g1"
    assert out["found"][0]["score"] > out["found"][1]["score"]
    # what the graph put is found through the API, and the API's items by the graph
    assert client.store.search_items(space, query="kitten")["items"][0]["key"] == "g2"
    again = client.runs.wait(None, "recall", input={"namespace": space, "query": "banana"})
    assert isinstance(again, dict) and again["found"][0]["key"] == "api"


def test_index_without_pgvector_is_refused(tmp_path: Any, server: Server) -> None:
    if server.process is None or BACKEND != "postgres":
        pytest.skip("a graphport server on a PostgreSQL server without pgvector")
    if pgvector_missing() is None:
        pytest.skip("this PostgreSQL server has pgvector")
    with pytest.raises(RuntimeError) as info:
        start_server(tmp_path, config=STORE_CONFIG)
    assert "store.index (semantic search) needs the pgvector extension" in str(info.value)


# -- TTL ---------------------------------------------------------------------------------------


def test_items_expire_and_are_swept(ttl_server: Server) -> None:
    client = get_sync_client(url=ttl_server.url)
    space = ns("ttl")
    client.store.put_item(space, "own", {"v": 1}, ttl=0.01)  # minutes
    client.store.put_item(space, "default", {"v": 2})  # store.ttl.default_ttl
    assert {i["key"] for i in client.store.search_items(space, refresh_ttl=False)["items"]} == {
        "own", "default",
    }  # fmt: skip
    wait_until(
        lambda: client.store.search_items(space, refresh_ttl=False)["items"] == [],
        EXPIRY_WAIT,
        what="expired items swept",
        interval=0.2,
    )
    assert client.store.get_item(space, "own", refresh_ttl=False) is None
    assert client.store.list_namespaces(prefix=space)["namespaces"] == []


def test_reads_refresh_ttls(ttl_server: Server) -> None:
    client = get_sync_client(url=ttl_server.url)
    space = ns("refresh")
    for key in ("by_get", "by_default_get", "by_search", "untouched"):
        client.store.put_item([*space, key], key, {"k": key}, ttl=0.05)

    def untouched_gone() -> bool:
        # read the others (refreshing their TTLs), then look at the one never refreshed
        assert client.store.get_item([*space, "by_get"], "by_get", refresh_ttl=True)
        assert client.store.get_item(
            [*space, "by_default_get"], "by_default_get"
        )  # refresh_on_read
        assert client.store.search_items([*space, "by_search"], refresh_ttl=True)["items"]
        return client.store.get_item([*space, "untouched"], "untouched", refresh_ttl=False) is None

    wait_until(untouched_gone, EXPIRY_WAIT, what="the item never refreshed swept", interval=0.2)
    # the others were refreshed a moment ago: far from expiring
    for key in ("by_get", "by_default_get", "by_search"):
        assert client.store.get_item([*space, key], key, refresh_ttl=False) is not None


def test_graph_writes_take_the_default_ttl(ttl_server: Server) -> None:
    client = get_sync_client(url=ttl_server.url)
    space = ns("graph-ttl")
    client.runs.wait(None, "recall", input={"namespace": space, "remember": {"k": "text"}})
    assert client.store.get_item(space, "k", refresh_ttl=False)["value"] == {"text": "text"}
    wait_until(
        lambda: client.store.get_item(space, "k", refresh_ttl=False) is None,
        EXPIRY_WAIT,
        what="a graph's item swept after store.ttl.default_ttl",
        interval=0.2,
    )


# -- validation (the reference's 422s) ---------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("index", "text", "\"text\" is not valid under any of the schemas listed in the 'oneOf' "
         'keyword\n\nFailed validating "oneOf" in schema["properties"]["index"]\n\nOn instance'
         '["index"]:\n    "text"'),
        ("index", True, "true is not valid under any of the schemas listed in the 'oneOf' keyword"),
        ("ttl", "abc", '"abc" is not of types "null", "number"\n\nFailed validating "type" in '
         'schema["properties"]["ttl"]\n\nOn instance["ttl"]:\n    "abc"'),
    ],
)  # fmt: skip
def test_put_validation(http: httpx.Client, field: str, value: Any, message: str) -> None:
    body = {"namespace": ["v"], "key": "k", "value": {}, field: value}
    r = http.put("/store/items", json=body)
    assert r.status_code == 422
    assert r.json()["detail"].startswith(message)


def test_search_validation(http: httpx.Client) -> None:
    r = http.post("/store/items/search", json={"namespace_prefix": ["v"], "query": 5})
    assert r.status_code == 422
    assert r.json()["detail"].startswith('5 is not of types "null", "string"')
    r = http.post("/store/items/search", json={"namespace_prefix": ["v"], "refresh_ttl": "yes"})
    assert r.status_code == 422
