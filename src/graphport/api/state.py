"""What a handler reads from the app: the engine's objects and the server's settings, set once by
app.py's lifespan. The one place api/ reads `app.state` (Starlette's `State` is untyped: each
accessor names the type)."""

from __future__ import annotations

from starlette.requests import HTTPConnection

from graphport import ui
from graphport.config import Settings
from graphport.engine.assistants import Assistants
from graphport.engine.crons import CronScheduler
from graphport.engine.feedback import FeedbackLinks
from graphport.engine.protocol import ProtocolHub
from graphport.engine.run_records import RunRecords
from graphport.engine.runs import RunEngine
from graphport.engine.threads import ThreadOps
from graphport.metrics import Metrics


def settings_of(conn: HTTPConnection) -> Settings:
    settings: Settings = conn.app.state.settings
    return settings


def engine_of(conn: HTTPConnection) -> RunEngine:
    engine: RunEngine = conn.app.state.engine
    return engine


def assistants_of(conn: HTTPConnection) -> Assistants:
    assistants: Assistants = conn.app.state.assistants
    return assistants


def run_records_of(conn: HTTPConnection) -> RunRecords:
    records: RunRecords = conn.app.state.run_records
    return records


def thread_ops_of(conn: HTTPConnection) -> ThreadOps:
    threads: ThreadOps = conn.app.state.threads
    return threads


def crons_of(conn: HTTPConnection) -> CronScheduler:
    crons: CronScheduler = conn.app.state.crons
    return crons


def protocol_of(conn: HTTPConnection) -> ProtocolHub:
    protocol: ProtocolHub = conn.app.state.protocol
    return protocol


def feedback_of(conn: HTTPConnection) -> FeedbackLinks:
    feedback: FeedbackLinks = conn.app.state.feedback
    return feedback


def metrics_of(conn: HTTPConnection) -> Metrics:
    metrics: Metrics = conn.app.state.metrics
    return metrics


def ui_of(conn: HTTPConnection) -> ui.Bundles:
    bundles: ui.Bundles = conn.app.state.ui
    return bundles
