"""Claims on PostgreSQL: which pending runs this process takes (everything else about runs is
written once, in `storage/tables/runs.py` and `workers.py`).

"At most one running run per thread, its oldest pending run first" holds across any number of
server processes because every transaction that can start a run, or that a start depends on,
locks the thread's row first (see `connection.py`). Claims lock thread rows `FOR NO KEY UPDATE
SKIP LOCKED`: two processes claiming at once take disjoint threads instead of waiting on each
other, and a thread being changed elsewhere (a run created, finished or cancelled) is simply
left for the next claim. A row lock was chosen over `pg_advisory_xact_lock(hashtext(thread_id))`
because every run's thread has a row (foreign key), row locks cannot collide on a hash, they
can be skipped by the same `SELECT` that picks the candidates, and they vanish with the row.
"""

from __future__ import annotations

from graphport.models import Run, iso
from graphport.storage.base import ClaimResult
from graphport.storage.db import Db
from graphport.storage.postgres.connection import PostgresBase
from graphport.storage.tables.rows import RUN_COLUMNS, run_of

# Threads whose oldest pending run is due and that have no running run, oldest run first,
# locked (skipping those another transaction holds).
_CLAIMABLE_THREADS = """
SELECT t.thread_id FROM (
    SELECT DISTINCT ON (thread_id) thread_id, due, run_id FROM runs
    WHERE status = 'pending' ORDER BY thread_id, due, run_id
) first
JOIN threads t ON t.thread_id = first.thread_id
WHERE first.due <= ?
  AND NOT EXISTS (
    SELECT 1 FROM runs o WHERE o.thread_id = first.thread_id AND o.status = 'running')
ORDER BY first.due, first.run_id
LIMIT ?
FOR NO KEY UPDATE OF t SKIP LOCKED
"""

# Run in a new statement once the threads are locked, so it sees every commit made before.
_CLAIM_RUNS = f"""
UPDATE runs r SET status = 'running', attempt = r.attempt + 1, updated_at = ?, worker_id = ?
FROM (
    SELECT DISTINCT ON (thread_id) run_id, due FROM runs
    WHERE thread_id = ANY(?) AND status = 'pending' ORDER BY thread_id, due, run_id
) first
WHERE r.run_id = first.run_id AND first.due <= ?
  AND NOT EXISTS (SELECT 1 FROM runs o WHERE o.thread_id = r.thread_id AND o.status = 'running')
RETURNING {", ".join("r." + c.strip() for c in RUN_COLUMNS.split(","))}, r.due, r.attempt
"""


async def _claim(db: Db, limit: int, now: float, worker_id: str) -> ClaimResult:
    claimed: list[tuple[float, str, Run]] = []
    if limit > 0:
        threads = [r[0] for r in await db.all(_CLAIMABLE_THREADS, (now, limit))]
        if threads:
            rows = await db.all(_CLAIM_RUNS, (db.ts(iso()), worker_id, threads, now))
            for row in rows:
                run = run_of(db, row)
                run["attempt"] = row[10]
                claimed.append((row[9], row[0], run))
    nxt = await db.one("SELECT min(due) FROM runs WHERE status = 'pending' AND due > ?", (now,))
    # threads skipped because another transaction held them are reported too
    waiting = await db.all(
        "SELECT DISTINCT thread_id FROM runs WHERE status = 'pending' AND due <= ?", (now,)
    )
    claimed.sort(key=lambda c: (c[0], c[1]))
    return ClaimResult(
        [run for _, _, run in claimed], nxt[0] if nxt else None, {r[0] for r in waiting}
    )


class ClaimsMixin(PostgresBase):
    async def claim_runs(self, limit: int, now: float) -> ClaimResult:
        return await self._flow(_claim, limit, now, self.worker_id)
