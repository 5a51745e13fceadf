"""The one error base class of kefu.

Every error that can reach a person carries a stable ``code`` (never changes once published),
an HTTP ``status`` for the API, and a message in Chinese and English. Each entrypoint has a
single handler that renders it: JSON for the API, a page for the web, exit code 2 for the CLI.

    KefuError
     ├── BadRequest          400  a body that cannot be read at all (malformed JSON)
     ├── InputError          422  input that does not fit the schema or the policy format
     ├── NotFound            404  the thing does not exist or the actor may not see it
     ├── PermissionDenied    403  the actor may see it but not do this
     ├── NotAuthenticated    401  no valid session or token
     ├── Conflict            409  the state does not allow this (illegal transition, duplicate)
     └── PayloadTooLarge     413  an upload over the size limit
"""

from __future__ import annotations

from typing import Any, ClassVar


class KefuError(Exception):
    """Base error: stable ``code``, HTTP ``status`` and bilingual message."""

    status: ClassVar[int] = 400

    def __init__(self, code: str, zh: str, en: str, **detail: Any) -> None:
        super().__init__(f"{code}: {en}")
        self.code = code
        self.zh = zh
        self.en = en
        self.detail = detail

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": {"zh": self.zh, "en": self.en}}
        if self.detail:
            body["detail"] = self.detail
        return body


class BadRequest(KefuError):
    status = 400


class InputError(KefuError):
    status = 422


class NotFound(KefuError):
    status = 404


class PermissionDenied(KefuError):
    status = 403


class NotAuthenticated(KefuError):
    status = 401


class Conflict(KefuError):
    status = 409


class PayloadTooLarge(KefuError):
    status = 413
