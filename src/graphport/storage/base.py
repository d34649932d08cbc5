"""The storage seam: graphport's own records (assistants, threads, runs) behind one async interface.

Checkpoints and the key-value store are not reimplemented: `checkpointer` and `store` are
langgraph's own savers on the same database. Every rule that needs a transaction sits behind
one method, so a backend can keep it atomic.
"""

from __future__ import annotations

import abc
import enum
from dataclasses import dataclass
from typing import Any, TypedDict

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.store.base import BaseStore

from graphport import errors
from graphport.auth.filters import Conditions
from graphport.models import THREAD_SORT_FIELDS, Assistant, Run, Thread

TTL_STRATEGIES = ("delete", "keep_latest")


def thread_expiry(
    ttl: dict[str, Any] | None, default: dict[str, Any] | None, now: float
) -> tuple[dict[str, Any] | None, float | None]:
    """A new thread's TTL (`{"strategy", "ttl": minutes}`) and the epoch second it expires at:
    its own, else the server's default (`checkpointer.ttl` of langgraph.json), else none."""
    chosen = ttl or default
    if not chosen:
        return None, None
    return chosen, now + float(chosen["ttl"]) * 60


class AssistantChanged(Exception):
    """The assistant a run was built from is no longer its current version (another process
    changed or deleted it): build the run again from a fresh read."""


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
    delete_run: bool = False  # a rolled-back run leaves no row


@dataclass
class ClaimResult:
    """What `claim_runs` did, and what it left."""

    claimed: list[Run]  # now running, oldest first
    next_due: float | None  # earliest due time of the pending runs not yet due
    waiting_threads: set[str]  # threads that still have due pending runs (busy or no slot)


@dataclass(frozen=True)
class QueueEntry:
    """A pending or running run, as the metrics read the queue (no kwargs, no result)."""

    run_id: str
    thread_id: str
    status: str
    created_at: float  # epoch seconds


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


class AssistantVersion(TypedDict):
    """One stored version of an assistant (`POST /assistants/{aid}/versions`)."""

    assistant_id: str
    version: int
    graph_id: str
    config: dict[str, Any]
    context: dict[str, Any]
    metadata: dict[str, Any]
    created_at: str
    name: str
    description: str | None


class Cron(TypedDict):
    """A schedule of runs (`/runs/crons`), keys in the reference's order. Timestamps are
    ISO-8601 UTC strings; `next_run_date` is the next firing (None: it will not fire again)."""

    cron_id: str
    assistant_id: str
    thread_id: str | None  # None: each firing runs on a new thread
    user_id: str | None
    end_time: str | None  # no firing after it
    schedule: str  # 5-field cron, read in `timezone` (None = UTC)
    timezone: str | None
    payload: dict[str, Any]  # the run body of each firing
    next_run_date: str | None
    metadata: dict[str, Any]
    on_run_completed: str | None  # "delete" | "keep" for stateless crons, else None
    enabled: bool
    created_at: str
    updated_at: str


CRON_SORT_FIELDS = (
    "cron_id",
    "assistant_id",
    "thread_id",
    "next_run_date",
    "end_time",
    "created_at",
    "updated_at",
)


def checked_cron_sort(sort_by: str, sort_order: str) -> tuple[str, str]:
    """(field, "asc" | "desc") of a cron search, or the reference's 422. Both go into SQL
    text, so every backend takes them from here, never from a caller's string."""
    if sort_by not in CRON_SORT_FIELDS:
        raise errors.ValidationFailed(
            f"Invalid sort_by field: '{sort_by}'. Valid options are: {', '.join(CRON_SORT_FIELDS)}"
        )
    if sort_order not in ("asc", "desc"):
        raise errors.ValidationFailed(f"Invalid sort_order: '{sort_order}'")
    return sort_by, sort_order


def checked_thread_sort(sort_by: str, sort_order: str) -> tuple[str, str]:
    """(field, "asc" | "desc") of a thread search (the order in any case), or a 422. Both go
    into SQL text, so the API and every backend take them from here."""
    order = sort_order.lower()
    if sort_by not in THREAD_SORT_FIELDS or order not in ("asc", "desc"):
        raise errors.ValidationFailed(f"Invalid sort: {sort_by} {sort_order}")
    return sort_by, order


def assistant_changes(
    current: Assistant,
    *,
    graph_id: str | None,
    config: dict[str, Any] | None,
    context: dict[str, Any] | None,
    metadata: dict[str, Any] | None,
    name: str | None,
    description: str | None,
) -> dict[str, Any]:
    """The fields of an assistant's next version after a PATCH (the same for every backend):
    given fields replace, `context` alone also becomes `config.configurable`, metadata merges."""
    changes: dict[str, Any] = {
        k: v
        for k, v in (
            ("graph_id", graph_id),
            ("config", config),
            ("context", context),
            ("name", name),
            ("description", description),
        )
        if v is not None
    }
    if context and config is None:
        changes["config"] = {**current["config"], "configurable": context}
    if metadata is not None:
        changes["metadata"] = {**current["metadata"], **metadata}
    return changes


def apply_cron_update(
    cron: Cron,
    *,
    schedule: str | None,
    timezone: str | None,
    next_run_date: str | None,
    end_time: str | None,
    clear_end_time: bool,
    enabled: bool | None,
    on_run_completed: str | None,
    metadata: dict[str, Any] | None,
    payload: dict[str, Any] | None,
) -> None:
    """Apply an `update_cron` call's changes to the stored record (the same for every backend)."""
    if schedule is not None:
        cron["schedule"] = schedule
    if timezone is not None:
        cron["timezone"] = timezone
    if next_run_date is not None:
        cron["next_run_date"] = next_run_date
    if clear_end_time:
        cron["end_time"] = None
    elif end_time is not None:
        cron["end_time"] = end_time
    if enabled is not None:
        cron["enabled"] = enabled
    if on_run_completed is not None:
        cron["on_run_completed"] = on_run_completed
    if metadata is not None:
        cron["metadata"] = {**cron["metadata"], **metadata}
    if payload is not None:
        cron["payload"] = merge_cron_payload(cron["payload"], payload, cron["cron_id"])


def merge_cron_payload(
    current: dict[str, Any], patch: dict[str, Any], cron_id: str
) -> dict[str, Any]:
    """A cron's payload after a PATCH: top-level keys of `patch` replace the current ones, but
    the assistant stays the same and `config.configurable.cron_id` stays set."""
    merged = {**current, **patch}
    merged["assistant_id"] = current.get("assistant_id", merged.get("assistant_id"))
    config = dict(merged.get("config") or {})
    config["configurable"] = {**(config.get("configurable") or {}), "cron_id": cron_id}
    merged["config"] = config
    return merged


class Capability(enum.Enum):
    """What a backend configuration may or may not offer; the contract suite selects the tests
    that depend on one by it (`pytest.mark.capability`), so a difference is declared, not
    skipped silently."""

    # other server processes may share the database: running runs and webhook deliveries are
    # owned by a process and recovered by heartbeat (PostgreSQL, a shared SQLite file); without
    # it, the one process owns everything and recovers at start
    SEVERAL_PROCESSES = "several_processes"
    # the data outlives the process (not `:memory:`)
    DURABLE = "durable"


@dataclass(frozen=True)
class Peers:
    """How this process reaches the others sharing its database (for the bus to pick its
    transport): a directory of sockets on one machine, or the PostgreSQL database itself."""

    socket_dir: str | None = None  # processes sharing one SQLite file
    database_url: str | None = None  # processes sharing one PostgreSQL database
    channel: str = ""  # the database's own channel name (NOTIFY, Redis)


class Storage(abc.ABC):
    """Async storage of assistants, threads and runs."""

    # Whether several server processes may share this database (PostgreSQL, not SQLite).
    shared: bool = False
    # This process's id in the runs it claims (see `recover_runs`).
    worker_id: str = ""
    # Seconds without a heartbeat after which a process is considered dead.
    stale_after: float = 10.0
    # The TTL of threads created without one (`checkpointer.ttl.default_ttl`); temporary
    # threads never get it.
    default_ttl: dict[str, Any] | None = None

    checkpointer: BaseCheckpointSaver[str]
    store: BaseStore
    location: str  # where the data lives, for the logs

    def peers(self) -> Peers:
        """How to reach the other processes sharing this database (when `shared`; after open)."""
        return Peers()

    @property
    def capabilities(self) -> frozenset[Capability]:
        """What this configuration offers (see `Capability`)."""
        offered = {Capability.DURABLE} if self.durable else set()
        if self.shared:
            offered.add(Capability.SEVERAL_PROCESSES)
        return frozenset(offered)

    # Whether the data outlives the process.
    durable: bool = True

    @abc.abstractmethod
    async def open(self) -> None:
        """Connect and apply migrations."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Release every connection."""

    # -- assistants --------------------------------------------------------------------------
    #
    # An assistant is its current version: every write stores a version row (`AssistantVersion`)
    # and copies it onto the assistant, which adds `updated_at` and the current `version`.
    # `metadata` filters are containment: nested objects are matched key by key, recursively;
    # any other value (arrays included) must be equal. `graph_ids`, when given, hides the
    # assistants of every other graph (graphs no longer in langgraph.json).

    @abc.abstractmethod
    async def sync_system_assistant(self, assistant: Assistant) -> Assistant:
        """Create the graph's default assistant as version 1 and return it; if it exists with
        another name or description, store them as a new version; otherwise leave it alone."""

    @abc.abstractmethod
    async def create_assistant(self, assistant: Assistant, *, if_exists: str) -> Assistant:
        """Insert the assistant and its version 1 (`version` must be 1). If the id is taken,
        return the stored assistant (`do_nothing`) or raise Conflict (`raise`)."""

    @abc.abstractmethod
    async def get_assistant(self, assistant_id: str) -> Assistant | None:
        """The assistant (its current version), or None."""

    @abc.abstractmethod
    async def assistant_for_run(self, assistant_id: str) -> Assistant | None:
        """The assistant to build a run from, or None: as `get_assistant`, but where other
        processes share the database it may be a version they have replaced since, which
        `create_run(assistant=...)` then refuses (AssistantChanged)."""

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
        graph_ids: list[str] | None = None,
        visible: Conditions | None = None,
    ) -> tuple[list[Assistant], int]:
        """A page of the matching assistants and how many match in all. `name` matches a
        case-insensitive substring; `sort_by` is assistant_id, graph_id, name (these two
        case-insensitively), created_at or updated_at, `sort_order` asc or desc; ties are
        broken by assistant_id in the same order."""

    @abc.abstractmethod
    async def count_assistants(
        self,
        *,
        graph_id: str | None,
        name: str | None,
        metadata: dict[str, Any] | None,
        graph_ids: list[str] | None = None,
        visible: Conditions | None = None,
    ) -> int:
        """How many assistants `search_assistants` would match with these filters."""

    @abc.abstractmethod
    async def update_assistant(
        self,
        assistant_id: str,
        *,
        graph_id: str | None = None,
        config: dict[str, Any] | None = None,
        context: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
        name: str | None = None,
        description: str | None = None,
    ) -> Assistant | None:
        """Store the assistant's current version with these changes as version latest+1 (one
        more than the highest stored, even after `set_latest_assistant_version`), make it
        current and return the assistant; None if it does not exist.

        None leaves a field as it is; `metadata` is merged into the current one (top-level keys),
        the others replace. A non-empty `context` given without `config` also becomes the
        config's `configurable`, the config's other keys kept (config and context mirror each
        other; the caller mirrors them when both are given)."""

    @abc.abstractmethod
    async def delete_assistant(self, assistant_id: str) -> bool:
        """Delete the assistant, all its versions and its crons; False if it did not exist."""

    @abc.abstractmethod
    async def list_assistant_versions(
        self, assistant_id: str, *, metadata: dict[str, Any] | None, limit: int, offset: int
    ) -> list[AssistantVersion] | None:
        """A page of the assistant's versions whose metadata contains `metadata`, newest first;
        None if the assistant does not exist."""

    @abc.abstractmethod
    async def set_latest_assistant_version(self, assistant_id: str, version: int) -> Assistant:
        """Make a stored version the assistant's current one (graph, config, context, metadata,
        name, description) and return the assistant. NotFound `Assistant <id> not found` or
        `Version <n> not found for assistant <id>`."""

    # -- threads -----------------------------------------------------------------------------

    @abc.abstractmethod
    async def create_thread(
        self, thread: Thread, *, if_exists: str, ttl: dict[str, Any] | None
    ) -> Thread:
        """Insert the thread; if it exists, return it (`do_nothing`) or raise Conflict (`raise`).
        `ttl` = {"strategy": "delete" | "keep_latest", "ttl": minutes} makes it expire that
        long after; None: `default_ttl` (see `thread_expiry`)."""

    @abc.abstractmethod
    async def get_thread(self, thread_id: str) -> Thread | None:
        """The thread, or None."""

    @abc.abstractmethod
    async def search_threads(
        self,
        *,
        metadata: dict[str, Any] | None = None,
        values: dict[str, Any] | None = None,
        status: str | None = None,
        ids: list[str] | None = None,
        limit: int = 10,
        offset: int = 0,
        sort_by: str = "created_at",
        sort_order: str = "desc",
        visible: Conditions | None = None,
    ) -> tuple[list[Thread], int]:
        """Threads whose metadata and values contain the given top-level keys, and the total.
        `visible` (here and in the other searches): an auth filter on the metadata too."""

    @abc.abstractmethod
    async def update_thread(
        self, thread_id: str, *, metadata: dict[str, Any] | None, ttl: dict[str, Any] | None
    ) -> Thread | None:
        """Merge `metadata` into the thread's and reset its TTL; None if it does not exist."""

    @abc.abstractmethod
    async def set_thread_state(
        self,
        thread_id: str,
        *,
        status: str | None,
        values: Any,
        interrupts: dict[str, Any],
        error: Any = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """Record the thread's state after a change outside a run (status stays `busy` while
        it has pending or running runs; None leaves it as it is); `metadata` is merged in."""

    @abc.abstractmethod
    async def delete_thread(self, thread_id: str) -> bool:
        """Delete the thread, its runs, its crons and its checkpoints (in one transaction);
        False if it did not exist. The checkpointer stores nothing for a thread without a
        row, so a late write of one of its runs cannot bring its state back."""

    @abc.abstractmethod
    async def expired_threads(self, now: float, limit: int) -> list[tuple[str, str]]:
        """(id, TTL strategy) of the threads whose TTL has passed and that are not busy,
        soonest expired first."""

    @abc.abstractmethod
    async def renew_ttl(self, thread_id: str, now: float) -> None:
        """Start the thread's TTL again from `now` (after `keep_latest` pruned it)."""

    # -- runs --------------------------------------------------------------------------------

    @abc.abstractmethod
    async def create_run(
        self,
        run: Run,
        thread: Thread | None,
        *,
        claim: bool,
        reject_if_busy: bool = False,
        thread_metadata: dict[str, Any] | None = None,
        assistant: Assistant | None = None,
        fresh_thread: bool = False,
    ) -> bool:
        """Insert `run` (creating `thread` first when given, with `default_ttl` unless it is
        temporary) in one transaction; the thread becomes busy and `thread_metadata` is merged
        into its metadata. NotFound if `thread` is None and the thread does not exist,
        Conflict if `thread` is given and exists. A new kept thread starts with no state: the
        checkpoints a deleted thread of that id may have left are deleted, unless its id is
        `fresh_thread` (made by the server for this run, so nothing can be stored under it).

        `assistant` is the one the run was built from (by `assistant_for_run`). Where other
        processes share the database, the run is inserted only if that is still the
        assistant's current version; else nothing is written and AssistantChanged is raised.

        With `reject_if_busy`, raise Conflict (the reference's 409) if the thread has a pending or
        running run. With `claim`, the run is marked running at once if its thread has no other
        pending or running run and it is due; returns whether it was claimed.
        """

    @abc.abstractmethod
    async def claim_runs(self, limit: int, now: float) -> ClaimResult:
        """Mark up to `limit` due pending runs running, oldest first, at most one per thread and
        none on a thread that already has a running run. Also report the earliest due time of
        the pending runs not yet due, and the threads that still have due pending runs."""

    @abc.abstractmethod
    async def get_run(self, thread_id: str, run_id: str) -> Run | None:
        """The run, or None."""

    @abc.abstractmethod
    async def get_run_thread(self, run_id: str) -> str | None:
        """The thread id of the run, or None if it does not exist."""

    @abc.abstractmethod
    async def get_run_result(self, run_id: str) -> tuple[str, bytes | None] | None:
        """(status, stored /wait body) of the run, or None if it does not exist."""

    @abc.abstractmethod
    async def list_runs(
        self, thread_id: str, *, limit: int, offset: int, status: str | None
    ) -> list[Run]:
        """Runs of the thread, newest first."""

    @abc.abstractmethod
    async def finish_run(self, finish: RunFinish) -> bool:
        """Record the run's terminal status and its thread's new state (or delete both).
        Returns whether another process waits for the run's end (`mark_waited`, or a run
        created pending), which is then sent over the bus; always False where no other process
        shares the database."""

    @abc.abstractmethod
    async def mark_waited(self, run_id: str) -> tuple[str, bytes | None] | None:
        """`get_run_result`, and where processes share the database, an in-flight run is
        flagged as waited for elsewhere, atomically with its end: the process that ends it
        tells the others (a waiter that comes later reads the stored end)."""

    @abc.abstractmethod
    async def inflight_runs(self, thread_id: str) -> list[Run]:
        """The thread's pending and running runs, oldest first."""

    @abc.abstractmethod
    async def runs_with_status(self, statuses: list[str]) -> list[Run]:
        """Every run whose status is one of `statuses`."""

    @abc.abstractmethod
    async def queue(self) -> list[QueueEntry]:
        """Every pending and running run, in its few columns the queue metrics need."""

    @abc.abstractmethod
    async def cancel_pending_run(self, run_id: str, *, delete: bool, result: bytes) -> bool:
        """End a run that has not started: status `interrupted` with `result`, or deleted.
        Its thread leaves `busy` when nothing else is in flight (a temporary one is deleted).
        False if the run is not pending."""

    @abc.abstractmethod
    async def delete_run(self, thread_id: str, run_id: str) -> bool:
        """Delete one run row; False if it did not exist."""

    @abc.abstractmethod
    async def delete_run_checkpoints(self, thread_id: str, run_id: str) -> None:
        """Delete the checkpoints (and their writes) that the run created on the thread."""

    # -- processes sharing the database ------------------------------------------------------
    #
    # A run claimed by a server process is marked with that process's `worker_id`. Processes
    # heartbeat; a running run whose process has stopped heartbeating is *abandoned*:
    # `recover_runs` puts it back to pending (it is claimed again and resumed), or, once it has
    # used up its attempts, hands it to the caller to be failed. On SQLite only one process
    # writes, so every running run is abandoned when that process starts.

    @abc.abstractmethod
    async def heartbeat(self) -> None:
        """Tell the other processes that this one is alive (a no-op with one process)."""

    @abc.abstractmethod
    async def recover_runs(
        self, *, stale_after: float, max_attempts: int, startup: bool
    ) -> tuple[int, list[Run]]:
        """Requeue abandoned runs that have attempts left; return how many, and the abandoned
        runs that have none (now owned by this process, still `running`, for the caller to
        finish as errors). `startup`: this process has just started (SQLite: every running run
        is abandoned then, and never later)."""

    @abc.abstractmethod
    async def live_workers(self, stale_after: float) -> set[str]:
        """The `worker_id`s of the processes that heartbeat in the last `stale_after` seconds
        (this one included)."""

    @abc.abstractmethod
    async def release_runs(self) -> int:
        """Graceful shutdown: put this process's running runs back to pending without counting
        the attempt, so another process (or the restart) takes them over; return how many."""

    # -- crons -------------------------------------------------------------------------------
    #
    # A cron's `next_run_date` is its next firing. It fires then if it is enabled and that is
    # not after its `end_time` (a cron past its end time stays, but never fires). A firing is
    # claimed with `claim_cron_firing`, a compare-and-set on next_run_date, so that each one
    # happens once however many processes share the database. Comparisons and sorts on
    # next_run_date and end_time are by instant, not by text. Deleting a thread or an assistant
    # deletes its crons (`delete_thread`, `delete_assistant`).

    @abc.abstractmethod
    async def create_cron(self, cron: Cron) -> Cron:
        """Insert the cron and return it. In the same transaction, raise NotFound
        `Assistant '<assistant_id>' not found` if its assistant does not exist, or, for a
        thread's cron, `Thread with ID '<thread_id>' not found. Please verify the ID is correct
        and the thread hasn't been deleted or expired.` if its thread does not."""

    @abc.abstractmethod
    async def get_cron(self, cron_id: str) -> Cron | None:
        """The cron, or None."""

    @abc.abstractmethod
    async def search_crons(
        self,
        *,
        assistant_id: str | None = None,
        thread_id: str | None = None,
        enabled: bool | None = None,
        metadata: dict[str, Any] | None = None,
        limit: int = 10,
        offset: int = 0,
        sort_by: str = "created_at",
        sort_order: str = "desc",
        visible: Conditions | None = None,
    ) -> tuple[list[Cron], int]:
        """A page of the matching crons and how many match in all (with `limit` 0, only the
        count). `metadata` is containment, as for assistants. `sort_by` is one of
        CRON_SORT_FIELDS (else raise `invalid_cron_sort(sort_by)`), `sort_order` asc or desc;
        a null thread_id or end_time sorts first ascending and last descending; ties are
        broken by cron_id in the same order."""

    @abc.abstractmethod
    async def update_cron(
        self,
        cron_id: str,
        *,
        schedule: str | None = None,
        timezone: str | None = None,
        next_run_date: str | None = None,
        end_time: str | None = None,
        clear_end_time: bool = False,
        enabled: bool | None = None,
        on_run_completed: str | None = None,
        metadata: dict[str, Any] | None = None,
        payload: dict[str, Any] | None = None,
    ) -> Cron | None:
        """Change the cron in one transaction and return it, with `updated_at` now; None if
        it does not exist. None leaves a field as it is (`clear_end_time` sets end_time to
        None); `metadata` is merged into the current one (top-level keys); `payload` is
        merged into the current one by `merge_cron_payload`."""

    @abc.abstractmethod
    async def delete_cron(self, cron_id: str) -> bool:
        """Delete the cron; False if it did not exist."""

    @abc.abstractmethod
    async def due_crons(self, now: float) -> tuple[list[Cron], float | None]:
        """The crons due at `now` (epoch seconds): enabled, next_run_date at or before `now`
        and not after their end_time; soonest first. Also the earliest next_run_date (epoch
        seconds) of the other crons that will fire, or None if there is none."""

    @abc.abstractmethod
    async def claim_cron_firing(
        self, cron_id: str, next_run_date: str, following: str | None
    ) -> Cron | None:
        """Claim the firing due at `next_run_date`: if the cron's next_run_date is still that
        instant, set it to `following` (None: it never fires again) and return the cron as
        updated; otherwise (claimed by another process, changed, deleted) return None.
        `updated_at` is left alone. Atomic across processes (a conditional UPDATE)."""

    # -- webhooks ----------------------------------------------------------------------------

    @abc.abstractmethod
    async def pending_webhooks(self) -> list[PendingWebhook]:
        """Deliveries still to be made that no live process is making, soonest first; they
        are this process's to make from now on."""

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
    async def ping(self) -> None:
        """One round trip to the database (`/ok?check_db=1`); raises when it is unreachable."""

    @abc.abstractmethod
    async def server_secret(self) -> bytes:
        """A random secret made once per database (signs feedback links)."""

    @abc.abstractmethod
    async def add_feedback(self, feedback: dict[str, Any]) -> None:
        """Store one feedback record; Conflict if the run already has one for that key."""

    @abc.abstractmethod
    async def list_feedback(self, run_id: str) -> list[dict[str, Any]]:
        """The run's feedback, oldest first."""
