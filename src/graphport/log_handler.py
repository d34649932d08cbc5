"""The log handler: lines logged on the event loop are written once per turn of the loop.

At hundreds of requests a second the access log's one write (and flush) per request is a system
call on the loop's thread, which releases the GIL and, with the SQLite and graph threads busy,
waits to get it back. Lines logged on the loop are gathered instead and written together by a
callback scheduled for the loop's next turn, in the order they were logged; lines from other
threads are written at once. `flush()` (called by `logging.shutdown` at exit) writes what is
gathered, so stopping loses nothing.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TextIO


class LoopBatchedHandler(logging.StreamHandler[TextIO]):
    def __init__(self, stream: TextIO | None = None) -> None:
        super().__init__(stream)
        self._pending: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # not on an event loop's thread
            self._write_now(record)
            return
        try:
            line = self.format(record) + self.terminator
        except Exception:
            self.handleError(record)
            return
        with self.lock:  # type: ignore[union-attr]  # created by Handler.__init__
            first = not self._pending
            self._pending.append(line)
        if first:
            loop.call_soon(self.flush)

    def _write_now(self, record: logging.LogRecord) -> None:
        self.flush()  # what the loop gathered comes first
        super().emit(record)

    def flush(self) -> None:
        with self.lock:  # type: ignore[union-attr]
            if self._pending:
                text, self._pending = "".join(self._pending), []
                try:
                    self.stream.write(text)
                except Exception:  # a closed or broken stream: as StreamHandler, never raise
                    pass
            super().flush()
