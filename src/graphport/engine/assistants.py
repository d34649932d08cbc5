"""The assistant rules the routes share: ids (a graph id stands for its default assistant),
config and context mirroring each other, authorization, versions, and deleting an assistant
with its runs and, on request, its threads. api/assistants.py parses and serialises around it."""

from __future__ import annotations

import uuid
from typing import Any

from graphport import errors
from graphport.auth import authorize, guard
from graphport.auth.filters import Conditions
from graphport.engine.runs import RunEngine
from graphport.engine.threads import ThreadOps
from graphport.graphs import GraphEntry
from graphport.models import Assistant, iso
from graphport.storage.base import AssistantVersion

BOTH_CONFIGURABLE_AND_CONTEXT = (
    "Cannot specify both configurable and context. Prefer setting context alone. Context was "
    "introduced in LangGraph 0.6.0 and is the long term planned replacement for configurable."
)
INVALID_ID = "Invalid assistant ID: must be a UUID"


class Assistants:
    def __init__(self, runs: RunEngine, threads: ThreadOps) -> None:
        self._runs = runs
        self._threads = threads
        self._storage = runs.storage
        self.graphs = runs.graphs

    # -- ids and checks --------------------------------------------------------------------

    def default_for(self, graph_id: str) -> str | None:
        """The default assistant's id when a path names a graph id (else None)."""
        entry = self.graphs.get(graph_id)
        return entry.assistant_id if entry is not None else None

    async def graph_id_of(self, assistant_id: str) -> str | None:
        """The graph of the assistant with this id (None: no such assistant); no auth."""
        try:
            assistant = await self._storage.get_assistant(str(uuid.UUID(assistant_id)))
        except ValueError:
            return None
        return assistant["graph_id"] if assistant is not None else None

    def require_graph(self, graph_id: str | None) -> None:
        if graph_id is not None and graph_id not in self.graphs:
            raise errors.NotFound(
                f"Graph '{graph_id}' not found. Expected one of: {sorted(self.graphs)}"
            )

    async def authorize(
        self,
        assistant_id: str,
        action: str,
        value: dict[str, Any] | None = None,
        *,
        not_found: Exception | None = None,
    ) -> None:
        await guard.assistant(self._storage, assistant_id, action, value, not_found=not_found)

    # -- create, read, update, delete --------------------------------------------------------

    async def create(self, body: dict[str, Any]) -> Assistant:
        """A new assistant from a validated create body (or the stored one, `do_nothing`)."""
        try:
            assistant_id = str(uuid.UUID(body.get("assistant_id") or str(uuid.uuid4())))
        except ValueError:
            raise errors.ValidationFailed(INVALID_ID) from None
        self.require_graph(body["graph_id"])
        config = dict(body.get("config") or {})
        context = body.get("context")
        if config.get("configurable") and context:
            raise errors.BadRequest(BOTH_CONFIGURABLE_AND_CONTEXT)
        if config.get("configurable"):  # config.configurable and context mirror each other
            context = config["configurable"]
        elif context:
            config["configurable"] = context
        if_exists = body.get("if_exists") or "raise"
        name = body.get("name") or "Untitled"
        value = await guard.create("assistants", {
            "assistant_id": assistant_id, "graph_id": body["graph_id"], "config": config,
            "context": context or {}, "metadata": dict(body.get("metadata") or {}),
            "if_exists": if_exists, "name": name,
        })  # fmt: skip
        now = iso()
        record: Assistant = {
            "assistant_id": assistant_id,
            "graph_id": body["graph_id"],
            "config": config,
            "context": context or {},
            "metadata": value.get("metadata") or {},
            "name": name,
            "created_at": now,
            "updated_at": now,
            "version": 1,
            "description": body.get("description"),
        }
        return await self._storage.create_assistant(record, if_exists=if_exists)

    async def get(self, assistant_id: str) -> tuple[Assistant, GraphEntry]:
        """The assistant and its graph, for a read; 404 as the reference words it."""
        await self.authorize(assistant_id, "read")
        assistant = await self._storage.get_assistant(assistant_id)
        if assistant is None:
            raise errors.NotFound()
        entry = self.graphs.get(assistant["graph_id"])
        if entry is None:  # its graph is no longer in langgraph.json: hidden, as from search
            raise errors.NotFound(f"assistant {assistant_id} not found")
        return assistant, entry

    async def update(self, assistant_id: str, body: dict[str, Any]) -> Assistant:
        """A new version from a validated patch body."""
        self.require_graph(body.get("graph_id"))
        config = dict(body.get("config") or {}) or None  # an empty config changes nothing
        context = body.get("context")
        configurable = (config or {}).get("configurable")
        if configurable and context:
            raise errors.BadRequest(BOTH_CONFIGURABLE_AND_CONTEXT)
        if configurable:
            context = configurable
        elif context and config is not None:
            config["configurable"] = context
        # context alone: the storage keeps the other config keys (the reference drops them)
        value = {"graph_id": body.get("graph_id"), "config": config, "context": context,
                 "metadata": body.get("metadata"), "name": body.get("name")}  # fmt: skip
        not_found = errors.NotFound(f"Assistant {assistant_id} not found")
        await self.authorize(assistant_id, "update", value, not_found=not_found)
        updated = await self._storage.update_assistant(
            assistant_id,
            graph_id=body.get("graph_id"),
            config=config,
            context=context,
            metadata=value["metadata"],
            name=body.get("name"),
            description=body.get("description"),
        )
        if updated is None:
            raise not_found
        return updated

    async def delete(self, assistant_id: str, *, with_threads: bool) -> None:
        not_found = errors.NotFound(f"Assistant with ID {assistant_id} not found")
        await self.authorize(assistant_id, "delete", not_found=not_found)
        if await self._storage.get_assistant(assistant_id) is None:
            raise not_found
        if with_threads:
            await self._delete_threads(assistant_id)
        await self._runs.cancel_assistant_runs(assistant_id)
        if not await self._storage.delete_assistant(assistant_id):
            raise not_found

    async def _delete_threads(self, assistant_id: str) -> None:
        """Delete every thread whose metadata names the assistant (with runs and checkpoints)."""
        visible = await authorize("threads", "delete", {"thread_id": None})  # only the user's
        while True:
            found, _ = await self._storage.search_threads(
                metadata={"assistant_id": assistant_id}, limit=100, visible=visible
            )
            deleted = [await self._threads.delete(t["thread_id"]) for t in found]
            if not any(deleted):  # nothing left, or nothing more can go
                return

    # -- search and count ----------------------------------------------------------------------

    async def _visible(
        self, body: dict[str, Any], limit: int, offset: int
    ) -> tuple[dict[str, Any] | None, Conditions | None]:
        """`assistants.search`: the metadata to search (as the handler left it) and its filter."""
        self.require_graph(body.get("graph_id"))
        value: dict[str, Any] = {"graph_id": body.get("graph_id"), "metadata": body.get("metadata"),
                                 "limit": limit, "offset": offset}  # fmt: skip
        visible = await guard.search("assistants", value)
        return value.get("metadata"), visible

    async def search(self, body: dict[str, Any]) -> tuple[list[Assistant], int]:
        """A page of the assistants a validated search body matches, and how many match."""
        limit, offset = int(body.get("limit", 10)), int(body.get("offset", 0))
        metadata, visible = await self._visible(body, limit, offset)
        return await self._storage.search_assistants(
            graph_id=body.get("graph_id"),
            name=body.get("name"),
            metadata=metadata,
            visible=visible,
            limit=limit,
            offset=offset,
            sort_by=body.get("sort_by") or "created_at",
            # the reference ignores sort_order unless sort_by is given (always newest first)
            sort_order=body.get("sort_order") or "desc",
            graph_ids=list(self.graphs),
        )

    async def count(self, body: dict[str, Any]) -> int:
        metadata, visible = await self._visible(body, 0, 0)
        return await self._storage.count_assistants(
            graph_id=body.get("graph_id"),
            name=body.get("name"),
            metadata=metadata,
            visible=visible,
            graph_ids=list(self.graphs),
        )

    # -- versions ------------------------------------------------------------------------------

    async def versions(self, assistant_id: str, body: dict[str, Any]) -> list[AssistantVersion]:
        not_found = errors.NotFound(f"Assistant {assistant_id} not found")
        await self.authorize(assistant_id, "read", not_found=not_found)
        versions = await self._storage.list_assistant_versions(
            assistant_id,
            metadata=body.get("metadata"),
            limit=int(body.get("limit", 10)),
            offset=int(body.get("offset", 0)),
        )
        # 404 only for an unknown assistant; the reference also answers 404 (Assistant <id>
        # not found) when the metadata filter or the offset leaves no version, graphport a []
        if versions is None:
            raise not_found
        return versions

    async def set_latest(self, assistant_id: str, version: Any) -> Assistant:
        not_found = errors.NotFound(f"Assistant {assistant_id} not found")
        await self.authorize(assistant_id, "update", {"version": version}, not_found=not_found)
        if version is None:  # not required by the schema; the reference then looks up "None"
            if await self._storage.get_assistant(assistant_id) is None:
                raise not_found
            raise errors.NotFound(f"Version None not found for assistant {assistant_id}")
        return await self._storage.set_latest_assistant_version(assistant_id, int(version))
