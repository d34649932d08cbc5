"""Retention with several processes (SQLite file shared by processes, PostgreSQL with
LISTEN/NOTIFY or Redis): a thread deleted through one process while another executes its run
stays deleted (the run's checkpoint writes that land after the deletion are dropped), and a
stateless run of a killed process leaves no row once another has taken it over."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest
from langgraph_sdk import get_sync_client
from langgraph_sdk.errors import NotFoundError

from tests.api.test_retention import count_rows, tables
from tests.cluster.conftest import Cluster
from tests.conftest import wait_until


def test_thread_deleted_elsewhere_while_its_run_writes(cluster: Cluster) -> None:
    a, b = cluster.start(2)
    on_a, on_b = get_sync_client(url=a.url), get_sync_client(url=b.url)
    tid = on_a.threads.create()["thread_id"]
    run = on_a.runs.create(tid, "spin", input={"limit": 10**6}, config={"recursion_limit": 10**7})
    db = cluster.database_url
    wait_until(lambda: count_rows(db, tid)["checkpoints"] > 20)  # A executes it, writing
    assert f"run {run['run_id']} started" in a.log()
    on_b.threads.delete(tid)  # B deletes it; A hears the cancel over the bus
    for client in (on_a, on_b):
        assert client.threads.search(ids=[tid]) == []
        with pytest.raises(NotFoundError):
            client.threads.get(tid)
    wait_until(lambda: f"run {run['run_id']} ended" in a.log())
    assert count_rows(db, tid) == dict.fromkeys(tables(db), 0)
    assert on_a.threads.count() == 0


def test_stateless_run_of_a_killed_process_is_cleaned_by_the_takeover(cluster: Cluster) -> None:
    """kill -9 the process executing a stateless run: its thread and run rows stay until
    another process takes the run over, runs it and deletes them; nothing is left."""
    a, b = cluster.start(2)
    db = cluster.database_url
    empty = dict.fromkeys(tables(db), 0)
    run = get_sync_client(url=a.url).runs.create(None, "steps", input={"sleep": 0.5})
    wait_until(lambda: f"run {run['run_id']} started" in a.log())
    a.stop(sig_kill=True)
    assert count_rows(db) == {**empty, "threads": 1, "runs": 1}  # what the kill left
    wait_until(lambda: f"run {run['run_id']} ended" in b.log())
    wait_until(lambda: count_rows(db) == empty)
    assert get_sync_client(url=b.url).threads.search() == []


def test_thread_deleted_while_a_stalled_process_still_runs_it(cluster: Cluster) -> None:
    """A process stalls (SIGSTOP) mid-run; another takes the run over; the thread is deleted;
    the stalled process wakes (SIGCONT) and goes on writing the run's checkpoints until the
    run's end. Nothing of the thread is stored again. PostgreSQL only: a process stopped on a
    shared SQLite file may hold its write lock, which stops the others too."""
    if cluster.database_url.startswith("sqlite"):
        pytest.skip("a stopped process may hold the SQLite file's write lock")
    a, b = cluster.start(2)
    on_a, on_b = get_sync_client(url=a.url), get_sync_client(url=b.url)
    db = cluster.database_url
    tid = on_a.threads.create()["thread_id"]
    run = on_a.runs.create(tid, "spin", input={"limit": 400}, config={"recursion_limit": 10**4})
    wait_until(lambda: count_rows(db, tid)["checkpoints"] > 20)
    assert a.process is not None
    os.kill(a.process.pid, signal.SIGSTOP)
    try:
        wait_until(lambda: f"run {run['run_id']} started" in b.log())  # taken over by B
        deleting = threading.Thread(target=on_b.threads.delete, args=(tid,))
        deleting.start()  # may wait for a row lock the stopped process holds
        time.sleep(0.5)  # let B's deletion start before A wakes (not an assertion)
    finally:
        os.kill(a.process.pid, signal.SIGCONT)
    deleting.join(60)
    assert not deleting.is_alive()
    wait_until(lambda: f"run {run['run_id']} ended" in a.log())  # A's stale execution ended
    assert count_rows(db, tid) == dict.fromkeys(tables(db), 0)
    for client in (on_a, on_b):
        assert client.threads.search(ids=[tid]) == []
        with pytest.raises(NotFoundError):
            client.threads.get(tid)
