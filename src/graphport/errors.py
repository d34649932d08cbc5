"""Errors that become HTTP responses.

    GraphportError            500
    ├── BadRequest            400  (run-body rules the reference reports as 400)
    ├── NotFound              404
    ├── Conflict              409
    ├── Gone                  410
    ├── ValidationFailed      422  (schema violations and invalid ids)
    └── BodyTooLarge          413

`str(error)` is the `detail` of the `{"detail": ...}` body the SDK reads. A class docstring is
the default detail.
"""

from __future__ import annotations


class GraphportError(Exception):
    """Internal Server Error"""

    status_code = 500

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail if detail is not None else (self.__doc__ or "").strip())

    @property
    def detail(self) -> str:
        return str(self)


class BadRequest(GraphportError):
    """Bad Request"""

    status_code = 400


class NotFound(GraphportError):
    """Not Found"""

    status_code = 404


class Conflict(GraphportError):
    """Conflict"""

    status_code = 409


class ValidationFailed(GraphportError):
    """Validation Error"""

    status_code = 422


class Gone(GraphportError):
    """Gone"""

    status_code = 410


class BodyTooLarge(GraphportError):
    """Request body too large"""

    status_code = 413


def thread_not_found(thread_id: str) -> NotFound:
    return NotFound(f"Thread with ID {thread_id} not found")
