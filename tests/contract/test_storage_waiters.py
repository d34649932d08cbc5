"""Storage contract: whether a run's end must be told to other processes (`mark_waited`).

The process that ends a run sends its result over the bus only when storage says another
process waits for it; the flag and the end lock the run's row, so a waiter is never missed.
"""

from __future__ import annotations

import dataclasses

from graphport.storage.base import Storage
from tests.contract.test_storage_runs import finish, make_run, make_thread


async def test_a_run_claimed_by_its_creator_is_waited_for_nowhere_else(storage: Storage) -> None:
    for temporary in (False, True):
        thread = make_thread(temporary=temporary)
        run = make_run(thread["thread_id"])
        assert await storage.create_run(run, thread, claim=True)
        assert await storage.finish_run(finish(run, delete=temporary)) is False


async def test_a_run_left_pending_is_waited_for_where_processes_share(storage: Storage) -> None:
    """Its creator waits, and another process may claim it."""
    for temporary in (False, True):
        thread = make_thread(temporary=temporary)
        run = make_run(thread["thread_id"])
        assert not await storage.create_run(run, thread, claim=False)
        claimed = await storage.claim_runs(10, 1e12)
        assert run["run_id"] in [r["run_id"] for r in claimed.claimed]
        assert await storage.finish_run(finish(run, delete=temporary)) is storage.shared


async def test_marking_an_in_flight_run_flags_its_end(storage: Storage) -> None:
    """`mark_waited` reads the run's status; an in-flight run's end then says it is waited for
    (where processes share the database), for a kept run, a stateless one, a rolled-back one."""
    for temporary, rolled_back in ((False, False), (True, False), (False, True)):
        thread = make_thread(temporary=temporary)
        run = make_run(thread["thread_id"])
        assert await storage.create_run(run, thread, claim=True)
        assert await storage.mark_waited(run["run_id"]) == ("running", None)
        end = dataclasses.replace(finish(run, delete=temporary), delete_run=rolled_back)
        assert await storage.finish_run(end) is storage.shared
        if temporary or rolled_back:
            assert await storage.get_run_result(run["run_id"]) is None  # and nothing left


async def test_marking_an_ended_or_unknown_run_reads_it(storage: Storage) -> None:
    thread = make_thread()
    run = make_run(thread["thread_id"])
    assert await storage.create_run(run, thread, claim=True)
    await storage.finish_run(finish(run))
    assert await storage.mark_waited(run["run_id"]) == ("success", b'{"x":2}')
    assert await storage.mark_waited("00000000-0000-0000-0000-000000000000") is None


async def test_a_stateless_end_leaves_nothing_and_keeps_its_webhook(storage: Storage) -> None:
    """The stateless end with a webhook to queue runs in a transaction: thread and run go,
    the flag is still read."""
    thread = make_thread(temporary=True)
    run = make_run(thread["thread_id"])
    assert await storage.create_run(run, thread, claim=True)
    await storage.mark_waited(run["run_id"])
    end = dataclasses.replace(finish(run, delete=True), webhook=("http://h/", b"{}"))
    assert await storage.finish_run(end) is storage.shared
    assert await storage.get_thread(thread["thread_id"]) is None
    assert await storage.get_run_result(run["run_id"]) is None
