"""Claims on SQLite: which pending runs this process takes.

`BEGIN IMMEDIATE` (connection.py) holds the whole database while a claim picks its runs, so a
plain SELECT of the claimable runs is exact. Everything else about runs is written once, in
`storage/tables/runs.py` and `workers.py`."""

from __future__ import annotations

from graphport.models import iso
from graphport.storage.base import ClaimResult
from graphport.storage.db import Db
from graphport.storage.sqlite.connection import SqliteBase
from graphport.storage.tables.rows import RUN_COLUMNS, run_of

# Due pending runs that are the oldest of their thread, on a thread with no running run.
_CLAIMABLE = (
    f"SELECT {RUN_COLUMNS}, attempt FROM runs r WHERE status = 'pending' AND due <= ?"
    " AND NOT EXISTS (SELECT 1 FROM runs o WHERE o.thread_id = r.thread_id"
    " AND o.status = 'running')"
    " AND NOT EXISTS (SELECT 1 FROM runs o WHERE o.thread_id = r.thread_id"
    " AND o.status = 'pending' AND (o.due < r.due OR (o.due = r.due AND o.run_id < r.run_id)))"
    " ORDER BY due, run_id LIMIT ?"
)


async def _claim(db: Db, limit: int, now: float, worker_id: str) -> ClaimResult:
    claimed = []
    stamp = iso()
    for row in await db.all(_CLAIMABLE, (now, limit)):
        await db.execute(
            "UPDATE runs SET status = 'running', attempt = attempt + 1, updated_at = ?,"
            " worker_id = ? WHERE run_id = ?",
            (db.ts(stamp), worker_id, row[0]),
        )
        run = run_of(db, row)
        run["status"] = "running"
        run["attempt"] = row[9] + 1
        claimed.append(run)
    nxt = await db.one("SELECT min(due) FROM runs WHERE status = 'pending' AND due > ?", (now,))
    waiting = await db.all(
        "SELECT DISTINCT thread_id FROM runs WHERE status = 'pending' AND due <= ?", (now,)
    )
    return ClaimResult(claimed, nxt[0] if nxt else None, {r[0] for r in waiting})


class ClaimsMixin(SqliteBase):
    async def claim_runs(self, limit: int, now: float) -> ClaimResult:
        return await self._flow(_claim, limit, now, self.worker_id)
