"""How SQLite holds graphport's JSON values: as text."""

from __future__ import annotations

from typing import Any

from graphport import serde


def dumps(value: Any) -> str:
    """JSON text; state values may hold LangChain messages and other objects (`serde`)."""
    return serde.dumps(value).decode()
