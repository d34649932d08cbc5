"""Creating, waiting for, joining and cancelling runs."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from datetime import datetime
from typing import Any

from graphport import auth, errors, serde
from graphport.auth.filters import Conditions, matches
from graphport.bus.memory import MemoryBus
from graphport.config import Settings
from graphport.engine.prepare import RESERVED_CONFIGURABLE, new_run, new_run_thread, run_kwargs
from graphport.engine.webhook_policy import validate_webhook
from graphport.engine.worker import Worker
from graphport.events import END, Event, event_seq
from graphport.graphs import Graph, GraphEntry
from graphport.models import TERMINAL_RUN_STATUSES, Assistant, Run, Thread, iso, uuid7
from graphport.storage import Storage
from graphport.storage.base import AssistantChanged, QueueEntry

MULTITASK_STRATEGIES = ("reject", "interrupt", "rollback", "enqueue")
NO_RUNS_TO_CANCEL = (
    "No matching runs to cancel. Please verify the thread ID and run IDs are correct, and the "
    "runs haven't been deleted or completed."
)
# a run is built from a copy of its assistant; where another process replaced it, again
_ASSISTANT_RETRIES = 3
# A join of a run nobody knows: the reference answers 200 with this body (the SDK's reconnect
# path depends on the shape).
RUN_NOT_FOUND_BODY = b'{"__error__":{"error":"HTTPException","message":"404: Run not found"}}'


class RunEngine:
    def __init__(
        self,
        settings: Settings,
        storage: Storage,
        graphs: dict[str, GraphEntry],
        bus: MemoryBus,
        worker: Worker,
    ) -> None:
        self.settings = settings
        self.storage = storage
        self.graphs = graphs
        self.bus = bus
        self.worker = worker
        self._system_assistants: dict[str, str] = {}  # graph id -> default assistant id
        self._background: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        """Register the default assistants and pick up runs a previous process left behind."""
        for entry in self.graphs.values():
            now = iso()  # one timestamp each: created_at order is langgraph.json's order
            assistant: Assistant = {
                "assistant_id": entry.assistant_id,
                "graph_id": entry.graph_id,
                "config": {},
                "context": {},
                "metadata": {"created_by": "system"},
                "name": entry.name,
                "description": entry.description,
                "created_at": now,
                "updated_at": now,
                "version": 1,
            }
            await self.storage.sync_system_assistant(assistant)
            self._system_assistants[entry.graph_id] = entry.assistant_id
        await self.storage.heartbeat()  # before any claim: a claimed run names a live process
        await self.worker.recover(startup=True)
        self.worker.poke()

    # -- storage, as the system routes see it -------------------------------------------------

    async def check_storage(self) -> None:
        """A round trip to the database (raises when it does not answer)."""
        await self.storage.ping()

    async def queue(self) -> list[QueueEntry]:
        return await self.storage.queue()

    @property
    def store(self) -> Any:
        """langgraph's store, shared by the graphs and the store routes."""
        return self.storage.store

    # -- assistants --------------------------------------------------------------------------

    def parse_assistant_id(self, assistant_id: Any) -> str:
        """A graph id stands for its default assistant; anything else must be a UUID (422)."""
        if isinstance(assistant_id, str) and assistant_id in self._system_assistants:
            return self._system_assistants[assistant_id]
        try:
            return str(uuid.UUID(str(assistant_id)))
        except ValueError:
            graphs = ", ".join(self.graphs)
            raise errors.ValidationFailed(
                f"Invalid assistant: '{assistant_id}'. Must be either:\n"
                f"- A valid assistant UUID, or\n- One of the registered graphs: {graphs}"
            ) from None

    # -- runs --------------------------------------------------------------------------------

    async def check_run_body(self, body: dict[str, Any], *, stateless: bool) -> str:
        """The reference's checks after schema validation, in its order; returns the assistant
        id (its existence is checked last, by the caller)."""
        assistant_id = self.parse_assistant_id(body["assistant_id"])
        if body.get("checkpoint_id"):
            try:
                uuid.UUID(str(body["checkpoint_id"]))
            except ValueError:
                raise errors.ValidationFailed("Invalid checkpoint ID") from None
        command = body.get("command")
        if stateless and command and "resume" in command:
            raise errors.BadRequest("You must provide a thread_id when resuming.")
        if stateless and command and command.get("update") is not None and not command.get("goto"):
            # langgraph fails such a run with "'NoneType' object is not iterable"
            raise errors.BadRequest(
                "A command with only `update` needs a thread that has state: a stateless run "
                "starts from an empty thread. Send `input`, or add `goto`."
            )
        configurable = (body.get("config") or {}).get("configurable") or {}
        if any(k not in RESERVED_CONFIGURABLE for k in configurable) and body.get("context"):
            raise errors.BadRequest(
                "Cannot specify both configurable and context. Prefer setting context alone. "
                "Context was introduced in LangGraph 0.6.0 and is the long term planned "
                "replacement for configurable."
            )
        if body.get("webhook") is not None:
            await validate_webhook(body["webhook"], self.settings.webhooks)
        return assistant_id

    async def create_run(
        self,
        thread_id: str | None,
        body: dict[str, Any],
        request_id: str,
        *,
        subscribe: bool = False,
        headers: dict[str, str] | None = None,
    ) -> tuple[Run, asyncio.Future[bytes], asyncio.Queue[Event | None] | None]:
        """Create a run on `thread_id`, or on a new thread when None (a stateless run).

        Returns the run, a future of its result body and, with `subscribe`, a queue of its live
        events (subscribed before the run can start, so nothing is missed).
        """
        stateless = thread_id is None
        assistant_id = await self.check_run_body(body, stateless=stateless)
        body, visible = await _authorize_run(thread_id, assistant_id, body)
        strategy = _strategy(body, stateless)
        for _ in range(_ASSISTANT_RETRIES):
            try:
                return await self._create_from(
                    assistant_id, thread_id, body, strategy, visible, request_id,
                    subscribe=subscribe, headers=headers,
                )  # fmt: skip
            except AssistantChanged:
                continue  # another process changed the assistant meanwhile: read it again
        raise errors.Conflict("The assistant keeps changing; try again.")

    async def _create_from(
        self,
        assistant_id: str,
        thread_id: str | None,
        body: dict[str, Any],
        strategy: str,
        visible: Conditions | None,
        request_id: str,
        *,
        subscribe: bool,
        headers: dict[str, str] | None,
    ) -> tuple[Run, asyncio.Future[bytes], asyncio.Queue[Event | None] | None]:
        assistant = await self.storage.assistant_for_run(assistant_id)
        if assistant is None:
            raise errors.NotFound("Thread or assistant not found.")
        run_id, now = uuid7(), iso()
        fresh_thread = thread_id is None  # its id is made here: nothing can exist under it
        after = body.get("after_seconds")
        created_at = iso(_timestamp(now) + after) if after else now
        thread_id, existing, new_thread = await self._thread_for(
            thread_id, body, assistant, now, visible
        )
        temporary = bool(new_thread and new_thread.get("temporary"))
        run = new_run(
            body,
            assistant,
            run_id=run_id,
            thread_id=thread_id,
            created_at=created_at,
            updated_at=now,
            request_id=request_id,
            temporary=temporary,
            thread=existing,
            headers=headers,
        )
        if existing is not None and strategy in ("interrupt", "rollback"):
            await self.supersede(thread_id, strategy, run_id)
        queue = self.bus.subscribe(run_id) if subscribe else None
        try:
            done = await self._insert(
                run,
                new_thread,
                reject_if_busy=existing is not None and strategy == "reject",
                thread_metadata=(
                    {"graph_id": assistant["graph_id"], "assistant_id": assistant["assistant_id"]}
                    if existing is not None
                    else None
                ),
                assistant=assistant,
                fresh_thread=fresh_thread,
            )
        except BaseException:
            if queue is not None:
                self.bus.unsubscribe(run_id, queue)
            raise
        return run, done, queue

    async def _thread_for(
        self,
        thread_id: str | None,
        body: dict[str, Any],
        assistant: Assistant,
        now: str,
        visible: Conditions | None = None,
    ) -> tuple[str, Thread | None, Thread | None]:
        """The run's thread id, the thread if it exists, and the thread to create if not (a
        stateless run's is temporary unless `on_completion` is `keep`). A thread the auth
        filter hides is not found (and not created over)."""
        if thread_id is None:
            thread_id = uuid7()
            thread = new_run_thread(body, assistant, thread_id, now, is_temporary(body))
            return thread_id, None, thread
        existing = await self.storage.get_thread(thread_id)
        if existing is not None and visible and not matches(visible, existing["metadata"]):
            raise errors.NotFound("Thread or assistant not found.")
        if existing is not None:
            return thread_id, existing, None
        if body.get("if_not_exists") != "create":
            raise errors.NotFound("Thread or assistant not found.")
        return thread_id, None, new_run_thread(body, assistant, thread_id, now, False)

    async def supersede(self, thread_id: str, action: str, by_run: str) -> None:
        """Cancel the thread's in-flight runs for a new one (multitask interrupt / rollback)."""
        for run in await self.storage.inflight_runs(thread_id):
            await self.cancel_run(run, action, reason=f"superseded by run {by_run}")

    async def cancel_run(self, run: Run, action: str, reason: str | None = None) -> None:
        """Cancel a pending or running run: `interrupt` keeps what it did, `rollback` erases it."""
        run_id = run["run_id"]
        if self.worker.cancel(run_id, action):
            return
        body = serde.dumps(
            {"__error__": {"error": "UserInterrupt", "message": reason or "Run was cancelled"}}
        )
        if await self.storage.cancel_pending_run(run_id, delete=action == "rollback", result=body):
            self.bus.done(run_id, body)
        elif self.storage.shared:  # running in another process
            self.bus.cancel_elsewhere(run_id, action)

    async def cancel_assistant_runs(self, assistant_id: str) -> None:
        """An assistant being deleted: its pending and running runs end `interrupted`, here or
        in another process (the reference marks them so, but lets a running one go on)."""
        for run in await self.storage.runs_with_status(["pending", "running"]):
            if run["assistant_id"] == assistant_id:
                await self.cancel_run(run, "interrupt", reason="Its assistant was deleted")

    async def _insert(
        self,
        run: Run,
        thread: Thread | None,
        *,
        reject_if_busy: bool = False,
        thread_metadata: dict[str, Any] | None = None,
        assistant: Assistant | None = None,
        fresh_thread: bool = False,
    ) -> asyncio.Future[bytes]:
        worker = self.worker
        reserved = worker.reserve()
        done = self.bus.wait_done(run["run_id"])
        try:
            claimed = await self.storage.create_run(
                run,
                thread,
                claim=reserved,
                reject_if_busy=reject_if_busy,
                thread_metadata=thread_metadata,
                assistant=assistant,
                fresh_thread=fresh_thread,
            )
        except BaseException:
            self.bus.forget(run["run_id"], done)
            if reserved:
                worker.release()
            raise
        if claimed:
            worker.start(run)
        else:
            if reserved:
                worker.release()
            worker.left_pending()
        return done

    async def join(self, thread_id: str, run_id: str) -> bytes:
        """The run's result body once it has ended (at once if it already has)."""
        done = self.bus.wait_done(run_id)
        try:
            found = await self.storage.mark_waited(run_id)
            run = await self.storage.get_run(thread_id, run_id) if found else None
            if run is None or found is None:
                return RUN_NOT_FOUND_BODY
            status, result = found
            if status in TERMINAL_RUN_STATUSES:
                return result if result is not None else await self._thread_fallback(thread_id)
            return await done
        finally:
            self.bus.forget(run_id, done)

    async def _thread_fallback(self, thread_id: str) -> bytes:
        thread = await self.storage.get_thread(thread_id)
        if thread is None:
            return RUN_NOT_FOUND_BODY
        if thread.get("error"):
            return serde.dumps({"__error__": thread["error"]})
        return serde.dumps(thread.get("values") or {})

    def read_graph(
        self, assistant: Assistant, entry: GraphEntry
    ) -> contextlib.AbstractAsyncContextManager[Graph]:
        """The assistant's graph for introspection (its config; no run)."""
        config = {**assistant["config"]}
        config["configurable"] = dict(config.get("configurable") or {})
        return entry.resolve(
            config,
            checkpointer=self.storage.checkpointer,
            store=self.storage.store,
            access="assistants.read",
        )

    def subscribe_thread(self, thread_id: str) -> asyncio.Queue[Event | None]:
        """A queue of the events of every run on the thread from now on."""
        return self.bus.subscribe_thread(thread_id)

    def unsubscribe_thread(self, thread_id: str, queue: asyncio.Queue[Event | None]) -> None:
        self.bus.unsubscribe_thread(thread_id, queue)

    def unsubscribe(self, run_id: str, queue: asyncio.Queue[Event | None]) -> None:
        """Stop delivering the run's events to `queue` (its client went away)."""
        self.bus.unsubscribe(run_id, queue)

    async def follow(
        self, thread_id: str, run_id: str, last_event_id: str | None
    ) -> tuple[Run | None, asyncio.Queue[Event | None]]:
        """The run and a queue of its events (replayed after `last_event_id` when kept). The
        queue ends at once when the run is missing, or ended with no events left to replay."""
        queue = self.bus.subscribe(run_id, event_seq(last_event_id) if last_event_id else None)
        await self.storage.mark_waited(run_id)  # its end ends the queue, from any process
        run = await self.storage.get_run(thread_id, run_id)
        if run is None or (run["status"] in TERMINAL_RUN_STATUSES and not self.bus.ended(run_id)):
            self.bus.unsubscribe(run_id, queue)
            queue.put_nowait(END)
        return run, queue

    async def cancel(
        self, thread_id: str, run_id: str, action: str, *, wait: bool = False
    ) -> bytes | None:
        """Cancel one run of the thread; with `wait`, its result body once it has stopped."""
        run = await self.storage.get_run(thread_id, run_id)
        if run is None or run["status"] in TERMINAL_RUN_STATUSES:
            raise errors.NotFound(NO_RUNS_TO_CANCEL)
        if not wait:
            await self.cancel_run(run, action)
            return None
        done = self.bus.wait_done(run_id)
        try:
            found = await self.storage.mark_waited(run_id)  # it may end in another process
            await self.cancel_run(run, action)
            if found is not None and found[0] in TERMINAL_RUN_STATUSES:
                return found[1] if found[1] is not None else await self._thread_fallback(thread_id)
            return await done
        finally:
            self.bus.forget(run_id, done)

    async def cancel_matching(
        self,
        action: str,
        *,
        statuses: list[str] | None = None,
        thread_id: str | None = None,
        run_ids: list[str] | None = None,
        visible: Conditions | None = None,
    ) -> None:
        """Cancel the runs in `statuses` (on threads the auth filter `visible` lets through), or
        the in-flight ones of `run_ids` on `thread_id`."""
        if statuses is not None:
            runs = await self.storage.runs_with_status(statuses)
            if visible:
                runs = [r for r in runs if await self._thread_passes(r["thread_id"], visible)]
        else:
            assert thread_id is not None and run_ids is not None
            runs = [
                r
                for rid in run_ids
                if (r := await self.storage.get_run(thread_id, rid))
                and r["status"] not in TERMINAL_RUN_STATUSES
            ]
            if not runs:
                raise errors.NotFound(NO_RUNS_TO_CANCEL)
        for run in runs:
            await self.cancel_run(run, action)

    async def _thread_passes(self, thread_id: str, visible: Conditions) -> bool:
        thread = await self.storage.get_thread(thread_id)
        return thread is not None and matches(visible, thread["metadata"])

    async def delete(self, thread_id: str, run_id: str) -> None:
        """Delete a run and its checkpoints; an in-flight run is rolled back first."""
        run = await self.storage.get_run(thread_id, run_id)
        if run is None:
            if await self.storage.get_thread(thread_id) is None:
                raise errors.thread_not_found(thread_id)
            raise errors.NotFound()
        if run["status"] not in TERMINAL_RUN_STATUSES:
            done = self.bus.wait_done(run_id)
            try:
                found = await self.storage.mark_waited(run_id)  # it may end in another process
                if found is not None and found[0] not in TERMINAL_RUN_STATUSES:
                    await self.cancel_run(run, "rollback")
                    await done
            finally:
                self.bus.forget(run_id, done)
        await self.storage.delete_run(thread_id, run_id)
        await self.storage.delete_run_checkpoints(thread_id, run_id)

    def request_cancel(self, run_id: str, action: str, reason: str) -> None:
        """Cancel from a sync callback (a client that went away): running or pending."""

        async def go() -> None:
            if self.worker.cancel(run_id, action):
                return
            for run in await self.storage.runs_with_status(["pending", "running"]):
                if run["run_id"] == run_id:
                    await self.cancel_run(run, action, reason)

        task = asyncio.get_running_loop().create_task(go())
        self._background.add(task)
        task.add_done_callback(self._background.discard)


def _strategy(body: dict[str, Any], stateless: bool) -> str:
    strategy = str(body.get("multitask_strategy") or "enqueue")
    if not stateless and strategy not in MULTITASK_STRATEGIES:
        raise errors.ValidationFailed(
            f"Invalid multitask_strategy: '{strategy}'. "
            f"Expected one of: {', '.join(MULTITASK_STRATEGIES)}"
        )
    return strategy


async def _authorize_run(
    thread_id: str | None, assistant_id: str, body: dict[str, Any]
) -> tuple[dict[str, Any], Conditions | None]:
    """`threads.create_run` for the current user (stateless runs too, with no thread id): the
    body with the metadata the handler stamped, and the filter the thread must pass."""
    if auth.current() is None:
        return body, None
    value: dict[str, Any] = {
        "thread_id": thread_id,
        "assistant_id": assistant_id,
        "run_id": None,
        "status": "pending",
        "metadata": dict(body.get("metadata") or {}),
        "prevent_insert_if_inflight": body.get("multitask_strategy") == "reject",
        "multitask_strategy": body.get("multitask_strategy") or "enqueue",
        # a stateless run creates its (temporary) thread
        "if_not_exists": body.get("if_not_exists") or ("create" if thread_id is None else "reject"),
        "after_seconds": body.get("after_seconds") or 0,
        "kwargs": _kwargs_for_auth(body, stateless=thread_id is None),
        "action": None,
    }
    visible = await auth.authorize("threads", "create_run", value)
    return {**body, "metadata": value.get("metadata") or {}}, visible


def _kwargs_for_auth(body: dict[str, Any], *, stateless: bool) -> dict[str, Any]:
    """`kwargs` of the create_run value: the run's kwargs as they will be stored (the keys and
    defaults the reference hands the handler), without graphport's own bookkeeping."""
    config, context = body.get("config") or {}, body.get("context") or {}
    temporary = stateless and is_temporary(body)
    kwargs = run_kwargs(body, config, context, temporary, "context" in body)
    return {k: v for k, v in kwargs.items() if k not in ("context_provided", "trace_context")}


def is_temporary(body: dict[str, Any]) -> bool:
    """Whether a stateless run's thread goes with it (unless `on_completion` is `keep`)."""
    return bool(body.get("on_completion", "delete") != "keep")


def _timestamp(stamp: str) -> float:
    return datetime.fromisoformat(stamp).timestamp()
