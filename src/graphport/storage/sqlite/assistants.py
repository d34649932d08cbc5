"""Assistants in SQLite: the `assistants` table holds each assistant's current version, and
`assistant_versions` every version ever stored (migration 4)."""

from __future__ import annotations

import sqlite3
from typing import Any, cast

import orjson

from graphport import errors
from graphport.auth.filters import Conditions
from graphport.models import Assistant
from graphport.storage.base import AssistantVersion, assistant_changes
from graphport.storage.sqlite.connection import SqliteBase
from graphport.storage.sqlite.dialect import SQLITE, register_functions
from graphport.storage.sqlite.rows import dumps, now_iso
from graphport.storage.where import Where, assistant_filters

_COLUMNS = (
    "assistant_id, graph_id, config, context, metadata, name, created_at, updated_at, version,"
    " description"
)
_VERSION_COLUMNS = (
    "assistant_id, version, graph_id, config, context, metadata, created_at, name, description"
)
# Sort keys: names and graph ids compare case-insensitively (Unicode-aware, unlike SQLite's
# lower()), through the function registered by sqlite.dialect.register_functions.
_SORT_KEYS = {
    "assistant_id": "assistant_id",
    "graph_id": "graphport_lower(graph_id)",
    "name": "graphport_lower(name)",
    "created_at": "created_at",
    "updated_at": "updated_at",
}


def _assistant(row: tuple[Any, ...]) -> Assistant:
    # keys in the reference's order: clients diffing raw bodies see the same bytes
    return {
        "assistant_id": row[0],
        "graph_id": row[1],
        "config": orjson.loads(row[2]),
        "context": orjson.loads(row[3]),
        "metadata": orjson.loads(row[4]),
        "name": row[5],
        "created_at": row[6],
        "updated_at": row[7],
        "version": row[8],
        "description": row[9],
    }


def _version(row: tuple[Any, ...]) -> AssistantVersion:
    return {
        "assistant_id": row[0],
        "version": row[1],
        "graph_id": row[2],
        "config": orjson.loads(row[3]),
        "context": orjson.loads(row[4]),
        "metadata": orjson.loads(row[5]),
        "created_at": row[6],
        "name": row[7],
        "description": row[8],
    }


def _current(conn: sqlite3.Connection, assistant_id: str) -> Assistant | None:
    row = conn.execute(
        f"SELECT {_COLUMNS} FROM assistants WHERE assistant_id = ?", (assistant_id,)
    ).fetchone()
    return _assistant(row) if row else None


def _insert(conn: sqlite3.Connection, a: Assistant) -> None:
    conn.execute(
        f"INSERT INTO assistants ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            a["assistant_id"],
            a["graph_id"],
            dumps(a["config"]),
            dumps(a["context"]),
            dumps(a["metadata"]),
            a["name"],
            a["created_at"],
            a["updated_at"],
            a["version"],
            a["description"],
        ),
    )
    _insert_version(conn, a, a["version"], a["created_at"])


def _insert_version(conn: sqlite3.Connection, a: Assistant, version: int, at: str) -> None:
    conn.execute(
        f"INSERT INTO assistant_versions ({_VERSION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            a["assistant_id"],
            version,
            a["graph_id"],
            dumps(a["config"]),
            dumps(a["context"]),
            dumps(a["metadata"]),
            at,
            a["name"],
            a["description"],
        ),
    )


def _make_current(conn: sqlite3.Connection, a: Assistant) -> None:
    conn.execute(
        "UPDATE assistants SET graph_id = ?, config = ?, context = ?, metadata = ?, name = ?,"
        " description = ?, version = ?, updated_at = ? WHERE assistant_id = ?",
        (
            a["graph_id"],
            dumps(a["config"]),
            dumps(a["context"]),
            dumps(a["metadata"]),
            a["name"],
            a["description"],
            a["version"],
            a["updated_at"],
            a["assistant_id"],
        ),
    )


def _new_version(conn: sqlite3.Connection, current: Assistant, **changes: Any) -> Assistant:
    """Store `current` with `changes` as the next version and make it current."""
    highest = conn.execute(
        "SELECT max(version) FROM assistant_versions WHERE assistant_id = ?",
        (current["assistant_id"],),
    ).fetchone()[0]
    now = now_iso()
    version = max(highest or 0, current["version"]) + 1
    updated = cast(Assistant, {**current, **changes, "version": version, "updated_at": now})
    _insert_version(conn, updated, updated["version"], now)
    _make_current(conn, updated)
    return updated


class AssistantsMixin(SqliteBase):
    # Every run reads its assistant: keep them in memory. Exact because this process is the
    # database's only writer (every write below drops the entry it changes); not used when
    # several processes share the file.
    _assistant_cache: dict[str, Assistant]

    def _forget_assistant(self, assistant_id: str) -> None:
        self._assistant_cache.pop(assistant_id, None)

    # -- assistants --------------------------------------------------------------------------

    async def sync_system_assistant(self, assistant: Assistant) -> Assistant:
        def op(conn: sqlite3.Connection) -> Assistant:
            current = _current(conn, assistant["assistant_id"])
            if current is None:
                _insert(conn, assistant)
                return _current(conn, assistant["assistant_id"]) or assistant
            if (current["name"], current["description"]) == (
                assistant["name"],
                assistant["description"],
            ):
                return current
            return _new_version(
                conn, current, name=assistant["name"], description=assistant["description"]
            )

        try:
            return await self._submit(op)
        finally:  # after the write, so a read in flight cannot re-cache the old row
            self._forget_assistant(assistant["assistant_id"])

    async def create_assistant(self, assistant: Assistant, *, if_exists: str) -> Assistant:
        def op(conn: sqlite3.Connection) -> Assistant:
            current = _current(conn, assistant["assistant_id"])
            if current is not None:
                if if_exists == "do_nothing":
                    return current
                raise errors.assistant_exists(assistant["assistant_id"])
            _insert(conn, assistant)
            return _current(conn, assistant["assistant_id"]) or assistant

        try:
            return await self._submit(op)
        finally:  # after the write, so a read in flight cannot re-cache the old row
            self._forget_assistant(assistant["assistant_id"])

    async def get_assistant(self, assistant_id: str) -> Assistant | None:
        cached = self._assistant_cache.get(assistant_id)
        if cached is not None:
            return cached
        found = await self._submit(lambda conn: _current(conn, assistant_id))
        if found is not None and not self.shared:
            self._assistant_cache[assistant_id] = found
        return found

    async def search_assistants(
        self,
        *,
        graph_id: str | None,
        name: str | None,
        metadata: dict[str, Any] | None,
        limit: int,
        offset: int,
        sort_by: str,
        sort_order: str,
        graph_ids: list[str] | None = None,
        visible: Conditions | None = None,
    ) -> tuple[list[Assistant], int]:
        where, args = assistant_filters(SQLITE, graph_id=graph_id, name=name, metadata=metadata,
                                        graph_ids=graph_ids, visible=visible)  # fmt: skip
        order = "ASC" if sort_order.lower() == "asc" else "DESC"
        key = _SORT_KEYS[sort_by]

        def op(conn: sqlite3.Connection) -> tuple[list[Assistant], int]:
            register_functions(conn)
            total = conn.execute(f"SELECT count(*) FROM assistants WHERE {where}", args)
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM assistants WHERE {where}"
                f" ORDER BY {key} {order}, assistant_id {order} LIMIT ? OFFSET ?",
                [*args, limit, offset],
            ).fetchall()
            return [_assistant(r) for r in rows], total.fetchone()[0]

        return await self._submit(op)

    async def count_assistants(
        self,
        *,
        graph_id: str | None,
        name: str | None,
        metadata: dict[str, Any] | None,
        graph_ids: list[str] | None = None,
        visible: Conditions | None = None,
    ) -> int:
        where, args = assistant_filters(SQLITE, graph_id=graph_id, name=name, metadata=metadata,
                                        graph_ids=graph_ids, visible=visible)  # fmt: skip

        def op(conn: sqlite3.Connection) -> int:
            register_functions(conn)
            return int(
                conn.execute(f"SELECT count(*) FROM assistants WHERE {where}", args).fetchone()[0]
            )

        return await self._submit(op)

    async def update_assistant(
        self,
        assistant_id: str,
        *,
        graph_id: str | None = None,
        config: dict[str, Any] | None = None,
        context: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
        name: str | None = None,
        description: str | None = None,
    ) -> Assistant | None:
        def op(conn: sqlite3.Connection) -> Assistant | None:
            current = _current(conn, assistant_id)
            if current is None:
                return None
            changes = assistant_changes(
                current,
                graph_id=graph_id,
                config=config,
                context=context,
                metadata=metadata,
                name=name,
                description=description,
            )
            return _new_version(conn, current, **changes)

        try:
            return await self._submit(op)
        finally:  # after the write, so a read in flight cannot re-cache the old row
            self._forget_assistant(assistant_id)

    async def delete_assistant(self, assistant_id: str) -> bool:
        def op(conn: sqlite3.Connection) -> bool:
            conn.execute("DELETE FROM assistant_versions WHERE assistant_id = ?", (assistant_id,))
            cur = conn.execute("DELETE FROM assistants WHERE assistant_id = ?", (assistant_id,))
            return cur.rowcount > 0

        try:
            return await self._submit(op)
        finally:  # after the write, so a read in flight cannot re-cache the old row
            self._forget_assistant(assistant_id)

    async def list_assistant_versions(
        self, assistant_id: str, *, metadata: dict[str, Any] | None, limit: int, offset: int
    ) -> list[AssistantVersion] | None:
        def op(conn: sqlite3.Connection) -> list[AssistantVersion] | None:
            if _current(conn, assistant_id) is None:
                return None
            register_functions(conn)
            versions = Where(SQLITE).add(SQLITE.equal("assistant_id", assistant_id))
            if metadata:
                versions.add(SQLITE.contains("metadata", metadata))
            where, args = versions.sql()
            rows = conn.execute(
                f"SELECT {_VERSION_COLUMNS} FROM assistant_versions WHERE {where}"
                " ORDER BY version DESC LIMIT ? OFFSET ?",
                [*args, limit, offset],
            ).fetchall()
            return [_version(r) for r in rows]

        return await self._submit(op)

    async def set_latest_assistant_version(self, assistant_id: str, version: int) -> Assistant:
        def op(conn: sqlite3.Connection) -> Assistant:
            current = _current(conn, assistant_id)
            if current is None:
                raise errors.NotFound(f"Assistant {assistant_id} not found")
            row = conn.execute(
                f"SELECT {_VERSION_COLUMNS} FROM assistant_versions"
                " WHERE assistant_id = ? AND version = ?",
                (assistant_id, version),
            ).fetchone()
            if row is None:
                raise errors.NotFound(f"Version {version} not found for assistant {assistant_id}")
            stored = _version(row)
            latest: Assistant = {
                **current,
                "graph_id": stored["graph_id"],
                "config": stored["config"],
                "context": stored["context"],
                "metadata": stored["metadata"],
                "name": stored["name"],
                "description": stored["description"],
                "version": stored["version"],
                "updated_at": now_iso(),
            }
            _make_current(conn, latest)
            return latest

        try:
            return await self._submit(op)
        finally:  # after the write, so a read in flight cannot re-cache the old row
            self._forget_assistant(assistant_id)
