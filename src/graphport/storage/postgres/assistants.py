"""Assistants in PostgreSQL: `assistants` holds each assistant's current version and
`assistant_versions` every version ever stored. Writes lock the assistant's row."""

from __future__ import annotations

from typing import Any, cast

from graphport import errors
from graphport.auth.filters import Conditions
from graphport.models import Assistant, iso
from graphport.storage.base import AssistantVersion, assistant_changes
from graphport.storage.postgres.connection import PostgresBase, Tx
from graphport.storage.postgres.dialect import POSTGRES
from graphport.storage.postgres.rows import iso_of, jsonb, text_in, text_out, ts
from graphport.storage.where import Where, assistant_filters

_COLUMNS = (
    "assistant_id, graph_id, config, context, metadata, name, created_at, updated_at, version,"
    " description"
)
_VERSION_COLUMNS = (
    "assistant_id, version, graph_id, config, context, metadata, created_at, name, description"
)
# Names and graph ids compare case-insensitively through their Python-lowered copies (byte order)
_SORT_KEYS = {
    "assistant_id": "assistant_id",
    "graph_id": "graph_id_lower",
    "name": "name_lower",
    "created_at": "created_at",
    "updated_at": "updated_at",
}


def _assistant(row: dict[str, Any]) -> Assistant:
    # keys in the reference's order: clients diffing raw bodies see the same bytes
    return {
        "assistant_id": row["assistant_id"],
        "graph_id": row["graph_id"],
        "config": row["config"],
        "context": row["context"],
        "metadata": row["metadata"],
        "name": text_out(row["name"]) or "",
        "created_at": iso_of(row["created_at"]),
        "updated_at": iso_of(row["updated_at"]),
        "version": row["version"],
        "description": text_out(row["description"]),
    }


def _version(row: dict[str, Any]) -> AssistantVersion:
    return {
        "assistant_id": row["assistant_id"],
        "version": row["version"],
        "graph_id": row["graph_id"],
        "config": row["config"],
        "context": row["context"],
        "metadata": row["metadata"],
        "created_at": iso_of(row["created_at"]),
        "name": text_out(row["name"]) or "",
        "description": text_out(row["description"]),
    }


async def _current(tx: Tx, assistant_id: str, *, lock: bool = False) -> Assistant | None:
    cur = await tx.execute(
        f"SELECT {_COLUMNS} FROM assistants WHERE assistant_id = %s"
        + (" FOR UPDATE" if lock else ""),
        (assistant_id,),
    )
    row = await cur.fetchone()
    return _assistant(row) if row else None


async def _insert(tx: Tx, a: Assistant) -> bool:
    """Insert the assistant and its version row; False if the id is taken."""
    cur = await tx.execute(
        f"INSERT INTO assistants ({_COLUMNS}, name_lower, graph_id_lower)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
        " ON CONFLICT (assistant_id) DO NOTHING",
        (
            a["assistant_id"],
            a["graph_id"],
            jsonb(a["config"]),
            jsonb(a["context"]),
            jsonb(a["metadata"]),
            text_in(a["name"]),
            ts(a["created_at"]),
            ts(a["updated_at"]),
            a["version"],
            text_in(a["description"]),
            text_in(a["name"].lower()),
            a["graph_id"].lower(),
        ),
    )
    if cur.rowcount == 0:
        return False
    await _insert_version(tx, a, a["version"], a["created_at"])
    return True


async def _insert_version(tx: Tx, a: Assistant, version: int, at: str) -> None:
    await tx.execute(
        f"INSERT INTO assistant_versions ({_VERSION_COLUMNS})"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (
            a["assistant_id"],
            version,
            a["graph_id"],
            jsonb(a["config"]),
            jsonb(a["context"]),
            jsonb(a["metadata"]),
            ts(at),
            text_in(a["name"]),
            text_in(a["description"]),
        ),
    )


async def _make_current(tx: Tx, a: Assistant) -> None:
    await tx.execute(
        "UPDATE assistants SET graph_id = %s, config = %s, context = %s, metadata = %s,"
        " name = %s, description = %s, version = %s, updated_at = %s, name_lower = %s,"
        " graph_id_lower = %s WHERE assistant_id = %s",
        (
            a["graph_id"],
            jsonb(a["config"]),
            jsonb(a["context"]),
            jsonb(a["metadata"]),
            text_in(a["name"]),
            text_in(a["description"]),
            a["version"],
            ts(a["updated_at"]),
            text_in(a["name"].lower()),
            a["graph_id"].lower(),
            a["assistant_id"],
        ),
    )


async def _new_version(tx: Tx, current: Assistant, **changes: Any) -> Assistant:
    """Store `current` (locked) with `changes` as the next version and make it current."""
    cur = await tx.execute(
        "SELECT max(version) AS v FROM assistant_versions WHERE assistant_id = %s",
        (current["assistant_id"],),
    )
    row = await cur.fetchone()
    highest = row["v"] if row else None
    now = iso()
    version = max(highest or 0, current["version"]) + 1
    updated = cast(Assistant, {**current, **changes, "version": version, "updated_at": now})
    await _insert_version(tx, updated, updated["version"], now)
    await _make_current(tx, updated)
    return updated


class AssistantsMixin(PostgresBase):
    # -- assistants --------------------------------------------------------------------------

    async def sync_system_assistant(self, assistant: Assistant) -> Assistant:
        async with self._transaction() as tx:
            if await _insert(tx, assistant):
                return await _current(tx, assistant["assistant_id"]) or assistant
            current = await _current(tx, assistant["assistant_id"], lock=True)
            if current is None:  # deleted since: nothing to sync against
                return assistant
            if (current["name"], current["description"]) == (
                assistant["name"],
                assistant["description"],
            ):
                return current
            return await _new_version(
                tx, current, name=assistant["name"], description=assistant["description"]
            )

    async def create_assistant(self, assistant: Assistant, *, if_exists: str) -> Assistant:
        async with self._transaction() as tx:
            if await _insert(tx, assistant):
                return await _current(tx, assistant["assistant_id"]) or assistant
            current = await _current(tx, assistant["assistant_id"])
        if if_exists == "do_nothing" and current is not None:
            return current
        raise errors.assistant_exists(assistant["assistant_id"])

    async def get_assistant(self, assistant_id: str) -> Assistant | None:
        async with self._transaction(atomic=False) as tx:
            return await _current(tx, assistant_id)

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
        where, args = assistant_filters(POSTGRES, graph_id=graph_id, name=name,
                                        metadata=metadata, graph_ids=graph_ids,
                                        visible=visible)  # fmt: skip
        order = "ASC" if sort_order.lower() == "asc" else "DESC"
        key = _SORT_KEYS[sort_by]
        async with self._transaction() as tx:
            cur = await tx.execute(f"SELECT count(*) AS n FROM assistants WHERE {where}", args)
            total = await cur.fetchone()
            cur = await tx.execute(
                f"SELECT {_COLUMNS} FROM assistants WHERE {where}"
                f" ORDER BY {key} {order}, assistant_id {order} LIMIT %s OFFSET %s",
                [*args, limit, offset],
            )
            rows = await cur.fetchall()
        return [_assistant(r) for r in rows], int(total["n"]) if total else 0

    async def count_assistants(
        self,
        *,
        graph_id: str | None,
        name: str | None,
        metadata: dict[str, Any] | None,
        graph_ids: list[str] | None = None,
        visible: Conditions | None = None,
    ) -> int:
        where, args = assistant_filters(POSTGRES, graph_id=graph_id, name=name,
                                        metadata=metadata, graph_ids=graph_ids,
                                        visible=visible)  # fmt: skip
        row = await self._fetchone(f"SELECT count(*) AS n FROM assistants WHERE {where}", args)
        return int(row["n"]) if row else 0

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
        async with self._transaction() as tx:
            current = await _current(tx, assistant_id, lock=True)
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
            return await _new_version(tx, current, **changes)

    async def delete_assistant(self, assistant_id: str) -> bool:
        async with self._transaction() as tx:
            await tx.execute(
                "DELETE FROM assistant_versions WHERE assistant_id = %s", (assistant_id,)
            )
            cur = await tx.execute(
                "DELETE FROM assistants WHERE assistant_id = %s", (assistant_id,)
            )
            return cur.rowcount > 0

    async def list_assistant_versions(
        self, assistant_id: str, *, metadata: dict[str, Any] | None, limit: int, offset: int
    ) -> list[AssistantVersion] | None:
        versions = Where(POSTGRES).add(POSTGRES.equal("assistant_id", assistant_id))
        if metadata:
            versions.add(POSTGRES.contains("metadata", metadata))
        where, args = versions.sql()
        async with self._transaction() as tx:
            if await _current(tx, assistant_id) is None:
                return None
            cur = await tx.execute(
                f"SELECT {_VERSION_COLUMNS} FROM assistant_versions WHERE {where}"
                " ORDER BY version DESC LIMIT %s OFFSET %s",
                [*args, limit, offset],
            )
            return [_version(r) for r in await cur.fetchall()]

    async def set_latest_assistant_version(self, assistant_id: str, version: int) -> Assistant:
        async with self._transaction() as tx:
            current = await _current(tx, assistant_id, lock=True)
            if current is None:
                raise errors.NotFound(f"Assistant {assistant_id} not found")
            cur = await tx.execute(
                f"SELECT {_VERSION_COLUMNS} FROM assistant_versions"
                " WHERE assistant_id = %s AND version = %s",
                (assistant_id, version),
            )
            row = await cur.fetchone()
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
                "updated_at": iso(),
            }
            await _make_current(tx, latest)
            return latest
