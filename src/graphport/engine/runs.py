"""Creating, waiting for, joining and cancelling runs."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from typing import Any

from graphport import errors, serde
from graphport.bus.memory import MemoryBus
from graphport.config import Settings
from graphport.engine.prepare import RESERVED_CONFIGURABLE, new_run, new_temporary_thread
from graphport.engine.webhook_policy import validate_webhook
from graphport.engine.worker import Worker
from graphport.graphs import GraphEntry
from graphport.models import TERMINAL_RUN_STATUSES, Assistant, Run, iso, uuid7
from graphport.storage import Storage

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
        self._system_assistants: dict[str, Assistant] = {}

    async def start(self) -> None:
        """Register the default assistants and pick up runs a previous process left behind."""
        now = iso()
        for entry in self.graphs.values():
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
            stored = await self.storage.get_assistant(entry.assistant_id)
            self._system_assistants[entry.graph_id] = stored or assistant
        await self.storage.requeue_running_runs()
        self.worker.poke()

    # -- assistants --------------------------------------------------------------------------

    def parse_assistant_id(self, assistant_id: Any) -> str:
        """A graph id stands for its default assistant; anything else must be a UUID (422)."""
        if isinstance(assistant_id, str) and assistant_id in self._system_assistants:
            return self._system_assistants[assistant_id]["assistant_id"]
        try:
            return str(uuid.UUID(str(assistant_id)))
        except ValueError:
            graphs = ", ".join(self.graphs)
            raise errors.ValidationFailed(
                f"Invalid assistant: '{assistant_id}'. Must be either:\n"
                f"- A valid assistant UUID, or\n- One of the registered graphs: {graphs}"
            ) from None

    async def get_assistant(self, assistant_id: str) -> Assistant:
        """The assistant with this (parsed) id; 404 in the reference's words if unknown."""
        for assistant in self._system_assistants.values():
            if assistant["assistant_id"] == assistant_id:
                return assistant
        assistant = await self.storage.get_assistant(assistant_id)
        if assistant is None:
            raise errors.NotFound("Thread or assistant not found.")
        return assistant

    async def resolve_assistant(self, assistant_id: Any) -> Assistant:
        return await self.get_assistant(self.parse_assistant_id(assistant_id))

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

    async def create_stateless(
        self, body: dict[str, Any], request_id: str
    ) -> tuple[Run, asyncio.Future[bytes]]:
        """Create a run on a new thread; return it and a future of its result body."""
        assistant = await self.get_assistant(await self.check_run_body(body, stateless=True))
        run_id, thread_id = uuid7(), uuid7()
        now = iso()
        after = body.get("after_seconds")
        created_at = iso(_timestamp(now) + after) if after else now
        temporary = body.get("on_completion", "delete") != "keep"
        thread = new_temporary_thread(body, assistant, thread_id, now, temporary)
        run = new_run(
            body,
            assistant,
            run_id=run_id,
            thread_id=thread_id,
            created_at=created_at,
            updated_at=now,
            request_id=request_id,
            temporary=temporary,
        )
        return run, await self._insert(run, thread)

    async def _insert(self, run: Run, thread: Any) -> asyncio.Future[bytes]:
        worker = self.worker
        reserved = worker.reserve()
        done = self.bus.wait_done(run["run_id"])
        try:
            claimed = await self.storage.create_run(run, thread, claim=reserved)
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
            found = await self.storage.get_run_result(run_id)
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

    def cancel(self, run_id: str, reason: str) -> bool:
        return self.worker.cancel(run_id, reason)


def _timestamp(stamp: str) -> float:
    return datetime.fromisoformat(stamp).timestamp()
