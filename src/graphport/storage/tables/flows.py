"""`Flows`: how the shared table classes run a flow (storage/db.py) on their backend."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, ClassVar, TypeVar

from graphport.storage.db import Codec

T = TypeVar("T")
Flow = Callable[..., Coroutine[Any, Any, T]]


class Flows:
    """Implemented once per backend: the rest of `storage/tables/` only calls these two, and
    `codec`, the backend's value converters (its `Db` class)."""

    codec: ClassVar[Codec]

    async def _flow(self, flow: Flow[T], *args: Any) -> T:
        """Run `flow(db, *args)` in one transaction and return what it returns."""
        raise NotImplementedError

    async def _read(self, flow: Flow[T], *args: Any) -> T:
        """The same for a flow of one statement, which needs no transaction around it
        (PostgreSQL runs it in autocommit, saving BEGIN and COMMIT)."""
        return await self._flow(flow, *args)
