"""The thread event protocol (v2): commands, and a numbered event log per followed thread.

A thread is followed from its first protocol request (a command or an event stream) until it
has had no connection and no live run for `retention` seconds. While followed, the hub holds the
bus's thread subscription: every run of the thread (started by `run.start` or by the runs routes)
publishes its events, which a relay task translates (protocol_events.py) into the thread's log
(protocol_log.py). `run.start` and `input.respond` create runs through `RunEngine.create_run`,
like `POST /threads/{tid}/runs`, with the stream modes the channels need.

The log lives in the process that serves the connection; with several processes, a client that
reconnects to another one resumes from that process's log.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any

import orjson

from graphport import errors
from graphport.engine.executor import PROTOCOL_MODE
from graphport.engine.protocol_events import RUN_ENDED, Translator
from graphport.engine.protocol_log import (
    Filter,
    Listener,
    SubscriptionError,
    ThreadLog,
    parse_subscription,
    subscription_message,
)
from graphport.engine.runs import RunEngine
from graphport.events import END, Event
from graphport.models import Run, uuid4

log = logging.getLogger("graphport.protocol")

# The stream modes of a `run.start` run (`lifecycle` marks it). The reference also lists
# `checkpoints` but sends none; a full state per step is not worth its cost here either.
STREAM_MODES = ["values", "updates", "messages", "tools", PROTOCOL_MODE, "custom", "tasks"]
NO_RUN = "No active run is bound to this thread."
ENVELOPE = "Protocol commands must include an integer id and string method."


class ProtocolError(Exception):
    """A command failed: `{"type": "error", "error": code, "message": ...}` (HTTP 200)."""

    def __init__(self, code: str, message: str, **fields: Any) -> None:
        super().__init__(message)
        self.code, self.message, self.fields = code, message, fields


def envelope_error(command: Any) -> dict[str, Any] | None:
    """The error reply to a command without an integer `id` and a string `method`."""
    ok = (
        isinstance(command, dict)
        and _integer(command.get("id"))
        and isinstance(command.get("method"), str)
    )
    if ok:
        return None
    cid = command.get("id") if isinstance(command, dict) else None
    return {"type": "error", "id": cid, "error": "invalid_argument", "message": ENVELOPE}


def _integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(eq=False)
class _Thread:
    thread_id: str
    log: ThreadLog
    queue: asyncio.Queue[Event | None]  # the bus's thread subscription
    translator: Translator = field(default_factory=Translator)
    live: set[str] = field(default_factory=set)  # runs created here that have not ended
    answered: set[str] = field(default_factory=set)  # interrupts input.respond has resumed
    relay: asyncio.Task[None] | None = None
    expiry: asyncio.TimerHandle | None = None

    @property
    def busy(self) -> bool:
        return bool(self.log.listeners or self.live or self.translator.current)


class ProtocolHub:
    def __init__(self, engine: RunEngine, *, retention: float, max_events: int) -> None:
        self.engine = engine
        self.bus = engine.bus
        self.retention = retention
        self.max_events = max_events
        self._threads: dict[str, _Thread] = {}

    # -- followed threads --------------------------------------------------------------------

    def thread(self, thread_id: str) -> _Thread:
        t = self._threads.get(thread_id)
        if t is None:
            queue = self.bus.subscribe_thread(thread_id)
            t = self._threads[thread_id] = _Thread(thread_id, ThreadLog(self.max_events), queue)
            t.relay = asyncio.get_running_loop().create_task(self._relay(t))
        if t.expiry is not None:
            t.expiry.cancel()
            t.expiry = None
        return t

    def listen(
        self, thread_id: str, flt: Filter | None = None, since: int | None = None
    ) -> Listener:
        """A connection to the thread: with `flt`, subscribed at once (replay after `since`)."""
        t = self.thread(thread_id)
        listener = Listener()
        if flt is not None:
            t.log.subscribe(listener, flt, since)
        t.log.listeners.add(listener)
        return listener

    def close(self, thread_id: str, listener: Listener) -> None:
        t = self._threads.get(thread_id)
        if t is not None:
            t.log.listeners.discard(listener)
            self._maybe_expire(t)

    def _maybe_expire(self, t: _Thread) -> None:
        if t.busy or t.expiry is not None or self._threads.get(t.thread_id) is not t:
            return
        t.expiry = asyncio.get_running_loop().call_later(self.retention, self._expire, t)

    def _expire(self, t: _Thread) -> None:
        t.expiry = None
        if t.busy or self._threads.get(t.thread_id) is not t:
            return
        del self._threads[t.thread_id]
        self._drop(t)

    def _drop(self, t: _Thread) -> None:
        self.bus.unsubscribe_thread(t.thread_id, t.queue)
        if t.relay is not None:
            t.relay.cancel()
        for listener in t.log.listeners:
            listener.queue.put_nowait(END)

    async def stop(self) -> None:
        threads, self._threads = list(self._threads.values()), {}
        for t in threads:
            if t.expiry is not None:
                t.expiry.cancel()
            self._drop(t)
        relays = [t.relay for t in threads if t.relay is not None]
        if relays:
            await asyncio.gather(*relays, return_exceptions=True)

    async def _relay(self, t: _Thread) -> None:
        """Translate the thread's run events, in order, into its log."""
        translator = t.translator
        while True:
            item = await t.queue.get()
            if item is END:
                continue
            try:
                if item.event == "metadata":
                    await self._learn_graph(t, item.data)
                for ev in translator.feed(item.event, item.data):
                    t.log.append(
                        ev.method, ev.namespace, ev.data, event_id=ev.event_id, extra=ev.extra
                    )
            except Exception:
                log.exception("thread %s: could not translate a %s event", t.thread_id, item.event)
            if item.event in ("metadata", RUN_ENDED):
                self._maybe_expire(t)

    async def _learn_graph(self, t: _Thread, raw: bytes) -> None:
        """A run this hub did not create starts or ends: its graph (lifecycle `graph_name`)."""
        run_id = orjson.loads(raw).get("run_id")
        if not run_id:
            return
        known = t.translator.runs.get(run_id)
        if known is not None and known.graph_name:
            return
        with contextlib.suppress(Exception):
            run = await self.engine.storage.get_run(t.thread_id, run_id)
            if run is not None:
                t.translator.track(run_id, _graph_id(run))

    def _watch(self, t: _Thread, run: Run, done: asyncio.Future[bytes]) -> None:
        """Follow a run created here; its end also tells of one cancelled before it started."""
        run_id = run["run_id"]
        t.translator.track(run_id, _graph_id(run))
        t.live.add(run_id)

        def ended(fut: asyncio.Future[bytes]) -> None:
            t.live.discard(run_id)
            if fut.cancelled() or self._threads.get(t.thread_id) is not t:
                return
            body = orjson.loads(fut.result()) if fut.exception() is None else None
            marker = orjson.dumps({"run_id": run_id, "body": body})
            t.queue.put_nowait(Event("", 0, RUN_ENDED, marker))  # after the run's own events

        done.add_done_callback(ended)

    # -- commands ----------------------------------------------------------------------------

    async def command(
        self,
        thread_id: str,
        command: dict[str, Any],
        listener: Listener | None = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """Apply a well-formed command (see `envelope_error`); the reply to send."""
        cid, method = command["id"], command["method"]
        handler = _HANDLERS.get(method)
        if handler is None:
            message = f"Unknown protocol command: {method}"
            return {"type": "error", "id": cid, "error": "unknown_command", "message": message}
        params = command.get("params")
        params = params if isinstance(params, dict) else {}
        t = self.thread(thread_id)
        # as the reference: failed subscription commands on a connection say where it stands
        with_meta = listener is not None and method.startswith("subscription.")
        try:
            result, seq = await handler(self, t, params, listener, headers or {})
        except ProtocolError as exc:
            reply = {"type": "error", "id": cid, "error": exc.code, "message": exc.message}
            reply.update(exc.fields)
            if with_meta:
                reply["meta"] = {"applied_through_seq": t.log.seq}
            return reply
        except errors.GraphportError as exc:  # as the reference: "<status>: <detail>"
            message = f"{exc.status_code}: {exc.detail}"
            return {"type": "error", "id": cid, "error": "unknown_error", "message": message}
        except Exception as exc:
            log.exception("thread %s: command %s failed", thread_id, method)
            message = f"{type(exc).__name__}: {exc}"
            return {"type": "error", "id": cid, "error": "unknown_error", "message": message}
        finally:
            self._maybe_expire(t)
        return {"type": "success", "id": cid, "result": result,
                "meta": {"applied_through_seq": seq}}  # fmt: skip

    async def _run_start(
        self, t: _Thread, params: dict[str, Any], listener: Any, headers: dict[str, str]
    ) -> tuple[dict[str, Any], int]:
        assistant_id = params.get("assistant_id")
        if not isinstance(assistant_id, str) or not assistant_id:
            raise ProtocolError("invalid_argument", "run.start requires an assistant_id.")
        body = _run_body(assistant_id, params)
        for key in ("input", "config", "context", "metadata", "checkpoint_id",
                    "interrupt_before", "interrupt_after", "durability"):  # fmt: skip
            if params.get(key) is not None:
                body[key] = params[key]
        command = {k: params[k] for k in ("update", "goto") if params.get(k) is not None}
        if "input" in body and await self._awaits_answer(t):
            # a thread waiting on an interrupt: its input is the answer (RemoteGraph sends a
            # Command(resume=...) as the raw value), as the reference reads the thread's state
            command["resume"] = body.pop("input")
            t.answered.update(t.translator.pending_interrupts())
        if command:
            body["command"] = command
        return await self._create(t, body, headers, "run_id")

    async def _input_respond(
        self, t: _Thread, params: dict[str, Any], listener: Any, headers: dict[str, str]
    ) -> tuple[dict[str, Any], int]:
        answers = params.get("responses")
        if not isinstance(answers, list):
            answers = [params]
        resume: dict[str, Any] = {}
        for answer in answers:
            iid = answer.get("interrupt_id") if isinstance(answer, dict) else None
            if not isinstance(iid, str) or not iid:
                raise ProtocolError("invalid_argument", "input.respond requires an interrupt_id.")
            resume[iid] = answer.get("response")
        pending = t.translator.pending_interrupts()
        stored: set[str] | None = None
        for iid in resume:
            if iid in pending and iid not in t.answered:
                continue
            if stored is None:
                stored = await self._stored_interrupts(t.thread_id)
            if not stored and t.translator.latest is None:
                raise ProtocolError("no_such_run", "No interrupted run is bound to this thread.")
            if iid not in stored or iid in t.answered:
                message = f"Unknown or already-consumed interrupt: {iid}"
                raise ProtocolError("no_such_interrupt", message)
        thread = await self.engine.storage.get_thread(t.thread_id)
        assistant_id = ((thread or {}).get("metadata") or {}).get("assistant_id")
        if not assistant_id:
            raise ProtocolError("no_such_run", NO_RUN)
        body = _run_body(assistant_id, params)
        body["command"] = {"resume": resume}
        for key in ("update", "goto"):
            if params.get(key) is not None:
                body["command"][key] = params[key]
        for key in ("config", "metadata"):
            if params.get(key) is not None:
                body[key] = params[key]
        _, seq = await self._create(t, body, headers, None)
        if len(t.answered) > 1000:
            t.answered.clear()
        t.answered.update(resume)
        return {}, seq

    async def _create(
        self, t: _Thread, body: dict[str, Any], headers: dict[str, str], key: str | None
    ) -> tuple[dict[str, Any], int]:
        seq = t.log.seq  # the run's events come after: `since` = this replays exactly them
        run, done, _ = await self.engine.create_run(t.thread_id, body, uuid4(), headers=headers)
        self._watch(t, run, done)
        return ({key: run["run_id"]} if key else {}), seq

    async def _awaits_answer(self, t: _Thread) -> bool:
        """Whether the thread waits on an interrupt: one its last run announced on this
        process's stream (that run may not have recorded its end yet: a client that saw the
        interrupt can start the next run first), or one stored with the thread's state."""
        if set(t.translator.pending_interrupts()) - t.answered:
            return True
        return bool(await self._stored_interrupts(t.thread_id))

    async def _stored_interrupts(self, thread_id: str) -> set[str]:
        thread = await self.engine.storage.get_thread(thread_id)
        interrupts = (thread or {}).get("interrupts") or {}
        return {i.get("id") for items in interrupts.values() for i in items or ()}

    async def _get_tree(
        self, t: _Thread, params: dict[str, Any], listener: Any, headers: dict[str, str]
    ) -> tuple[dict[str, Any], int]:
        run_id = params.get("run_id")
        run = t.translator.shown(run_id if isinstance(run_id, str) else None)
        if run is None:
            raise ProtocolError("no_such_run", NO_RUN)
        return {"tree": run.tree()}, t.log.seq

    async def _subscribe(
        self,
        t: _Thread,
        params: dict[str, Any],
        listener: Listener | None,
        headers: dict[str, str],
        *,
        method: str = "subscription.subscribe",
    ) -> tuple[dict[str, Any], int]:
        reconnect = method == "subscription.reconnect"
        try:
            flt, since = parse_subscription(params)
            if reconnect and t.translator.latest is None:
                raise ProtocolError("no_such_run", NO_RUN)
            if reconnect and since is None:
                raise SubscriptionError("since")
        except SubscriptionError as exc:
            raise ProtocolError("invalid_argument", subscription_message(method, exc)) from None
        first = t.log.first_seq
        if reconnect and since is not None and since < first - 1:
            message = f"resume gap: since={since} is older than min_available_seq={first}"
            raise ProtocolError("resume_gap", message, since=since, min_available_seq=first)
        if listener is None:  # over HTTP there is no connection to deliver to
            return {"subscription_id": uuid4(), "replayed_events": 0}, t.log.seq
        sub_id, replayed = t.log.subscribe(listener, flt, since)
        return {"subscription_id": sub_id, "replayed_events": replayed}, t.log.seq

    async def _reconnect(
        self, t: _Thread, params: dict[str, Any], listener: Any, headers: dict[str, str]
    ) -> tuple[dict[str, Any], int]:
        return await self._subscribe(t, params, listener, headers, method="subscription.reconnect")

    async def _unsubscribe(
        self, t: _Thread, params: dict[str, Any], listener: Any, headers: dict[str, str]
    ) -> tuple[dict[str, Any], int]:
        sub_id = params.get("subscription_id")
        if listener is None or sub_id not in listener.filters:
            raise ProtocolError("no_such_subscription", f"Unknown subscription: {sub_id}")
        del listener.filters[sub_id]
        return {}, t.log.seq


_HANDLERS = {
    "run.start": ProtocolHub._run_start,
    "input.respond": ProtocolHub._input_respond,
    "agent.getTree": ProtocolHub._get_tree,
    "subscription.subscribe": ProtocolHub._subscribe,
    "subscription.unsubscribe": ProtocolHub._unsubscribe,
    "subscription.reconnect": ProtocolHub._reconnect,
}


def _run_body(assistant_id: str, params: dict[str, Any]) -> dict[str, Any]:
    """A thread run body (the thread is created if need be) streaming every channel."""
    strategy = params.get("multitaskStrategy") or params.get("multitask_strategy")
    body: dict[str, Any] = {
        "assistant_id": assistant_id,
        "if_not_exists": "create",
        "stream_mode": STREAM_MODES,
        "stream_subgraphs": True,
    }
    if strategy is not None:
        body["multitask_strategy"] = strategy
    return body


def _graph_id(run: Run) -> str | None:
    configurable = (run["kwargs"].get("config") or {}).get("configurable") or {}
    return configurable.get("graph_id")
