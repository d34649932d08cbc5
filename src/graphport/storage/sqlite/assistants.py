"""Assistants in SQLite."""

from __future__ import annotations

import sqlite3
from typing import Any

from graphport.models import Assistant
from graphport.storage.sqlite.connection import SqliteBase
from graphport.storage.sqlite.rows import (
    assistant_from_row,
    dumps,
)


class AssistantsMixin(SqliteBase):
    # -- assistants --------------------------------------------------------------------------

    async def sync_system_assistant(self, assistant: Assistant) -> None:
        a = assistant

        def op(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO assistants (assistant_id, graph_id, config, context, metadata, name,"
                " description, version, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (assistant_id) DO UPDATE SET name = excluded.name,"
                " description = excluded.description"
                " WHERE name IS NOT excluded.name OR description IS NOT excluded.description",
                (
                    a["assistant_id"],
                    a["graph_id"],
                    dumps(a["config"]),
                    dumps(a["context"]),
                    dumps(a["metadata"]),
                    a["name"],
                    a["description"],
                    a["version"],
                    a["created_at"],
                    a["updated_at"],
                ),
            )

        await self._submit(op)

    async def get_assistant(self, assistant_id: str) -> Assistant | None:
        def op(conn: sqlite3.Connection) -> Assistant | None:
            row = conn.execute(
                "SELECT * FROM assistants WHERE assistant_id = ?", (assistant_id,)
            ).fetchone()
            return assistant_from_row(row) if row else None

        return await self._submit(op)

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
    ) -> tuple[list[Assistant], int]:
        def op(conn: sqlite3.Connection) -> tuple[list[Assistant], int]:
            where, args = ["1=1"], []
            if graph_id is not None:
                where.append("graph_id = ?")
                args.append(graph_id)
            if name is not None:
                where.append("name LIKE ? ESCAPE '\\'")
                args.append("%" + name.replace("%", "\\%").replace("_", "\\_") + "%")
            for key, value in (metadata or {}).items():
                where.append("json_extract(metadata, ?) = json(?)")
                args += [f'$."{key}"', dumps(value)]
            rows = conn.execute(
                f"SELECT * FROM assistants WHERE {' AND '.join(where)}"
                f" ORDER BY {sort_by} {sort_order}",
                args,
            ).fetchall()
            return [assistant_from_row(r) for r in rows[offset : offset + limit]], len(rows)

        return await self._submit(op)
