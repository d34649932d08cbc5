"""The worker: owns the job slots, claims due runs, executes them, records their ends.

A run created on an idle thread while a slot is free is claimed in the same transaction that
inserts it and starts at once. Every other pending run (a busy thread, `after_seconds`, all slots
taken, left over by a restart) is claimed by `_pump`, which runs whenever a slot frees, a pending
run is inserted, or the earliest `after_seconds` comes due: events, never a polling loop.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime
from typing import Any

from langgraph.checkpoint.memory import InMemorySaver

from graphport import serde, tracing
from graphport.bus.memory import MemoryBus
from graphport.config import Settings
from graphport.engine import containment
from graphport.engine.events import EventEncoder
from graphport.engine.executor import Outcome, Publish, error_payload, execute
from graphport.engine.feedback import FeedbackLinks
from graphport.engine.prepare import prepare
from graphport.engine.webhooks import WebhookSender, build_payload
from graphport.graphs import GraphEntry
from graphport.metrics import Metrics
from graphport.models import Run, iso
from graphport.storage import RunFinish, Storage
from graphport.storage.base import PendingWebhook

log = logging.getLogger("graphport.worker")


def _timed_out(limit: float) -> Outcome:
    message = f"Run exceeded the timeout of {limit:g} seconds"
    return Outcome(status="timeout", error={"error": "TimeoutError", "message": message})


class Worker:
    def __init__(
        self,
        settings: Settings,
        storage: Storage,
        graphs: dict[str, GraphEntry],
        bus: MemoryBus,
        webhooks: WebhookSender,
        feedback: FeedbackLinks | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.settings = settings
        self.metrics = metrics
        self.webhooks = webhooks
        self.feedback = feedback  # feedback links, when runs ask for them
        self.storage = storage
        self.graphs = graphs
        self.bus = bus
        # Temporary (stateless) runs get a checkpointer too, so durability and interrupts behave
        # as on kept threads; their checkpoints live in memory and go with the run.
        self.ephemeral = InMemorySaver()
        self._free = settings.jobs
        self.active: dict[str, asyncio.Task[None]] = {}
        self.running_threads: dict[str, str] = {}  # run id -> thread id, while executing
        self.started: set[str] = set()  # runs whose task has begun executing
        self.cancel_reasons: dict[str, str] = {}
        self._pending_epoch = 0  # bumped whenever a run is left pending
        self._maybe_pending = True
        self._waiting_threads: set[str] = set()  # threads with due runs behind a running one
        self._pumping = False
        self._again = False
        self._timer: asyncio.TimerHandle | None = None
        self._timer_due: float | None = None
        self._stopping = False

    # -- slots and claiming ------------------------------------------------------------------

    @property
    def free(self) -> int:
        return self._free

    @free.setter
    def free(self, value: int) -> None:  # every change of the slots shows in the metrics
        self._free = value
        if self.metrics is not None:
            self.metrics.slots(self.settings.jobs, value)

    def reserve(self) -> bool:
        """Take a slot for a run about to be created; False if all are busy."""
        if self.free > 0 and not self._stopping:
            self.free -= 1
            return True
        return False

    def release(self) -> None:
        self.free += 1

    def left_pending(self) -> None:
        """A run was stored as pending: make sure it is claimed when it can be (by this
        process or, when it has no free slot, by another one sharing the database)."""
        self.nudge()
        self.bus.wake_others()

    def nudge(self) -> None:
        """Pending runs may be claimable (told by this process or another)."""
        self._pending_epoch += 1
        self._maybe_pending = True
        self.poke()

    def poke(self) -> None:
        if self._stopping:
            return
        if self._pumping:
            self._again = True
            return
        self._pumping = True
        asyncio.get_running_loop().create_task(self._pump())

    async def _pump(self) -> None:
        try:
            while True:
                self._again = False
                want = self.free
                if want <= 0 or not self._maybe_pending:
                    break
                epoch = self._pending_epoch
                self.free -= want
                try:
                    result = await self.storage.claim_runs(want, time.time())
                except Exception:
                    self.free += want
                    log.exception("claiming runs failed")
                    break
                runs = result.claimed
                self.free += want - len(runs)
                for run in runs:
                    self.start(run)
                self._schedule(result.next_due)
                # runs blocked behind a running run of their thread: claim when it ends
                self._waiting_threads = result.waiting_threads
                if len(runs) < want and epoch == self._pending_epoch:
                    self._maybe_pending = False
                if not self._again and len(runs) < want:
                    break
        finally:
            self._pumping = False

    def _schedule(self, due: float | None) -> None:
        """Wake the pump when the earliest delayed run comes due."""
        if due is None or (self._timer_due is not None and self._timer_due <= due):
            return
        if self._timer is not None:
            self._timer.cancel()
        loop = asyncio.get_running_loop()
        self._timer_due = due

        def fire() -> None:
            self._timer = self._timer_due = None
            self._maybe_pending = True
            self.poke()

        self._timer = loop.call_at(loop.time() + max(0.0, due - time.time()), fire)

    # -- execution ---------------------------------------------------------------------------

    def start(self, run: Run) -> None:
        """Execute a claimed run (its slot is already taken)."""
        # in a run's context, so that what graph code raises stays in the run (containment.py)
        task = asyncio.get_running_loop().create_task(
            self._execute(run), context=containment.run_context()
        )
        self.active[run["run_id"]] = task
        self.running_threads[run["run_id"]] = run["thread_id"]
        run_id = run["run_id"]
        task.add_done_callback(lambda _t: self._finished(run_id))

    def _finished(self, run_id: str) -> None:
        self.active.pop(run_id, None)
        thread_id = self.running_threads.pop(run_id, None)
        if thread_id in self._waiting_threads:
            self._maybe_pending = True
        if self._pumping:  # a claim in flight may have seen this run still running
            self._pending_epoch += 1
            self._maybe_pending = True
        self.started.discard(run_id)
        self.cancel_reasons.pop(run_id, None)
        self.free += 1
        if self._maybe_pending:
            self.poke()

    def cancel(self, run_id: str, reason: str) -> bool:
        task = self.active.get(run_id)
        if task is None or task.done():
            return False
        self.cancel_reasons[run_id] = reason
        # A task cancelled before its first step never enters its handlers: flag it instead,
        # and `_execute` stops the run as soon as it begins.
        if run_id in self.started:
            task.cancel()
        return True

    def _emit(self, run_id: str, event: str, data: Any) -> None:
        if self.bus.wants_events(run_id):
            self.bus.publish(run_id, event, serde.dumps(data))

    def _publisher(self, run_id: str, stream_mode: list[str]) -> Publish:
        """Turn graph chunks into SSE events, only while someone can receive them."""
        bus = self.bus
        encoders: list[EventEncoder] = []  # made on the first event someone receives

        def publish(ns: tuple[str, ...], mode: str, data: Any) -> None:
            if bus.wants_events(run_id):
                if not encoders:
                    encoders.append(EventEncoder(stream_mode))
                for name, payload in encoders[0].encode(ns, mode, data):
                    bus.publish(run_id, name, serde.dumps(payload))

        return publish

    async def _execute(self, run: Run) -> None:
        run_id = run["run_id"]
        self.started.add(run_id)
        started_at = iso()
        kw = run["kwargs"]
        self.bus.open_stream(
            run_id, resumable=bool(kw.get("resumable")), thread_id=run["thread_id"]
        )
        temporary = bool(kw.get("temporary"))
        if self.metrics is not None:
            self.metrics.run_started(_graph_id(run), run["created_at"], run.get("attempt", 1))
        log.info(
            "run %s started: graph=%s attempt=%d thread=%s",
            run_id, _graph_id(run), run.get("attempt", 1), run["thread_id"],
        )  # fmt: skip
        with tracing.run_span(run, _graph_id(run)) as span:
            try:
                outcome, thread_state = await self._run_graph(run, temporary, span)
            except containment.PASSES_THROUGH:
                raise  # shutdown: left `running`, requeued and run again after the restart
            except BaseException as exc:  # the factory or the state read failed, or graph
                exc = containment.unwrap(exc)  # code raised SystemExit & co. outside a task
                outcome = Outcome(status="error", error=error_payload(exc), exception=exc)
                thread_state = {}
            tracing.end_run_span(span, outcome.status)
            await self._finish(run, outcome, temporary, thread_state, started_at)

    async def _run_graph(
        self, run: Run, temporary: bool, span: Any = None
    ) -> tuple[Outcome, dict[str, Any]]:
        """Execute the run's graph; return its outcome and, for a kept thread, the thread's new
        state. Cancellation by request (not shutdown) is an outcome too."""
        run_id, kw = run["run_id"], run["kwargs"]
        graph_id = kw["config"]["configurable"].get("graph_id", "")
        entry = self.graphs.get(graph_id)
        if entry is None:
            raise ValueError(f"Graph '{graph_id}' is no longer served")
        graph: Any = None
        prep: Any = None
        try:
            async with entry.resolve(
                kw["config"],
                checkpointer=self.ephemeral if temporary else self.storage.checkpointer,
                store=self.storage.store,
                context=kw.get("context"),
            ) as graph:
                attempt = run.get("attempt", 1)
                prep = prepare(run, graph, attempt=attempt, cacheable=not entry.is_factory)
                if span is not None:  # node spans below the run's
                    callbacks = prep.config.get("callbacks") or []
                    if isinstance(callbacks, list):
                        prep.config["callbacks"] = [*callbacks, *tracing.node_callbacks(span)]
                if attempt > 1 and not temporary and await _left_off(graph, prep.config):
                    prep.input = None  # taken over after a crash: resume from its checkpoint
                if run_id in self.cancel_reasons:  # cancelled before it began
                    raise asyncio.CancelledError
                publish = self._publisher(run_id, prep.stream_mode)
                self._emit(run_id, "metadata", {"run_id": run_id, "attempt": attempt})
                try:
                    async with asyncio.timeout(self.settings.run_timeout):
                        outcome = await execute(graph, prep, publish)
                except TimeoutError:
                    outcome = _timed_out(self.settings.run_timeout)
        except asyncio.CancelledError:
            if self.cancel_reasons.get(run_id, "shutdown") == "shutdown":
                raise
            outcome = await self._cancelled(run, temporary)
        if temporary or prep is None:
            return outcome, {}
        if _finished_cleanly(graph, prep, outcome):
            # the last values are the whole state and nothing is pending: no checkpoint read
            return outcome, {"status": "idle", "values": outcome.values, "interrupts": {}}
        return outcome, await _thread_state_after(graph, prep.config, outcome)

    async def _cancelled(self, run: Run, temporary: bool) -> Outcome:
        """The outcome of a run cancelled by request; a rollback also drops its checkpoints."""
        reason = self.cancel_reasons[run["run_id"]]
        current = asyncio.current_task()
        if current is not None:
            current.uncancel()
        outcome = Outcome(
            status="interrupted",
            error={"error": "UserInterrupt", "message": f"Run was cancelled ({reason})"},
        )
        if reason == "rollback":
            outcome.rolled_back = True
            if not temporary:
                await self.storage.delete_run_checkpoints(run["thread_id"], run["run_id"])
        return outcome

    async def _finish(
        self,
        run: Run,
        outcome: Outcome,
        temporary: bool,
        thread_state: dict[str, Any],
        started_at: str,
    ) -> None:
        run_id, thread_id = run["run_id"], run["thread_id"]
        keys = run["kwargs"].get("feedback_keys")
        if keys and outcome.error is None and self.feedback is not None:
            outcome.feedback = self.feedback.urls(run_id, keys)
        body = outcome.body()
        if temporary:
            self.ephemeral.delete_thread(thread_id)
        values = thread_state.get("values", outcome.values)
        webhook = self._webhook(run, outcome, values, started_at)
        finish = RunFinish(
            run_id=run_id,
            thread_id=thread_id,
            status=outcome.status,
            result=body,
            thread_status=thread_state.get("status", _thread_status(outcome)),
            thread_values=values,
            thread_interrupts=thread_state.get("interrupts", {}),
            thread_error=_thread_error(outcome),
            delete_thread=temporary,
            webhook=webhook,
            delete_run=outcome.rolled_back,
        )
        waited_elsewhere = True  # unless storage says nobody else waits
        for attempt in range(1, 4):
            try:
                waited_elsewhere = await self.storage.finish_run(finish)
                break
            except Exception:
                log.exception("recording the end of run %s failed (attempt %d)", run_id, attempt)
                await asyncio.sleep(0.1 * attempt)
        else:
            # Not recorded: the run stays `running` and is run again after a restart, so its
            # waiters are not told it succeeded.
            outcome = Outcome(
                status="error",
                error={"error": "StorageError", "message": "the run's end could not be stored"},
            )
            body = outcome.body()
            webhook = None
        if webhook is not None:
            self.webhooks.schedule(
                PendingWebhook(run_id, thread_id, webhook[0], webhook[1], 0, 0.0)
            )
        seconds = (datetime.now(UTC) - datetime.fromisoformat(started_at)).total_seconds()
        _log_end(run, outcome, seconds)
        if self.metrics is not None:
            self.metrics.run_ended(_graph_id(run), outcome.status, seconds)
        if outcome.error is not None:
            self._emit(run_id, "error", outcome.error)
        if outcome.feedback:
            self._emit(run_id, "feedback", outcome.feedback)
        self.bus.done(run_id, body, waited_elsewhere=waited_elsewhere)

    def _webhook(
        self, run: Run, outcome: Outcome, values: Any, started_at: str
    ) -> tuple[str, bytes] | None:
        """The run's webhook delivery (URL and payload), stored with its end; None if none."""
        url: str | None = run["kwargs"].get("webhook")
        if not url or self.settings.http.get("disable_webhooks"):
            return None
        payload = build_payload(
            run,
            outcome.status,
            values,
            outcome.error if outcome.status != "success" else None,
            started_at,
            iso(),
            self.settings.webhooks.get("allowed_fields"),
        )
        return url, payload

    # -- several processes: heartbeats, takeover, hand-back ---------------------------------

    async def recover(self, *, startup: bool) -> None:
        """Requeue runs whose process died (claimed again at once, here or elsewhere); fail
        those that have used up their attempts."""
        requeued, spent = await self.storage.recover_runs(
            stale_after=self.settings.stale_after_seconds,
            max_attempts=self.settings.max_attempts,
            startup=startup,
        )
        if requeued:
            log.warning("took over %d run(s) left by a stopped server process", requeued)
            self.left_pending()
        for run in spent:
            await self.fail_abandoned(run)
        if not startup:  # webhooks a dead process was delivering (at start: WebhookSender)
            for pending in await self.storage.pending_webhooks():
                self.webhooks.schedule(pending)

    async def keep_alive(self) -> None:
        """Heartbeat, and take over the runs of processes that stopped heartbeating."""
        while True:
            await asyncio.sleep(self.settings.heartbeat_seconds)
            try:
                await self.storage.heartbeat()
                await self.recover(startup=False)
                self.bus.keep_only(
                    await self.storage.live_workers(self.settings.stale_after_seconds)
                )
            except Exception:
                log.exception("heartbeat failed")

    async def fail_abandoned(self, run: Run) -> None:
        """End a run whose process died during each of its attempts."""
        attempts = run.get("attempt", 0)
        log.error("run %s failed: its server process stopped %d time(s)", run["run_id"], attempts)
        outcome = Outcome(
            status="error",
            error={
                "error": "RunAbandoned",
                "message": f"Run failed after {attempts} attempts: the server process executing "
                "it stopped each time (crash or kill) before it ended",
            },
        )
        temporary = bool(run["kwargs"].get("temporary"))
        thread = None if temporary else await self.storage.get_thread(run["thread_id"])
        state = {
            "status": "error",
            "values": thread.get("values") if thread else None,
            "interrupts": (thread.get("interrupts") if thread else None) or {},
        }
        await self._finish(run, outcome, temporary, state, run["updated_at"])

    async def stop(self, grace: float = 5.0) -> None:
        """Stop claiming; give running runs `grace` seconds, then hand them back (pending, to
        be taken over by another process or the restart)."""
        self._stopping = True
        if self._timer is not None:
            self._timer.cancel()
        tasks = list(self.active.values())
        if tasks:
            await asyncio.wait(tasks, timeout=grace)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        try:
            released = await self.storage.release_runs()
        except Exception:
            log.exception("handing back the running runs failed (they are recovered later)")
            return
        if released:
            log.warning("handed back %d unfinished run(s)", released)
            self.bus.wake_others()


def _thread_status(outcome: Outcome) -> str:
    if outcome.status in ("error", "timeout"):
        return "error"
    if outcome.interrupts:
        return "interrupted"
    return "idle"


def _thread_error(outcome: Outcome) -> Any:
    return outcome.error if outcome.status in ("error", "timeout") else None


def _finished_cleanly(graph: Any, prep: Any, outcome: Outcome) -> bool:
    """A successful run that stopped at END, on a graph whose output is its whole state."""
    if outcome.status != "success" or outcome.interrupts or not isinstance(outcome.values, dict):
        return False
    if prep.interrupt_before or prep.interrupt_after:
        return False
    outputs = graph.output_channels
    if isinstance(outputs, str):
        return False
    return set(outputs) >= set(graph.stream_channels_list)


async def _left_off(graph: Any, config: dict[str, Any]) -> bool:
    """Whether the thread's last checkpoint is this run's, with work still to do (a run
    taken over after a crash continues from there instead of starting again)."""
    thread_id = config["configurable"]["thread_id"]
    state = await graph.aget_state({"configurable": {"thread_id": thread_id}})
    return bool(state.next) and (state.metadata or {}).get("run_id") == config["run_id"]


async def _thread_state_after(
    graph: Any, config: dict[str, Any], outcome: Outcome
) -> dict[str, Any]:
    """Values, status and interrupts of a kept thread, read from its last checkpoint."""
    thread_id = config["configurable"]["thread_id"]
    state = await graph.aget_state({"configurable": {"thread_id": thread_id}})
    interrupts = {
        task.id: [{"id": i.id, "value": i.value} for i in task.interrupts]
        for task in state.tasks
        if task.interrupts
    }
    status = _thread_status(outcome)
    if status == "idle" and outcome.status == "success" and state.next:
        status = "interrupted"  # stopped by interrupt_before / interrupt_after
    values = state.values if state.values or outcome.values is None else outcome.values
    if outcome.rolled_back:
        values = state.values or None
    return {"status": status, "values": values, "interrupts": interrupts}


def _graph_id(run: Run) -> str:
    return str(run["kwargs"].get("config", {}).get("configurable", {}).get("graph_id", ""))


def _log_end(run: Run, outcome: Outcome, seconds: float) -> None:
    """One line per run end (run, graph, status, duration, attempt); a failed run's traceback."""
    graph_id = _graph_id(run)
    level = logging.INFO if outcome.status in ("success", "interrupted") else logging.WARNING
    exc = outcome.exception
    log.log(
        logging.ERROR if exc is not None else level,
        "run %s ended: graph=%s status=%s duration=%.3fs attempt=%d thread=%s%s",
        run["run_id"], graph_id, outcome.status, seconds, run.get("attempt", 1),
        run["thread_id"], f" error={outcome.error}" if outcome.error else "",
        exc_info=(type(exc), exc, exc.__traceback__) if exc is not None else None,
    )  # fmt: skip
