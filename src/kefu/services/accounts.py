"""Accounts and sign-in: users, server-side web sessions and API bearer tokens.

Passwords are hashed with argon2 (DESIGN.md §Security). A session id and an API token are random
values the client keeps; only their sha256 is stored, so reading the tables opens no account.
Each function is one transaction.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from kefu.adapters.db.tables.auth import USER_ROLES, ApiToken, User, WebSession
from kefu.domain.actors import SYSTEM, Actor, Role
from kefu.domain.clock import Clock, system_clock
from kefu.domain.errors import Conflict, InputError, NotAuthenticated, PermissionDenied
from kefu.services.uow import Database

_hasher = PasswordHasher()
#: verified against when the username is unknown, so a miss costs as long as a wrong password
_DUMMY_HASH = _hasher.hash("kefu-no-such-user")
_USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{3,64}$")
MIN_PASSWORD_LENGTH = 6
#: ``last_used_at`` of an API token is refreshed at most this often, so reads stay reads
TOKEN_TOUCH_INTERVAL = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class UserInfo:
    id: int
    username: str
    display_name: str
    role: Role
    customer_id: str | None
    seller_id: str | None
    employee_no: str | None
    locale: str
    is_active: bool


@dataclass(frozen=True, slots=True)
class NewSession:
    """What the browser gets once: the cookie value (``token``) and the session's CSRF token."""

    token: str
    csrf_token: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class SessionActor:
    actor: Actor
    csrf_token: str
    expires_at: datetime


def hash_secret(value: str) -> str:
    """sha256 hex of a session or API token: what the tables store instead of the token."""
    return hashlib.sha256(value.encode()).hexdigest()


def _actor_of(user: User) -> Actor:
    return Actor(user_id=user.id, role=Role(user.role), customer_id=user.customer_id,
                 seller_id=user.seller_id, display_name=user.display_name)


def _info_of(user: User) -> UserInfo:
    return UserInfo(id=user.id, username=user.username, display_name=user.display_name,
                    role=Role(user.role), customer_id=user.customer_id, seller_id=user.seller_id,
                    employee_no=user.employee_no, locale=user.locale, is_active=user.is_active)


def create_user(db: Database, *, username: str, password: str, role: Role | str,
                display_name: str | None = None, customer_id: str | None = None,
                seller_id: str | None = None, employee_no: str | None = None, locale: str = "zh",
                actor: Actor = SYSTEM, clock: Clock = system_clock) -> UserInfo:
    """Create an account. Only an admin (or the system: CLI, demo) may do it.

    A customer account is bound to a customer and a seller account to a seller, because what
    they may see is decided by that binding (DESIGN.md §Security).
    """
    if actor.role not in (Role.ADMIN, Role.SYSTEM):
        raise PermissionDenied("forbidden", "只有管理员可以创建账号。", "Only an admin may create accounts.")
    role_value = role.value if isinstance(role, Role) else role
    if role_value not in USER_ROLES:
        raise InputError("invalid_role", f"未知角色：{role_value}", f"Unknown role: {role_value}",
                         allowed=list(USER_ROLES))
    if not _USERNAME.match(username):
        raise InputError("invalid_username", "用户名须为 3–64 位字母、数字或 _.@-",
                         "A username is 3–64 letters, digits or _.@-")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InputError("password_too_short", f"密码至少 {MIN_PASSWORD_LENGTH} 位。",
                         f"A password has at least {MIN_PASSWORD_LENGTH} characters.")
    if locale not in ("zh", "en"):
        raise InputError("invalid_locale", "语言只能是 zh 或 en。", "The locale is zh or en.")
    if role_value == Role.CUSTOMER and not customer_id:
        raise InputError("customer_id_required", "顾客账号须关联顾客编号。",
                         "A customer account needs a customer_id.")
    if role_value == Role.SELLER and not seller_id:
        raise InputError("seller_id_required", "商家账号须关联商家编号。", "A seller account needs a seller_id.")
    user = User(username=username, display_name=display_name or username, role=role_value,
                password_hash=_hasher.hash(password), customer_id=customer_id, seller_id=seller_id,
                employee_no=employee_no, locale=locale, is_active=True, created_at=clock())
    try:
        with db.uow() as uow:
            uow.session.add(user)
            uow.session.flush()
            info = _info_of(user)
            uow.commit()
    except IntegrityError as exc:
        if "username" in str(exc.orig).lower():
            raise Conflict("username_taken", f"用户名已被占用：{username}",
                           f"The username is taken: {username}") from exc
        raise InputError("invalid_reference", "关联的顾客或商家不存在。",
                         "The customer or seller does not exist.") from exc
    return info


def _spend_verify_time(password: str) -> bool:
    """Verify against a dummy hash so an unknown username answers as slowly as a wrong password."""
    try:
        return _hasher.verify(_DUMMY_HASH, password)
    except VerificationError:
        return False


def authenticate(db: Database, username: str, password: str) -> Actor:
    """Check a username and password; a wrong one of either is the same ``invalid_credentials``."""
    with db.read() as ro:
        user = ro.session.scalars(select(User).where(User.username == username)).one_or_none()
        # Copied out inside the block: leaving a unit of work rolls back and expires its objects.
        found = None if user is None else (user.id, user.password_hash, user.is_active, _actor_of(user))
    invalid = NotAuthenticated("invalid_credentials", "用户名或密码错误。", "Wrong username or password.")
    if found is None:
        _spend_verify_time(password)
        raise invalid
    user_id, password_hash, is_active, actor = found
    try:
        _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        raise invalid from None
    if not is_active:
        raise NotAuthenticated("account_disabled", "该账号已停用。", "This account is disabled.")
    if _hasher.check_needs_rehash(password_hash):
        with db.uow() as uow:
            uow.session.execute(update(User).where(User.id == user_id)
                                .values(password_hash=_hasher.hash(password)))
            uow.commit()
    return actor


def start_session(db: Database, actor: Actor, *, max_age_s: int, clock: Clock = system_clock) -> NewSession:
    """Open a server-side web session for a signed-in person."""
    if actor.user_id is None:
        raise InputError("no_user", "系统身份不能登录网页。", "The system actor cannot hold a web session.")
    token = secrets.token_urlsafe(32)
    now = clock()
    row = WebSession(id=hash_secret(token), user_id=actor.user_id, csrf_token=secrets.token_hex(32),
                     created_at=now, expires_at=now + timedelta(seconds=max_age_s))
    with db.uow() as uow:
        uow.session.add(row)
        uow.commit()
    return NewSession(token=token, csrf_token=row.csrf_token, expires_at=row.expires_at)


def end_session(db: Database, token: str, *, clock: Clock = system_clock) -> None:
    """Sign out: drop this session, and sweep the person's sessions that have expired."""
    with db.uow() as uow:
        user_id = uow.session.scalars(select(WebSession.user_id)
                                      .where(WebSession.id == hash_secret(token))).one_or_none()
        if user_id is not None:
            uow.session.execute(delete(WebSession).where(
                (WebSession.id == hash_secret(token))
                | ((WebSession.user_id == user_id) & (WebSession.expires_at < clock()))))
        uow.commit()


def actor_for_session(db: Database, token: str, *, clock: Clock = system_clock) -> SessionActor | None:
    """The person behind a session cookie, or None if it is unknown, expired or the user disabled."""
    with db.read() as ro:
        found = ro.session.execute(
            select(User, WebSession.csrf_token, WebSession.expires_at)
            .join(WebSession, WebSession.user_id == User.id)
            .where(WebSession.id == hash_secret(token))
        ).one_or_none()
        if found is None:
            return None
        user, csrf_token, expires_at = found
        if expires_at <= clock() or not user.is_active:
            return None
        return SessionActor(actor=_actor_of(user), csrf_token=csrf_token, expires_at=expires_at)


def issue_api_token(db: Database, actor: Actor, name: str, *, clock: Clock = system_clock) -> str:
    """Issue a bearer token for the API; the plain token is returned once and never stored."""
    if actor.user_id is None:
        raise InputError("no_user", "系统身份不能持有令牌。", "The system actor cannot hold a token.")
    token = "kefu_" + secrets.token_urlsafe(32)
    with db.uow() as uow:
        uow.session.add(ApiToken(user_id=actor.user_id, token_hash=hash_secret(token),
                                 name=name[:100] or "api", created_at=clock()))
        uow.commit()
    return token


#: a resolved API token is trusted this long in-process before the database is asked again: a
#: disabled user or a deleted token stops working within this time in every app process
TOKEN_CACHE_TTL = timedelta(seconds=30)
_TOKEN_CACHE_MAX = 10_000
_token_cache: dict[tuple[str, str], tuple[datetime, Actor]] = {}
_token_cache_lock = threading.Lock()


def forget_cached_tokens() -> None:
    """Drop every cached token (after disabling users or deleting tokens in this process)."""
    with _token_cache_lock:
        _token_cache.clear()


def cached_actor_for_token(db: Database, token: str, *, clock: Clock = system_clock) -> Actor | None:
    """The actor of a token resolved within TOKEN_CACHE_TTL, from memory only (never blocks)."""
    with _token_cache_lock:
        hit = _token_cache.get((db.url, hash_secret(token)))
    return hit[1] if hit is not None and hit[0] > clock() else None


def actor_for_token(db: Database, token: str, *, clock: Clock = system_clock) -> Actor | None:
    """The person behind a bearer token, or None; notes when the token was last used.

    API clients send the same token on every request, so a found token is kept in-process for
    TOKEN_CACHE_TTL: the hot path then costs no database round trip. Unknown tokens are never
    cached (nothing to gain, and a flood of random tokens must not grow memory).
    """
    cached = cached_actor_for_token(db, token, clock=clock)
    if cached is not None:
        return cached
    now = clock()
    key = (db.url, hash_secret(token))
    actor = _lookup_token(db, token, now)
    if actor is not None:
        with _token_cache_lock:
            if len(_token_cache) >= _TOKEN_CACHE_MAX:
                _token_cache.pop(next(iter(_token_cache)))
            _token_cache[key] = (now + TOKEN_CACHE_TTL, actor)
    return actor


def _lookup_token(db: Database, token: str, now: datetime) -> Actor | None:
    with db.read() as ro:
        found = ro.session.execute(
            select(User, ApiToken.id, ApiToken.last_used_at)
            .join(ApiToken, ApiToken.user_id == User.id)
            .where(ApiToken.token_hash == hash_secret(token))
        ).one_or_none()
        if found is None:
            return None
        user, token_id, last_used_at = found
        if not user.is_active:
            return None
        actor = _actor_of(user)
    if last_used_at is None or now - last_used_at >= TOKEN_TOUCH_INTERVAL:
        with db.uow() as uow:
            uow.session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))
            uow.commit()
    return actor


def get_user(db: Database, user_id: int) -> UserInfo | None:
    with db.read() as ro:
        user = ro.session.get(User, user_id)
        return None if user is None else _info_of(user)

