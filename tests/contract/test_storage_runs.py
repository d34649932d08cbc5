"""Storage contract: threads and runs, claims and ends. Every backend must pass these."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from typing import Any

import pytest

from graphport import errors
from graphport.models import Run, Thread, iso, uuid7
from graphport.storage.base import Capability, RunFinish, Storage


def make_thread(thread_id: str | None = None, *, temporary: bool = False) -> Thread:
    """A run's new thread; a temporary one is a stateless run's (created with its run in one
    statement where the backend chains inserts)."""
    now = iso()
    thread: Thread = {
        "thread_id": thread_id or uuid7(),
        "status": "busy",
        "metadata": {"graph_id": "g"},
        "config": {},
        "created_at": now,
        "updated_at": now,
        "state_updated_at": now,
        "values": None,
    }
    if temporary:
        thread["temporary"] = True
    return thread


def make_run(thread_id: str, *, delay: float = 0.0) -> Run:
    now = time.time()
    return {
        "run_id": uuid7(),
        "thread_id": thread_id,
        "assistant_id": "a",
        "metadata": {"k": "v"},
        "status": "pending",
        "kwargs": {"input": {"x": 1}},
        "multitask_strategy": "enqueue",
        "created_at": iso(now + delay),
        "updated_at": iso(now),
        "langsmith_session_name": None,
    }


def finish(run: Run, status: str = "success", **kw: Any) -> RunFinish:
    return RunFinish(
        run_id=run["run_id"],
        thread_id=run["thread_id"],
        status=status,
        result=b'{"x":2}',
        thread_status=kw.get("thread_status", "idle"),
        thread_values=kw.get("values", {"x": 2}),
        thread_interrupts={},
        thread_error=None,
        delete_thread=kw.get("delete", False),
    )


async def test_create_run_claims_on_an_idle_thread(storage: Storage) -> None:
    """A run created with claim on a new thread is stored running; its thread is busy."""
    thread = make_thread()
    run = make_run(thread["thread_id"])
    assert await storage.create_run(run, thread, claim=True)
    stored = await storage.get_run(thread["thread_id"], run["run_id"])
    assert stored is not None and stored["status"] == "running"
    assert stored["kwargs"] == {"input": {"x": 1}} and stored["metadata"] == {"k": "v"}
    got = await storage.get_thread(thread["thread_id"])
    assert got is not None and got["status"] == "busy" and "error" not in got


async def test_second_run_on_a_busy_thread_stays_pending(storage: Storage) -> None:
    """Only one run of a thread runs at a time; the next is claimed after the first ends."""
    thread = make_thread()
    first = make_run(thread["thread_id"])
    assert await storage.create_run(first, thread, claim=True)
    second = make_run(thread["thread_id"])
    assert not await storage.create_run(second, None, claim=True)
    result = await storage.claim_runs(10, time.time())
    assert result.claimed == [] and result.waiting_threads == {thread["thread_id"]}
    await storage.finish_run(finish(first))
    claimed = (await storage.claim_runs(10, time.time())).claimed
    assert [r["run_id"] for r in claimed] == [second["run_id"]]


async def test_claims_are_oldest_first_and_one_per_thread(storage: Storage) -> None:
    """claim_runs takes due runs oldest first, never two of one thread."""
    t1, t2 = make_thread(), make_thread()
    a = make_run(t1["thread_id"])
    await storage.create_run(a, t1, claim=False)
    await asyncio.sleep(0.002)
    b = make_run(t1["thread_id"])
    await storage.create_run(b, None, claim=False)
    await asyncio.sleep(0.002)
    c = make_run(t2["thread_id"])
    await storage.create_run(c, t2, claim=False)
    claimed = (await storage.claim_runs(10, time.time())).claimed
    assert [r["run_id"] for r in claimed] == [a["run_id"], c["run_id"]]
    assert all(r["status"] == "running" for r in claimed)


async def test_delayed_runs_wait_for_their_time(storage: Storage) -> None:
    """A run due later is not claimed before then; claim_runs reports when it is due."""
    thread = make_thread()
    run = make_run(thread["thread_id"], delay=60)
    assert not await storage.create_run(run, thread, claim=True)
    result = await storage.claim_runs(10, time.time())
    assert result.claimed == [] and result.waiting_threads == set()
    assert result.next_due is not None and result.next_due > time.time() + 50
    claimed = (await storage.claim_runs(10, time.time() + 61)).claimed
    assert [r["run_id"] for r in claimed] == [run["run_id"]]


async def test_finish_keeps_result_and_thread_state(storage: Storage) -> None:
    """finish_run records status, result body and the thread's new state."""
    thread = make_thread()
    run = make_run(thread["thread_id"])
    await storage.create_run(run, thread, claim=True)
    await storage.finish_run(finish(run))
    assert await storage.get_run_result(run["run_id"]) == ("success", b'{"x":2}')
    got = await storage.get_thread(thread["thread_id"])
    assert got is not None
    assert got["status"] == "idle" and got["values"] == {"x": 2}
    assert got["error"] is None and got["interrupts"] == {}


async def test_finish_of_a_temporary_run_deletes_thread_and_runs(storage: Storage) -> None:
    """A temporary thread goes with its run."""
    thread = make_thread()
    run = make_run(thread["thread_id"])
    await storage.create_run(run, thread, claim=True)
    await storage.finish_run(finish(run, delete=True))
    assert await storage.get_thread(thread["thread_id"]) is None
    assert await storage.get_run(thread["thread_id"], run["run_id"]) is None


async def test_recovery_at_startup_requeues_running_runs(storage: Storage) -> None:
    """Runs left running by a dead process become pending and claimable again; on SQLite at
    the next start, on PostgreSQL once their process's heartbeat is stale."""
    thread = make_thread()
    run = make_run(thread["thread_id"])
    await storage.heartbeat()
    await storage.create_run(run, thread, claim=True)
    if storage.shared:  # its process is alive: nothing to recover yet
        assert await storage.recover_runs(stale_after=60, max_attempts=3, startup=True) == (0, [])
        await asyncio.sleep(0.05)  # now its heartbeat is older than 0.01 s
    requeued, spent = await storage.recover_runs(stale_after=0.01, max_attempts=3, startup=True)
    assert (requeued, spent) == (1, [])
    claimed = (await storage.claim_runs(10, time.time())).claimed
    assert [(r["run_id"], r["attempt"]) for r in claimed] == [(run["run_id"], 2)]


async def test_recovery_hands_back_runs_out_of_attempts(storage: Storage) -> None:
    """An abandoned run that has used its attempts is returned (still running) to be failed,
    and is not handed to a second recovery."""
    thread = make_thread()
    run = make_run(thread["thread_id"])
    await storage.heartbeat()
    await storage.create_run(run, thread, claim=True)
    await asyncio.sleep(0.05)
    requeued, spent = await storage.recover_runs(stale_after=0.01, max_attempts=1, startup=True)
    assert requeued == 0
    assert [(r["run_id"], r["attempt"], r["status"]) for r in spent] == [
        (run["run_id"], 1, "running")
    ]
    if storage.shared:  # now owned by this (live) process
        await storage.heartbeat()
        assert await storage.recover_runs(stale_after=60, max_attempts=1, startup=False) == (0, [])


@pytest.mark.capability(Capability.SEVERAL_PROCESSES, offered=False)
async def test_recovery_after_startup_is_a_no_op_with_one_process(storage: Storage) -> None:
    """With one process, its running runs are its own once it has started."""
    thread = make_thread()
    await storage.create_run(make_run(thread["thread_id"]), thread, claim=True)
    assert await storage.recover_runs(stale_after=0, max_attempts=3, startup=False) == (0, [])


async def test_release_hands_back_without_counting_the_attempt(storage: Storage) -> None:
    """Graceful shutdown puts this process's running runs back to pending; the next claim is
    the same attempt again."""
    thread = make_thread()
    run = make_run(thread["thread_id"])
    await storage.heartbeat()
    await storage.create_run(run, thread, claim=True)
    assert await storage.release_runs() == 1
    claimed = (await storage.claim_runs(10, time.time())).claimed
    assert [(r["run_id"], r["attempt"]) for r in claimed] == [(run["run_id"], 1)]


async def test_list_runs_newest_first(storage: Storage) -> None:
    """list_runs returns a thread's runs newest first, filtered by status."""
    thread = make_thread()
    a = make_run(thread["thread_id"])
    await storage.create_run(a, thread, claim=True)
    await storage.finish_run(finish(a))
    await asyncio.sleep(0.002)
    b = make_run(thread["thread_id"])
    await storage.create_run(b, None, claim=True)
    runs = await storage.list_runs(thread["thread_id"], limit=10, offset=0, status=None)
    assert [r["run_id"] for r in runs] == [b["run_id"], a["run_id"]]
    done = await storage.list_runs(thread["thread_id"], limit=10, offset=0, status="success")
    assert [r["run_id"] for r in done] == [a["run_id"]]
    page = await storage.list_runs(thread["thread_id"], limit=1, offset=1, status=None)
    assert [r["run_id"] for r in page] == [a["run_id"]]
    assert await storage.list_runs(thread["thread_id"], limit=1, offset=0, status="error") == []
    assert (
        await storage.list_runs(make_thread()["thread_id"], limit=10, offset=0, status=None) == []
    )


async def test_a_failing_operation_does_not_undo_its_batch(storage: Storage) -> None:
    """One operation failing (a duplicate thread) leaves the others of its batch committed.
    Which of two concurrent creations of one thread wins is not specified (SQLite applies them
    in submission order, PostgreSQL in arrival order); exactly one does."""
    thread = make_thread()
    runs = [make_run(thread["thread_id"]), make_run(thread["thread_id"])]
    other = make_thread()
    other_run = make_run(other["thread_id"])
    results = await asyncio.gather(
        storage.create_run(runs[0], thread, claim=False),
        storage.create_run(runs[1], thread, claim=False),  # duplicate thread
        storage.create_run(other_run, other, claim=False),
        return_exceptions=True,
    )
    failed = [isinstance(r, Exception) for r in results[:2]]
    assert sorted(failed) == [False, True]
    kept = runs[failed.index(False)]
    assert await storage.get_run(thread["thread_id"], kept["run_id"]) is not None
    assert await storage.get_run(other["thread_id"], other_run["run_id"]) is not None


async def test_live_workers_are_those_that_heartbeat(storage: Storage) -> None:
    """This process is live once it has heartbeaten; with one process it is the only one."""
    await storage.heartbeat()
    assert storage.worker_id in await storage.live_workers(60)
    if storage.shared:
        await asyncio.sleep(0.05)
        assert storage.worker_id not in await storage.live_workers(0.01)


async def test_inflight_runs_are_the_pending_and_running_oldest_first(storage: Storage) -> None:
    """inflight_runs lists a thread's pending and running runs by due time; runs_with_status
    lists every thread's runs of the given statuses."""
    thread, other = make_thread(), make_thread()
    done = make_run(thread["thread_id"])
    await storage.create_run(done, thread, claim=True)
    await storage.finish_run(finish(done))
    running = make_run(thread["thread_id"])
    await storage.create_run(running, None, claim=True)
    pending = make_run(thread["thread_id"])
    await storage.create_run(pending, None, claim=True)
    elsewhere = make_run(other["thread_id"], delay=60)
    await storage.create_run(elsewhere, other, claim=False)
    inflight = await storage.inflight_runs(thread["thread_id"])
    assert [(r["run_id"], r["status"]) for r in inflight] == [
        (running["run_id"], "running"),
        (pending["run_id"], "pending"),
    ]
    assert await storage.inflight_runs(make_thread()["thread_id"]) == []
    by_status = await storage.runs_with_status(["pending", "success"])
    assert sorted(r["run_id"] for r in by_status) == sorted(
        [done["run_id"], pending["run_id"], elsewhere["run_id"]]
    )
    assert await storage.runs_with_status(["error"]) == []
    mine = {thread["thread_id"], other["thread_id"]}
    queue = [e for e in await storage.queue() if e.thread_id in mine]
    assert sorted((e.run_id, e.status) for e in queue) == sorted(
        [(running["run_id"], "running"), (pending["run_id"], "pending"),
         (elsewhere["run_id"], "pending")]
    )  # fmt: skip
    created = datetime.fromisoformat(pending["created_at"]).timestamp()
    assert [e.created_at for e in queue if e.run_id == pending["run_id"]] == [
        pytest.approx(created, abs=0.001)
    ]


async def test_cancel_pending_run_interrupts_it(storage: Storage) -> None:
    """A pending run is cancelled to `interrupted` with its result; the thread leaves busy
    once nothing else is in flight. A run that is running, or unknown, is not touched."""
    thread = make_thread()
    run = make_run(thread["thread_id"], delay=60)
    await storage.create_run(run, thread, claim=True)
    assert await storage.cancel_pending_run(run["run_id"], delete=False, result=b'{"c":1}')
    assert await storage.get_run_result(run["run_id"]) == ("interrupted", b'{"c":1}')
    stored = await storage.get_thread(thread["thread_id"])
    assert stored is not None and stored["status"] == "idle"
    assert not await storage.cancel_pending_run(run["run_id"], delete=False, result=b"")
    assert not await storage.cancel_pending_run(uuid7(), delete=False, result=b"")
    running = make_run(thread["thread_id"])
    assert await storage.create_run(running, None, claim=True)
    assert not await storage.cancel_pending_run(running["run_id"], delete=False, result=b"")
    assert (await storage.get_run_result(running["run_id"])) == ("running", None)


async def test_cancel_pending_run_keeps_the_thread_busy_while_another_runs(
    storage: Storage,
) -> None:
    thread = make_thread()
    running, queued = make_run(thread["thread_id"]), make_run(thread["thread_id"])
    await storage.create_run(running, thread, claim=True)
    await storage.create_run(queued, None, claim=True)
    assert await storage.cancel_pending_run(queued["run_id"], delete=True, result=b"")
    assert await storage.get_run(thread["thread_id"], queued["run_id"]) is None
    stored = await storage.get_thread(thread["thread_id"])
    assert stored is not None and stored["status"] == "busy"


async def test_cancelling_a_temporary_threads_pending_run_deletes_the_thread(
    storage: Storage,
) -> None:
    """A stateless run's thread goes with its cancelled run."""
    thread = make_thread()
    thread["temporary"] = True  # type: ignore[typeddict-unknown-key]
    run = make_run(thread["thread_id"], delay=60)
    await storage.create_run(run, thread, claim=True)
    assert await storage.cancel_pending_run(run["run_id"], delete=True, result=b"")
    assert await storage.get_thread(thread["thread_id"]) is None


async def test_delete_run(storage: Storage) -> None:
    """delete_run removes one run of the thread; False if that thread has no such run."""
    thread = make_thread()
    run, kept = make_run(thread["thread_id"]), make_run(thread["thread_id"])
    await storage.create_run(run, thread, claim=True)
    await storage.create_run(kept, None, claim=False)
    assert not await storage.delete_run(make_thread()["thread_id"], run["run_id"])
    assert await storage.delete_run(thread["thread_id"], run["run_id"])
    assert await storage.get_run(thread["thread_id"], run["run_id"]) is None
    assert not await storage.delete_run(thread["thread_id"], run["run_id"])
    assert await storage.get_run(thread["thread_id"], kept["run_id"]) is not None


async def test_get_run_thread_finds_the_runs_thread(storage: Storage) -> None:
    """get_run_thread answers a run's thread from its id alone; None once it is gone."""
    thread, other = make_thread(), make_thread()
    run, elsewhere = make_run(thread["thread_id"]), make_run(other["thread_id"])
    await storage.create_run(run, thread, claim=False)
    await storage.create_run(elsewhere, other, claim=True)
    assert await storage.get_run_thread(run["run_id"]) == thread["thread_id"]
    assert await storage.get_run_thread(elsewhere["run_id"]) == other["thread_id"]
    assert await storage.get_run_thread(uuid7()) is None
    assert await storage.delete_run(thread["thread_id"], run["run_id"])
    assert await storage.get_run_thread(run["run_id"]) is None


async def test_reject_if_busy_refuses_a_thread_with_a_run_in_flight(storage: Storage) -> None:
    """With reject_if_busy, a run on a thread with a pending or running run is a Conflict and
    leaves no row; on an idle thread (or a new one) it is created as usual."""
    thread = make_thread()
    first = make_run(thread["thread_id"])
    assert await storage.create_run(first, thread, claim=True, reject_if_busy=True)
    for _ in range(2):  # running, then pending behind a queued run
        refused = make_run(thread["thread_id"])
        with pytest.raises(errors.Conflict, match="Thread is already running a task"):
            await storage.create_run(refused, None, claim=True, reject_if_busy=True)
        assert await storage.get_run_thread(refused["run_id"]) is None
        await storage.create_run(make_run(thread["thread_id"]), None, claim=False)
    ids = {r["run_id"] for r in await storage.inflight_runs(thread["thread_id"])}
    assert first["run_id"] in ids and len(ids) == 3
    for run in await storage.inflight_runs(thread["thread_id"]):
        if run["status"] == "pending":
            assert await storage.cancel_pending_run(run["run_id"], delete=True, result=b"")
    await storage.finish_run(finish(first))
    after = make_run(thread["thread_id"])
    assert await storage.create_run(after, None, claim=True, reject_if_busy=True)


async def test_thread_metadata_is_merged_into_the_runs_thread(storage: Storage) -> None:
    """create_run merges `thread_metadata` into the thread's metadata, an existing thread's
    or the one it creates, and marks the thread busy."""
    existing = make_thread()
    existing["status"] = "idle"
    await storage.create_thread(existing, if_exists="raise", ttl=None)
    run = make_run(existing["thread_id"])
    await storage.create_run(
        run, None, claim=False, thread_metadata={"assistant_id": "a", "graph_id": "h"}
    )
    got = await storage.get_thread(existing["thread_id"])
    assert got is not None and got["status"] == "busy"
    assert got["metadata"] == {"graph_id": "h", "assistant_id": "a"}
    new = make_thread()
    await storage.create_run(
        make_run(new["thread_id"]), new, claim=False, thread_metadata={"assistant_id": "a"}
    )
    got = await storage.get_thread(new["thread_id"])
    assert got is not None and got["metadata"] == {"graph_id": "g", "assistant_id": "a"}


async def test_finish_run_of_a_rolled_back_run_leaves_no_row(storage: Storage) -> None:
    """delete_run in RunFinish drops the run row but keeps its thread, with its new state."""
    thread = make_thread()
    run = make_run(thread["thread_id"])
    await storage.create_run(run, thread, claim=True)
    done = finish(run, status="interrupted", values={"x": 0})
    done.delete_run = True
    done.thread_interrupts = {"task": [{"value": "ask"}]}
    done.thread_error = {"error": "E"}
    await storage.finish_run(done)
    assert await storage.get_run(thread["thread_id"], run["run_id"]) is None
    assert await storage.get_run_result(run["run_id"]) is None
    got = await storage.get_thread(thread["thread_id"])
    assert got is not None and got["status"] == "idle" and got["values"] == {"x": 0}
    assert got["interrupts"] == {"task": [{"value": "ask"}]} and got["error"] == {"error": "E"}


@pytest.mark.parametrize("temporary", [False, True])
async def test_create_run_on_a_missing_or_taken_thread(storage: Storage, temporary: bool) -> None:
    """A run on a thread that does not exist is NotFound; creating a thread that already
    exists with its run is a Conflict; neither leaves a run row."""
    lost = make_run(uuid7())
    with pytest.raises(errors.NotFound, match=f"Thread with ID {lost['thread_id']} not found"):
        await storage.create_run(lost, None, claim=True)
    assert await storage.get_run_thread(lost["run_id"]) is None
    thread = make_thread(temporary=temporary)
    first = make_run(thread["thread_id"])
    assert await storage.create_run(first, thread, claim=True)
    got = await storage.get_thread(thread["thread_id"])
    assert got is not None and got["status"] == "busy"
    again = make_run(thread["thread_id"])
    with pytest.raises(errors.Conflict, match=f"Thread with ID {thread['thread_id']} already"):
        await storage.create_run(again, thread, claim=False)
    assert await storage.get_run_thread(again["run_id"]) is None


async def test_a_kept_thread_with_an_id_made_for_its_run(storage: Storage) -> None:
    """`fresh_thread` (the server made the id; nothing can be stored under it): the kept thread
    and its run are created together (by one statement where the backend chains inserts),
    the run claimed and the thread busy with its metadata and ttl; the run's end keeps both."""
    thread = make_thread()
    run = make_run(thread["thread_id"])
    assert await storage.create_run(run, thread, claim=True, fresh_thread=True)
    got = await storage.get_thread(thread["thread_id"])
    assert got is not None and got["status"] == "busy" and got["metadata"] == {"graph_id": "g"}
    stored = await storage.get_run(thread["thread_id"], run["run_id"])
    assert stored is not None and stored["status"] == "running"
    with pytest.raises(errors.Conflict):
        await storage.create_run(make_run(thread["thread_id"]), thread, claim=True,
                                 fresh_thread=True)  # fmt: skip
    await storage.finish_run(finish(run))
    assert await storage.get_run_result(run["run_id"]) == ("success", b'{"x":2}')
    got = await storage.get_thread(thread["thread_id"])
    assert got is not None and got["status"] == "idle" and got["values"] == {"x": 2}


# ------------------------------------------------------------------ the assistant of a run


async def _assistant_copy(storage: Storage) -> Any:
    from tests.contract.test_storage_assistants import make_assistant

    made = make_assistant()
    await storage.create_assistant(made, if_exists="raise")
    copy = await storage.assistant_for_run(made["assistant_id"])
    assert copy == await storage.get_assistant(made["assistant_id"])
    return copy


@pytest.mark.parametrize("temporary", [False, True])
async def test_a_run_built_from_the_current_assistant_is_inserted(
    storage: Storage, temporary: bool
) -> None:
    copy = await _assistant_copy(storage)
    run = {**make_run(uuid7()), "assistant_id": copy["assistant_id"]}
    thread = make_thread(run["thread_id"], temporary=temporary)
    claimed = await storage.create_run(run, thread, claim=True,
                                       assistant=copy)  # fmt: skip
    assert claimed
    stored = await storage.get_run(run["thread_id"], run["run_id"])
    assert stored is not None and stored["status"] == "running"


@pytest.mark.capability(Capability.SEVERAL_PROCESSES)
@pytest.mark.parametrize("temporary", [False, True])
@pytest.mark.parametrize("change", ["update", "set_latest", "delete"])
async def test_a_run_built_from_a_replaced_assistant_writes_nothing(
    storage: Storage, change: str, temporary: bool
) -> None:
    """Another process may have changed the assistant since the copy was read: the insert
    checks in its own statement that the copy is current, and refuses it (with the thread it
    would have created) if not; the next read is fresh."""
    from graphport.storage.base import AssistantChanged

    copy = await _assistant_copy(storage)
    assistant_id = copy["assistant_id"]
    await storage.update_assistant(assistant_id, name="v2")
    current = await storage.assistant_for_run(assistant_id)  # the v2 copy
    if change == "update":
        await storage.update_assistant(assistant_id, name="v3")
    elif change == "set_latest":
        await storage.set_latest_assistant_version(assistant_id, 1)
    else:
        await storage.delete_assistant(assistant_id)
    run = {**make_run(uuid7()), "assistant_id": assistant_id}
    with pytest.raises(AssistantChanged):
        thread = make_thread(run["thread_id"], temporary=temporary)
        await storage.create_run(run, thread, claim=True, assistant=current)
    assert await storage.get_thread(run["thread_id"]) is None
    assert await storage.get_run(run["thread_id"], run["run_id"]) is None
    fresh = await storage.assistant_for_run(assistant_id)
    assert fresh == await storage.get_assistant(assistant_id)
    assert fresh != current
