"""Several `graphport serve` processes on one database, over each bus transport: a SQLite
file (Unix sockets), PostgreSQL (LISTEN/NOTIFY) and PostgreSQL with Redis.

The PostgreSQL variants need PostgreSQL and, for the Redis transport,
Redis at GRAPHPORT_TEST_REDIS (default redis://127.0.0.1:6379): they skip saying why when one is
unreachable, and fail instead when CI is set.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import (
    GRAPHS_CONFIG,
    Server,
    create_postgres_database,
    drop_postgres_database,
    free_port,
    start_server,
)

CLUSTER_CONFIG = GRAPHS_CONFIG.parent / "langgraph-cluster.json"
REDIS = os.environ.get("GRAPHPORT_TEST_REDIS", "redis://127.0.0.1:6379")
# fast heartbeats so a takeover happens within a second or two
FAST = {
    "GRAPHPORT_HEARTBEAT_SECONDS": "0.2",
    "GRAPHPORT_STALE_AFTER_SECONDS": "1.0",
    "GRAPHPORT_LOG_LEVEL": "info",
}


def require_redis() -> None:
    import redis

    try:
        redis.Redis.from_url(REDIS, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        reason = f"Redis is not reachable at {REDIS} (GRAPHPORT_TEST_REDIS): {exc}"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)


@dataclass
class Cluster:
    """Servers sharing one database; each keeps its port across restarts."""

    tmp: Path
    database_url: str
    env: dict[str, str]
    servers: list[Server] = field(default_factory=list)
    ports: list[int] = field(default_factory=list)

    def start(self, n: int = 2, **env: str) -> list[Server]:
        self.env.update(env)
        for _ in range(n):
            port = free_port()
            self.ports.append(port)
            self.servers.append(self._launch(port))
        return self.servers

    def _launch(self, port: int) -> Server:
        return start_server(
            self.tmp,
            config=CLUSTER_CONFIG,
            database_url=self.database_url,
            extra_env=self.env,
            port=port,
        )

    def restart(self, i: int) -> Server:
        self.servers[i].stop(sig_kill=True)
        self.servers[i] = self._launch(self.ports[i])
        return self.servers[i]

    def url(self, i: int) -> str:
        return self.servers[i].url

    def stop(self) -> None:
        for server in self.servers:
            server.stop()

    def logs(self) -> str:
        return "\n".join(s.log() for s in self.servers)


@pytest.fixture(params=["sqlite", "notify", "redis"])
def cluster(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Cluster]:
    """Processes sharing a SQLite file (Unix-socket bus), or a PostgreSQL database (bus over
    LISTEN/NOTIFY, or Redis)."""
    env = dict(FAST)
    if request.param == "sqlite":
        env["GRAPHPORT_SQLITE_SHARED"] = "1"  # what `--workers N` sets for its processes
        group = Cluster(tmp_path, f"sqlite:///{tmp_path / 'shared.sqlite'}", env)
        try:
            yield group
        finally:
            group.stop()
        return
    if request.param == "redis":
        require_redis()
        env["GRAPHPORT_REDIS_URL"] = REDIS
    name = f"graphport_cluster_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    url = create_postgres_database(name)
    group = Cluster(tmp_path, url, env)
    try:
        yield group
    finally:
        group.stop()
        drop_postgres_database(name)
