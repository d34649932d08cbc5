"""WHERE clauses of the searches, written once for both SQL backends.

What a search filters on (an assistant's graph and name, a cron's assistant and thread, a
thread's status and values, ...) is a storage rule, so it lives here; how a backend spells a
condition in SQL (placeholders, JSON containment, booleans) is its `Dialect`
(storage/sqlite/dialect.py, storage/postgres/dialect.py).
"""

from __future__ import annotations

from typing import Any, Protocol

from graphport.auth.filters import Conditions

Clause = tuple[list[str], list[Any]]  # SQL fragments ANDed together, and their arguments


class Dialect(Protocol):
    """How one SQL backend spells the conditions of a search."""

    def equal(self, column: str, value: Any) -> Clause: ...

    def one_of(self, column: str, values: list[Any]) -> Clause: ...

    def contains(self, column: str, filters: dict[str, Any]) -> Clause:
        """The JSON document in `column` contains `filters`: objects key by key, recursively;
        any other value (arrays included) equal."""
        ...

    def has_values(self, column: str, filters: dict[str, Any]) -> Clause:
        """Each top-level key of `filters` holds an equal JSON value in `column`."""
        ...

    def lower_contains(self, column: str, text: str) -> Clause:
        """`column`, lower-cased, holds the lower-case `text`."""
        ...

    def visible(self, column: str, visible: Conditions | None) -> Clause:
        """An auth filter on the JSON document in `column` (graphport.auth.filters.matches)."""
        ...


class Where:
    """Conditions ANDed together; `sql()` gives the clause (true when there are none)."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self.clauses: list[str] = []
        self.args: list[Any] = []

    def add(self, clause: Clause) -> Where:
        self.clauses += clause[0]
        self.args += clause[1]
        return self

    def sql(self) -> tuple[str, list[Any]]:
        return " AND ".join(self.clauses) or "1 = 1", self.args


def assistant_filters(
    d: Dialect,
    *,
    graph_id: str | None,
    name: str | None,
    metadata: dict[str, Any] | None,
    graph_ids: list[str] | None,
    visible: Conditions | None,
) -> tuple[str, list[Any]]:
    """Assistants of the graph (or of one of `graph_ids`: none if empty), whose name holds
    `name` in any case, whose metadata contains `metadata`."""
    where = Where(d)
    if graph_id is not None:
        where.add(d.equal("graph_id", graph_id))
    if graph_ids is not None:
        where.add(d.one_of("graph_id", graph_ids))
    if name:
        where.add(d.lower_contains("name", name.lower()))
    if metadata:
        where.add(d.contains("metadata", metadata))
    return where.add(d.visible("metadata", visible)).sql()


def cron_filters(
    d: Dialect,
    *,
    assistant_id: str | None,
    thread_id: str | None,
    enabled: bool | None,
    metadata: dict[str, Any] | None,
    visible: Conditions | None,
) -> tuple[str, list[Any]]:
    where = Where(d)
    for column, value in (
        ("assistant_id", assistant_id),
        ("thread_id", thread_id),
        ("enabled", enabled),
    ):
        if value is not None:
            where.add(d.equal(column, value))
    if metadata:
        where.add(d.contains("metadata", metadata))
    return where.add(d.visible("metadata", visible)).sql()


def thread_filters(
    d: Dialect,
    *,
    metadata: dict[str, Any] | None,
    values: dict[str, Any] | None,
    status: str | None,
    ids: list[str] | None,
    visible: Conditions | None,
) -> tuple[str, list[Any]]:
    """Threads whose metadata and values hold the given top-level keys, of the status, among
    `ids` (no filter if empty)."""
    where = Where(d)
    if metadata:
        where.add(d.has_values("metadata", metadata))
    if values:
        where.add(d.has_values('"values"', values))
    if status:
        where.add(d.equal("status", status))
    if ids:
        where.add(d.one_of("thread_id", ids))
    return where.add(d.visible("metadata", visible)).sql()
