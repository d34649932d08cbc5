"""Custom auth (langgraph.json `auth.path`): two users, an admin and a read-only user against
every route family, on the backend the suite runs on (GRAPHPORT_TEST_BACKEND).

The auth module is tests/graphs/auth_graphs.py: an owner-per-user policy (a global `@auth.on`
stamping and filtering `owner`), a `threads.delete` handler that denies read-only users, and
a store handler that puts each user's items under their identity.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from langgraph_sdk import get_sync_client
from langgraph_sdk.errors import NotFoundError
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.conftest import Server, start_server, wait_until

CONFIG = Path(__file__).parent.parent / "graphs" / "langgraph-auth.json"


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = start_server(tmp_path_factory.mktemp("auth"), config=CONFIG)
    yield server
    server.stop()


def _headers(user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {user}-token"}


@pytest.fixture(scope="module")
def as_user(auth_server: Server) -> Iterator[Any]:
    clients: dict[str, httpx.Client] = {}

    def client(user: str) -> httpx.Client:
        if user not in clients:
            clients[user] = httpx.Client(
                base_url=auth_server.url, headers=_headers(user), timeout=30
            )
        return clients[user]

    yield client
    for c in clients.values():
        c.close()


def _sdk(server: Server, user: str) -> Any:
    return get_sync_client(url=server.url, headers=_headers(user))


# -- authentication ----------------------------------------------------------------------------


def test_requests_without_good_credentials_are_refused_with_the_handlers_error(
    auth_server: Server,
) -> None:
    admin = _sdk(auth_server, "admin")
    before = admin.threads.count(), admin.assistants.count()
    with httpx.Client(base_url=auth_server.url) as anonymous:
        r = anonymous.post("/threads/search", json={})
        assert r.status_code == 401 and r.json() == {"detail": "Missing token"}
        assert r.headers["www-authenticate"] == "Bearer"
        r = anonymous.post("/threads", json={}, headers={"Authorization": "Bearer nobody"})
        assert r.status_code == 401 and r.json() == {"detail": "Unauthorized"}
        r = anonymous.post("/threads", json={}, headers={"x-throttle": "1"})
        # the handler's status and headers are kept (the reference turns a 429 into a 500)
        assert r.status_code == 429 and r.headers["retry-after"] == "7"
        assert r.json() == {"detail": "Slow down"}
        r = anonymous.post("/threads", json={}, headers={"Authorization": "Bearer malformed"})
        assert r.status_code == 400 and r.json() == {"detail": "Token is malformed"}
        for path in ("/runs/wait", "/assistants/search", "/store/items/search", "/mcp"):
            assert anonymous.post(path, json={}).status_code == 401, path
        assert anonymous.get("/runs/crons/" + str(uuid.uuid4())).status_code == 401
        r = anonymous.post("/assistants", json={"graph_id": "echo"})
        assert r.status_code == 401
    assert (admin.threads.count(), admin.assistants.count()) == before  # nothing was created


def test_meta_routes_stay_open(auth_server: Server) -> None:
    with httpx.Client(base_url=auth_server.url) as anonymous:
        for path in ("/ok", "/info", "/openapi.json", "/metrics", "/docs"):
            assert anonymous.get(path).status_code == 200, path


# -- threads ----------------------------------------------------------------------------------


def test_threads_are_stamped_with_their_owner_and_hidden_from_others(
    auth_server: Server, as_user: Any
) -> None:
    alice, bob = _sdk(auth_server, "alice"), _sdk(auth_server, "bob")
    thread = alice.threads.create(metadata={"topic": "cats"})
    tid = thread["thread_id"]
    assert thread["metadata"] == {"topic": "cats", "owner": "alice"}
    assert alice.threads.get(tid)["thread_id"] == tid
    with pytest.raises(NotFoundError):
        bob.threads.get(tid)
    r = as_user("bob").get(f"/threads/{tid}")
    assert r.status_code == 404 and r.json() == {"detail": f"Thread with ID {tid} not found"}
    assert tid in [t["thread_id"] for t in alice.threads.search(limit=100)]
    assert tid not in [t["thread_id"] for t in bob.threads.search(limit=100)]
    # a metadata filter of one's own cannot widen the owner filter
    assert bob.threads.search(metadata={"owner": "alice"}) == []
    assert bob.threads.count(metadata={"owner": "alice"}) == 0
    assert alice.threads.count(metadata={"topic": "cats"}) >= 1
    bob_http = as_user("bob")
    for method, path, body in (
        ("PATCH", f"/threads/{tid}", {"metadata": {"x": 1}}),
        ("DELETE", f"/threads/{tid}", None),
        ("GET", f"/threads/{tid}/state", None),
        ("POST", f"/threads/{tid}/state", {"values": {"messages": ["x"]}}),
        ("GET", f"/threads/{tid}/history", None),
        ("POST", f"/threads/{tid}/history", {}),
        ("POST", f"/threads/{tid}/copy", None),
        ("GET", f"/threads/{tid}/runs", None),
        ("GET", f"/threads/{tid}/stream", None),
    ):
        r = bob_http.request(method, path, json=body)
        assert r.status_code == 404, (method, path, r.text)
    # bob's attempts changed nothing
    assert alice.threads.get(tid)["metadata"] == {"topic": "cats", "owner": "alice"}
    assert admin_sees(auth_server, tid)
    pruned = bob_http.post("/threads/prune", json={"thread_ids": [tid]}).json()
    assert pruned == {"pruned_count": 0}
    alice.threads.get(tid)


def admin_sees(server: Server, thread_id: str) -> bool:
    admin = _sdk(server, "admin")
    return admin.threads.get(thread_id)["thread_id"] == thread_id


def test_a_handler_that_says_no_is_a_403_and_owners_still_delete(
    auth_server: Server, as_user: Any
) -> None:
    carol, alice = _sdk(auth_server, "carol"), _sdk(auth_server, "alice")
    mine = carol.threads.create()
    r = as_user("carol").delete(f"/threads/{mine['thread_id']}")
    assert r.status_code == 403 and r.json() == {"detail": "Forbidden"}
    carol.threads.get(mine["thread_id"])
    theirs = alice.threads.create()
    alice.threads.delete(theirs["thread_id"])
    with pytest.raises(NotFoundError):
        alice.threads.get(theirs["thread_id"])


# -- runs -------------------------------------------------------------------------------------


def test_runs_go_through_their_thread_and_graphs_see_the_user(
    auth_server: Server, as_user: Any
) -> None:
    alice = _sdk(auth_server, "alice")
    tid = alice.threads.create()["thread_id"]
    out = alice.runs.wait(tid, "whoami", input={"messages": ["hi"]})
    assert out["who"] == {
        "user_id": "alice",
        "permissions": ["threads:write"],
        "identity_attr": "alice",
        "identity_item": "alice",
        "runtime_identity": "alice",
    }
    run = alice.runs.list(tid)[0]
    assert run["metadata"]["owner"] == "alice"
    r = as_user("bob").post(
        f"/threads/{tid}/runs/wait", json={"assistant_id": "whoami", "input": {}}
    )
    assert r.status_code == 404 and r.json() == {"detail": "Thread or assistant not found."}
    r = as_user("bob").post(
        f"/threads/{tid}/runs", json={"assistant_id": "whoami", "if_not_exists": "create"}
    )
    assert r.status_code == 404  # a hidden thread is not created over either
    bob_http = as_user("bob")
    rid = run["run_id"]
    for method, path in (
        ("GET", f"/threads/{tid}/runs/{rid}"),
        ("GET", f"/threads/{tid}/runs/{rid}/join"),
        ("GET", f"/threads/{tid}/runs/{rid}/stream"),
        ("POST", f"/threads/{tid}/runs/{rid}/cancel"),
        ("DELETE", f"/threads/{tid}/runs/{rid}"),
        ("GET", f"/runs/{rid}/webhook"),
    ):
        r = bob_http.request(method, path)
        assert r.status_code == 404, (method, path, r.text)
    assert bob_http.get(f"/runs/{rid}/feedback").json() == []
    r = bob_http.post("/runs/cancel", json={"thread_id": tid, "run_ids": [rid]})
    assert r.status_code == 404
    assert alice.runs.get(tid, rid)["status"] == "success"


@pytest.mark.parametrize("where", ["thread", "stateless"])
def test_a_create_run_handler_gets_the_keys_and_defaults_of_the_reference(
    auth_server: Server, as_user: Any, where: str
) -> None:
    """threads.create_run receives every key the reference hands it, with its defaults: a list
    of stream modes, dicts for config and context, after_seconds 0, a stateless run's
    if_not_exists "create" and temporary kwargs (compared with langgraph-api 0.16.7)."""
    alice = as_user("alice")
    body = {"assistant_id": "echo", "input": {"messages": []}, "metadata": {"show_value": 1}}
    path = "/runs"
    if where == "thread":
        path = f"/threads/{alice.post('/threads', json={}).json()['thread_id']}/runs"
    r = alice.post(path, json=body)
    assert r.status_code == 403
    shape = json.loads(r.json()["detail"])
    assert set(shape) == {
        "thread_id", "assistant_id", "run_id", "status", "metadata", "kwargs", "action",
        "prevent_insert_if_inflight", "multitask_strategy", "if_not_exists", "after_seconds",
        "values", "kwargs_values",
    }  # fmt: skip
    assert shape["kwargs"] == {
        "input": "dict", "command": "NoneType", "config": "dict", "context": "dict",
        "stream_mode": "list", "interrupt_before": "NoneType", "interrupt_after": "NoneType",
        "webhook": "NoneType", "feedback_keys": "NoneType", "temporary": "bool",
        "subgraphs": "bool", "resumable": "bool", "checkpoint_during": "bool",
        "durability": "str",
    }  # fmt: skip
    stateless = where == "stateless"
    assert shape["values"] == {
        "if_not_exists": "create" if stateless else "reject",
        "after_seconds": 0,
        "status": "pending",
    }
    assert shape["kwargs_values"] == {
        "stream_mode": ["values"], "temporary": stateless, "durability": "async"}  # fmt: skip


def test_stateless_runs_batches_and_the_cancel_of_all_runs(
    auth_server: Server, as_user: Any
) -> None:
    bob, alice = _sdk(auth_server, "bob"), _sdk(auth_server, "alice")
    out = bob.runs.wait(None, "whoami", input={})
    assert out["who"]["user_id"] == "bob" and out["who"]["runtime_identity"] == "bob"
    batch = as_user("bob").post("/runs/batch", json=[{"assistant_id": "echo", "input": {}}])
    assert batch.status_code == 200
    assert batch.json()[0]["metadata"]["owner"] == "bob"
    # alice's long run survives bob's "cancel everything"
    tid = alice.threads.create()["thread_id"]
    run = alice.runs.create(tid, "sleepy", input={"messages": [], "sleep": 2})
    assert as_user("bob").post("/runs/cancel", json={"status": "all"}).status_code == 204
    alice.runs.join(tid, run["run_id"])
    assert alice.runs.get(tid, run["run_id"])["status"] == "success"


# -- assistants -------------------------------------------------------------------------------


def test_assistants_are_owned_and_the_filter_hides_the_system_ones(
    auth_server: Server, as_user: Any
) -> None:
    alice, bob, admin = (_sdk(auth_server, u) for u in ("alice", "bob", "admin"))
    mine = alice.assistants.create("echo", name="alice's")
    aid = mine["assistant_id"]
    assert mine["metadata"] == {"owner": "alice"}
    assert [a["assistant_id"] for a in alice.assistants.search()] == [aid]
    assert alice.assistants.count() == 1
    assert bob.assistants.search() == [] and bob.assistants.count() == 0
    system = {a["graph_id"] for a in admin.assistants.search(metadata={"created_by": "system"})}
    assert system == {"whoami", "echo", "sleepy"}
    bob_http = as_user("bob")
    for method, path, body in (
        ("GET", f"/assistants/{aid}", None),
        ("GET", f"/assistants/{aid}/graph", None),
        ("GET", f"/assistants/{aid}/schemas", None),
        ("PATCH", f"/assistants/{aid}", {"name": "mine now"}),
        ("DELETE", f"/assistants/{aid}", None),
        ("POST", f"/assistants/{aid}/versions", {}),
        ("POST", f"/assistants/{aid}/latest", {"version": 1}),
    ):
        r = bob_http.request(method, path, json=body)
        assert r.status_code == 404, (method, path, r.text)
    assert alice.assistants.get(aid)["name"] == "alice's"
    # runs by graph id still work for everyone (as in the reference)
    assert bob.runs.wait(None, "echo", input={"messages": ["x"]}) is not None


# -- crons ------------------------------------------------------------------------------------


def test_crons_are_owned_and_carry_their_user(auth_server: Server, as_user: Any) -> None:
    alice, bob = _sdk(auth_server, "alice"), _sdk(auth_server, "bob")
    tid = alice.threads.create()["thread_id"]
    cron = alice.crons.create_for_thread(tid, "echo", schedule="0 0 1 1 *", input={})
    cid = cron["cron_id"]
    assert cron["metadata"]["owner"] == "alice" and cron["user_id"] == "alice"
    assert [c["cron_id"] for c in alice.crons.search()] == [cid]
    assert bob.crons.search() == [] and bob.crons.count() == 0
    bob_http = as_user("bob")
    assert bob_http.get(f"/runs/crons/{cid}").status_code == 404
    assert bob_http.patch(f"/runs/crons/{cid}", json={"schedule": "0 0 2 1 *"}).status_code == 404
    assert bob_http.delete(f"/runs/crons/{cid}").status_code == 404
    r = bob_http.post(
        f"/threads/{tid}/runs/crons", json={"assistant_id": "echo", "schedule": "* * * * *"}
    )
    assert r.status_code == 404  # no cron on a thread one cannot see
    assert alice.crons.search()[0]["schedule"] == "0 0 1 1 *"
    alice.crons.delete(cid)


def test_a_crons_runs_carry_its_creators_identity(auth_server: Server) -> None:
    alice = _sdk(auth_server, "alice")
    tid = alice.threads.create()["thread_id"]
    cron = alice.crons.create_for_thread(tid, "whoami", schedule="* * * * *", input={})

    def finished() -> Any:
        runs = alice.runs.list(tid)
        return runs[0] if runs and runs[0]["status"] == "success" else None

    try:
        run = wait_until(finished, 75, interval=0.5)
    finally:
        alice.crons.delete(cron["cron_id"])
    assert run["kwargs"]["config"]["configurable"]["langgraph_auth_user_id"] == "alice"
    who = alice.threads.get_state(tid)["values"]["who"]
    assert who["user_id"] == "alice" and who["runtime_identity"] == "alice"


# -- store ------------------------------------------------------------------------------------


def test_the_store_handler_moves_each_users_items_under_their_identity(
    auth_server: Server,
) -> None:
    alice, bob, admin = (_sdk(auth_server, u) for u in ("alice", "bob", "admin"))
    alice.store.put_item(["notes"], "k", {"text": "alice's"})
    assert alice.store.get_item(["notes"], "k")["value"] == {"text": "alice's"}
    assert alice.store.get_item(["notes"], "k")["namespace"] == ["alice", "notes"]
    assert bob.store.get_item(["notes"], "k") is None
    assert bob.store.search_items(["notes"])["items"] == []
    bob.store.delete_item(["notes"], "k")  # deletes bob's own (absent) item only
    assert admin.store.get_item(["alice", "notes"], "k")["value"] == {"text": "alice's"}
    namespaces = alice.store.list_namespaces()["namespaces"]
    assert namespaces == [["alice", "notes"]]


# -- the thread protocol, MCP ------------------------------------------------------------------


def test_protocol_commands_and_streams_of_a_hidden_thread_are_not_found(
    auth_server: Server, as_user: Any
) -> None:
    tid = _sdk(auth_server, "alice").threads.create()["thread_id"]
    command = {"id": 1, "method": "run.start", "params": {"assistant_id": "echo", "input": {}}}
    r = as_user("bob").post(f"/threads/{tid}/commands", json=command)
    assert r.status_code == 404
    r = as_user("bob").post(f"/threads/{tid}/stream/events", json={})
    assert r.status_code == 404
    ws_url = auth_server.url.replace("http", "ws") + f"/threads/{tid}/stream/events"

    async def refused(headers: dict[str, str]) -> int:
        try:
            async with connect(ws_url, additional_headers=headers):
                return 101
        except InvalidStatus as exc:
            return exc.response.status_code

    assert asyncio.run(refused(_headers("bob"))) == 403
    assert asyncio.run(refused({})) == 403

    async def alice_connects() -> bool:
        async with connect(ws_url, additional_headers=_headers("alice")):
            return True

    assert asyncio.run(alice_connects())


def test_mcp_lists_only_the_users_assistants(auth_server: Server, as_user: Any) -> None:
    _sdk(auth_server, "alice").assistants.create("echo", name="alice-tool")
    listing = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    headers = {"accept": "application/json, text/event-stream"}

    def tools(user: str) -> list[str]:
        r = as_user(user).post("/mcp", json=listing, headers=headers)
        assert r.status_code == 200, r.text
        return [t["title"] for t in r.json()["result"]["tools"]]

    assert tools("bob") == []
    own = {a["name"] for a in _sdk(auth_server, "alice").assistants.search(limit=100)}
    assert "alice-tool" in own and set(tools("alice")) == own
    assert "echo" in tools("admin")


# -- a custom app's routes, the OpenAPI document ----------------------------------------------

APP_CONFIG = CONFIG.parent / "langgraph-auth-app.json"


def test_custom_routes_are_authenticated_when_asked_and_openapi_names_the_scheme(
    tmp_path: Path,
) -> None:
    from openapi_spec_validator import validate

    server = start_server(tmp_path, config=APP_CONFIG)
    try:
        with httpx.Client(base_url=server.url) as client:
            assert client.get("/custom/whoami").status_code == 401
            r = client.get("/custom/whoami", headers=_headers("alice"))
            assert r.status_code == 200 and r.json() == {"identity": "alice"}
            assert client.get("/").status_code == 401  # the custom app's `/` is its route
            document = client.get("/openapi.json").json()
        validate(document)
        assert document["components"]["securitySchemes"] == {
            "BearerAuth": {"type": "http", "scheme": "bearer"}
        }
        assert document["security"] == [{"BearerAuth": []}]
    finally:
        server.stop()


# -- Studio -----------------------------------------------------------------------------------


def _studio_status(tmp_path: Path, env: dict[str, str], disable: bool = False) -> int:
    tmp_path.mkdir()
    config = CONFIG
    if disable:
        import json

        raw = json.loads(CONFIG.read_text())
        raw["auth"]["disable_studio_auth"] = True
        raw["dependencies"] = [str(CONFIG.parent)]
        raw["graphs"] = {
            k: str(CONFIG.parent / v.removeprefix("./")) for k, v in raw["graphs"].items()
        }
        raw["auth"]["path"] = str(CONFIG.parent / "auth_graphs.py") + ":auth"
        config = tmp_path / "langgraph.json"
        config.write_text(json.dumps(raw))
    server = start_server(tmp_path, config=config, extra_env=env)
    try:
        r = httpx.post(
            server.url + "/threads/search", json={}, headers={"x-auth-scheme": "langsmith"}
        )
        return r.status_code
    finally:
        server.stop()


def test_studio_requests_skip_authentication_only_under_dev(tmp_path: Path) -> None:
    assert _studio_status(tmp_path / "dev", {"GRAPHPORT_DEV": "1"}) == 200
    assert _studio_status(tmp_path / "serve", {"GRAPHPORT_DEV": ""}) == 401
    assert _studio_status(tmp_path / "off", {"GRAPHPORT_DEV": "1"}, disable=True) == 401


def test_a2a_tasks_and_contexts_of_others_are_not_found(auth_server: Server, as_user: Any) -> None:
    # the owner filter hides the system assistants: alice's agent is her own assistant
    aid = _sdk(auth_server, "alice").assistants.create("echo", name="alice-agent")["assistant_id"]
    bob_aid = _sdk(auth_server, "bob").assistants.create("echo")["assistant_id"]

    def call(user: str, method: str, params: dict[str, Any]) -> dict[str, Any]:
        body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
        r = as_user(user).post(f"/a2a/{bob_aid if user == 'bob' else aid}", json=body)
        assert r.status_code == 200, r.text
        return dict(r.json())

    context = str(uuid.uuid4())
    message = {"role": "user", "messageId": "m", "contextId": context,
               "parts": [{"kind": "data", "data": {"messages": ["a"]}}]}  # fmt: skip
    task = call("alice", "message/send", {"message": message})["result"]
    assert task["status"]["state"] == "completed"
    assert call("alice", "tasks/get", {"id": task["id"]})["result"]["id"] == task["id"]
    assert call("bob", "tasks/get", {"id": task["id"]})["error"]["code"] == -32001
    assert "error" in call("bob", "message/send", {"message": message})
    assert call("bob", "ListTasks", {"contextId": context})["result"]["tasks"] == []
    again = call("alice", "message/send", {"message": message})["result"]
    assert again["artifacts"][0]["parts"][0]["data"]["messages"] == ["a", "hi", "a", "hi"]
