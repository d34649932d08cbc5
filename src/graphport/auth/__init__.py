"""Custom auth from langgraph.json's `auth` block (see docs/auth.md).

core        the Authorizer (authenticate, authorize) and the request's Session
middleware  authenticates each API request
filters     what handlers return, checked in Python and compiled to SQL by storage
users       the user in the shapes handlers and graphs expect
guard       the checks the HTTP layer makes per resource
"""

from graphport.auth.core import Session, acting_for, authorize, current

__all__ = ["Session", "acting_for", "authorize", "current"]
