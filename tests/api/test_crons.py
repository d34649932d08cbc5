"""Crons: create (stateless, on a thread), search, count, get, update, delete, and firings
(spec §1.5, §6.5). Shapes and error strings captured from langgraph-api 0.16.7; tests marked
`graphport_only` pin deliberate fixes."""

from __future__ import annotations

import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from langgraph_sdk import get_sync_client
from langgraph_sdk.errors import NotFoundError

from tests.conftest import BACKEND, Server, start_server, wait_until

ECHO = "046b5dc7-2108-582c-9c6c-31d556d138f0"  # the default assistant of the graph "echo"
CRON_KEYS = [
    "cron_id", "assistant_id", "thread_id", "user_id", "end_time", "schedule", "timezone",
    "payload", "next_run_date", "metadata", "on_run_completed", "enabled", "created_at",
    "updated_at",
]  # fmt: skip
INVALID_SCHEDULE = (
    "Invalid cron schedule: '{}'. Reason: Invalid cron schedule. Ensure the schedule uses the "
    "standard cron format (minute hour day_of_month month day_of_week). Example: '*/5 * * * *' "
    "for every 5 minutes."
)


@pytest.fixture
def client(url: str):  # type: ignore[no-untyped-def]
    return get_sync_client(url=url)


@pytest.fixture
def crons(http: httpx.Client) -> Iterator[list[str]]:
    """Ids of the crons a test creates: deleted afterwards, so none keeps firing."""
    made: list[str] = []
    yield made
    for cron_id in made:
        http.delete(f"/runs/crons/{cron_id}")


@pytest.fixture
def make(http: httpx.Client, crons: list[str]) -> Callable[..., dict[str, Any]]:
    """POST a cron (on `thread` if given) and remember it; fails unless it is created."""

    def make(thread: str | None = None, **body: Any) -> dict[str, Any]:
        body = {"assistant_id": "echo", "schedule": "0 0 1 1 *", **body}
        path = f"/threads/{thread}/runs/crons" if thread else "/runs/crons"
        resp = http.post(path, json=body)
        assert resp.status_code == 200, resp.text
        crons.append(resp.json()["cron_id"])
        return resp.json()  # type: ignore[no-any-return]

    return make


def assert_error(resp: httpx.Response, status: int, detail: str) -> None:
    assert (resp.status_code, resp.json()) == (status, {"detail": detail})


def when(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def next_new_year() -> datetime:
    now = datetime.now(UTC)
    return datetime(now.year + 1, 1, 1, tzinfo=UTC)


def test_info_announces_crons(http: httpx.Client) -> None:
    assert http.get("/info").json()["flags"]["crons"] is True


def test_create_stateless(client, http: httpx.Client, crons: list[str]) -> None:  # type: ignore[no-untyped-def]
    cron = client.crons.create(
        "echo", schedule="0 0 1 1 *", input={"messages": ["c"]}, metadata={"k": "v"}
    )
    crons.append(cron["cron_id"])
    cron_id = cron["cron_id"]
    assert list(cron) == CRON_KEYS
    assert uuid.UUID(cron_id).version == 7
    assert {k: cron[k] for k in CRON_KEYS[1:8] if k != "payload"} == {
        "assistant_id": ECHO,
        "thread_id": None,
        "user_id": "",
        "end_time": None,
        "schedule": "0 0 1 1 *",
        "timezone": None,
    }
    assert cron["payload"] == {
        "assistant_id": ECHO,
        "schedule": "0 0 1 1 *",
        "input": {"messages": ["c"]},
        "metadata": {"k": "v"},
        "config": {"configurable": {"cron_id": cron_id}},
    }
    assert when(cron["next_run_date"]) == next_new_year()
    assert cron["metadata"] == {"k": "v"}
    assert (cron["on_run_completed"], cron["enabled"]) == ("delete", True)
    assert cron["created_at"] == cron["updated_at"]
    assert http.get(f"/runs/crons/{cron_id}").json() == cron


def test_create_for_thread(client, http: httpx.Client, crons: list[str]) -> None:  # type: ignore[no-untyped-def]
    thread_id = client.threads.create()["thread_id"]
    cron = client.crons.create_for_thread(
        thread_id, "echo", schedule="*/5 * * * *", input={"messages": ["t"]}
    )
    crons.append(cron["cron_id"])
    assert cron["thread_id"] == thread_id and cron["assistant_id"] == ECHO
    assert cron["on_run_completed"] is None  # only stateless crons have one
    now = datetime.now(UTC)
    assert now < when(cron["next_run_date"]) <= now + timedelta(minutes=5)
    assert when(cron["next_run_date"]).minute % 5 == 0
    # on_run_completed is ignored on a thread's cron, but stays in the payload
    raw = http.post(
        f"/threads/{thread_id}/runs/crons",
        json={"assistant_id": ECHO, "schedule": "0 0 1 1 *", "on_run_completed": "keep",
              "multitask_strategy": "enqueue"},
    )  # fmt: skip
    crons.append(raw.json()["cron_id"])
    assert raw.json()["on_run_completed"] is None
    assert raw.json()["payload"]["on_run_completed"] == "keep"


def test_time_zone_end_time_and_disabled(client, crons: list[str]) -> None:  # type: ignore[no-untyped-def]
    end = datetime(2030, 1, 1, tzinfo=UTC)
    cron = client.crons.create(
        "echo",
        schedule="0 9 * * *",
        timezone=ZoneInfo("America/New_York"),
        end_time=end,
        on_run_completed="keep",
        enabled=False,
    )
    crons.append(cron["cron_id"])
    assert cron["timezone"] == "America/New_York" and when(cron["end_time"]) == end
    assert (cron["on_run_completed"], cron["enabled"]) == ("keep", False)
    local = when(cron["next_run_date"]).astimezone(ZoneInfo("America/New_York"))
    assert (local.hour, local.minute) == (9, 0)
    assert timedelta(0) < when(cron["next_run_date"]) - datetime.now(UTC) <= timedelta(days=1)


def test_create_errors(http: httpx.Client, make: Callable[..., dict[str, Any]]) -> None:
    bad = http.post("/runs/crons", json={"assistant_id": "echo", "schedule": "nope"})
    assert_error(bad, 422, INVALID_SCHEDULE.format("nope"))
    tz = http.post("/runs/crons", json={"assistant_id": "echo", "schedule": "* * * * *",
                                        "timezone": "Mars/Base"})  # fmt: skip
    assert_error(
        tz,
        422,
        "Invalid timezone: 'Mars/Base'. Use IANA timezone format (e.g. 'America/New_York').",
    )
    missing = str(uuid.uuid4())
    r = http.post("/runs/crons", json={"assistant_id": missing, "schedule": "* * * * *"})
    assert_error(r, 404, f"Assistant '{missing}' not found")
    r = http.post("/runs/crons", json={"assistant_id": "no-such-graph", "schedule": "* * * * *"})
    assert_error(r, 404, "Assistant 'no-such-graph' not found")
    r = http.post("/runs/crons", json={"assistant_id": "echo", "schedule": 5})
    assert_error(
        r,
        422,
        '5 is not of type "string"\n\nFailed validating "type" in schema["properties"]'
        '["schedule"]\n\nOn instance["schedule"]:\n    5',
    )
    r = http.post("/runs/crons", json={"assistant_id": "echo", "schedule": "* * * * *",
                                       "on_run_completed": "x"})  # fmt: skip
    assert r.status_code == 422 and r.json()["detail"].startswith(
        '"x" is not one of "delete" or "keep"'
    )
    assert_error(http.post("/runs/crons", json=[]), 422,
                 '[] is not of type "object"\n\nFailed validating "type" in schema\n\n'
                 "On instance:\n    []")  # fmt: skip
    thread = str(uuid.uuid4())
    r = http.post(f"/threads/{thread}/runs/crons", json={"assistant_id": "echo",
                                                         "schedule": "* * * * *"})  # fmt: skip
    assert_error(
        r,
        404,
        f"Thread with ID '{thread}' not found. Please verify the ID is correct and the thread "
        "hasn't been deleted or expired.",
    )
    r = http.post(
        "/threads/nope/runs/crons", json={"assistant_id": "echo", "schedule": "* * * * *"}
    )
    assert_error(r, 422, "Invalid thread ID: must be a UUID")


@pytest.mark.parametrize("schedule", ["* * * * * *", "0 0 31 2 *"])
def test_schedules_that_never_fire_as_written_are_refused(
    http: httpx.Client, schedule: str, graphport_only: None
) -> None:
    """The reference takes a sixth (seconds) field and a date that never comes: graphport
    serves the standard 5 fields and refuses a schedule with no next date."""
    r = http.post("/runs/crons", json={"assistant_id": "echo", "schedule": schedule})
    assert_error(r, 422, INVALID_SCHEDULE.format(schedule))


def test_malformed_bodies_are_422(http: httpx.Client, graphport_only: None) -> None:
    """The reference answers 500 without `schedule` and stores any `end_time` (which then
    stops its scheduler)."""
    r = http.post("/runs/crons", json={"assistant_id": "echo"})
    assert r.status_code == 422 and r.json()["detail"].startswith(
        '"schedule" is a required property'
    )
    r = http.post("/runs/crons", json={"assistant_id": "echo", "schedule": "* * * * *",
                                       "end_time": "soon"})  # fmt: skip
    assert r.status_code == 422 and r.json()["detail"].startswith("Invalid end_time: 'soon'")


def test_get_update_delete_errors(http: httpx.Client) -> None:
    unknown = str(uuid.uuid4())
    assert_error(http.get(f"/runs/crons/{unknown}"), 404, "Not Found")
    assert_error(http.patch(f"/runs/crons/{unknown}", json={}), 400,
                 "Request body cannot be empty")  # fmt: skip
    assert_error(http.patch(f"/runs/crons/{unknown}", json={"enabled": False}), 404,
                 f"Cron '{unknown}' not found")  # fmt: skip
    assert_error(http.delete(f"/runs/crons/{unknown}"), 404, "Not Found")
    for method in ("GET", "PATCH", "DELETE"):
        r = http.request(method, "/runs/crons/nope", json={"enabled": False})
        assert_error(r, 422, "Invalid cron ID: must be a UUID")


def test_update(client, make: Callable[..., dict[str, Any]]) -> None:  # type: ignore[no-untyped-def]
    cron = make(input={"messages": ["a"]}, metadata={"k": "v"},
                end_time="2030-01-01T00:00:00+00:00")  # fmt: skip
    time.sleep(0.01)
    updated = client.crons.update(
        cron["cron_id"], schedule="*/10 * * * *", metadata={"m": 2}, input={"messages": ["b"]}
    )
    assert updated["cron_id"] == cron["cron_id"] and updated["schedule"] == "*/10 * * * *"
    now = datetime.now(UTC)
    assert now < when(updated["next_run_date"]) <= now + timedelta(minutes=10)
    assert updated["metadata"] == {"k": "v", "m": 2}
    assert updated["payload"] == {
        **cron["payload"],
        "schedule": "*/10 * * * *",
        "input": {"messages": ["b"]},
        "metadata": {"m": 2},
    }
    assert updated["created_at"] == cron["created_at"]
    assert updated["updated_at"] > cron["updated_at"]
    assert when(updated["end_time"]) == datetime(2030, 1, 1, tzinfo=UTC)
    disabled = client.crons.update(cron["cron_id"], enabled=False, end_time=None)
    assert disabled["enabled"] is False and disabled["end_time"] is None
    assert client.crons.update(cron["cron_id"], enabled=True)["enabled"] is True
    zoned = client.crons.update(cron["cron_id"], schedule="0 12 * * *", timezone="Asia/Tokyo")
    local = when(zoned["next_run_date"]).astimezone(ZoneInfo("Asia/Tokyo"))
    assert (local.hour, local.minute) == (12, 0) and zoned["timezone"] == "Asia/Tokyo"


def test_update_errors(http: httpx.Client, make: Callable[..., dict[str, Any]]) -> None:
    cron_id = make()["cron_id"]
    r = http.patch(f"/runs/crons/{cron_id}", json={"schedule": "soon"})
    assert_error(r, 422, INVALID_SCHEDULE.format("soon"))
    r = http.patch(f"/runs/crons/{cron_id}", json={"timezone": "Nowhere"})
    assert_error(
        r, 422, "Invalid timezone: 'Nowhere'. Use IANA timezone format (e.g. 'America/New_York')."
    )
    r = http.patch(f"/runs/crons/{cron_id}", json={"enabled": "yes"})
    assert r.status_code == 422 and 'in schema["properties"]["enabled"]' in r.json()["detail"]
    assert http.get(f"/runs/crons/{cron_id}").json()["schedule"] == "0 0 1 1 *"


def test_delete(client, http: httpx.Client, make: Callable[..., dict[str, Any]]) -> None:  # type: ignore[no-untyped-def]
    cron_id = make()["cron_id"]
    assert client.crons.delete(cron_id) is None
    assert http.get(f"/runs/crons/{cron_id}").status_code == 404
    with pytest.raises(NotFoundError):
        client.crons.delete(cron_id)


def test_a_threads_crons_go_with_it(
    client, http: httpx.Client, make: Callable[..., dict[str, Any]]
) -> None:  # type: ignore[no-untyped-def]
    thread_id = client.threads.create()["thread_id"]
    cron_id = make(thread_id)["cron_id"]
    client.threads.delete(thread_id)
    assert http.get(f"/runs/crons/{cron_id}").status_code == 404


def test_search_and_count(client, http: httpx.Client, make: Callable[..., dict[str, Any]]) -> None:  # type: ignore[no-untyped-def]
    tag = str(uuid.uuid4())
    thread_id = client.threads.create()["thread_id"]
    first = make(thread_id, schedule="0 0 1 1 *", metadata={"tag": tag, "n": 1})
    time.sleep(0.01)
    second = make(thread_id, schedule="0 0 1 6 *", metadata={"tag": tag, "n": 2}, enabled=False)
    a, b = first["cron_id"], second["cron_id"]
    assert [c["cron_id"] for c in client.crons.search(thread_id=thread_id)] == [b, a]
    assert [
        c["cron_id"]
        for c in client.crons.search(thread_id=thread_id, sort_by="created_at", sort_order="asc")
    ] == [a, b]
    by_next = client.crons.search(thread_id=thread_id, sort_by="next_run_date", sort_order="asc")
    soonest = sorted([first, second], key=lambda c: when(c["next_run_date"]))
    assert [c["cron_id"] for c in by_next] == [c["cron_id"] for c in soonest]
    assert [c["cron_id"] for c in client.crons.search(thread_id=thread_id, enabled=False)] == [b]
    assert client.crons.search(thread_id=thread_id, assistant_id=str(uuid.uuid4())) == []
    assert client.crons.search(thread_id=thread_id, select=["cron_id", "enabled"]) == [
        {"cron_id": b, "enabled": False},
        {"cron_id": a, "enabled": True},
    ]
    assert client.crons.count(thread_id=thread_id) == 2
    assert client.crons.count(assistant_id=ECHO, thread_id=thread_id) == 2
    page = http.post("/runs/crons/search", json={"thread_id": thread_id, "limit": 1})
    assert [c["cron_id"] for c in page.json()] == [b]
    assert page.headers["x-pagination-next"] == "1"
    last = http.post("/runs/crons/search", json={"thread_id": thread_id, "limit": 1, "offset": 1})
    assert [c["cron_id"] for c in last.json()] == [a]
    assert last.headers["x-pagination-total"] == "2" and "x-pagination-next" not in last.headers
    r = http.post("/runs/crons/count", json={"metadata": {"tag": tag, "n": 2}})
    assert r.json() == 1


def test_search_errors(http: httpx.Client) -> None:
    r = http.post("/runs/crons/search", json={"sort_by": "bogus"})
    assert_error(
        r,
        422,
        '"bogus" is not one of "cron_id", "assistant_id" or 5 other candidates\n\nFailed '
        'validating "enum" in schema["properties"]["sort_by"]\n\nOn instance["sort_by"]:\n'
        '    "bogus"',
    )
    r = http.post("/runs/crons/search", json={"select": ["bogus"]})
    assert r.status_code == 422 and 'schema["properties"]["select"]["items"]' in r.json()["detail"]
    r = http.post("/runs/crons/search", json={"limit": 0})
    assert r.status_code == 422 and r.json()["detail"].startswith("0 is less than the minimum of 1")
    r = http.post("/runs/crons/search", json={"assistant_id": "echo"})
    assert_error(r, 422, "Invalid assistant ID: must be a UUID")
    r = http.post("/runs/crons/count", json={"thread_id": "nope"})
    assert_error(r, 422, "Invalid thread ID: must be a UUID")


# -- firings -----------------------------------------------------------------------------------


def test_crons_fire(client, http: httpx.Client, make: Callable[..., dict[str, Any]]) -> None:  # type: ignore[no-untyped-def]
    """Every minute: a thread's cron runs on its thread; a stateless `keep` cron leaves a new
    thread per firing; a stateless `delete` cron leaves none; disabled or ended crons do not
    fire."""
    tag = str(uuid.uuid4())
    thread_id = client.threads.create(metadata={"owner": tag})["thread_id"]
    on_thread = make(thread_id, schedule="* * * * *", input={"messages": ["t"]},
                     metadata={"cron": "thread"})  # fmt: skip
    keep = make(schedule="* * * * *", input={"messages": ["k"]}, on_run_completed="keep",
                metadata={"tag": tag, "kind": "keep"})  # fmt: skip
    make(schedule="* * * * *", assistant_id="memory", input={"messages": [tag]},
         metadata={"tag": tag, "kind": "delete"})  # fmt: skip
    make(schedule="* * * * *", on_run_completed="keep", enabled=False,
         metadata={"tag": tag, "kind": "disabled"})  # fmt: skip
    make(schedule="* * * * *", on_run_completed="keep", end_time="2020-01-01T00:00:00+00:00",
         metadata={"tag": tag, "kind": "ended"})  # fmt: skip

    def finished_run() -> dict[str, Any] | None:
        runs = client.runs.list(thread_id)
        return runs[0] if runs and runs[0]["status"] == "success" else None

    run = wait_until(finished_run, 75, interval=0.5)
    assert run["kwargs"]["config"]["configurable"]["cron_id"] == on_thread["cron_id"]
    assert run["kwargs"]["input"] == {"messages": ["t"]}
    assert run["metadata"]["cron"] == "thread" and run["metadata"]["owner"] == tag
    assert client.threads.get_state(thread_id)["values"]["messages"] == ["t", "hi"]

    kept = wait_until(lambda: client.threads.search(metadata={"tag": tag, "kind": "keep"}), 75)
    kept_id = kept[0]["thread_id"]
    wait_until(lambda: client.threads.get(kept_id)["status"] == "idle", 75)
    assert client.threads.get_state(kept_id)["values"]["messages"] == ["k", "hi"]
    [kept_run] = client.runs.list(kept_id)
    assert kept_run["kwargs"]["config"]["configurable"]["cron_id"] == keep["cron_id"]

    # the `delete` cron ran the memory graph (it writes its input to the store) on a thread
    # that is gone once the run is over
    def remembered() -> bool:
        try:
            item = client.store.get_item(["graph-memory"], "last")
        except NotFoundError:
            return False
        return bool(item and item["value"] == {"messages": [tag]})

    wait_until(remembered, 30)
    wait_until(lambda: not client.threads.search(metadata={"tag": tag, "kind": "delete"}), 30)
    for kind in ("disabled", "ended"):
        assert client.threads.search(metadata={"tag": tag, "kind": kind}) == []


@pytest.fixture
def own_server(tmp_path: Path, server: Server) -> Iterator[Server]:
    if server.process is None:
        pytest.skip("restarts a graphport server of its own")
    if BACKEND != "sqlite":
        pytest.skip("moves a cron's next firing back in the SQLite file")
    own = start_server(tmp_path)
    yield own
    own.stop()


def test_firings_survive_a_restart(own_server: Server, tmp_path: Path) -> None:
    """Firings missed while the server was down make one run at start; the cron then goes
    on firing every minute."""
    client = get_sync_client(url=own_server.url)
    thread_id = client.threads.create()["thread_id"]
    cron = client.crons.create_for_thread(
        thread_id, "echo", schedule="* * * * *", input={"messages": ["r"]}
    )
    port = int(own_server.url.rsplit(":", 1)[1])
    own_server.stop(sig_kill=True)
    # five firings missed, the last of them 30 s ago at most
    missed = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=5)
    with sqlite3.connect(tmp_path / "graphport.sqlite") as db:
        changed = db.execute(
            "UPDATE crons SET next_run_date = ? WHERE cron_id = ?",
            (missed.isoformat(), cron["cron_id"]),
        ).rowcount
    assert changed == 1
    again = start_server(tmp_path, port=port)
    try:
        client = get_sync_client(url=again.url)
        wait_until(lambda: client.runs.list(thread_id), 30)
        runs = wait_until(lambda: (r := client.runs.list(thread_id)) and len(r) >= 2 and r, 75)
        # one run for the five missed firings, then one at the next minute
        assert len(runs) == 2
        catch_up, on_time = (when(r["created_at"]) for r in reversed(runs))
        next_minute = catch_up.replace(second=0, microsecond=0) + timedelta(minutes=1)
        assert on_time >= next_minute
        assert when(client.crons.search(thread_id=thread_id)[0]["next_run_date"]) > on_time
        wait_until(lambda: all(r["status"] == "success" for r in client.runs.list(thread_id)), 30)
        assert client.threads.get_state(thread_id)["values"]["messages"] == ["r", "hi"] * 2
    finally:
        again.stop()
