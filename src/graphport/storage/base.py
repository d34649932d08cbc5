"""The storage seam: graphport's own records (assistants, threads, runs) behind one async interface.

Checkpoints and the key-value store are not reimplemented: `checkpointer` and `store` are
langgraph's own savers on the same database. Every rule that needs a transaction sits behind
one method, so a backend can keep it atomic.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.store.base import BaseStore

from graphport.models import Assistant, Run, Thread


@dataclass
class RunFinish:
    """What a finished run leaves behind."""

    run_id: str
    thread_id: str
    status: str
    result: bytes | None  # the /wait body, kept so a later join answers at once
    thread_status: str
    thread_values: Any
    thread_interrupts: dict[str, Any]
    thread_error: Any
    delete_thread: bool  # a temporary thread goes with its run
    webhook: tuple[str, bytes] | None = None  # (url, payload) queued for delivery atomically


@dataclass
class PendingWebhook:
    """A delivery not yet done (it survives restarts)."""

    run_id: str
    thread_id: str
    url: str
    payload: bytes
    attempts: int
    next_attempt: float


@dataclass
class WebhookAttempt:
    """One try at delivering a run's webhook."""

    run_id: str
    attempt: int
    url: str
    at: str
    status_code: int | None
    error: str | None
    duration_ms: float


class Storage(abc.ABC):
    """Async storage of assistants, threads and runs."""

    checkpointer: BaseCheckpointSaver
    store: BaseStore
    location: str  # where the data lives, for the logs

    @abc.abstractmethod
    async def open(self) -> None:
        """Connect and apply migrations."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Release every connection."""

    # -- assistants --------------------------------------------------------------------------

    @abc.abstractmethod
    async def sync_system_assistant(self, assistant: Assistant) -> None:
        """Create the graph's default assistant, or refresh its name and description."""

    @abc.abstractmethod
    async def get_assistant(self, assistant_id: str) -> Assistant | None:
        """The assistant's latest version, or None."""

    @abc.abstractmethod
    async def search_assistants(
        self,
        *,
        graph_id: str | None,
        name: str | None,
        metadata: dict[str, Any] | None,
        limit: int,
        offset: int,
        sort_by: str,
        sort_order: str,
    ) -> tuple[list[Assistant], int]:
        """Matching assistants (metadata is a containment filter) and the total count."""

    # -- threads -----------------------------------------------------------------------------

    @abc.abstractmethod
    async def get_thread(self, thread_id: str) -> Thread | None:
        """The thread, or None."""

    @abc.abstractmethod
    async def delete_thread(self, thread_id: str) -> bool:
        """Delete the thread and its runs; False if it did not exist."""

    # -- runs --------------------------------------------------------------------------------

    @abc.abstractmethod
    async def create_run(self, run: Run, thread: Thread | None, *, claim: bool) -> bool:
        """Insert `run` (creating `thread` first when given) in one transaction.

        With `claim`, the run is marked running at once if its thread has no other pending or
        running run and it is due; returns whether it was claimed.
        """

    @abc.abstractmethod
    async def claim_runs(self, limit: int, now: float) -> tuple[list[Run], float | None]:
        """Mark up to `limit` due pending runs running, oldest first, at most one per thread and
        none on a thread that already has a running run. Also return the earliest due time of
        the pending runs left (None if there are none)."""

    @abc.abstractmethod
    async def get_run(self, thread_id: str, run_id: str) -> Run | None:
        """The run, or None."""

    @abc.abstractmethod
    async def get_run_result(self, run_id: str) -> tuple[str, bytes | None] | None:
        """(status, stored /wait body) of the run, or None if it does not exist."""

    @abc.abstractmethod
    async def list_runs(
        self, thread_id: str, *, limit: int, offset: int, status: str | None
    ) -> list[Run]:
        """Runs of the thread, newest first."""

    @abc.abstractmethod
    async def finish_run(self, finish: RunFinish) -> None:
        """Record the run's terminal status and its thread's new state (or delete both)."""

    @abc.abstractmethod
    async def requeue_running_runs(self) -> int:
        """Put runs left `running` by a dead process back to `pending`; return how many."""

    # -- webhooks ----------------------------------------------------------------------------

    @abc.abstractmethod
    async def pending_webhooks(self) -> list[PendingWebhook]:
        """Deliveries still to be made, soonest first."""

    @abc.abstractmethod
    async def record_webhook_attempt(
        self, attempt: WebhookAttempt, outcome: str, next_attempt: float | None
    ) -> None:
        """Store an attempt; `outcome` is the delivery's new status (pending, delivered, failed)."""

    @abc.abstractmethod
    async def get_webhook(self, run_id: str) -> dict[str, Any] | None:
        """The delivery of a run's webhook with every attempt, or None."""

    # -- feedback ----------------------------------------------------------------------------

    @abc.abstractmethod
    async def server_secret(self) -> bytes:
        """A random secret made once per database (signs feedback links)."""

    @abc.abstractmethod
    async def add_feedback(self, feedback: dict[str, Any]) -> None:
        """Store one feedback record; Conflict if the run already has one for that key."""

    @abc.abstractmethod
    async def list_feedback(self, run_id: str) -> list[dict[str, Any]]:
        """The run's feedback, oldest first."""
