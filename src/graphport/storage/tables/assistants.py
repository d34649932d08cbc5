"""Assistants: `assistants` holds each assistant's current version, `assistant_versions` every
version ever stored. `name_lower` / `graph_id_lower` are Python's `str.lower()` of the name and
graph id: searches and sorts compare case-insensitively in byte order on either backend."""

from __future__ import annotations

from typing import Any, cast

from graphport import errors
from graphport.auth.filters import Conditions
from graphport.models import Assistant, iso
from graphport.storage.base import AssistantVersion, assistant_changes
from graphport.storage.db import Db, Row
from graphport.storage.tables.flows import Flows
from graphport.storage.where import Where, assistant_filters

_COLUMNS = (
    "assistant_id, graph_id, config, context, metadata, name, created_at, updated_at, version,"
    " description"
)
_VERSION_COLUMNS = (
    "assistant_id, version, graph_id, config, context, metadata, created_at, name, description"
)
_SORT_KEYS = {
    "assistant_id": "assistant_id",
    "graph_id": "graph_id_lower",
    "name": "name_lower",
    "created_at": "created_at",
    "updated_at": "updated_at",
}


def _assistant(db: Db, row: Row) -> Assistant:
    # keys in the reference's order: clients diffing raw bodies see the same bytes
    return {
        "assistant_id": row[0],
        "graph_id": row[1],
        "config": db.from_json(row[2]),
        "context": db.from_json(row[3]),
        "metadata": db.from_json(row[4]),
        "name": db.from_text(row[5]) or "",
        "created_at": db.from_ts(row[6]),
        "updated_at": db.from_ts(row[7]),
        "version": row[8],
        "description": db.from_text(row[9]),
    }


def _version(db: Db, row: Row) -> AssistantVersion:
    return {
        "assistant_id": row[0],
        "version": row[1],
        "graph_id": row[2],
        "config": db.from_json(row[3]),
        "context": db.from_json(row[4]),
        "metadata": db.from_json(row[5]),
        "created_at": db.from_ts(row[6]),
        "name": db.from_text(row[7]) or "",
        "description": db.from_text(row[8]),
    }


async def _current(db: Db, assistant_id: str, *, lock: bool = False) -> Assistant | None:
    row = await db.one(
        f"SELECT {_COLUMNS} FROM assistants WHERE assistant_id = ?"
        + (db.for_update if lock else ""),
        (assistant_id,),
    )
    return _assistant(db, row) if row else None


async def _insert(db: Db, a: Assistant) -> bool:
    """Insert the assistant and its version row; False if the id is taken."""
    inserted = await db.count(
        f"INSERT INTO assistants ({_COLUMNS}, name_lower, graph_id_lower)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (assistant_id) DO NOTHING",
        (
            a["assistant_id"],
            a["graph_id"],
            db.json(a["config"]),
            db.json(a["context"]),
            db.json(a["metadata"]),
            db.text(a["name"]),
            db.ts(a["created_at"]),
            db.ts(a["updated_at"]),
            a["version"],
            db.text(a["description"]),
            db.text(a["name"].lower()),
            a["graph_id"].lower(),
        ),
    )
    if not inserted:
        return False
    await _insert_version(db, a, a["version"], a["created_at"])
    return True


async def _insert_version(db: Db, a: Assistant, version: int, at: str) -> None:
    await db.execute(
        f"INSERT INTO assistant_versions ({_VERSION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            a["assistant_id"],
            version,
            a["graph_id"],
            db.json(a["config"]),
            db.json(a["context"]),
            db.json(a["metadata"]),
            db.ts(at),
            db.text(a["name"]),
            db.text(a["description"]),
        ),
    )


async def _make_current(db: Db, a: Assistant) -> None:
    await db.execute(
        "UPDATE assistants SET graph_id = ?, config = ?, context = ?, metadata = ?, name = ?,"
        " description = ?, version = ?, updated_at = ?, name_lower = ?, graph_id_lower = ?"
        " WHERE assistant_id = ?",
        (
            a["graph_id"],
            db.json(a["config"]),
            db.json(a["context"]),
            db.json(a["metadata"]),
            db.text(a["name"]),
            db.text(a["description"]),
            a["version"],
            db.ts(a["updated_at"]),
            db.text(a["name"].lower()),
            a["graph_id"].lower(),
            a["assistant_id"],
        ),
    )


async def _new_version(db: Db, current: Assistant, **changes: Any) -> Assistant:
    """Store `current` (locked) with `changes` as the next version and make it current."""
    row = await db.one(
        "SELECT max(version) FROM assistant_versions WHERE assistant_id = ?",
        (current["assistant_id"],),
    )
    highest = row[0] if row else None
    now = iso()
    version = max(highest or 0, current["version"]) + 1
    updated = cast(Assistant, {**current, **changes, "version": version, "updated_at": now})
    await _insert_version(db, updated, updated["version"], now)
    await _make_current(db, updated)
    return updated


async def _sync_system(db: Db, assistant: Assistant) -> Assistant:
    if await _insert(db, assistant):
        return await _current(db, assistant["assistant_id"]) or assistant
    current = await _current(db, assistant["assistant_id"], lock=True)
    if current is None:  # deleted since: nothing to sync against
        return assistant
    if (current["name"], current["description"]) == (assistant["name"], assistant["description"]):
        return current
    return await _new_version(
        db, current, name=assistant["name"], description=assistant["description"]
    )


async def _create(db: Db, assistant: Assistant, if_exists: str) -> Assistant:
    if await _insert(db, assistant):
        return await _current(db, assistant["assistant_id"]) or assistant
    current = await _current(db, assistant["assistant_id"])
    if if_exists == "do_nothing" and current is not None:
        return current
    raise errors.assistant_exists(assistant["assistant_id"])


async def _search(
    db: Db, filters: dict[str, Any], limit: int, offset: int, sort_by: str, sort_order: str
) -> tuple[list[Assistant], int]:
    where, args = assistant_filters(db.where, **filters)
    order = "ASC" if sort_order.lower() == "asc" else "DESC"
    key = _SORT_KEYS[sort_by]
    total = await db.one(f"SELECT count(*) FROM assistants WHERE {where}", args)
    rows = await db.all(
        f"SELECT {_COLUMNS} FROM assistants WHERE {where}"
        f" ORDER BY {key} {order}, assistant_id {order} LIMIT ? OFFSET ?",
        [*args, limit, offset],
    )
    return [_assistant(db, r) for r in rows], int(total[0]) if total else 0


async def _count(db: Db, filters: dict[str, Any]) -> int:
    where, args = assistant_filters(db.where, **filters)
    row = await db.one(f"SELECT count(*) FROM assistants WHERE {where}", args)
    return int(row[0]) if row else 0


async def _update(db: Db, assistant_id: str, fields: dict[str, Any]) -> Assistant | None:
    current = await _current(db, assistant_id, lock=True)
    if current is None:
        return None
    return await _new_version(db, current, **assistant_changes(current, **fields))


async def _delete(db: Db, assistant_id: str) -> bool:
    await db.execute("DELETE FROM assistant_versions WHERE assistant_id = ?", (assistant_id,))
    return await db.count("DELETE FROM assistants WHERE assistant_id = ?", (assistant_id,)) > 0


async def _versions(
    db: Db, assistant_id: str, metadata: dict[str, Any] | None, limit: int, offset: int
) -> list[AssistantVersion] | None:
    if await _current(db, assistant_id) is None:
        return None
    versions = Where(db.where).add(db.where.equal("assistant_id", assistant_id))
    if metadata:
        versions.add(db.where.contains("metadata", metadata))
    where, args = versions.sql()
    rows = await db.all(
        f"SELECT {_VERSION_COLUMNS} FROM assistant_versions WHERE {where}"
        " ORDER BY version DESC LIMIT ? OFFSET ?",
        [*args, limit, offset],
    )
    return [_version(db, r) for r in rows]


async def _set_latest(db: Db, assistant_id: str, version: int) -> Assistant:
    current = await _current(db, assistant_id, lock=True)
    if current is None:
        raise errors.NotFound(f"Assistant {assistant_id} not found")
    row = await db.one(
        f"SELECT {_VERSION_COLUMNS} FROM assistant_versions WHERE assistant_id = ? AND version = ?",
        (assistant_id, version),
    )
    if row is None:
        raise errors.NotFound(f"Version {version} not found for assistant {assistant_id}")
    stored = _version(db, row)
    latest: Assistant = {
        **current,
        "graph_id": stored["graph_id"],
        "config": stored["config"],
        "context": stored["context"],
        "metadata": stored["metadata"],
        "name": stored["name"],
        "description": stored["description"],
        "version": stored["version"],
        "updated_at": iso(),
    }
    await _make_current(db, latest)
    return latest


class AssistantTables(Flows):
    """The assistant methods of `Storage`, on any backend.

    Every run reads its assistant, so they are kept in memory. For a process that is its
    database's only writer the copy is exact: every write below drops the entry it changes
    (after the write, so a read in flight cannot re-cache the old row). Where processes share
    the database, only runs use the copy (`assistant_for_run`), and the run's insert checks in
    the same statement that the copy is still current (tables/runs.py, `_ASSISTANT_CURRENT`).
    """

    shared: bool
    _assistant_cache: dict[str, Assistant]

    async def _changing(self, assistant_id: str, flow: Any, *args: Any) -> Any:
        try:
            return await self._flow(flow, *args)
        finally:
            self._assistant_cache.pop(assistant_id, None)

    async def sync_system_assistant(self, assistant: Assistant) -> Assistant:
        result: Assistant = await self._changing(assistant["assistant_id"], _sync_system, assistant)
        return result

    async def create_assistant(self, assistant: Assistant, *, if_exists: str) -> Assistant:
        result: Assistant = await self._changing(
            assistant["assistant_id"], _create, assistant, if_exists
        )
        return result

    async def get_assistant(self, assistant_id: str) -> Assistant | None:
        if self.shared:
            return await self._read(_current, assistant_id)
        return await self.assistant_for_run(assistant_id)

    async def assistant_for_run(self, assistant_id: str) -> Assistant | None:
        cached = self._assistant_cache.get(assistant_id)
        if cached is not None:
            return cached
        found = await self._read(_current, assistant_id)
        if found is not None:
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
        filters = {"graph_id": graph_id, "name": name, "metadata": metadata,
                   "graph_ids": graph_ids, "visible": visible}  # fmt: skip
        return await self._flow(_search, filters, limit, offset, sort_by, sort_order)

    async def count_assistants(
        self,
        *,
        graph_id: str | None,
        name: str | None,
        metadata: dict[str, Any] | None,
        graph_ids: list[str] | None = None,
        visible: Conditions | None = None,
    ) -> int:
        filters = {"graph_id": graph_id, "name": name, "metadata": metadata,
                   "graph_ids": graph_ids, "visible": visible}  # fmt: skip
        return await self._read(_count, filters)

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
        fields = {"graph_id": graph_id, "config": config, "context": context,
                  "metadata": metadata, "name": name, "description": description}  # fmt: skip
        result: Assistant | None = await self._changing(assistant_id, _update, assistant_id, fields)
        return result

    async def delete_assistant(self, assistant_id: str) -> bool:
        return bool(await self._changing(assistant_id, _delete, assistant_id))

    async def list_assistant_versions(
        self, assistant_id: str, *, metadata: dict[str, Any] | None, limit: int, offset: int
    ) -> list[AssistantVersion] | None:
        return await self._flow(_versions, assistant_id, metadata, limit, offset)

    async def set_latest_assistant_version(self, assistant_id: str, version: int) -> Assistant:
        result: Assistant = await self._changing(assistant_id, _set_latest, assistant_id, version)
        return result
