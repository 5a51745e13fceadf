"""An over-limit Content-Length is refused before a byte of the body is read."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from kefu.web.body_limit import BodyLimitMiddleware


def _call(length: str | None) -> tuple[list[dict[str, Any]], bool, bool]:
    reached = False
    body_read = False

    async def app(scope: Any, receive: Any, send: Any) -> None:
        nonlocal reached
        reached = True

    async def receive() -> dict[str, Any]:
        nonlocal body_read
        body_read = True
        return {"type": "http.request", "body": b"", "more_body": False}

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    headers = [(b"content-length", length.encode())] if length is not None else []
    scope = {"type": "http", "method": "POST", "path": "/api/v1/evidence", "headers": headers}
    asyncio.run(BodyLimitMiddleware(app, max_body_bytes=1000)(scope, receive, send))
    return sent, reached, body_read


def test_over_the_limit_is_refused_unread() -> None:
    sent, reached, body_read = _call("50000000")
    assert not reached and not body_read
    assert sent[0]["status"] == 413
    body = json.loads(sent[1]["body"])
    assert body["code"] == "upload_too_large" and body["message"]["zh"] and body["message"]["en"]


def test_within_the_limit_or_without_a_length_passes() -> None:
    for length in ("1000", "10", None, "not-a-number"):
        sent, reached, _ = _call(length)
        assert reached and sent == []
