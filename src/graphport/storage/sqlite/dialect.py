"""How SQLite spells the conditions of a search (graphport.storage.where.Dialect).

JSON containment has no SQLite operator, so it is a Python function registered on the
connection when it opens (`register_functions`).
"""

from __future__ import annotations

import sqlite3
from typing import Any

import orjson

from graphport.auth.filters import Conditions
from graphport.storage.sqlite.rows import dumps
from graphport.storage.where import Clause


def contains(container: Any, contained: Any) -> bool:
    """JSON containment: objects key by key (recursively), any other value by equality."""
    if isinstance(contained, dict):
        return isinstance(container, dict) and all(
            k in container and contains(container[k], v) for k, v in contained.items()
        )
    if isinstance(contained, bool) or isinstance(container, bool):  # JSON true is not 1
        return type(contained) is type(container) and contained == container
    return bool(container == contained)


def _json_contains(document: str, filters: str) -> int:
    return int(contains(orjson.loads(document), orjson.loads(filters)))


def _lower(value: str | None) -> str | None:
    return value.lower() if value is not None else None


def register_functions(conn: sqlite3.Connection) -> None:
    """Register the SQL functions the conditions and migrations use (once, when graphport's
    connection opens)."""
    conn.create_function("graphport_contains", 2, _json_contains, deterministic=True)
    conn.create_function("graphport_lower", 1, _lower, deterministic=True)


def _path(key: Any) -> str:
    return '$."' + str(key).replace('"', '""') + '"'


class SqliteDialect:
    def equal(self, column: str, value: Any) -> Clause:
        return [f"{column} = ?"], [int(value) if isinstance(value, bool) else value]

    def one_of(self, column: str, values: list[Any]) -> Clause:
        return [f"{column} IN ({','.join('?' * len(values))})"], list(values)

    def contains(self, column: str, filters: dict[str, Any]) -> Clause:
        return [f"graphport_contains({column}, ?)"], [dumps(filters)]

    def has_values(self, column: str, filters: dict[str, Any]) -> Clause:
        where, args = [], []
        for key, value in filters.items():
            where.append(f"({column} -> ?) = json(?)")
            args += [_path(key), dumps(value)]
        return where, args

    def lower_contains(self, column: str, text: str) -> Clause:
        # a stored lower-case copy of the column (`name_lower`), as PostgreSQL's
        return [f"instr({column}_lower, ?) > 0"], [text]

    def visible(self, column: str, visible: Conditions | None) -> Clause:
        where: list[str] = []
        args: list[Any] = []
        for c in visible or ():
            path = _path(c.key)
            if c.op == "$eq":
                where.append(f"({column} -> ?) = json(?)")
                args += [path, dumps(c.value)]
                continue
            for item in c.value:  # every item in the array: compared as JSON text
                where.append(
                    f"json_type({column}, ?) = 'array' AND EXISTS (SELECT 1 FROM "
                    f"json_each({column}, ?) AS e WHERE (CASE WHEN e.type IN ('object', 'array')"
                    " THEN json(e.value) WHEN e.type IN ('true', 'false', 'null') THEN e.type "
                    "ELSE json_quote(e.value) END) = json(?))"
                )
                args += [path, path, dumps(item)]
        return where, args


SQLITE = SqliteDialect()
