"""The audit log of configuration changes: one append-only row per change, in the change's own
transaction (DESIGN.md §Security: every state change with actor and time)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, insert, select

from kefu.adapters.db.tables.audit import AuditEvent
from kefu.domain.actors import Actor, Role
from kefu.domain.errors import PermissionDenied
from kefu.services.uow import Database

_INSERT = insert(cast(Table, AuditEvent.__table__))


def record_audit(conn: Connection, actor: Actor, action: str, entity: str, key: object, data: dict[str, Any],
                 now: datetime) -> None:
    """Append one audit row (nothing updates or deletes them)."""
    conn.execute(_INSERT, {"at": now, "actor_user_id": actor.user_id, "actor_role": actor.role.value,
                           "actor_name": actor.display_name, "action": action, "entity": entity,
                           "entity_key": str(key), "data": data})


def list_audit(db: Database, actor: Actor, *, entity: str | None = None, limit: int = 100) -> list[AuditEvent]:
    """The latest changes, newest first (supervisors and admins)."""
    if actor.role not in (Role.SUPERVISOR, Role.ADMIN):
        raise PermissionDenied("not_allowed", "您无权查看审计日志。", "You may not see the audit log.")
    with db.read() as uow:
        query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(max(1, min(limit, 500)))
        if entity:
            query = query.where(AuditEvent.entity == entity)
        return list(uow.session.scalars(query))
