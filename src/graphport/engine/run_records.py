"""What the routes read about runs that are not running: a run, a thread's runs, a run's
webhook delivery and its feedback. A run's routes are authorized through its thread."""

from __future__ import annotations

import uuid
from typing import Any

from graphport import auth, errors
from graphport.engine.threads import ThreadOps
from graphport.models import Run, iso
from graphport.storage import Storage


class RunRecords:
    def __init__(self, storage: Storage, threads: ThreadOps) -> None:
        self._storage = storage
        self._threads = threads

    async def get(self, thread_id: str, run_id: str) -> Run:
        await self._threads.authorize(thread_id, "read", {"run_id": run_id})
        run = await self._storage.get_run(thread_id, run_id)
        if run is None:
            await self._threads.require(thread_id)  # 404 for the thread, else for the run
            raise errors.NotFound()
        return run

    async def of_thread(
        self, thread_id: str, *, limit: int, offset: int, status: str | None
    ) -> list[Run]:
        await self._threads.authorize(thread_id, "read")
        await self._threads.require(thread_id)
        return await self._storage.list_runs(thread_id, limit=limit, offset=offset, status=status)

    async def visible(self, run_id: str, hidden: Exception | None) -> bool:
        """For graphport's run-only routes: `threads.read` on the run's thread; False (or
        `hidden` raised) when the run is on a thread the user may not see, or is gone (a
        stateless run's: its thread can no longer say whose it was)."""
        if auth.current() is None:
            return True
        thread_id = await self._storage.get_run_thread(run_id)
        try:
            if thread_id is None:
                raise errors.NotFound()
            await self._threads.authorize(thread_id, "read", {"run_id": run_id})
            if await self._storage.get_thread(thread_id) is None:
                raise errors.NotFound()
        except errors.NotFound:
            if hidden is not None:
                raise hidden from None
            return False
        return True

    async def webhook(self, run_id: str) -> dict[str, Any]:
        """The run's webhook delivery and every attempt at it."""
        missing = errors.NotFound(f"No webhook delivery for run {run_id}")
        await self.visible(run_id, missing)
        delivery = await self._storage.get_webhook(run_id)
        if delivery is None:
            raise missing
        return delivery

    async def add_feedback(self, run_id: str, key: str, body: dict[str, Any]) -> dict[str, Any]:
        """Store one checked feedback body given through a verified link."""
        record = {"feedback_id": str(uuid.uuid4()), "run_id": run_id, "key": key, **body,
                  "created_at": iso()}  # fmt: skip
        await self._storage.add_feedback(record)
        return record

    async def feedback(self, run_id: str) -> list[dict[str, Any]]:
        if not await self.visible(run_id, None):
            return []
        return await self._storage.list_feedback(run_id)
