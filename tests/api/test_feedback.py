"""feedback_keys without LangSmith: signed links on graphport (issue 4, spec §7 #5)."""

from __future__ import annotations

import httpx
import pytest

from graphport import errors
from graphport.engine.feedback import FeedbackLinks


@pytest.fixture
def run_with_feedback(http: httpx.Client, graphport_only: None) -> tuple[str, dict[str, str]]:
    r = http.post(
        "/runs/wait",
        json={"assistant_id": "echo", "input": {"messages": ["x"]},
              "feedback_keys": ["helpful", "correct"]},
    )  # fmt: skip
    body = r.json()
    assert body["messages"] == ["x", "hi"]  # the run succeeds: feedback never fails it
    return r.headers["content-location"].rsplit("/", 1)[1], body["__feedback__"]


def test_links_accept_feedback_once(
    http: httpx.Client, url: str, run_with_feedback: tuple[str, dict[str, str]]
) -> None:
    run_id, links = run_with_feedback
    assert set(links) == {"helpful", "correct"}
    assert all(link.startswith(url + "/feedback/") for link in links.values())
    first = httpx.post(links["helpful"], json={"score": 1, "comment": "great"})
    assert first.status_code == 201
    assert first.json()["run_id"] == run_id and first.json()["key"] == "helpful"
    again = httpx.post(links["helpful"], json={"score": 0})
    assert again.status_code == 409
    assert httpx.post(links["correct"], json={"value": {"label": "yes"}}).status_code == 201
    listed = sorted(http.get(f"/runs/{run_id}/feedback").json(), key=lambda f: f["key"])
    assert [(f["key"], f["score"], f["value"], f["comment"]) for f in listed] == [
        ("correct", None, {"label": "yes"}, None),
        ("helpful", 1.0, None, "great"),
    ]


def test_forged_or_bad_feedback_is_refused(
    http: httpx.Client, run_with_feedback: tuple[str, dict[str, str]]
) -> None:
    _, links = run_with_feedback
    forged = links["helpful"][:-3] + ("abc" if not links["helpful"].endswith("abc") else "xyz")
    assert httpx.post(forged, json={"score": 1}).status_code == 404
    bad = httpx.post(links["helpful"], json={"score": "high"})
    assert bad.status_code == 422 and bad.json() == {"detail": "score must be a number"}


def test_failed_run_gets_no_links(http: httpx.Client, graphport_only: None) -> None:
    body = http.post(
        "/runs/wait",
        json={"assistant_id": "boom", "input": {"messages": []}, "feedback_keys": ["k"]},
    ).json()
    assert body == {"__error__": {"error": "ValueError", "message": "kaboom"}}


def test_links_expire() -> None:
    links = FeedbackLinks(b"s" * 32, "http://h", ttl_seconds=60)
    token = links.token("r1", "k", now=1000)
    assert links.verify(token, now=1059) == ("r1", "k")
    with pytest.raises(errors.Gone):
        links.verify(token, now=1061)
    with pytest.raises(errors.NotFound):
        FeedbackLinks(b"t" * 32, "http://h", 60).verify(token, now=1000)
