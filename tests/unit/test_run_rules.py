"""The rules of taking a run in (storage/run_rules.py), which both SQL backends ask."""

from __future__ import annotations

import pytest

from graphport import errors
from graphport.storage.run_rules import check_run_thread, due_of, starts_claimed

THREAD = "00000000-0000-0000-0000-000000000001"


def test_a_run_on_an_existing_thread_needs_it():
    check_run_thread(THREAD, creating=False, exists=True)
    with pytest.raises(errors.NotFound, match=THREAD):
        check_run_thread(THREAD, creating=False, exists=False)


def test_a_run_bringing_its_own_thread_needs_a_free_id():
    check_run_thread(THREAD, creating=True, exists=False)
    with pytest.raises(errors.Conflict, match=f"Thread with ID {THREAD} already exists"):
        check_run_thread(THREAD, creating=True, exists=True)


@pytest.mark.parametrize(
    ("busy", "claim", "due", "expected"),
    [
        (False, True, 10.0, True),  # free thread, a slot, due: starts now
        (True, True, 10.0, False),  # busy thread: waits its turn
        (False, False, 10.0, False),  # no free slot: left pending
        (False, True, 30.0, False),  # after_seconds in the future: left pending
    ],
)
def test_when_a_new_run_starts_at_once(busy, claim, due, expected):
    assert (
        starts_claimed(busy=busy, reject_if_busy=False, claim=claim, due=due, now=20.0) is expected
    )


def test_reject_refuses_a_busy_thread_only():
    assert starts_claimed(busy=False, reject_if_busy=True, claim=True, due=0.0, now=1.0)
    with pytest.raises(errors.Conflict):
        starts_claimed(busy=True, reject_if_busy=True, claim=True, due=0.0, now=1.0)


def test_due_is_the_creation_time():
    assert due_of({"created_at": "1970-01-01T00:01:40+00:00"}) == 100.0  # type: ignore[typeddict-item]
