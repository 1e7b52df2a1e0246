"""The error shapes, checked whole on a real answer: exactly these keys, each a sentence or a
code, so a stray key, a bare 500 or another surface's shape fails the test that meets it.

- The compatible endpoint and the API: ``{"result": false, "error": {"code", "message",
  "field"?, "reason"?}}`` (``web/responses.py``, ``web/api/errors.py``).
- The web UI's answers to app.js: ``{"code", "error"}``, the error in the user's language
  (``web/ui/routing.py``)."""

from __future__ import annotations

from typing import Any

import httpx


def _json(answer: httpx.Response, status: int) -> Any:
    assert answer.status_code == status, (answer.request.url, answer.text[:300])
    assert answer.headers["content-type"].startswith("application/json"), answer.headers
    return answer.json()


def api_error(answer: httpx.Response, status: int, code: str) -> dict[str, str]:
    """The compatible endpoint's and the API's error: returns its ``error`` object."""
    body = _json(answer, status)
    assert set(body) == {"result", "error"}, body
    assert body["result"] is False
    error: dict[str, str] = body["error"]
    assert {"code", "message"} <= set(error) <= {"code", "message", "field", "reason"}, error
    assert all(isinstance(value, str) and value for value in error.values()), error
    assert error["code"] == code, error
    return error


def ui_error(answer: httpx.Response, status: int, code: str) -> str:
    """The UI's JSON error: returns its sentence."""
    body = _json(answer, status)
    assert set(body) == {"code", "error"}, body
    assert body["code"] == code, body
    sentence: str = body["error"]
    assert isinstance(sentence, str), body
    assert sentence.strip(), body
    return sentence
