"""A langgraph.json `auth` module for the tests: owner-per-user, as docs/auth.md shows it.

Tokens: alice, bob (users), admin (sees everything), carol (read-only: may not delete),
and a few that exercise the error paths of `authenticate`.
"""

from __future__ import annotations

import json
import operator
from typing import Annotated, Any, TypedDict

from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime
from langgraph_sdk import Auth

auth = Auth()

USERS: dict[str, Any] = {
    "alice-token": {"identity": "alice", "permissions": ["threads:write"]},
    "bob-token": "bob",  # a plain string is a user too
    "admin-token": {"identity": "admin", "permissions": ["admin"], "team": "ops"},
    "carol-token": {"identity": "carol", "permissions": ["readonly"]},
}


@auth.authenticate
async def authenticate(authorization: str | None, headers: dict[bytes, bytes]) -> Any:
    if headers.get(b"x-throttle"):
        raise Auth.exceptions.HTTPException(
            status_code=429, detail="Slow down", headers={"Retry-After": "7"}
        )
    if not authorization or not authorization.startswith("Bearer "):
        raise Auth.exceptions.HTTPException(
            status_code=401, detail="Missing token", headers={"WWW-Authenticate": "Bearer"}
        )
    token = authorization.removeprefix("Bearer ")
    if token == "malformed":
        raise ValueError("Token is malformed")
    if token not in USERS:
        raise Auth.exceptions.HTTPException(status_code=401)
    return USERS[token]


def _admin(ctx: Auth.types.AuthContext) -> bool:
    return "admin" in ctx.permissions


@auth.on
async def owner_only(ctx: Auth.types.AuthContext, value: dict[str, Any]) -> Any:
    """Everything a user creates is stamped with its owner; they see only what they own."""
    if _admin(ctx):
        return True
    owner = {"owner": ctx.user.identity}
    if isinstance(value, dict):
        metadata = value.get("metadata")
        if metadata is None:
            metadata = value["metadata"] = {}
        metadata.update(owner)
    return owner


@auth.on.threads.create_run
async def runs_as_owned(ctx: Auth.types.AuthContext, value: dict[str, Any]) -> Any:
    """As owner_only; a run whose metadata asks for it is refused with the value it was given
    (its keys and their types), so that a test can see what a handler receives."""
    if (value.get("metadata") or {}).get("show_value"):
        kwargs = value["kwargs"]
        shape = {
            **{k: type(v).__name__ for k, v in value.items() if k != "kwargs"},
            "kwargs": {k: type(v).__name__ for k, v in kwargs.items()},
            "values": {k: value[k] for k in ("if_not_exists", "after_seconds", "status")},
            "kwargs_values": {k: kwargs[k] for k in ("stream_mode", "temporary", "durability")},
        }
        raise Auth.exceptions.HTTPException(status_code=403, detail=json.dumps(shape))
    return await owner_only(ctx, value)


@auth.on.threads.delete
async def no_delete_for_readonly(ctx: Auth.types.AuthContext, value: dict[str, Any]) -> Any:
    if "readonly" in ctx.permissions:
        return False
    return True if _admin(ctx) else {"owner": ctx.user.identity}


@auth.on.store
async def own_namespace(ctx: Auth.types.AuthContext, value: dict[str, Any]) -> None:
    """Each user's items live under their identity."""
    if not _admin(ctx):
        value["namespace"] = (ctx.user.identity, *(value.get("namespace") or ()))


# -- a graph that tells who ran it -----------------------------------------------------------


class WhoState(TypedDict, total=False):
    messages: Annotated[list, operator.add]
    who: dict


def _who(state: WhoState, config: RunnableConfig, runtime: Runtime) -> dict:
    configurable = config.get("configurable") or {}
    user = configurable.get("langgraph_auth_user")
    server_user = runtime.server_info.user if runtime.server_info else None
    return {
        "messages": ["seen"],
        "who": {
            "user_id": configurable.get("langgraph_auth_user_id"),
            "permissions": configurable.get("langgraph_auth_permissions"),
            "identity_attr": getattr(user, "identity", None),
            "identity_item": user["identity"] if user is not None else None,
            "runtime_identity": getattr(server_user, "identity", None),
        },
    }


_b = StateGraph(WhoState)
_b.add_node("who", _who)
_b.add_edge(START, "who")
_b.add_edge("who", END)
whoami = _b.compile()
