"""Canned replies and macros (issue 4 §5): a reply body with variables, and optional steps.

Variables are written ``{customer_name}``, ``{order_id}``, ``{ticket_number}``, ``{agent_name}``,
``{application_number}``; an unknown name is left as written, so a typo shows rather than
vanishing. A macro's ``actions`` may add ``tags`` and take one ticket ``step`` (e.g.
``wait_customer``) after its reply is sent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from kefu.adapters.db.tables.aftersales import Application
from kefu.adapters.db.tables.catalog import Customer
from kefu.adapters.db.tables.service_desk import CannedReply
from kefu.domain.actors import AGENT_ROLES, Actor, Role
from kefu.domain.clock import Clock
from kefu.domain.errors import InputError, NotFound, PermissionDenied
from kefu.domain.service.tickets import Action
from kefu.services.audit import record_audit
from kefu.services.tickets import load_ticket
from kefu.services.uow import Database

VARIABLES = ("customer_name", "order_id", "ticket_number", "agent_name", "application_number")
_VARIABLE = re.compile(r"\{(\w+)\}")


def fill(template: str, values: dict[str, str]) -> str:
    """Replace each known ``{name}``; unknown names stay as written."""
    return _VARIABLE.sub(lambda m: values.get(m.group(1), m.group(0)), template)


@dataclass(frozen=True, slots=True)
class FilledReply:
    reply: CannedReply
    body: str
    tags: list[str]
    step: Action | None


def _desk_only(actor: Actor) -> None:
    if actor.role not in (*AGENT_ROLES, Role.SELLER):
        raise PermissionDenied("not_allowed", "只有客服和商家可以使用快捷回复。",
                               "Only agents and sellers use canned replies.")


def list_canned(db: Database, actor: Actor, category: str | None = None) -> list[CannedReply]:
    _desk_only(actor)
    with db.read() as uow:
        query = select(CannedReply).order_by(CannedReply.title)
        if category:
            query = query.where((CannedReply.category == category) | CannedReply.category.is_(None))
        return list(uow.session.scalars(query))


def _validate_actions(actions: dict[str, Any]) -> dict[str, Any]:
    unknown = set(actions) - {"tags", "step"}
    if unknown:
        raise InputError("invalid_macro", "宏只能添加标签或执行一个步骤。",
                         "A macro may only add tags and take one step.")
    step = actions.get("step")
    if step is not None and step not in {a.value for a in Action}:
        raise InputError("invalid_macro", "宏的步骤无效。", "The macro's step is not a ticket step.", step=step)
    tags = actions.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise InputError("invalid_macro", "宏的标签须为文字列表。", "A macro's tags must be a list of words.")
    return {"tags": tags, **({"step": step} if step else {})}


def save_canned(db: Database, actor: Actor, title: str, body: str, clock: Clock, *, category: str | None = None,
                actions: dict[str, Any] | None = None, reply_id: int | None = None) -> CannedReply:
    """Create or edit a canned reply (supervisors and admins)."""
    if actor.role not in (Role.SUPERVISOR, Role.ADMIN):
        raise PermissionDenied("not_allowed", "只有主管和管理员可以维护快捷回复。",
                               "Only supervisors and admins edit canned replies.")
    title, body = (title or "").strip(), (body or "").strip()
    if not title or not body or len(title) > 100 or len(body) > 5000:
        raise InputError("invalid_canned", "请填写标题（100 字内）和内容（5000 字内）。",
                         "Give a title (up to 100 characters) and a body (up to 5000).")
    checked = _validate_actions(actions or {})
    with db.uow() as uow:
        s = uow.session
        if reply_id is None:
            row = CannedReply(title=title, body=body, category=category or None, actions=checked,
                              created_by=actor.user_id, created_at=clock())
            s.add(row)
            s.flush()
        else:
            found = s.get(CannedReply, reply_id)
            if found is None:
                raise NotFound("canned_not_found", "快捷回复不存在。", "Canned reply not found.")
            row = found
            row.title, row.body, row.category, row.actions = title, body, category or None, checked
        record_audit(s.connection(), actor, "canned.create" if reply_id is None else "canned.update", "canned",
                     row.id, {"title": title, "body": body, "category": category, "actions": checked}, clock())
        uow.commit()
        return row


def fill_canned(db: Database, actor: Actor, number: str, reply_id: int) -> FilledReply:
    """The canned reply filled in for this ticket (its customer, order, application, the agent)."""
    _desk_only(actor)
    with db.read() as uow:
        s = uow.session
        ticket = load_ticket(s, actor, number)
        reply = s.get(CannedReply, reply_id)
        if reply is None:
            raise NotFound("canned_not_found", "快捷回复不存在。", "Canned reply not found.")
        customer = s.get(Customer, ticket.customer_id) if ticket.customer_id else None
        application = s.get(Application, ticket.application_id) if ticket.application_id else None
        values = {
            "customer_name": customer.name if customer else (ticket.contact_name or "您"),
            "order_id": ticket.order_id or "",
            "ticket_number": ticket.number,
            "agent_name": actor.display_name,
            "application_number": application.number if application else "",
        }
        actions = reply.actions or {}
        step = actions.get("step")
        return FilledReply(reply=reply, body=fill(reply.body, values), tags=list(actions.get("tags", [])),
                           step=Action(step) if step else None)
