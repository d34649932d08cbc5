"""Every storage operation written once, over the `Db` seam (storage/db.py): one module per
resource, each a set of flows and the `Storage` methods that run them. A SQL backend is
`SqlTables` plus its connection (`_flow`, `_read`), its `Db`, its migrations and its claim."""

from graphport.storage.tables.assistants import AssistantTables
from graphport.storage.tables.crons import CronTables
from graphport.storage.tables.feedback import FeedbackTables
from graphport.storage.tables.runs import RunTables
from graphport.storage.tables.threads import ThreadTables
from graphport.storage.tables.webhooks import WebhookTables
from graphport.storage.tables.workers import WorkerTables

__all__ = ["SqlTables"]


class SqlTables(
    AssistantTables,
    ThreadTables,
    RunTables,
    WorkerTables,
    WebhookTables,
    FeedbackTables,
    CronTables,
):
    """The `Storage` methods of graphport's own tables, on any SQL backend."""
