"""The WAL checkpoints of graphport's SQLite file off the connection thread (sqlite/wal.py):
a pass copies the log while writers go on, holds them only to finish a long log so that it
starts over, and the connection thread takes SQLite's own checkpoints back if the thread fails."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from graphport.storage.sqlite import connection as sqlite_connection
from graphport.storage.sqlite.connection import Connection
from graphport.storage.sqlite.wal import RESTART_AFTER, WalCheckpointer


class CountingLock:
    """A lock that counts how often it was taken."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.taken = 0

    def __enter__(self) -> None:
        self.lock.acquire()
        self.taken += 1

    def __exit__(self, *exc: Any) -> None:
        self.lock.release()


def _writer(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA wal_autocheckpoint=0")
    conn.execute("CREATE TABLE IF NOT EXISTS pages (body BLOB)")
    return conn


def _write(conn: sqlite3.Connection, pages: int) -> None:
    for _ in range(pages):  # one commit each: a new page and the table's root page
        conn.execute("INSERT INTO pages VALUES (?)", (b"x" * 4000,))


def _frames(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1])


def _pass(path: Path, pause: CountingLock) -> None:
    checkpointer = WalCheckpointer(str(path), pause, None)  # type: ignore[arg-type]
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        checkpointer._pass(conn)
    finally:
        conn.close()


def test_a_short_log_is_copied_without_holding_the_writers(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    writer = _writer(path)
    _write(writer, 10)
    pause = CountingLock()
    _pass(path, pause)
    assert pause.taken == 0
    reader = sqlite3.connect(path)
    assert reader.execute("SELECT count(*) FROM pages").fetchone() == (10,)
    writer.close()


def test_a_long_log_is_finished_with_the_writers_held_and_starts_over(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    writer = _writer(path)
    _write(writer, RESTART_AFTER)
    assert _frames(writer) >= RESTART_AFTER
    pause = CountingLock()
    _pass(path, pause)
    assert pause.taken == 1
    _write(writer, 1)  # the first write after a wholly copied log starts it from frame one
    assert _frames(writer) < 10
    assert writer.execute("SELECT count(*) FROM pages").fetchone() == (RESTART_AFTER + 1,)
    writer.close()


async def _pragma(conn: Connection, name: str) -> Any:
    loop = asyncio.get_running_loop()
    fut = loop.create_future()
    conn.queue.put((lambda c: c.execute(f"PRAGMA {name}").fetchone()[0], loop, fut))
    return await fut


@pytest.mark.parametrize("fails", [False, True])
async def test_the_connection_thread_checkpoints_again_if_the_checkpointer_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fails: bool
) -> None:
    class DeadAtOnce(WalCheckpointer):
        def start(self) -> None:
            super().start()
            self.join()  # gone before the first batch

        def run(self) -> None:
            return

    if fails:
        monkeypatch.setattr(sqlite_connection, "WalCheckpointer", DeadAtOnce)
    conn = Connection(str(tmp_path / "db.sqlite"))
    conn.start()
    await asyncio.to_thread(conn.ready.wait)
    try:
        await _pragma(conn, "user_version")  # a batch: its end sees the checkpointer's state
        assert await _pragma(conn, "wal_autocheckpoint") == (1000 if fails else 0)
    finally:
        conn.queue.put(None)
        await asyncio.to_thread(conn.join, 10)
    assert not (tmp_path / "db.sqlite-wal").exists()  # the last close copied the rest
