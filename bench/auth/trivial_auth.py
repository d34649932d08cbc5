"""The least custom auth: every request is one user, and handlers stamp and filter an owner.
`bench/auth.sh` measures S2 with it beside the same build without auth."""

from typing import Any

from langgraph_sdk import Auth

auth = Auth()


@auth.authenticate
async def authenticate(authorization: str | None) -> str:
    return "bench-user"


@auth.on
async def owner(ctx: Auth.types.AuthContext, value: Any) -> dict[str, str]:
    if isinstance(value, dict) and isinstance(value.get("metadata"), dict):
        value["metadata"]["owner"] = ctx.user.identity
    return {"owner": ctx.user.identity}
