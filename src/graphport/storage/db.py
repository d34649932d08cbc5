"""The seam between graphport's storage rules and a database: `Db`, one open transaction.

Every storage operation is written once, in `storage/tables/`, as an `async` function of a `Db`
(a *flow*): it states which statements run, in what order, and what their rows mean. A backend
is only its dialect: it opens the transaction, runs the statements and spells values:

- SQL is written with `?` placeholders; a backend that spells them otherwise (psycopg's `%s`)
  translates the text once (`Db.execute` takes care of it).
- Values cross the seam through the `Db`'s converters: `json`/`from_json` (TEXT holding JSON on
  SQLite, JSONB on PostgreSQL), `ts`/`from_ts` (ISO strings on SQLite, TIMESTAMPTZ on
  PostgreSQL), `text`/`from_text` (PostgreSQL's text cannot hold U+0000, so free text is
  escaped there).
- What SQL spells differently lives on the `Db` as a fragment: `for_update` (row locks; SQLite's
  `BEGIN IMMEDIATE` already holds the whole database), and the search conditions of
  `storage/where.py` (`Db.where`).

SQLite runs a flow on its connection thread, where each statement completes at once: the flow's
coroutine never suspends, so `run_now` drives it to its end without an event loop, inside the
group-commit transaction of that thread. PostgreSQL runs a flow on a pooled connection, from
BEGIN to COMMIT in one pipeline: it waits for a statement's answer only where the flow reads it
(`one`, `all`, `count`) and after the COMMIT, not at each `execute`. Rows are tuples, in the
order of the statement's columns.
"""

from __future__ import annotations

from collections.abc import Coroutine, Sequence
from typing import Any, Protocol, TypeVar

from graphport.storage.where import Dialect

T = TypeVar("T")
Row = tuple[Any, ...]


class Codec(Protocol):
    """How a backend spells values. The converters need no connection: shared code may encode
    a row before its transaction (storage/tables/runs.py does, for the run's input)."""

    def json(self, value: Any) -> Any:
        """A JSON document for a JSON column (SQL NULL stays None)."""
        ...

    def from_json(self, raw: Any) -> Any: ...

    def ts(self, stamp: str) -> Any:
        """An ISO timestamp for a timestamp column."""
        ...

    def from_ts(self, raw: Any) -> str: ...

    def text(self, value: str | None) -> Any:
        """Free text (names, comments, errors) for a TEXT column."""
        ...

    def from_text(self, raw: Any) -> Any: ...


class Db(Codec, Protocol):
    """One open transaction of a backend, as a flow sees it."""

    where: Dialect
    # appended to a SELECT that reads a row the transaction is about to change
    for_update: str
    # the same, for a thread's row: its runs get inserted beside it (see postgres/connection.py)
    for_no_key_update: str
    # a statement may change rows in a CTE beside its main change (PostgreSQL): a stateless
    # run and its thread are then inserted, and deleted, by one statement each, atomic without
    # BEGIN and COMMIT
    chains_inserts: bool

    async def execute(self, sql: str, args: Sequence[Any] = ()) -> None:
        """Run one statement, without waiting for it where the backend need not: PostgreSQL
        sends it at once and reads its answer with the next statement whose rows the flow
        reads (`one`, `all`, `count`) or at the commit, so statements in a row cost one round
        trip. An error it raises surfaces there, still inside the flow."""
        ...

    async def count(self, sql: str, args: Sequence[Any] = ()) -> int:
        """Run one statement and wait for the number of rows it changed."""
        ...

    async def one(self, sql: str, args: Sequence[Any] = ()) -> Row | None: ...

    async def all(self, sql: str, args: Sequence[Any] = ()) -> list[Row]: ...

    async def delete_checkpoints(self, thread_id: str) -> None:
        """Delete every checkpoint and pending write of a thread, with this transaction (or,
        for a checkpointer that is not in the database, once it has committed)."""
        ...

    # appended to a SELECT of a row a new row will reference: it cannot be deleted before the
    # transaction commits (the lock a foreign key check takes)
    for_key_share: str

    def clock(self) -> tuple[str, list[Any]]:
        """SQL (and its arguments) for the time of a heartbeat, as the workers table keeps it."""
        ...

    def heartbeat_fresh(self, stale_after: float) -> tuple[str, list[Any]]:
        """A condition on `heartbeat_at`: later than `stale_after` seconds ago."""
        ...


def run_now(flow: Coroutine[Any, Any, T]) -> T:
    """Drive a flow whose every await completes at once (SQLite's `Db`) to its result."""
    try:
        flow.send(None)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    flow.close()
    raise RuntimeError("a storage flow waited on something other than its Db")
