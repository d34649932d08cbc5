"""langgraph's store (long-term memory) as the `store` block of langgraph.json configures it.

`index_config` and `ttl_config` are what langgraph's stores take. Semantic search needs vector
distances in the database: on SQLite, sqlite-vec's functions (the extension, or the same three
functions in Python where this Python's sqlite3 cannot load extensions); on PostgreSQL, the
pgvector extension, without which the server refuses to start. Expired items are deleted by the
store's own sweeper (`start_ttl_sweeper`), started by the backend once the store is set up.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import math
import operator
import sqlite3
import struct
from collections.abc import Callable
from typing import Any

import aiosqlite
from langchain_core.embeddings import Embeddings
from langgraph.store.base import ensure_embeddings

from graphport import errors
from graphport.config import Settings, StoreIndex, StoreSettings

__all__ = [
    "StoreOptions",
    "VectorConnection",
    "check_pgvector",
    "connect_sqlite",
    "fractional_ttls",
    "replace_vectors_on_put",
    "store_options",
]

log = logging.getLogger("graphport.store")


@dataclasses.dataclass(frozen=True)
class StoreOptions:
    """What a backend opens its store with."""

    settings: StoreSettings = dataclasses.field(default_factory=StoreSettings)
    index: dict[str, Any] | None = None  # langgraph's IndexConfig, the embedding loaded

    @property
    def ttl(self) -> dict[str, Any]:
        return ttl_config(self.settings)

    def log_opened(self, vectors: str) -> None:
        log.info("%s", describe(self.settings, vectors))


def store_options(settings: Settings, embeddings: Any = None) -> StoreOptions:
    return StoreOptions(settings.store, index_config(settings, embeddings))


def index_config(settings: Settings, embeddings: Any = None) -> dict[str, Any] | None:
    """The `index` argument of langgraph's stores, or None. `embeddings` is what
    `store.index.embed` names, loaded by the caller (`graphs.load_embeddings`): storage loads
    no user code."""
    index = settings.store.index
    if index is None:
        return None
    embed = CheckedEmbeddings(ensure_embeddings(embeddings), index)
    fields = list(index.fields)
    # AsyncSqliteStore reads the fields from `text_fields`, the other stores from `fields`
    return {**index.extra, "dims": index.dims, "embed": embed, "fields": fields,
            "text_fields": fields}  # fmt: skip


def ttl_config(store: StoreSettings) -> dict[str, Any]:
    """The `ttl` argument of langgraph's stores. Always given: without it they neither refresh
    nor sweep the items `put` with a `ttl` of their own."""
    ttl = store.ttl
    config: dict[str, Any] = {
        "refresh_on_read": ttl.refresh_on_read,
        "sweep_interval_minutes": ttl.sweep_interval_minutes,
    }
    if ttl.default_ttl is not None:
        config["default_ttl"] = ttl.default_ttl
    return config


def describe(store: StoreSettings, vectors: str) -> str:
    """One log line on what the store does."""
    ttl = store.ttl
    expiry = (
        f"items expire {ttl.default_ttl:g} min after their last "
        f"{'read or write' if ttl.refresh_on_read else 'write'}"
        if ttl.default_ttl is not None
        else "items expire only with a ttl of their own"
    )
    expiry += f", swept every {ttl.sweep_interval_minutes:g} min"
    index = store.index
    if index is None:
        return f"store: {expiry}; no semantic search (no store.index)"
    return (
        f"store: semantic search with {index.embed} ({index.dims} dims, fields "
        f"{list(index.fields)}, vectors by {vectors}); {expiry}"
    )


class CheckedEmbeddings(Embeddings):
    """The configured embedding, its vectors checked against `store.index.dims` (SQLite would
    store vectors of any length and fail only when comparing them)."""

    def __init__(self, inner: Embeddings, index: StoreIndex) -> None:
        self.inner = inner
        self.index = index

    def _checked(self, vectors: list[list[float]]) -> list[list[float]]:
        for vector in vectors:
            if len(vector) != self.index.dims:
                raise errors.GraphportError(
                    f"The embedding {self.index.embed} returned a vector of {len(vector)} "
                    f"dimensions, but store.index.dims is {self.index.dims}"
                )
        return vectors

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._checked(self.inner.embed_documents(texts))

    def embed_query(self, text: str) -> list[float]:
        return self._checked([self.inner.embed_query(text)])[0]

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._checked(await self.inner.aembed_documents(texts))

    async def aembed_query(self, text: str) -> list[float]:
        return self._checked([await self.inner.aembed_query(text)])[0]


# -- SQLite: sqlite-vec, or its distance functions in Python ----------------------------------

# Python's sqlite3 is often built without extension loading (pyenv's and macOS's defaults).
CAN_LOAD_EXTENSIONS = hasattr(sqlite3.Connection, "enable_load_extension")


@functools.cache
def _origin(dims: int) -> tuple[float, ...]:
    return (0.0,) * dims


@functools.lru_cache(maxsize=16)
def _vector(blob: bytes) -> tuple[tuple[float, ...], float]:
    """A float32 vector as sqlite-vec stores it (`serialize_float32`: native order) and its norm.
    Cached: the query's vector is an argument of every row's distance."""
    vector = struct.unpack(f"{len(blob) // 4}f", blob)
    return vector, math.dist(vector, _origin(len(vector)))


def _pair(x: bytes, y: bytes) -> tuple[tuple[float, ...], float, tuple[float, ...], float]:
    (a, norm_a), (b, norm_b) = _vector(x), _vector(y)
    if len(a) != len(b):
        raise ValueError(
            f"Vector dimension mismatch: the first vector has {len(a)} dimensions, "
            f"the second {len(b)}"
        )
    return a, norm_a, b, norm_b


def _cosine(x: bytes, y: bytes) -> float | None:
    a, norm_a, b, norm_b = _pair(x, y)
    if norm_a == 0 or norm_b == 0:
        return None  # as sqlite-vec: no direction, no distance
    # a.b from the norms and the distance: every step in C, no per-element Python loop
    dot = (norm_a * norm_a + norm_b * norm_b - math.dist(a, b) ** 2) / 2
    return 1.0 - dot / (norm_a * norm_b)


def _l2(x: bytes, y: bytes) -> float:
    a, _, b, _ = _pair(x, y)
    return math.dist(a, b)


def _l1(x: bytes, y: bytes) -> float:
    a, _, b, _ = _pair(x, y)
    return math.fsum(map(abs, map(operator.sub, a, b)))


# The sqlite-vec functions AsyncSqliteStore's queries use.
DISTANCES: dict[str, Callable[[bytes, bytes], float | None]] = {
    "vec_distance_cosine": _cosine,
    "vec_distance_L2": _l2,
    "vec_distance_L1": _l1,
}


class VectorConnection(aiosqlite.Connection):
    """The store's connection. AsyncSqliteStore's `setup()` loads sqlite-vec for its vector
    distances; where it cannot, the same functions are defined in Python instead (slower on
    large stores, same results). `vectors` says which."""

    vectors = "none"

    async def enable_load_extension(self, value: bool) -> None:
        if CAN_LOAD_EXTENSIONS:
            await super().enable_load_extension(value)

    async def load_extension(self, path: str) -> None:
        reason = "this Python's sqlite3 module cannot load extensions"
        if CAN_LOAD_EXTENSIONS:
            try:
                await super().load_extension(path)
                self.vectors = "sqlite-vec"
                return
            except sqlite3.Error as exc:
                reason = f"sqlite-vec could not be loaded: {exc}"
        for name, fn in DISTANCES.items():
            await self.create_function(name, 2, fn, deterministic=True)
        self.vectors = "graphport's Python distances"
        log.warning(
            "semantic search on SQLite uses Python distances (%s); it works, but is slower on "
            "large stores than with a Python whose sqlite3 can load extensions",
            reason,
        )


async def connect_sqlite(path: str) -> VectorConnection:
    """An autocommit connection for the store, deleting an item's vectors with the item."""
    conn = VectorConnection(
        functools.partial(sqlite3.connect, path, isolation_level=None), iter_chunk_size=64
    )
    await conn
    await conn.execute("PRAGMA busy_timeout=10000")
    # store_vectors references store ON DELETE CASCADE: without this, deleted, replaced and
    # expired items would keep their vectors (and a re-put with index=false stay searchable).
    await conn.execute("PRAGMA foreign_keys=ON")
    return conn


# -- PostgreSQL: pgvector ---------------------------------------------------------------------


async def check_pgvector(conn: Any, location: str) -> None:
    """Refuse to start with `store.index` on a server that has no pgvector to install."""
    cur = await conn.execute(
        "SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'vector') AS ok,"
        " current_setting('server_version_num')::int / 10000 AS major"
    )
    row = await cur.fetchone()
    if not row["ok"]:
        raise errors.GraphportError(
            "store.index (semantic search) needs the pgvector extension, which the PostgreSQL "
            f"server at {location} does not have ('vector' is not in pg_available_extensions). "
            f"Install pgvector on that server (for example the postgresql-{row['major']}-pgvector "
            "package of apt.postgresql.org, or the pgvector/pgvector Docker image), or remove "
            "store.index from langgraph.json to serve the store without semantic search"
        )


async def fractional_ttls(conn: Any) -> None:
    """Let PostgreSQL keep an item's TTL in fractions of a minute, as SQLite does: langgraph's
    PostgresStore declares `ttl_minutes INT`, so a read would refresh a `ttl` of 0.5 to 0
    minutes (the item then expires at once) while the put had honoured it."""
    await conn.execute(
        "DO $$ BEGIN"
        " IF (SELECT data_type FROM information_schema.columns WHERE table_schema ="
        " current_schema() AND table_name = 'store' AND column_name = 'ttl_minutes')"
        " = 'integer' THEN"
        " ALTER TABLE store ALTER COLUMN ttl_minutes TYPE double precision;"
        " END IF; END $$"
    )


async def replace_vectors_on_put(conn: Any) -> None:
    """Make a put replace the item's vectors, as on SQLite: langgraph's PostgresStore upserts the
    new vectors over the old but leaves those it does not write, so an item put again with
    `index: false` (or other fields) stayed findable by its old text."""
    await conn.execute(
        "CREATE OR REPLACE FUNCTION graphport_store_put() RETURNS trigger LANGUAGE plpgsql AS $$"
        " BEGIN DELETE FROM store_vectors WHERE prefix = NEW.prefix AND key = NEW.key;"
        " RETURN NULL; END $$"
    )
    # OF value: a put (its upsert sets the value), not a read refreshing the expiry
    await conn.execute(
        "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname ="
        " 'graphport_store_put' AND tgrelid = 'store'::regclass) THEN"
        " CREATE TRIGGER graphport_store_put AFTER UPDATE OF value ON store"
        " FOR EACH ROW EXECUTE FUNCTION graphport_store_put(); END IF; END $$"
    )
