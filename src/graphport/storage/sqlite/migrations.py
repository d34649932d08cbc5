"""Schema of graphport's SQLite tables: an append-only list, index + 1 = version."""

from __future__ import annotations

import logging
import sqlite3

log = logging.getLogger(__name__)

MIGRATIONS = [
    """
    CREATE TABLE assistants (
        assistant_id TEXT PRIMARY KEY,
        graph_id TEXT NOT NULL,
        config TEXT NOT NULL,
        context TEXT NOT NULL,
        metadata TEXT NOT NULL,
        name TEXT NOT NULL,
        description TEXT,
        version INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE threads (
        thread_id TEXT PRIMARY KEY,
        status TEXT NOT NULL,
        metadata TEXT NOT NULL,
        config TEXT NOT NULL,
        "values" TEXT,
        interrupts TEXT,
        error TEXT,
        temporary INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        state_updated_at TEXT NOT NULL
    );
    CREATE TABLE runs (
        run_id TEXT PRIMARY KEY,
        thread_id TEXT NOT NULL REFERENCES threads(thread_id) ON DELETE CASCADE,
        assistant_id TEXT NOT NULL,
        status TEXT NOT NULL,
        metadata TEXT NOT NULL,
        kwargs TEXT NOT NULL,
        multitask_strategy TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        due REAL NOT NULL,
        attempt INTEGER NOT NULL DEFAULT 0,
        result BLOB
    );
    CREATE INDEX runs_by_thread ON runs (thread_id, created_at);
    CREATE INDEX runs_by_status ON runs (status, due);
    """,
    """
    CREATE TABLE webhooks (
        run_id TEXT PRIMARY KEY,
        thread_id TEXT NOT NULL,
        url TEXT NOT NULL,
        payload BLOB NOT NULL,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt REAL NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX webhooks_by_status ON webhooks (status, next_attempt);
    CREATE TABLE webhook_attempts (
        run_id TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        url TEXT NOT NULL,
        at TEXT NOT NULL,
        status_code INTEGER,
        error TEXT,
        duration_ms REAL NOT NULL,
        PRIMARY KEY (run_id, attempt)
    );
    """,
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
    CREATE TABLE feedback (
        feedback_id TEXT PRIMARY KEY,
        run_id TEXT NOT NULL,
        key TEXT NOT NULL,
        score REAL,
        value TEXT,
        comment TEXT,
        created_at TEXT NOT NULL,
        UNIQUE (run_id, key)
    );
    """,
    """
    CREATE TABLE assistant_versions (
        assistant_id TEXT NOT NULL,
        version INTEGER NOT NULL,
        graph_id TEXT NOT NULL,
        config TEXT NOT NULL,
        context TEXT NOT NULL,
        metadata TEXT NOT NULL,
        name TEXT NOT NULL,
        description TEXT,
        created_at TEXT NOT NULL,
        PRIMARY KEY (assistant_id, version)
    );
    INSERT INTO assistant_versions
        SELECT assistant_id, version, graph_id, config, context, metadata, name, description,
               created_at FROM assistants;
    ALTER TABLE threads ADD COLUMN ttl TEXT;
    ALTER TABLE threads ADD COLUMN expires_at REAL;
    CREATE INDEX threads_by_expiry ON threads (expires_at) WHERE expires_at IS NOT NULL;
    CREATE INDEX threads_by_created ON threads (created_at);
    """,
    # crons: a thread's and an assistant's crons go with them; `next_run_at` and `end_at` are
    # the epoch seconds of next_run_date and end_time, for the scheduler's comparisons
    """
    CREATE TABLE crons (
        cron_id TEXT PRIMARY KEY,
        assistant_id TEXT NOT NULL REFERENCES assistants(assistant_id) ON DELETE CASCADE,
        thread_id TEXT REFERENCES threads(thread_id) ON DELETE CASCADE,
        user_id TEXT,
        end_time TEXT,
        end_at REAL,
        schedule TEXT NOT NULL,
        timezone TEXT,
        payload TEXT NOT NULL,
        next_run_date TEXT,
        next_run_at REAL,
        metadata TEXT NOT NULL,
        on_run_completed TEXT,
        enabled INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX crons_by_next_run ON crons (next_run_at) WHERE enabled = 1;
    CREATE INDEX crons_by_thread ON crons (thread_id);
    CREATE INDEX crons_by_assistant ON crons (assistant_id);
    """,
    # several processes on one file (`--workers N`): who runs what, heartbeats (epoch seconds)
    """
    CREATE TABLE workers (
        worker_id TEXT PRIMARY KEY,
        host TEXT NOT NULL,
        pid INTEGER NOT NULL,
        started_at REAL NOT NULL,
        heartbeat_at REAL NOT NULL
    );
    ALTER TABLE runs ADD COLUMN worker_id TEXT;
    ALTER TABLE webhooks ADD COLUMN worker_id TEXT;
    CREATE INDEX runs_running_by_worker ON runs (worker_id) WHERE status = 'running';
    """,
    # the schema PostgreSQL's has: Python's lower() of name and graph id, for case-insensitive
    # search and sort in byte order (storage/tables/assistants.py); graphport_lower is
    # registered on the connection before migrating (sqlite/dialect.py)
    """
    ALTER TABLE assistants ADD COLUMN name_lower TEXT NOT NULL DEFAULT '';
    ALTER TABLE assistants ADD COLUMN graph_id_lower TEXT NOT NULL DEFAULT '';
    UPDATE assistants SET name_lower = graphport_lower(name),
        graph_id_lower = graphport_lower(graph_id);
    """,
    # crons as PostgreSQL's: next_run_date and end_time compare and sort as their ISO text
    # (every one in UTC, '+00:00': storage/tables/crons.py), without epoch copies
    """
    DROP INDEX crons_by_next_run;
    ALTER TABLE crons DROP COLUMN next_run_at;
    ALTER TABLE crons DROP COLUMN end_at;
    CREATE INDEX crons_by_next_run ON crons (next_run_date) WHERE enabled;
    """,
    # a process other than the one executing the run waits for its end: only then is the end
    # sent over the bus (storage/tables/runs.py, `mark_waited`)
    """
    ALTER TABLE runs ADD COLUMN waited_elsewhere INTEGER NOT NULL DEFAULT 0;
    """,
]


def migrate(conn: sqlite3.Connection) -> None:
    conn.execute("CREATE TABLE IF NOT EXISTS graphport_migrations (version INTEGER PRIMARY KEY)")
    done = conn.execute("SELECT coalesce(max(version), 0) FROM graphport_migrations").fetchone()[0]
    for version, script in enumerate(MIGRATIONS, start=1):
        if version <= done:
            continue
        for statement in script.split(";"):
            if statement.strip():
                conn.execute(statement)
        conn.execute("INSERT INTO graphport_migrations (version) VALUES (?)", (version,))
        log.info("applied SQLite migration %d", version)
