"""The `store` block of langgraph.json: parsing, loading the embedding, the configs handed to
langgraph's stores, and the SQLite store's vector distances."""

from __future__ import annotations

import json
import math
import struct
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import pytest
from langgraph.store.base import ensure_embeddings
from langgraph.store.sqlite.aio import AsyncSqliteStore

from graphport import errors, graphs
from graphport.config import (
    ConfigError,
    StoreIndex,
    StoreSettings,
    StoreTTL,
    load_settings,
    parse_store,
)
from graphport.graphs import load_embeddings, load_graphs
from graphport.storage import store as store_module
from graphport.storage.store import (
    DISTANCES,
    CheckedEmbeddings,
    connect_sqlite,
    index_config,
    store_options,
    ttl_config,
)

EMBED_FILE = """
def embed(texts):
    return [[float(len(t)), 1.0, 0.0] for t in texts]

async def aembed(texts):
    return embed(texts)

not_callable = 42
"""


# -- parse_store -------------------------------------------------------------------------------


def test_no_block_means_no_index_and_ttls_only_of_their_own() -> None:
    assert parse_store(None) == StoreSettings()
    assert StoreSettings().index is None
    assert StoreSettings().ttl == StoreTTL(
        refresh_on_read=True, default_ttl=None, sweep_interval_minutes=5.0
    )


def test_full_block() -> None:
    parsed = parse_store(
        {
            "index": {
                "embed": "openai:text-embedding-3-small",
                "dims": 1536,
                "fields": ["text", "meta.title"],
                "distance_type": "l2",
                "unknown": "ignored",
            },
            "ttl": {"refresh_on_read": False, "default_ttl": 60, "sweep_interval_minutes": 0.5},
        }
    )
    assert parsed.index == StoreIndex(
        embed="openai:text-embedding-3-small",
        dims=1536,
        fields=("text", "meta.title"),
        extra={"distance_type": "l2"},
    )
    assert parsed.ttl == StoreTTL(
        refresh_on_read=False, default_ttl=60.0, sweep_interval_minutes=0.5
    )


def test_fields_default_to_the_whole_value() -> None:
    index = parse_store({"index": {"embed": "./e.py:f", "dims": 3}}).index
    assert index is not None and index.fields == ("$",)
    index = parse_store({"index": {"embed": "./e.py:f", "dims": 3, "fields": "text"}}).index
    assert index is not None and index.fields == ("text",)


@pytest.mark.parametrize(
    ("block", "words"),
    [
        ([], "'store' must be an object"),
        ({"index": "yes"}, "store.index must be an object"),
        ({"index": {"dims": 3}}, "store.index.embed must name the embedding"),
        ({"index": {"embed": "nocolon", "dims": 3}}, "store.index.embed must name"),
        ({"index": {"embed": "./e.py:f"}}, "store.index.dims is required"),
        ({"index": {"embed": "./e.py:f", "dims": 0}}, "store.index.dims must be a positive"),
        ({"index": {"embed": "./e.py:f", "dims": "3"}}, "store.index.dims must be a positive"),
        ({"index": {"embed": "./e.py:f", "dims": True}}, "store.index.dims must be a positive"),
        ({"index": {"embed": "./e.py:f", "dims": 1.5}}, "store.index.dims must be a positive"),
        ({"index": {"embed": "./e.py:f", "dims": 3, "fields": [1]}}, "store.index.fields must"),
        ({"ttl": 5}, "store.ttl must be an object"),
        ({"ttl": {"refresh_on_read": "yes"}}, "store.ttl.refresh_on_read must be true or false"),
        ({"ttl": {"default_ttl": -1}}, "store.ttl.default_ttl (minutes) must be a positive"),
        ({"ttl": {"sweep_interval_minutes": 0}}, "store.ttl.sweep_interval_minutes must be"),
    ],
)  # fmt: skip
def test_bad_blocks_are_refused_with_what_is_wrong(block: Any, words: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_store(block)
    assert words in str(info.value)


def write_config(tmp_path: Path, store: Any, **extra: Any) -> Path:
    (tmp_path / "g.py").write_text(
        "from langgraph.graph import StateGraph, START\n"
        "from typing_extensions import TypedDict\n"
        "class S(TypedDict):\n    x: int\n"
        "b = StateGraph(S)\nb.add_node('n', lambda s: s)\nb.add_edge(START, 'n')\n"
        "compiled = b.compile()\n"
    )
    (tmp_path / "emb.py").write_text(EMBED_FILE)
    config = tmp_path / "langgraph.json"
    config.write_text(json.dumps({"graphs": {"g": "./g.py:compiled"}, "store": store, **extra}))
    return config


def test_load_settings_reads_the_block(tmp_path: Path) -> None:
    config = write_config(tmp_path, {"index": {"embed": "./emb.py:embed", "dims": 3}})
    settings = load_settings(config=str(config), database_url=":memory:")
    assert settings.store.index == StoreIndex(embed="./emb.py:embed", dims=3)
    with pytest.raises(ConfigError, match=r"store\.index\.dims is required"):
        load_settings(
            config=str(write_config(tmp_path, {"index": {"embed": "./emb.py:embed"}})),
            database_url=":memory:",
        )


# -- the embedding -----------------------------------------------------------------------------


def settings_for(tmp_path: Path, embed: str, **extra: Any) -> Any:
    config = write_config(tmp_path, {"index": {"embed": embed, "dims": 3}}, **extra)
    return load_settings(config=str(config), database_url=":memory:")


def test_embed_from_a_file_relative_to_the_config(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, "./emb.py:embed")
    embed = load_embeddings(settings)
    assert embed(["ab"]) == [[2.0, 1.0, 0.0]]
    assert load_embeddings(settings) is embed  # imported once
    assert load_embeddings(load_settings(config=str(tmp_path / "langgraph.json"))) is embed


def test_embed_from_a_module_on_the_dependencies(tmp_path: Path) -> None:
    package = tmp_path / "deps" / "myembed"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "funcs.py").write_text(EMBED_FILE)
    settings = settings_for(tmp_path, "myembed.funcs:aembed", dependencies=["./deps"])
    assert load_embeddings(settings).__name__ == "aembed"


@pytest.mark.parametrize(
    ("embed", "words"),
    [
        ("./missing.py:embed", "file not found"),
        ("./emb.py:nope", "variable 'nope' not found in ./emb.py"),
        ("./emb.py:not_callable", "'not_callable' is a int, not an Embeddings or a function"),
        ("nosuchpkg.mod:embed", "importing nosuchpkg.mod failed: ModuleNotFoundError"),
    ],
)
def test_bad_embed_stops_loading_the_graphs(tmp_path: Path, embed: str, words: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_graphs(settings_for(tmp_path, embed))
    assert f"store.index.embed {embed!r}" in str(info.value) and words in str(info.value)


def test_provider_string_needs_langchain(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "langchain", None)  # import langchain fails
    with pytest.raises(ConfigError) as info:
        load_embeddings(settings_for(tmp_path, "openai:text-embedding-3-small"))
    assert "names an embeddings provider: loading it needs the langchain package" in str(info.value)


def test_provider_string_goes_to_init_embeddings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []

    def init_embeddings(spec: str) -> Any:
        calls.append(spec)
        if spec.startswith("nope:"):
            raise ValueError("Unsupported provider='nope'")
        return lambda texts: [[1.0, 0.0, 0.0] for _ in texts]

    fake = types.ModuleType("langchain.embeddings")
    fake.init_embeddings = init_embeddings  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "langchain", types.ModuleType("langchain"))
    monkeypatch.setitem(sys.modules, "langchain.embeddings", fake)
    embed = load_embeddings(settings_for(tmp_path, "fake:model-1"))
    assert calls == ["fake:model-1"] and embed(["x"]) == [[1.0, 0.0, 0.0]]
    with pytest.raises(ConfigError, match=r"'nope:m'.*ValueError: Unsupported provider='nope'"):
        load_embeddings(settings_for(tmp_path, "nope:m"))


def test_serve_refuses_to_start_on_a_bad_embed(tmp_path: Path) -> None:
    config = write_config(tmp_path, {"index": {"embed": "./emb.py:nope", "dims": 3}})
    proc = subprocess.run(
        [sys.executable, "-m", "graphport", "serve", "--config", str(config), "--port", "1"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode != 0
    assert "store.index.embed './emb.py:nope': variable 'nope' not found" in proc.stderr


# -- what langgraph's stores are given -----------------------------------------------------------


def test_index_and_ttl_configs(tmp_path: Path) -> None:
    config = write_config(
        tmp_path,
        {
            "index": {"embed": "./emb.py:embed", "dims": 3, "fields": ["text"]},
            "ttl": {"default_ttl": 2, "sweep_interval_minutes": 0.5},
        },
    )
    settings = load_settings(config=str(config), database_url=":memory:")
    index = index_config(settings, load_embeddings(settings))
    assert index is not None
    assert index["dims"] == 3 and index["fields"] == ["text"] and index["text_fields"] == ["text"]
    assert isinstance(index["embed"], CheckedEmbeddings)
    assert ttl_config(settings.store) == {
        "refresh_on_read": True,
        "default_ttl": 2.0,
        "sweep_interval_minutes": 0.5,
    }
    assert store_options(settings, load_embeddings(settings)).ttl == ttl_config(settings.store)
    # no block: items put with a ttl of their own still refresh and are swept
    assert ttl_config(StoreSettings()) == {"refresh_on_read": True, "sweep_interval_minutes": 5.0}


async def test_embedding_dims_are_checked() -> None:
    index = StoreIndex(embed="./e.py:f", dims=2)
    good = CheckedEmbeddings(ensure_embeddings(lambda texts: [[1.0, 0.0] for _ in texts]), index)
    assert good.embed_query("x") == [1.0, 0.0]
    assert await good.aembed_documents(["x", "y"]) == [[1.0, 0.0], [1.0, 0.0]]
    bad = CheckedEmbeddings(ensure_embeddings(lambda texts: [[1.0] for _ in texts]), index)
    with pytest.raises(errors.GraphportError, match=r"1 dimensions, but store\.index\.dims is 2"):
        bad.embed_documents(["x"])
    with pytest.raises(errors.GraphportError):
        await bad.aembed_query("x")


# -- SQLite: vector distances --------------------------------------------------------------------


def blob(*values: float) -> bytes:
    return struct.pack(f"{len(values)}f", *values)


def test_python_distances_are_sqlite_vecs() -> None:
    cosine, l2, l1 = (DISTANCES[n] for n in ("vec_distance_cosine", "vec_distance_L2",
                                             "vec_distance_L1"))  # fmt: skip
    assert cosine(blob(1, 2), blob(2, 4)) == pytest.approx(0.0, abs=1e-9)
    assert cosine(blob(1, 0), blob(-1, 0)) == pytest.approx(2.0)
    assert cosine(blob(1, 0), blob(1, 1)) == pytest.approx(1 - 1 / math.sqrt(2))
    assert cosine(blob(0, 0), blob(1, 1)) is None
    assert l2(blob(0, 0), blob(1, 1)) == pytest.approx(math.sqrt(2))
    assert l1(blob(0, 0), blob(1, 1)) == pytest.approx(2.0)
    with pytest.raises(ValueError, match="dimension mismatch"):
        cosine(blob(1, 0), blob(1, 0, 0))


@pytest.mark.parametrize("native", [False, True], ids=["python-distances", "sqlite-vec"])
async def test_sqlite_store_searches_with_either_distances(
    native: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if native and not store_module.CAN_LOAD_EXTENSIONS:
        pytest.skip("this Python's sqlite3 module cannot load extensions")
    monkeypatch.setattr(store_module, "CAN_LOAD_EXTENSIONS", native)

    def embed(texts: list[str]) -> list[list[float]]:
        return [[float("cat" in t), float("dog" in t), 1.0] for t in texts]

    index = StoreIndex(embed="test", dims=3, fields=("text",))
    config = {"dims": 3, "embed": CheckedEmbeddings(ensure_embeddings(embed), index),
              "fields": ["text"], "text_fields": ["text"]}  # fmt: skip
    conn = await connect_sqlite(":memory:")
    try:
        store = AsyncSqliteStore(conn, index=config, ttl={"refresh_on_read": True})  # type: ignore[arg-type]
        await store.setup()
        assert conn.vectors == ("sqlite-vec" if native else "graphport's Python distances")
        await store.aput(("a",), "cat", {"text": "a cat"})
        await store.aput(("a",), "dog", {"text": "a dog"})
        found = await store.asearch(("a",), query="cat")
        assert [i.key for i in found] == ["cat", "dog"]
        assert found[0].score == pytest.approx(1.0) and found[1].score == pytest.approx(0.5)
        # put again without an index: its vectors go (foreign keys are on)
        await store.aput(("a",), "cat", {"text": "a cat"}, index=False)
        assert [i.key for i in await store.asearch(("a",), query="cat")] == ["dog"]
    finally:
        await conn.close()


def test_embeddings_cache_is_per_config(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = load_embeddings(settings_for(tmp_path / "a", "./emb.py:embed"))
    second = load_embeddings(settings_for(tmp_path / "b", "./emb.py:embed"))
    assert first is not second
    assert len([k for k in graphs._embeddings if k[0].startswith(str(tmp_path))]) == 2
