"""The filters an `@auth.on` handler returns, in one normalised form.

A handler returns `{"owner": "alice"}`, `{"owner": {"$eq": "alice"}}` or
`{"tags": {"$contains": "x"}}` (or a list: every value contained); keys are ANDed. graphport
turns that into `Condition`s once; storage backends compile them to SQL for searches and counts,
`matches` checks one resource's metadata for everything addressed by id. Both read the same
conditions, so what a search hides is exactly what a read by id answers 404 for.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any, Literal

Op = Literal["$eq", "$contains"]
_MISSING = object()


@dataclasses.dataclass(frozen=True, slots=True)
class Condition:
    key: str  # a top-level metadata key
    op: Op
    value: Any  # `$eq`: the JSON value; `$contains`: a list, every item of which must be in it


Conditions = tuple[Condition, ...]


class BadFilter(Exception):
    """An auth handler returned something that is not a filter (a bug in the auth module)."""


def normalise(raw: Mapping[str, Any]) -> Conditions:
    conditions = []
    for key, spec in raw.items():
        if not isinstance(key, str):
            raise BadFilter(f"filter keys must be strings, got {key!r}")
        if isinstance(spec, Mapping):
            if len(spec) != 1 or next(iter(spec)) not in ("$eq", "$contains"):
                raise BadFilter(
                    f"the filter on {key!r} must be a value, {{'$eq': value}} or "
                    f"{{'$contains': value}}, got {dict(spec)!r}"
                )
            op, value = next(iter(spec.items()))
            if op == "$contains":
                items = list(value) if isinstance(value, list | tuple) else [value]
                conditions.append(Condition(key, "$contains", items))
            else:
                conditions.append(Condition(key, "$eq", value))
        else:
            conditions.append(Condition(key, "$eq", spec))
    return tuple(conditions)


def combine(*parts: Conditions | None) -> Conditions:
    """Conditions that must all hold (e.g. a global handler's and a resource handler's)."""
    return tuple(c for part in parts if part for c in part)


def json_equal(a: Any, b: Any) -> bool:
    """Equality of JSON values, as the SQL backends compare them (`true` is not `1`)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def matches(conditions: Sequence[Condition], metadata: Mapping[str, Any] | None) -> bool:
    metadata = metadata or {}
    for c in conditions:
        actual = metadata.get(c.key, _MISSING)
        if c.op == "$eq":
            if actual is _MISSING or not json_equal(actual, c.value):
                return False
        elif not isinstance(actual, list) or not all(
            any(json_equal(have, item) for have in actual) for item in c.value
        ):
            return False
    return True
