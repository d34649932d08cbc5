"""Copying the write-ahead log into the database file off the connection thread.

SQLite checkpoints the WAL inside the commit that takes it past 1000 pages: that commit waits
for the copy and two fsyncs. A trivial run writes ~16 pages, so every ~60th run stalled for
~10 ms (S1's p99; issue 15). The connection thread turns that off (`wal_autocheckpoint=0`) and
this thread checkpoints instead, on a connection of its own, while the writer goes on.

A checkpoint that runs beside a writer leaves the frames written meanwhile, so the WAL would
never be wholly copied and never start over: it would grow for as long as writes go on. Once
it holds `RESTART_AFTER` frames, the next pass copies the last few with the writers held
(`pause`: this process's connection thread, and the lock file other processes take turns
through); the first write after it starts the WAL from its beginning. Writers wait for one
short copy and its fsyncs, not the whole log's. Should this thread fail, the connection
thread turns SQLite's own checkpoints back on.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import sqlite3
import threading
from collections.abc import Iterator

logger = logging.getLogger(__name__)

INTERVAL = 0.1  # seconds between passes while there are writes
RESTART_AFTER = 1000  # frames (pages), SQLite's own autocheckpoint size


class WalCheckpointer(threading.Thread):
    def __init__(self, path: str, pause: threading.Lock, lock_fd: int | None) -> None:
        super().__init__(name="graphport-sqlite-wal", daemon=True)
        self.path = path
        self.pause = pause
        self.lock_fd = lock_fd
        self.written = threading.Event()  # set by the writer after each commit
        self._stopping = threading.Event()

    def stop(self) -> None:
        self._stopping.set()
        self.written.set()
        self.join(10)

    def run(self) -> None:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            conn.execute("PRAGMA busy_timeout=10000")
            while not self._stopping.is_set():
                self.written.wait()
                self.written.clear()
                if not self._stopping.is_set():
                    self._pass(conn)
                self._stopping.wait(INTERVAL)
        except sqlite3.Error:
            logger.exception("WAL checkpoints of %s go back to SQLite's commits", self.path)
        finally:
            conn.close()

    def _pass(self, conn: sqlite3.Connection) -> None:
        _busy, frames, _copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        if frames >= RESTART_AFTER:
            with self._writers_held():
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()

    @contextlib.contextmanager
    def _writers_held(self) -> Iterator[None]:
        with self.pause:
            if self.lock_fd is not None:
                fcntl.flock(self.lock_fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                if self.lock_fd is not None:
                    fcntl.flock(self.lock_fd, fcntl.LOCK_UN)
