"""Helpers both SQL backends use to build WHERE clauses."""

from __future__ import annotations

from typing import Any


def narrow(where: str, args: list[Any], more: tuple[list[str], list[Any]]) -> tuple[str, list[Any]]:
    """`where` ANDed with the extra conditions `more` (SQL fragments and their arguments)."""
    clauses, more_args = more
    if not clauses:
        return where, args
    return " AND ".join([where, *clauses]), [*args, *more_args]
