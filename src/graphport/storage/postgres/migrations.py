"""Schema of graphport's PostgreSQL tables: an append-only list, index + 1 = version.

Never edit a migration that has shipped: append a new one. `migrate` applies the missing ones
in one transaction under a transaction-level advisory lock, so servers starting at once against
the same database apply each migration exactly once (the others wait, then find nothing to do).

Identifiers and statuses are `COLLATE "C"` (byte order, as SQLite compares them), and
`name_lower` / `graph_id_lower` hold Python's `str.lower()` of the assistant's name and graph,
so case-insensitive search and sort do not depend on the database's locale.
"""

from __future__ import annotations

import logging

from graphport.storage.postgres.connection import Conn

log = logging.getLogger(__name__)

# pg_advisory_xact_lock key: "graphport" in ASCII, truncated to 8 bytes
MIGRATION_LOCK = int.from_bytes(b"graphpor", "big") >> 1

MIGRATIONS = [
    """
    CREATE TABLE assistants (
        assistant_id TEXT COLLATE "C" PRIMARY KEY,
        graph_id TEXT COLLATE "C" NOT NULL,
        config JSONB NOT NULL,
        context JSONB NOT NULL,
        metadata JSONB NOT NULL,
        name TEXT NOT NULL,
        description TEXT,
        version INTEGER NOT NULL,
        created_at TIMESTAMPTZ NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL,
        name_lower TEXT COLLATE "C" NOT NULL,
        graph_id_lower TEXT COLLATE "C" NOT NULL
    );
    CREATE INDEX assistants_by_metadata ON assistants USING gin (metadata jsonb_path_ops);
    CREATE INDEX assistants_by_created ON assistants (created_at);
    CREATE TABLE assistant_versions (
        assistant_id TEXT COLLATE "C" NOT NULL,
        version INTEGER NOT NULL,
        graph_id TEXT COLLATE "C" NOT NULL,
        config JSONB NOT NULL,
        context JSONB NOT NULL,
        metadata JSONB NOT NULL,
        name TEXT NOT NULL,
        description TEXT,
        created_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (assistant_id, version)
    );
    CREATE TABLE threads (
        thread_id TEXT COLLATE "C" PRIMARY KEY,
        status TEXT COLLATE "C" NOT NULL,
        metadata JSONB NOT NULL,
        config JSONB NOT NULL,
        "values" JSONB,
        interrupts JSONB,
        error JSONB,
        temporary BOOLEAN NOT NULL DEFAULT false,
        created_at TIMESTAMPTZ NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL,
        state_updated_at TIMESTAMPTZ NOT NULL,
        ttl JSONB,
        expires_at DOUBLE PRECISION
    );
    CREATE INDEX threads_by_metadata ON threads USING gin (metadata jsonb_path_ops);
    CREATE INDEX threads_by_created ON threads (created_at);
    CREATE INDEX threads_by_expiry ON threads (expires_at) WHERE expires_at IS NOT NULL;
    CREATE TABLE runs (
        run_id TEXT COLLATE "C" PRIMARY KEY,
        thread_id TEXT COLLATE "C" NOT NULL REFERENCES threads (thread_id) ON DELETE CASCADE,
        assistant_id TEXT COLLATE "C" NOT NULL,
        status TEXT COLLATE "C" NOT NULL,
        metadata JSONB NOT NULL,
        kwargs JSONB NOT NULL,
        multitask_strategy TEXT NOT NULL,
        created_at TIMESTAMPTZ NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL,
        due DOUBLE PRECISION NOT NULL,
        attempt INTEGER NOT NULL DEFAULT 0,
        result BYTEA
    );
    CREATE INDEX runs_by_thread ON runs (thread_id, created_at);
    CREATE INDEX runs_by_status ON runs (status, due);
    CREATE INDEX runs_in_flight ON runs (thread_id, due, run_id)
        WHERE status IN ('pending', 'running');
    CREATE TABLE webhooks (
        run_id TEXT COLLATE "C" PRIMARY KEY,
        thread_id TEXT COLLATE "C" NOT NULL,
        url TEXT NOT NULL,
        payload BYTEA NOT NULL,
        status TEXT COLLATE "C" NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt DOUBLE PRECISION NOT NULL,
        created_at TIMESTAMPTZ NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL
    );
    CREATE INDEX webhooks_by_status ON webhooks (status, next_attempt);
    CREATE TABLE webhook_attempts (
        run_id TEXT COLLATE "C" NOT NULL,
        attempt INTEGER NOT NULL,
        url TEXT NOT NULL,
        at TIMESTAMPTZ NOT NULL,
        status_code INTEGER,
        error TEXT,
        duration_ms DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (run_id, attempt)
    );
    CREATE TABLE meta (key TEXT COLLATE "C" PRIMARY KEY, value BYTEA NOT NULL);
    CREATE TABLE feedback (
        feedback_id TEXT COLLATE "C" PRIMARY KEY,
        run_id TEXT COLLATE "C" NOT NULL,
        key TEXT COLLATE "C" NOT NULL,
        score DOUBLE PRECISION,
        value JSONB,
        comment TEXT,
        created_at TIMESTAMPTZ NOT NULL,
        UNIQUE (run_id, key)
    );
    """,
    # crons: a thread's and an assistant's crons go with them (ON DELETE CASCADE, both tables
    # being keyed by their id); the scheduler reads the live ones by next_run_date
    """
    CREATE TABLE crons (
        cron_id TEXT COLLATE "C" PRIMARY KEY,
        assistant_id TEXT COLLATE "C" NOT NULL
            REFERENCES assistants (assistant_id) ON DELETE CASCADE,
        thread_id TEXT COLLATE "C" REFERENCES threads (thread_id) ON DELETE CASCADE,
        user_id TEXT,
        end_time TIMESTAMPTZ,
        schedule TEXT NOT NULL,
        timezone TEXT,
        payload JSONB NOT NULL,
        next_run_date TIMESTAMPTZ,
        metadata JSONB NOT NULL,
        on_run_completed TEXT,
        enabled BOOLEAN NOT NULL,
        created_at TIMESTAMPTZ NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL
    );
    CREATE INDEX crons_by_next_run ON crons (next_run_date) WHERE enabled;
    CREATE INDEX crons_by_thread ON crons (thread_id);
    CREATE INDEX crons_by_assistant ON crons (assistant_id);
    CREATE INDEX crons_by_metadata ON crons USING gin (metadata jsonb_path_ops);
    """,
    # several processes: who runs what (heartbeats, takeover of abandoned runs), and the
    # payloads of bus messages too large for a NOTIFY
    """
    CREATE TABLE workers (
        worker_id TEXT COLLATE "C" PRIMARY KEY,
        host TEXT NOT NULL,
        pid INTEGER NOT NULL,
        started_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        heartbeat_at TIMESTAMPTZ NOT NULL DEFAULT now()
    );
    ALTER TABLE runs ADD COLUMN worker_id TEXT COLLATE "C";
    ALTER TABLE webhooks ADD COLUMN worker_id TEXT COLLATE "C";
    CREATE INDEX runs_running_by_worker ON runs (worker_id) WHERE status = 'running';
    CREATE TABLE bus_payloads (
        id BIGSERIAL PRIMARY KEY,
        body BYTEA NOT NULL,
        created_at TIMESTAMPTZ NOT NULL DEFAULT now()
    );
    """,
    # a process other than the one executing the run waits for its end: only then is the end
    # sent over the bus (storage/tables/runs.py, `mark_waited`)
    """
    ALTER TABLE runs ADD COLUMN waited_elsewhere BOOLEAN NOT NULL DEFAULT false;
    """,
]


async def migrate(conn: Conn) -> list[int]:
    """Apply the missing migrations in one transaction; return the versions applied."""
    applied: list[int] = []
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS graphport_migrations ("
            " version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        cur = await conn.execute("SELECT coalesce(max(version), 0) AS v FROM graphport_migrations")
        row = await cur.fetchone()
        done = int(row["v"]) if row else 0
        for version, script in enumerate(MIGRATIONS, start=1):
            if version <= done:
                continue
            await conn.execute(script, prepare=False)  # several statements: never prepared
            await conn.execute("INSERT INTO graphport_migrations (version) VALUES (%s)", (version,))
            applied.append(version)
            log.info("applied PostgreSQL migration %d", version)
    return applied
