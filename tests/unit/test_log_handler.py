"""LoopBatchedHandler: lines logged on the loop are written together at its next turn, in order;
lines from elsewhere at once; nothing gathered is lost at flush."""

from __future__ import annotations

import asyncio
import io
import logging
import threading

from graphport.log_handler import LoopBatchedHandler


class CountingStream(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, s: str) -> int:
        self.writes += 1
        return super().write(s)


def _logger(stream: CountingStream) -> logging.Logger:
    logger = logging.getLogger(f"test-batched-{id(stream)}")
    logger.handlers[:] = [LoopBatchedHandler(stream)]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger


def test_lines_on_the_loop_are_written_once_per_turn_in_order() -> None:
    stream = CountingStream()
    log = _logger(stream)

    async def scenario() -> None:
        for i in range(3):
            log.info("line %d", i)
        assert stream.getvalue() == ""  # gathered until the loop turns
        await asyncio.sleep(0)
        assert stream.getvalue() == "line 0\nline 1\nline 2\n"
        assert stream.writes == 1

    asyncio.run(scenario())


def test_other_threads_write_at_once_after_what_the_loop_gathered() -> None:
    stream = CountingStream()
    log = _logger(stream)

    async def scenario() -> None:
        log.info("from the loop")
        thread = threading.Thread(target=log.info, args=("from a thread",))
        thread.start()
        thread.join()
        assert stream.getvalue() == "from the loop\nfrom a thread\n"

    asyncio.run(scenario())
    log.info("no loop")
    assert stream.getvalue().endswith("from a thread\nno loop\n")


def test_flush_writes_what_is_gathered() -> None:
    stream = CountingStream()
    log = _logger(stream)

    async def scenario() -> None:
        log.info("last words")
        log.handlers[0].flush()  # as logging.shutdown does when the process stops
        assert stream.getvalue() == "last words\n"

    asyncio.run(scenario())
