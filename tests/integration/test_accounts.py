"""Accounts, sessions and API tokens against a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from kefu.adapters.db.tables.auth import ApiToken, User, WebSession
from kefu.domain.actors import Actor, Role
from kefu.domain.clock import FixedClock
from kefu.domain.errors import Conflict, InputError, NotAuthenticated, PermissionDenied
from kefu.services import accounts
from kefu.services.uow import Database
from tests.integration.factories import seed_parties

T0 = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def agent(db: Database) -> accounts.UserInfo:
    return accounts.create_user(db, username="agent01", password="s3cret-pass", role=Role.AGENT,
                                display_name="客服小王", employee_no="A-007")


def test_a_user_signs_in_with_the_right_password(db: Database, agent: accounts.UserInfo) -> None:
    actor = accounts.authenticate(db, "agent01", "s3cret-pass")
    assert actor == Actor(user_id=agent.id, role=Role.AGENT, display_name="客服小王")


@pytest.mark.parametrize(("username", "password"), [("agent01", "wrong-pass"), ("nobody", "s3cret-pass")])
def test_a_wrong_password_and_an_unknown_user_are_the_same_refusal(
        db: Database, agent: accounts.UserInfo, username: str, password: str) -> None:
    with pytest.raises(NotAuthenticated) as caught:
        accounts.authenticate(db, username, password)
    assert caught.value.code == "invalid_credentials"


def test_the_password_is_stored_as_an_argon2_hash(db: Database, agent: accounts.UserInfo) -> None:
    with db.read() as ro:
        stored = ro.session.scalars(select(User.password_hash).where(User.id == agent.id)).one()
    assert stored.startswith("$argon2id$")
    assert "s3cret-pass" not in stored


def test_usernames_are_unique(db: Database, agent: accounts.UserInfo) -> None:
    with pytest.raises(Conflict) as caught:
        accounts.create_user(db, username="agent01", password="another-pass", role="agent")
    assert caught.value.code == "username_taken"


@pytest.mark.parametrize(("fields", "code"), [
    ({"role": "overlord"}, "invalid_role"),
    ({"role": "agent", "username": "a b"}, "invalid_username"),
    ({"role": "agent", "password": "123"}, "password_too_short"),
    ({"role": "agent", "locale": "fr"}, "invalid_locale"),
    ({"role": "customer"}, "customer_id_required"),
    ({"role": "seller"}, "seller_id_required"),
    ({"role": "customer", "customer_id": "NO-SUCH-CUSTOMER"}, "invalid_reference"),
])
def test_bad_account_input_is_refused_with_a_code(db: Database, fields: dict[str, str], code: str) -> None:
    args: dict[str, str] = {"username": "someone", "password": "long-enough", **fields}
    with pytest.raises(InputError) as caught:
        accounts.create_user(db, **args)  # type: ignore[arg-type]
    assert caught.value.code == code
    with db.read() as ro:
        assert ro.session.scalars(select(User)).all() == []


def test_customer_and_seller_accounts_carry_their_binding(db: Database) -> None:
    seed_parties(db)
    accounts.create_user(db, username="zhangsan", password="pass-word", role="customer", customer_id="C1",
                         display_name="张三")
    accounts.create_user(db, username="shop", password="pass-word", role="seller", seller_id="S3P")
    customer = accounts.authenticate(db, "zhangsan", "pass-word")
    seller = accounts.authenticate(db, "shop", "pass-word")
    assert (customer.role, customer.customer_id, customer.seller_id) == (Role.CUSTOMER, "C1", None)
    assert (seller.role, seller.seller_id, seller.customer_id) == (Role.SELLER, "S3P", None)


def test_only_an_admin_or_the_system_creates_accounts(db: Database, agent: accounts.UserInfo) -> None:
    as_agent = accounts.authenticate(db, "agent01", "s3cret-pass")
    with pytest.raises(PermissionDenied):
        accounts.create_user(db, username="newbie", password="pass-word", role="agent", actor=as_agent)
    admin_info = accounts.create_user(db, username="root", password="pass-word", role="admin")
    admin = accounts.authenticate(db, "root", "pass-word")
    assert admin.user_id == admin_info.id
    made = accounts.create_user(db, username="newbie", password="pass-word", role="agent", actor=admin)
    assert made.role is Role.AGENT


def test_a_session_identifies_its_user_until_it_expires(db: Database, agent: accounts.UserInfo,
                                                        clock: FixedClock) -> None:
    actor = accounts.authenticate(db, "agent01", "s3cret-pass")
    new = accounts.start_session(db, actor, max_age_s=3600, clock=clock)
    found = accounts.actor_for_session(db, new.token, clock=clock)
    assert found is not None
    assert found.actor == actor
    assert found.csrf_token == new.csrf_token and len(new.csrf_token) == 64
    assert found.expires_at == T0 + timedelta(hours=1)
    clock.advance(seconds=3599)
    assert accounts.actor_for_session(db, new.token, clock=clock) is not None
    clock.advance(seconds=1)
    assert accounts.actor_for_session(db, new.token, clock=clock) is None


def test_only_the_hash_of_a_session_token_is_stored(db: Database, agent: accounts.UserInfo) -> None:
    actor = accounts.authenticate(db, "agent01", "s3cret-pass")
    new = accounts.start_session(db, actor, max_age_s=60)
    with db.read() as ro:
        ids = ro.session.scalars(select(WebSession.id)).all()
    assert ids == [accounts.hash_secret(new.token)]
    assert new.token not in ids


def test_signing_out_ends_the_session_and_sweeps_expired_ones(db: Database, agent: accounts.UserInfo,
                                                              clock: FixedClock) -> None:
    actor = accounts.authenticate(db, "agent01", "s3cret-pass")
    old = accounts.start_session(db, actor, max_age_s=60, clock=clock)
    clock.advance(minutes=5)
    current = accounts.start_session(db, actor, max_age_s=3600, clock=clock)
    other = accounts.start_session(db, actor, max_age_s=3600, clock=clock)
    accounts.end_session(db, current.token, clock=clock)
    assert accounts.actor_for_session(db, current.token, clock=clock) is None
    assert accounts.actor_for_session(db, other.token, clock=clock) is not None
    with db.read() as ro:
        left = set(ro.session.scalars(select(WebSession.id)).all())
    assert left == {accounts.hash_secret(other.token)}
    assert accounts.hash_secret(old.token) not in left


def test_an_unknown_session_token_is_nobody(db: Database) -> None:
    assert accounts.actor_for_session(db, "made-up") is None


def test_a_disabled_account_cannot_sign_in_nor_use_its_session_or_token(
        db: Database, agent: accounts.UserInfo) -> None:
    actor = accounts.authenticate(db, "agent01", "s3cret-pass")
    session = accounts.start_session(db, actor, max_age_s=3600)
    token = accounts.issue_api_token(db, actor, "cli")
    with db.uow() as uow:
        uow.session.get_one(User, agent.id).is_active = False
        uow.commit()
    with pytest.raises(NotAuthenticated) as caught:
        accounts.authenticate(db, "agent01", "s3cret-pass")
    assert caught.value.code == "account_disabled"
    assert accounts.actor_for_session(db, session.token) is None
    assert accounts.actor_for_token(db, token) is None


def test_an_api_token_identifies_its_user_and_is_stored_hashed(db: Database, agent: accounts.UserInfo,
                                                               clock: FixedClock) -> None:
    actor = accounts.authenticate(db, "agent01", "s3cret-pass")
    token = accounts.issue_api_token(db, actor, "integration", clock=clock)
    assert token.startswith("kefu_") and len(token) > 40
    assert accounts.actor_for_token(db, token, clock=clock) == actor
    assert accounts.actor_for_token(db, token + "x", clock=clock) is None
    with db.read() as ro:
        row = ro.session.scalars(select(ApiToken)).one()
        assert row.token_hash == accounts.hash_secret(token)
        assert row.name == "integration"
        assert row.last_used_at == T0


def test_token_use_is_noted_at_most_every_few_minutes(db: Database, agent: accounts.UserInfo,
                                                      clock: FixedClock) -> None:
    actor = accounts.authenticate(db, "agent01", "s3cret-pass")
    token = accounts.issue_api_token(db, actor, "cli", clock=clock)

    def last_used() -> datetime | None:
        with db.read() as ro:
            return ro.session.scalars(select(ApiToken.last_used_at)).one()

    assert last_used() is None
    accounts.actor_for_token(db, token, clock=clock)
    assert last_used() == T0
    clock.advance(minutes=1)
    accounts.actor_for_token(db, token, clock=clock)
    assert last_used() == T0
    clock.advance(minutes=5)
    accounts.actor_for_token(db, token, clock=clock)
    assert last_used() == T0 + timedelta(minutes=6)


def test_the_system_actor_holds_no_session_or_token(db: Database) -> None:
    from kefu.domain.actors import SYSTEM

    with pytest.raises(InputError):
        accounts.start_session(db, SYSTEM, max_age_s=60)
    with pytest.raises(InputError):
        accounts.issue_api_token(db, SYSTEM, "x")
