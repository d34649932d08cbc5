"""SQLite's `Db` (storage/db.py): statements on the connection thread's open transaction."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from typing import Any

import orjson

from graphport.storage.db import Row
from graphport.storage.sqlite.dialect import SQLITE
from graphport.storage.sqlite.rows import dumps
from graphport.storage.sqlite.saver import delete_checkpoints


class SqliteDb:
    """Every method completes at once: a flow over it runs to its end in `run_now`."""

    where = SQLITE
    for_update = ""  # BEGIN IMMEDIATE holds the database for the whole transaction
    for_no_key_update = ""
    chains_inserts = False  # no INSERT in a CTE; and a transaction costs no round trip here

    def __init__(self, conn: sqlite3.Connection, *, in_file: bool) -> None:
        self.conn = conn
        self.in_file = in_file  # else the checkpoints are in an InMemorySaver
        self.cleared: list[str] = []  # threads whose InMemorySaver checkpoints go after commit

    async def execute(self, sql: str, args: Sequence[Any] = ()) -> None:
        self.conn.execute(sql, args)

    async def count(self, sql: str, args: Sequence[Any] = ()) -> int:
        return self.conn.execute(sql, args).rowcount

    async def one(self, sql: str, args: Sequence[Any] = ()) -> Row | None:
        row: Row | None = self.conn.execute(sql, args).fetchone()
        return row

    async def all(self, sql: str, args: Sequence[Any] = ()) -> list[Row]:
        return self.conn.execute(sql, args).fetchall()

    @staticmethod
    def json(value: Any) -> str | None:
        return None if value is None else dumps(value)

    @staticmethod
    def from_json(raw: Any) -> Any:
        return None if raw is None else orjson.loads(raw)

    @staticmethod
    def ts(stamp: str) -> str:
        return stamp

    @staticmethod
    def from_ts(raw: Any) -> str:
        return str(raw)

    @staticmethod
    def text(value: str | None) -> str | None:
        return value

    @staticmethod
    def from_text(raw: Any) -> Any:
        return raw

    async def delete_checkpoints(self, thread_id: str) -> None:
        if self.in_file:  # in the same transaction (see saver.py)
            delete_checkpoints(self.conn, thread_id)
        else:
            self.cleared.append(thread_id)

    for_key_share = ""

    @staticmethod
    def clock() -> tuple[str, list[Any]]:
        return "?", [time.time()]  # epoch seconds of each process's clock (one machine)

    @staticmethod
    def heartbeat_fresh(stale_after: float) -> tuple[str, list[Any]]:
        return "heartbeat_at > ?", [time.time() - stale_after]
