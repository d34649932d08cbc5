"""Errors that become HTTP responses.

    GraphportError            500
    ├── BadRequest            400  (run-body rules the reference reports as 400)
    ├── Unauthorized          401  (no or bad credentials: graphport.auth)
    ├── Forbidden             403  (an auth handler said no)
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
    headers: dict[str, str] | None = None  # sent with the error response

    def __init__(self, detail: str | None = None, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail if detail is not None else (self.__doc__ or "").strip())
        if headers:
            self.headers = dict(headers)

    @property
    def detail(self) -> str:
        return str(self)


class BadRequest(GraphportError):
    """Bad Request"""

    status_code = 400


class Unauthorized(GraphportError):
    """Unauthorized"""

    status_code = 401


class Forbidden(GraphportError):
    """Forbidden"""

    status_code = 403


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


class HTTPError(GraphportError):
    """An error with the status its raiser chose."""

    def __init__(
        self, status_code: int, detail: str | None = None, *, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(detail, headers=headers)
        self.status_code = status_code


def thread_exists(thread_id: str) -> Conflict:
    """A thread created (by itself or with a run) with an id that is taken."""
    return Conflict(f"Thread with ID {thread_id} already exists")


def assistant_exists(assistant_id: str) -> Conflict:
    return Conflict(f"Assistant {assistant_id} already exists")


def thread_busy() -> Conflict:
    """A run with multitask_strategy `reject` on a thread that has one in flight."""
    return Conflict(
        "Thread is already running a task. Wait for it to finish or choose a different "
        "multitask strategy."
    )


def thread_not_found(thread_id: str) -> NotFound:
    return NotFound(f"Thread with ID {thread_id} not found")
