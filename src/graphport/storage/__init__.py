"""Storage backends, chosen by the database URL."""

from __future__ import annotations

from graphport.config import ConfigError, Settings
from graphport.storage.base import RunFinish, Storage

__all__ = ["RunFinish", "Storage", "open_storage"]


def open_storage(settings: Settings) -> Storage:
    """The backend for `settings.database_url` (not yet opened)."""
    path = settings.sqlite_path
    if path is not None:
        from graphport.storage.sqlite import SqliteStorage

        return SqliteStorage(path)
    raise ConfigError(
        f"Unsupported database URL {settings.database_url!r}: use a file path, sqlite:///path "
        "or :memory:"
    )
