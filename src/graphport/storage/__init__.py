"""Storage backends, chosen by the database URL."""

from __future__ import annotations

from typing import Any

from graphport.config import ConfigError, Settings
from graphport.storage.base import RunFinish, Storage

__all__ = ["POSTGRES_SCHEMES", "RunFinish", "Storage", "check_database_url", "open_storage"]

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def open_storage(settings: Settings, embeddings: Any = None) -> Storage:
    """The backend for `settings.database_url` (not yet opened), its store configured by the
    `store` block of langgraph.json (`embeddings`: what its `index.embed` names, loaded)."""
    from graphport.storage.store import store_options

    check_database_url(settings)
    path = settings.sqlite_path
    if path is not None:
        from graphport.storage.sqlite import SqliteStorage

        return SqliteStorage(
            path, store=store_options(settings, embeddings), shared=settings.sqlite_shared
        )
    from graphport.storage.postgres import PostgresStorage

    return PostgresStorage(settings.database_url, store=store_options(settings, embeddings))


def check_database_url(settings: Settings) -> None:
    """Refuse a database URL of a scheme no backend serves (ConfigError)."""
    if settings.sqlite_path is None and not settings.database_url.startswith(POSTGRES_SCHEMES):
        raise ConfigError(
            f"Unsupported database URL {settings.database_url!r}: use a file path, "
            "sqlite:///path, :memory: or postgresql://..."
        )
