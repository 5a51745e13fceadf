"""Every (action, status) pair: the legal ones lead where the diagram says, the rest are refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import product

import pytest

from kefu.domain.actors import Role
from kefu.domain.aftersales.lifecycle import (
    LEGAL_EDGES,
    Action,
    ApplicationState,
    Status,
    available_actions,
    due_for,
    next_status,
)
from kefu.domain.aftersales.model import Reason, RequestType
from kefu.domain.aftersales.params import RuleParams
from kefu.domain.errors import Conflict, PermissionDenied

NOW = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)


def state(status: Status, type_: RequestType = RequestType.RETURN, **kw: object) -> ApplicationState:
    base: dict[str, object] = dict(status=status, type=type_, reason=Reason.QUALITY, third_party=False,
                                   seller_id="S1", customer_id="C1", free_pickup=True)
    base.update(kw)
    return ApplicationState(**base)  # type: ignore[arg-type]


# a state in which each legal edge fits (type-specific edges need the right request type)
FITTING_TYPE = {
    Action.SHIP_REPLACEMENT: RequestType.EXCHANGE,
    Action.RETURN_REPAIRED: RequestType.REPAIR,
}


def fitting(action: Action, status: Status) -> ApplicationState:
    if action is Action.REFUND and status is Status.APPROVED:
        return state(status, RequestType.REFUND_ONLY)
    if action is Action.COMPLETE and status is Status.INSPECTED:
        return state(status, refunded=True)
    return state(status, FITTING_TYPE.get(action, RequestType.RETURN))


@pytest.mark.parametrize(("action", "status"), sorted(LEGAL_EDGES), ids=lambda v: str(v))
def test_every_legal_transition(action: Action, status: Status) -> None:
    role = Role.SYSTEM
    target = next_status(action, fitting(action, status), role, passed=True)
    expected = LEGAL_EDGES[(action, status)][0]
    assert target == expected


ILLEGAL = [(a, s) for a, s in product(Action, Status) if (a, s) not in LEGAL_EDGES]


@pytest.mark.parametrize(("action", "status"), ILLEGAL, ids=lambda v: str(v))
def test_every_illegal_transition_is_refused(action: Action, status: Status) -> None:
    for type_ in RequestType:
        with pytest.raises(Conflict) as err:
            next_status(action, state(status, type_), Role.SYSTEM, passed=True)
        assert err.value.code == "illegal_transition" and err.value.status == 409


@pytest.mark.parametrize(("action", "status", "type_", "extra"), [
    (Action.REFUND, Status.APPROVED, RequestType.RETURN, {}),          # goods must come back first
    (Action.REFUND, Status.INSPECTED, RequestType.EXCHANGE, {}),
    (Action.REFUND, Status.INSPECTED, RequestType.RETURN, {"refunded": True}),
    (Action.SHIP_REPLACEMENT, Status.INSPECTED, RequestType.RETURN, {}),
    (Action.RETURN_REPAIRED, Status.INSPECTED, RequestType.EXCHANGE, {}),
    (Action.SCHEDULE_PICKUP, Status.APPROVED, RequestType.RETURN, {"free_pickup": False}),
    (Action.SHIP_BACK, Status.APPROVED, RequestType.REFUND_ONLY, {}),
    (Action.COMPLETE, Status.INSPECTED, RequestType.RETURN, {}),         # not refunded yet
    (Action.RATE, Status.COMPLETED, RequestType.RETURN, {"rated": True}),
])
def test_edges_that_do_not_fit_the_request(action: Action, status: Status, type_: RequestType, extra: dict) -> None:
    with pytest.raises(Conflict):
        next_status(action, state(status, type_, **extra), Role.SYSTEM, passed=True)


def test_inspection_result_decides_the_branch() -> None:
    s = state(Status.RECEIVED)
    assert next_status(Action.INSPECT, s, Role.AGENT, passed=True) is Status.INSPECTED
    assert next_status(Action.INSPECT, s, Role.AGENT, passed=False) is Status.INSPECTION_FAILED
    with pytest.raises(Conflict):
        next_status(Action.INSPECT, s, Role.AGENT)


def test_who_may_act() -> None:
    review = state(Status.SELLER_REVIEW, third_party=True)
    assert next_status(Action.APPROVE, review, Role.SELLER, actor_seller="S1") is Status.APPROVED
    with pytest.raises(PermissionDenied):
        next_status(Action.APPROVE, review, Role.SELLER, actor_seller="S2")
    with pytest.raises(PermissionDenied):
        next_status(Action.APPROVE, state(Status.MANUAL_REVIEW, third_party=True), Role.SELLER, actor_seller="S1")
    with pytest.raises(PermissionDenied):
        next_status(Action.APPROVE, review, Role.CUSTOMER, actor_customer="C1")
    with pytest.raises(PermissionDenied):
        next_status(Action.CANCEL, state(Status.APPROVED), Role.CUSTOMER, actor_customer="C2")
    assert next_status(Action.CANCEL, state(Status.APPROVED), Role.CUSTOMER, actor_customer="C1") is Status.CANCELLED
    with pytest.raises(PermissionDenied):
        next_status(Action.AUTO_APPROVE, review, Role.AGENT)


def test_available_actions_match_roles() -> None:
    approved = state(Status.APPROVED)
    assert available_actions(approved, Role.CUSTOMER, actor_customer="C1") == [
        Action.SCHEDULE_PICKUP, Action.SHIP_BACK, Action.CANCEL]
    assert available_actions(state(Status.RECEIVED), Role.CUSTOMER, actor_customer="C1") == []
    assert available_actions(state(Status.RECEIVED), Role.AGENT) == [Action.INSPECT]


def test_due_times_of_policy_section_7() -> None:
    p = RuleParams()
    nr = state(Status.SELLER_REVIEW, reason=Reason.NO_REASON)
    assert due_for(Status.SELLER_REVIEW, nr, p, NOW).at == NOW + timedelta(hours=24)          # type: ignore[union-attr]
    assert due_for(Status.SELLER_REVIEW, state(Status.SELLER_REVIEW), p, NOW).at == NOW + timedelta(hours=48)  # type: ignore[union-attr]
    fresh = due_for(Status.APPROVED, state(Status.APPROVED), RuleParams(collect_same_day=True), NOW)
    assert fresh is not None and fresh.kind == "collect"
    assert fresh.at.isoformat() == "2026-03-10T23:59:59+08:00"
    assert due_for(Status.COMPLETED, state(Status.COMPLETED), p, NOW) is None
    assert due_for(Status.INSPECTED, state(Status.INSPECTED, RequestType.EXCHANGE), p, NOW).kind == "ship_replacement"  # type: ignore[union-attr]
