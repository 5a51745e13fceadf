"""Tables: accounts and authentication — users, web sessions, API tokens, idempotency keys.

Secrets never rest in the clear: passwords are argon2 hashes, and a session id or API token is
stored as the sha256 of the random value the client holds, so a leaked table opens no account.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from kefu.adapters.db.base import Base, JSONType, UTCDateTime

#: the roles a person can sign in with (``system`` is the sweep, never a login)
USER_ROLES: tuple[str, ...] = ("customer", "agent", "supervisor", "seller", "admin")


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('customer', 'agent', 'supervisor', 'seller', 'admin')", name="role"),
        CheckConstraint("locale IN ('zh', 'en')", name="locale"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))
    customer_id: Mapped[str | None] = mapped_column(ForeignKey("customers.id"), index=True)
    seller_id: Mapped[str | None] = mapped_column(ForeignKey("sellers.id"), index=True)
    employee_no: Mapped[str | None] = mapped_column(String(32))
    locale: Mapped[str] = mapped_column(String(8), default="zh")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class WebSession(Base):
    __tablename__ = "web_sessions"

    #: sha256 hex of the token in the ``kefu_session`` cookie
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: sha256 hex of the bearer token
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class IdempotencyKey(Base):
    """One row per ``Idempotency-Key`` seen on an API write, inserted before the write runs.

    The unique constraint is the lock: a second request with the same key cannot insert and
    waits for (or is refused while) the first. ``status`` stays NULL until the first answer is
    stored, then holds its HTTP status, headers and body for replay.
    """

    __tablename__ = "idempotency_keys"
    __table_args__ = (
        UniqueConstraint("scope", "method", "path", "key", name="uq_idempotency_keys_request"),
        Index("ix_idempotency_keys_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    #: who sent it: ``user:<id>``, or ``anonymous``
    scope: Mapped[str] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(500))
    key: Mapped[str] = mapped_column(String(255))
    #: sha256 hex of the request body (and query), to refuse a key reused for another request
    request_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[int | None] = mapped_column(Integer)
    response_headers: Mapped[list[list[str]] | None] = mapped_column(JSONType)
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
