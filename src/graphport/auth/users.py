"""The authenticated user: what `@auth.authenticate` returned, in the shapes handlers and graphs
expect (attribute and item access both work, as with the reference)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from langgraph_sdk.auth.types import StudioUser


class AuthUser(dict[str, Any]):
    """A user as a dict (`identity`, `display_name`, `is_authenticated`, `permissions` and
    whatever else `authenticate` returned) that also answers `user.identity` and the like:
    `langgraph_sdk.auth.types.BaseUser`. Being a dict, it is stored with a run as it is."""

    @property
    def identity(self) -> str:
        return str(self["identity"])

    @property
    def display_name(self) -> str:
        return str(self.get("display_name") or self["identity"])

    @property
    def is_authenticated(self) -> bool:
        return bool(self.get("is_authenticated", True))

    @property
    def permissions(self) -> Sequence[str]:
        return list(self.get("permissions") or [])

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


class BadUser(Exception):
    """`authenticate` returned something that is not a user (a bug in the auth module)."""


def normalise_user(raw: Any) -> tuple[Any, AuthUser]:
    """The user handlers see (a StudioUser or custom object is kept as it is, so `isinstance`
    checks work) and its dict form (stored with runs, given to graphs)."""
    if isinstance(raw, str):
        user = AuthUser(identity=raw, display_name=raw, is_authenticated=True, permissions=[])
        return user, user
    if isinstance(raw, Mapping):
        if not isinstance(raw.get("identity"), str):
            raise BadUser(f"the user returned by authenticate has no string 'identity': {raw!r}")
        user = AuthUser({"display_name": raw["identity"], "is_authenticated": True, **raw})
        user["permissions"] = list(raw.get("permissions") or [])
        return user, user
    identity = getattr(raw, "identity", None)
    if not isinstance(identity, str):
        raise BadUser(
            f"authenticate must return a str, a dict with 'identity' or an object with an "
            f"'identity', got {type(raw).__name__}"
        )
    as_dict = AuthUser(
        identity=identity,
        display_name=str(getattr(raw, "display_name", identity)),
        is_authenticated=bool(getattr(raw, "is_authenticated", True)),
        permissions=list(getattr(raw, "permissions", None) or []),
    )
    if isinstance(raw, StudioUser):
        as_dict["kind"] = "StudioUser"
    return raw, as_dict
