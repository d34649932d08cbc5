"""How PostgreSQL holds graphport's values (the converters of `PostgresDb`).

JSON columns are JSONB (dumped with orjson, as the SQLite backend dumps them); timestamps are
TIMESTAMPTZ, given and returned as the API's ISO strings (`models.iso`: UTC, '+00:00').
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import orjson
from psycopg.types.json import Jsonb

from graphport import serde

# PostgreSQL's text and JSONB cannot hold U+0000, which JSON and SQLite allow. Strings in
# graphport's JSONB columns (when a document needs it) and in its free-text TEXT columns
# (`text_in`) are therefore escaped: ESC becomes ESC ESC and U+0000 becomes ESC "0". ESC is a
# noncharacter "for internal use"; the escaping is injective, so equality and containment
# filters (escaped the same way) keep their meaning.
ESC = "\ufdd0"
_ESC_BYTES = ESC.encode()
_UNESCAPE = re.compile(ESC + "(.)", re.DOTALL)


def _escape(value: str) -> str:
    return value.replace(ESC, ESC + ESC).replace("\0", ESC + "0")


def _unescape(value: str) -> str:
    return _UNESCAPE.sub(lambda m: "\0" if m[1] == "0" else m[1], value)


def _walk(value: Any, fn: Any) -> Any:
    if isinstance(value, str):
        return fn(value)
    if isinstance(value, dict):
        return {fn(k) if isinstance(k, str) else k: _walk(v, fn) for k, v in value.items()}
    if isinstance(value, list):
        return [_walk(v, fn) for v in value]
    return value


def dumps(value: Any) -> bytes:
    """JSON for a JSONB column (`serde`, as the SQLite backend: state values may hold LangChain
    messages), escaped if it needs to be."""
    raw = serde.dumps(value)
    if b"\\u0000" in raw or _ESC_BYTES in raw:  # rare: walk plain JSON values, not objects
        raw = orjson.dumps(_walk(orjson.loads(raw), _escape))
    return raw


def loads(raw: bytes) -> Any:
    value = orjson.loads(raw)
    return _walk(value, _unescape) if _ESC_BYTES in raw else value


def text_in(value: str | None) -> str | None:
    """A string for a TEXT column that may receive U+0000 (names, comments, errors)."""
    return None if value is None else _escape(value)


def text_out(value: str | None) -> str | None:
    return value if value is None or ESC not in value else _unescape(value)


def jsonb(value: Any) -> Jsonb:
    return Jsonb(value, dumps)


def jsonb_or_null(value: Any) -> Jsonb | None:
    """SQL NULL for None (the SQLite backend's NULL), JSONB otherwise."""
    return None if value is None else jsonb(value)


def ts(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp)


def iso_of(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()
