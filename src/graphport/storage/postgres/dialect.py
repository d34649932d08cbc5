"""How PostgreSQL spells the conditions of a search (graphport.storage.where.Dialect).

JSONB containment (`@>`) is what the GIN indexes on the metadata columns serve, so each JSON
condition starts with it and narrows further where `@>` alone is looser than the rule.
"""

from __future__ import annotations

from typing import Any

from graphport.auth.filters import Conditions
from graphport.storage.postgres.rows import jsonb, text_in
from graphport.storage.where import Clause


def _key(key: Any) -> str:
    return text_in(str(key)) or ""


class PostgresDialect:
    def equal(self, column: str, value: Any) -> Clause:
        return [f"{column} = %s"], [value]

    def one_of(self, column: str, values: list[Any]) -> Clause:
        return [f"{column} = ANY(%s)"], [list(values)]

    def contains(self, column: str, filters: dict[str, Any]) -> Clause:
        # `@>` would let an array contain a shorter one: every array in `filters` is also
        # compared for equality at its path
        where: list[str] = [f"{column} @> %s"]
        args: list[Any] = [jsonb(filters)]

        def arrays(value: Any, path: list[str]) -> None:
            if isinstance(value, dict):
                for key, item in value.items():
                    arrays(item, [*path, _key(key)])
            elif isinstance(value, list):
                where.append(f"{column} #> %s = %s")
                args.extend([path, jsonb(value)])

        arrays(filters, [])
        return where, args

    def has_values(self, column: str, filters: dict[str, Any]) -> Clause:
        # `@>` first for the index (equal values always contain each other), then equality
        where: list[str] = [f"{column} @> %s"]
        args: list[Any] = [jsonb(filters)]
        for key, value in filters.items():
            where.append(f"{column} -> %s = %s")
            args += [_key(key), jsonb(value)]
        return where, args

    def lower_contains(self, column: str, text: str) -> Clause:
        # a stored lower-case copy of the column (`name_lower`): Python's lower(), as SQLite's
        return [f"strpos({column}_lower, %s) > 0"], [text_in(text)]

    def visible(self, column: str, visible: Conditions | None) -> Clause:
        where: list[str] = []
        args: list[Any] = []
        for c in visible or ():
            key = text_in(c.key)
            if c.op == "$eq":
                where.append(f"{column} -> %s = %s")
                args += [key, jsonb(c.value)]
            else:  # an array holding every item
                where.append(f"jsonb_typeof({column} -> %s) = 'array' AND {column} -> %s @> %s")
                args += [key, key, jsonb(list(c.value))]
        return where, args


POSTGRES = PostgresDialect()
