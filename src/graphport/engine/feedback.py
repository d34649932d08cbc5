"""Feedback links without LangSmith: `feedback_keys` get signed, expiring URLs on graphport.

A link is `<public url>/feedback/<token>`, the token carrying (run id, key, expiry) and an
HMAC-SHA256 over them with the server's secret (kept in the database, so links survive restarts).
POSTing `{"score"?, "value"?, "comment"?}` to it stores one feedback record for that run and key;
the link then refuses a second use (409) and expires (410). `GET /runs/{run_id}/feedback` lists
a run's feedback.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Any

import orjson

from graphport import errors


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class FeedbackLinks:
    def __init__(self, secret: bytes, public_url: str, ttl_seconds: float) -> None:
        self.secret = secret
        self.public_url = public_url.rstrip("/")
        self.ttl = ttl_seconds

    def _mac(self, claims: str) -> str:
        return _b64(hmac.new(self.secret, claims.encode(), hashlib.sha256).digest())

    def token(self, run_id: str, key: str, now: float | None = None) -> str:
        expires = int((now or time.time()) + self.ttl)
        claims = _b64(orjson.dumps({"r": run_id, "k": key, "e": expires}))
        return f"{claims}.{self._mac(claims)}"

    def urls(self, run_id: str, keys: list[str]) -> dict[str, str]:
        return {key: f"{self.public_url}/feedback/{self.token(run_id, key)}" for key in keys}

    def verify(self, token: str, now: float | None = None) -> tuple[str, str]:
        """(run id, key) of a valid token; 404 for a forged or mangled one, 410 once expired."""
        claims, _, mac = token.partition(".")
        if not claims or not hmac.compare_digest(mac, self._mac(claims)):
            raise errors.NotFound("Invalid feedback link")
        data: dict[str, Any] = orjson.loads(_unb64(claims))
        if data["e"] < (now or time.time()):
            raise errors.Gone("Feedback link expired")
        return data["r"], data["k"]


def check_feedback_body(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise errors.ValidationFailed("Feedback must be a JSON object")
    unknown = set(body) - {"score", "value", "comment"}
    if unknown:
        raise errors.ValidationFailed(f"Unknown feedback fields: {', '.join(sorted(unknown))}")
    score = body.get("score")
    if score is not None and (isinstance(score, bool) or not isinstance(score, int | float)):
        raise errors.ValidationFailed("score must be a number")
    comment = body.get("comment")
    if comment is not None and not isinstance(comment, str):
        raise errors.ValidationFailed("comment must be a string")
    return {"score": score, "value": body.get("value"), "comment": comment}
