"""Thread operations that need the graph: state, history, state updates, copies, deletion, TTLs.

State lives in langgraph's checkpointer; graphport's thread row mirrors the latest values, status
and interrupts so that listing threads needs no graph.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.types import StateSnapshot, StateUpdate
from langgraph_sdk.runtime import AccessContext

from graphport import errors, serde
from graphport.auth import guard
from graphport.engine.executor import command_from_json
from graphport.engine.worker import Worker
from graphport.graphs import Graph, GraphEntry
from graphport.models import Thread, iso, uuid7
from graphport.storage import Storage
from graphport.storage.base import checked_thread_sort

log = logging.getLogger("graphport.threads")


def checkpoint_ref(config: RunnableConfig | None) -> dict[str, Any] | None:
    """`{checkpoint_id, thread_id, checkpoint_ns}` of a checkpoint's config (and its
    `checkpoint_map`, which a subgraph's has: RemoteGraph sends it back), or None."""
    if not config:
        return None
    c = config.get("configurable", {})
    if "checkpoint_id" not in c:
        return None
    ref = {
        "checkpoint_id": c["checkpoint_id"],
        "thread_id": c.get("thread_id"),
        "checkpoint_ns": c.get("checkpoint_ns", ""),
    }
    if "checkpoint_map" in c:
        ref["checkpoint_map"] = c["checkpoint_map"]
    return ref


def _task_checkpoint(config: RunnableConfig) -> dict[str, Any]:
    """Where a subgraph task's state is (`{thread_id, checkpoint_ns}` when it was not read)."""
    return checkpoint_ref(config) or {
        "thread_id": config.get("configurable", {}).get("thread_id"),
        "checkpoint_ns": config.get("configurable", {}).get("checkpoint_ns", ""),
    }


def state_json(state: StateSnapshot) -> dict[str, Any]:
    """A langgraph StateSnapshot as the API's ThreadState."""
    checkpoint = checkpoint_ref(state.config)
    parent = checkpoint_ref(state.parent_config)
    tasks = []
    for task in state.tasks:
        sub = task.state
        tasks.append(
            {
                "id": task.id,
                "name": task.name,
                "path": list(task.path),
                "error": None if task.error is None else str(task.error),
                "interrupts": [{"id": i.id, "value": i.value} for i in task.interrupts],
                "checkpoint": _task_checkpoint(sub) if isinstance(sub, dict) else None,
                "state": state_json(sub) if isinstance(sub, StateSnapshot) else None,
                "result": task.result,
            }
        )
    return {
        "values": state.values,
        "next": list(state.next),
        "tasks": tasks,
        "metadata": state.metadata,
        "created_at": state.created_at,
        "checkpoint": checkpoint,
        "parent_checkpoint": parent,
        "interrupts": [{"id": i.id, "value": i.value} for i in state.interrupts],
        "checkpoint_id": checkpoint["checkpoint_id"] if checkpoint else None,
        "parent_checkpoint_id": parent["checkpoint_id"] if parent else None,
    }


EMPTY_STATE = StateSnapshot({}, (), {}, None, None, None, (), ())


def thread_mirror(state: StateSnapshot) -> dict[str, Any]:
    """What the thread row keeps of its latest state: values, interrupts by task, status."""
    interrupts = {
        task.id: [{"id": i.id, "value": i.value} for i in task.interrupts]
        for task in state.tasks
        if task.interrupts
    }
    return {
        "values": state.values,
        "interrupts": interrupts,
        "status": "interrupted" if interrupts else "idle",
    }


def _state_config(thread_id: str, checkpoint: dict[str, Any] | None = None) -> RunnableConfig:
    configurable: dict[str, Any] = {"thread_id": thread_id}
    for key, value in (checkpoint or {}).items():
        if value is not None and key != "thread_id":
            configurable[key] = value
    configurable.setdefault("checkpoint_ns", "")
    return {"configurable": configurable}


class ThreadOps:
    def __init__(self, storage: Storage, graphs: dict[str, GraphEntry], worker: Worker) -> None:
        self.storage = storage
        self.graphs = graphs
        self.worker = worker

    async def require(self, thread_id: str) -> Thread:
        thread = await self.storage.get_thread(thread_id)
        if thread is None:
            raise errors.thread_not_found(thread_id)
        return thread

    async def authorize(
        self,
        thread_id: str,
        action: str,
        value: dict[str, Any] | None = None,
        *,
        not_found: Exception | None = None,
    ) -> None:
        """`threads.<action>` on one thread (a run's routes go through their thread)."""
        await guard.thread(self.storage, thread_id, action, value, not_found=not_found)

    async def may(self, thread_id: str, action: str) -> bool:
        """Whether the user may do `action` on the thread (one it may not see counts as absent)."""
        try:
            await self.authorize(thread_id, action)
        except errors.NotFound:
            return False
        return True

    # -- records -----------------------------------------------------------------------------

    async def create(
        self,
        thread_id: str,
        metadata: dict[str, Any],
        *,
        if_exists: str,
        ttl: dict[str, Any] | None,
        supersteps: list[dict[str, Any]] | None = None,
    ) -> Thread:
        value = await guard.create(
            "threads",
            {"thread_id": thread_id, "metadata": dict(metadata), "if_exists": if_exists,
             "ttl": ttl},
        )  # fmt: skip
        now = iso()
        thread: Thread = {
            "thread_id": thread_id,
            "status": "idle",
            "metadata": value.get("metadata") or {},
            "config": {},
            "created_at": now,
            "updated_at": now,
            "state_updated_at": now,
            "values": None,
        }
        created = await self.storage.create_thread(thread, if_exists=if_exists, ttl=ttl)
        if supersteps and created is thread:  # not for the stored thread of `do_nothing`
            await self.apply_supersteps(created, supersteps)
            created = await self.require(thread_id)
        return created

    async def update(
        self, thread_id: str, metadata: dict[str, Any] | None, ttl: dict[str, Any] | None
    ) -> Thread:
        """Merge `metadata` into the thread's (None: leave it) and set or clear its TTL."""
        value = {"metadata": dict(metadata or {})}
        await self.authorize(thread_id, "update", value, not_found=errors.NotFound())
        # an auth handler may stamp metadata into an update that brought none
        merged = value["metadata"] if (metadata is not None or value["metadata"]) else None
        thread = await self.storage.update_thread(thread_id, metadata=merged, ttl=ttl)
        if thread is None:
            raise errors.thread_not_found(thread_id)
        return thread

    async def _visible(self, args: dict[str, Any], limit: int, offset: int) -> dict[str, Any]:
        """`threads.search` for the search arguments: they, with the filter storage applies."""
        value = {**args, "limit": limit, "offset": offset}
        visible = await guard.search("threads", value)
        return {**args, "metadata": value.get("metadata"), "visible": visible}

    async def search(
        self, args: dict[str, Any], *, limit: int, offset: int, sort_by: str, sort_order: str
    ) -> tuple[list[Thread], int]:
        """A page of the threads matching `args` (metadata, values, status, ids) and the total."""
        sort_by, sort_order = checked_thread_sort(sort_by, sort_order)
        visible_args = await self._visible(args, limit, offset)
        return await self.storage.search_threads(
            **visible_args, limit=limit, offset=offset, sort_by=sort_by, sort_order=sort_order
        )

    async def count(self, args: dict[str, Any]) -> int:
        _, total = await self.storage.search_threads(**await self._visible(args, 0, 0), limit=0)
        return total

    @contextlib.asynccontextmanager
    async def graph_of(
        self, thread: Thread, access: AccessContext, *, required: bool = True
    ) -> AsyncIterator[Graph | None]:
        """The thread's graph (from its metadata) with the checkpointer holding its state."""
        graph_id = thread["metadata"].get("graph_id")
        entry = self.graphs.get(graph_id) if graph_id else None
        if entry is None:
            if required:
                raise errors.BadRequest(
                    f"Thread '{thread['thread_id']}' has no assigned graph ID. This usually "
                    "occurs when no runs have been made on this particular thread."
                )
            yield None
            return
        ephemeral = self.worker.ephemeral
        checkpointer = (
            ephemeral if thread["thread_id"] in ephemeral.storage else self.storage.checkpointer
        )
        async with entry.resolve(
            thread.get("config") or {},
            checkpointer=checkpointer,
            store=self.storage.store,
            access=access,
        ) as graph:
            yield graph

    # -- state -------------------------------------------------------------------------------

    async def get_state(
        self, thread_id: str, checkpoint: dict[str, Any] | None = None, subgraphs: bool = False
    ) -> dict[str, Any]:
        thread = await self.require(thread_id)
        async with self.graph_of(thread, "threads.read", required=False) as graph:
            if graph is None:
                return state_json(EMPTY_STATE)
            state = await graph.aget_state(
                _state_config(thread_id, checkpoint), subgraphs=subgraphs
            )
        return state_json(state)

    async def history(
        self,
        thread_id: str,
        *,
        limit: int,
        before: dict[str, Any] | str | None,
        metadata: dict[str, Any] | None,
        checkpoint: dict[str, Any] | None,
    ) -> list[dict[str, Any]]:
        thread = await self.require(thread_id)
        if isinstance(before, str):
            before = {"checkpoint_id": before}
        async with self.graph_of(thread, "threads.read", required=False) as graph:
            if graph is None:
                return []
            return [
                state_json(s)
                async for s in graph.aget_state_history(
                    _state_config(thread_id, checkpoint),
                    filter=metadata or None,
                    before=_state_config(thread_id, before) if before else None,
                    limit=limit,
                )
            ]

    async def update_state(
        self,
        thread_id: str,
        values: Any,
        *,
        as_node: str | None,
        checkpoint: dict[str, Any] | None,
    ) -> dict[str, Any]:
        """Apply `values` as if `as_node` had returned them; the new checkpoint's reference."""
        thread = await self.require(thread_id)
        if thread["status"] == "busy":
            raise errors.Conflict(f"Thread {thread_id} has in-flight runs")
        async with self.graph_of(thread, "threads.update") as graph:
            assert graph is not None
            config = _state_config(thread_id, checkpoint)
            new_config = await graph.aupdate_state(config, values, as_node=as_node)
            state = await graph.aget_state(_state_config(thread_id))
        mirror = thread_mirror(state)
        await self.storage.set_thread_state(
            thread_id, status=mirror["status"], values=mirror["values"],
            interrupts=mirror["interrupts"],
        )  # fmt: skip
        event = {"state": state_json(state), "thread_id": thread_id}
        self.worker.bus.publish_thread(thread_id, "state_update", serde.dumps(event))
        return {"checkpoint": checkpoint_ref(new_config)}

    async def apply_supersteps(self, thread: Thread, supersteps: list[dict[str, Any]]) -> None:
        async with self.graph_of(thread, "threads.update") as graph:
            assert graph is not None
            steps = [[_state_update(u) for u in step.get("updates", [])] for step in supersteps]
            await graph.abulk_update_state(_state_config(thread["thread_id"]), steps)
            state = await graph.aget_state(_state_config(thread["thread_id"]))
        mirror = thread_mirror(state)
        await self.storage.set_thread_state(
            thread["thread_id"], status=mirror["status"], values=mirror["values"],
            interrupts=mirror["interrupts"],
        )  # fmt: skip

    # -- lifecycle ---------------------------------------------------------------------------

    async def delete(self, thread_id: str) -> bool:
        """Delete the thread, its runs (cancelling live ones) and its checkpoints."""
        for run_id, task_thread in list(self.worker.running_threads.items()):
            if task_thread == thread_id:
                self.worker.cancel(run_id, "thread deleted")
        if self.storage.shared:  # runs of the thread executing in other processes
            for run in await self.storage.inflight_runs(thread_id):
                if run["status"] == "running" and run["run_id"] not in self.worker.active:
                    self.worker.bus.cancel_elsewhere(run["run_id"], "thread deleted")
        return await self.storage.delete_thread(thread_id)

    async def keep_latest(self, thread_ids: list[str]) -> int:
        """Prune the threads' checkpoints to the latest of each namespace (their state and
        runs stay); return how many of the threads exist."""
        existing = [t for t in thread_ids if await self.storage.get_thread(t) is not None]
        if not existing:
            return 0
        try:
            await self.storage.checkpointer.aprune(existing, strategy="keep_latest")
        except NotImplementedError as exc:  # PostgreSQL: a thread that uses a DeltaChannel
            raise errors.ValidationFailed(str(exc)) from None
        return len(existing)

    async def copy(self, thread_id: str) -> Thread:
        """A new thread with the same metadata, config and checkpoints."""
        source = await self.require(thread_id)
        now = iso()
        new_id = uuid7()
        copy: Thread = {
            **source,
            "thread_id": new_id,
            "created_at": now,
            "updated_at": now,
            "state_updated_at": now,
            "status": "idle",
        }
        await self.storage.create_thread(copy, if_exists="raise", ttl=None)
        await copy_checkpoints(self.storage.checkpointer, thread_id, new_id)
        await self.storage.set_thread_state(
            new_id,
            status=source["status"] if source["status"] != "busy" else "idle",
            values=source.get("values"),
            interrupts=source.get("interrupts") or {},
            error=source.get("error"),
        )
        return await self.require(new_id)

    async def sweep_expired(self, interval: float, limit: int = 10_000) -> None:
        """Every `interval` seconds until cancelled, act on up to `limit` threads whose TTL has
        passed: delete them, or (`keep_latest`) prune them to their latest checkpoint and
        start their TTL again. A busy thread waits for the next sweep."""
        while True:
            try:
                await self.sweep_once(limit)
            except Exception:
                log.exception("sweeping expired threads failed")
            await asyncio.sleep(interval)

    async def sweep_once(self, limit: int) -> tuple[int, int]:
        """One sweep: (threads deleted, threads pruned)."""
        deleted = pruned = 0
        for thread_id, strategy in await self.storage.expired_threads(time.time(), limit):
            try:
                if strategy == "keep_latest":
                    try:
                        pruned += await self.keep_latest([thread_id])
                    finally:  # also when it cannot be pruned: not retried every sweep
                        await self.storage.renew_ttl(thread_id, time.time())
                elif await self.delete(thread_id):
                    deleted += 1
            except Exception:  # e.g. another process pruning it at once: the next sweep retries
                log.exception("TTL sweep: thread %s (%s) failed", thread_id, strategy)
        if deleted or pruned:
            log.info("TTL sweep: %d thread(s) deleted, %d pruned to their latest", deleted, pruned)
        return deleted, pruned


def _state_update(update: dict[str, Any]) -> StateUpdate:
    values = update.get("values")
    if update.get("command"):
        values = command_from_json(update["command"])
    return StateUpdate(values, update.get("as_node"))


async def copy_checkpoints(saver: Any, source: str, target: str) -> None:
    """Copy every checkpoint (all namespaces) and pending write of a thread to another."""
    try:
        await saver.acopy_thread(source, target)
        return
    except NotImplementedError:
        pass
    items = [t async for t in saver.alist({"configurable": {"thread_id": source}})]
    for item in reversed(items):  # oldest first, so parents exist
        cfg = item.config["configurable"]
        parent = (item.parent_config or {}).get("configurable", {})
        put_config = {
            "configurable": {
                "thread_id": target,
                "checkpoint_ns": cfg.get("checkpoint_ns", ""),
                **(
                    {"checkpoint_id": parent["checkpoint_id"]}
                    if parent.get("checkpoint_id")
                    else {}
                ),
            }
        }
        stored = await saver.aput(
            put_config,
            item.checkpoint,
            item.metadata,
            item.checkpoint["channel_versions"],
        )
        by_task: dict[str, list[tuple[str, Any]]] = {}
        for task_id, channel, value in item.pending_writes or []:
            by_task.setdefault(task_id, []).append((channel, value))
        for task_id, writes in by_task.items():
            await saver.aput_writes(stored, writes, task_id)
