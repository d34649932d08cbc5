"""A2A objects: tasks, messages and parts as protocol 0.3 names them, and their 1.0 form.

Everything is built in the 0.3 shape (`kind`-tagged, lower-case states); a request made with a
1.0 method name (`SendMessage`, ...) is answered through `to_v1`: no `kind`, enum states and
roles, parts keyed by their content, and stream events wrapped in the StreamResponse oneof.
"""

from __future__ import annotations

import uuid
from typing import Any

from graphport.models import iso

# run status -> task state
STATES = {
    "pending": "submitted",
    "running": "working",
    "success": "completed",
    "error": "failed",
    "timeout": "failed",
    "interrupted": "canceled",
}
ROLES_V1 = {"user": "ROLE_USER", "agent": "ROLE_AGENT"}
WRAP_V1 = {"task": "task", "message": "message", "status-update": "statusUpdate",
           "artifact-update": "artifactUpdate"}  # fmt: skip
TERMINAL = ("completed", "failed", "canceled", "rejected")


def task_id(context_id: str, run_id: str) -> str:
    return f"{context_id}:{run_id}"


def text_part(text: str) -> dict[str, Any]:
    return {"kind": "text", "text": text}


def data_part(data: Any) -> dict[str, Any]:
    return {"kind": "data", "data": data}


def message(
    role: str, parts: list[dict[str, Any]], context_id: str, tid: str, mid: str | None = None
) -> dict[str, Any]:
    return {"kind": "message", "role": role, "parts": parts, "messageId": mid or str(uuid.uuid4()),
            "taskId": tid, "contextId": context_id}  # fmt: skip


def status(state: str, note: dict[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"state": state, "timestamp": iso()}
    if note is not None:
        out["message"] = note
    return out


def artifact(assistant_id: str, parts: list[dict[str, Any]]) -> dict[str, Any]:
    return {"artifactId": str(uuid.uuid4()), "name": "Assistant Response",
            "description": f"Response from assistant {assistant_id}", "parts": parts}  # fmt: skip


def task(
    context_id: str,
    tid: str,
    state: dict[str, Any],
    history: list[dict[str, Any]],
    artifacts: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    out = {"kind": "task", "id": tid, "contextId": context_id, "status": state, "history": history}
    if artifacts is not None:
        out["artifacts"] = artifacts
    return out


def status_update(context_id: str, tid: str, state: dict[str, Any]) -> dict[str, Any]:
    final = state["state"] in TERMINAL or state["state"] == "input-required"
    return {"kind": "status-update", "taskId": tid, "contextId": context_id, "status": state,
            "final": final}  # fmt: skip


def artifact_update(context_id: str, tid: str, art: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "artifact-update", "taskId": tid, "contextId": context_id, "artifact": art,
            "append": False, "lastChunk": True}  # fmt: skip


def _v1(value: Any) -> Any:
    if isinstance(value, list):
        return [_v1(v) for v in value]
    if not isinstance(value, dict):
        return value
    out = {k: _v1(v) for k, v in value.items() if k != "kind"}
    kind = value.get("kind")
    if kind == "data":  # data parts keep their payload as given
        out["data"] = value.get("data")
    if kind in ("message",) and value.get("role") in ROLES_V1:
        out["role"] = ROLES_V1[value["role"]]
    if "state" in value and "timestamp" in value:  # a task status
        out["state"] = "TASK_STATE_" + str(value["state"]).upper().replace("-", "_")
    return out


def to_v1(result: Any, *, wrap: bool) -> Any:
    """A 0.3 result in its 1.0 form; `wrap` puts a task or event in the StreamResponse (and
    SendMessageResponse) oneof by its kind."""
    kind = result.get("kind") if isinstance(result, dict) else None
    converted = _v1(result)
    if wrap and kind in WRAP_V1:
        return {WRAP_V1[kind]: converted}
    return converted


def incoming_parts(msg: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The text and the merged data of a request message's parts (0.3 or 1.0 shape)."""
    texts: list[str] = []
    data: dict[str, Any] = {}
    for part in msg.get("parts") or []:
        if not isinstance(part, dict):
            continue
        kind = part.get("kind") or ("text" if "text" in part else "data" if "data" in part else "")
        if kind == "text" and isinstance(part.get("text"), str):
            texts.append(part["text"])
        elif kind == "data" and isinstance(part.get("data"), dict):
            data.update(part["data"])
    return "\n".join(texts), data


def normalise_message(msg: dict[str, Any]) -> dict[str, Any]:
    """A request message in the 0.3 shape (for history)."""
    role = {"ROLE_USER": "user", "ROLE_AGENT": "agent"}.get(msg.get("role", ""), msg.get("role"))
    parts = []
    for part in msg.get("parts") or []:
        if isinstance(part, dict) and "text" in part:
            parts.append(text_part(part["text"]))
        elif isinstance(part, dict) and "data" in part:
            parts.append(data_part(part["data"]))
    return {**msg, "kind": "message", "role": role or "user", "parts": parts}
