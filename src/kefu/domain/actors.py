"""Who is acting: every service call receives an :class:`Actor` and checks it (DESIGN.md §Security)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    CUSTOMER = "customer"
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    SELLER = "seller"
    ADMIN = "admin"
    SYSTEM = "system"


#: platform staff: they see every customer's records (a supervisor is an agent who also leads a team)
STAFF_ROLES = frozenset({Role.AGENT, Role.SUPERVISOR, Role.ADMIN, Role.SYSTEM})
#: people who work on a customer's behalf in the after-sales and service desks
AGENT_ROLES = frozenset({Role.AGENT, Role.SUPERVISOR, Role.ADMIN})


@dataclass(frozen=True, slots=True)
class Actor:
    """The person (or the system sweep) behind a request.

    A customer actor carries ``customer_id``; a seller actor carries ``seller_id`` and may only
    see their own goods and applications.
    """

    user_id: int | None
    role: Role
    customer_id: str | None = None
    seller_id: str | None = None
    display_name: str = ""

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    def may_see(self, customer_id: str | None, seller_id: str | None) -> bool:
        """DESIGN.md §Security: a customer sees only their own orders and applications, a seller
        only those on their own goods, staff everything."""
        if self.role is Role.CUSTOMER:
            return self.customer_id is not None and customer_id == self.customer_id
        if self.role is Role.SELLER:
            return self.seller_id is not None and seller_id == self.seller_id
        return self.is_staff


SYSTEM = Actor(user_id=None, role=Role.SYSTEM, display_name="system")
