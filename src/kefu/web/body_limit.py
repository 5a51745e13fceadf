"""Refuse a request whose declared body is larger than any route accepts, before reading it.

Without this a 50 MB upload would be read and spooled to disk by the form parser before the
route could look at its size. With a ``Content-Length`` over the limit the answer is
``413 upload_too_large`` at once; a body sent without a length (chunked) is still capped by the
route itself (it reads at most limit + 1 bytes).
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Receive, Scope, Send


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            declared = next((v for k, v in scope["headers"] if k == b"content-length"), None)
            if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
                mib = self.max_body_bytes / (1024 * 1024)
                body = json.dumps({"code": "upload_too_large",
                                   "message": {"zh": f"请求过大，不能超过 {mib:.0f} MB。",
                                               "en": f"The request is too large; the limit is {mib:.0f} MB."},
                                   "detail": {"limit_bytes": self.max_body_bytes}}, ensure_ascii=False).encode()
                await send({"type": "http.response.start", "status": 413,
                            "headers": [(b"content-type", b"application/json"),
                                        (b"content-length", str(len(body)).encode()),
                                        (b"connection", b"close")]})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)
