"""Who is acting: every service call receives an :class:`Actor` and checks it (DESIGN.md §Security)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    CUSTOMER = "customer"
    AGENT = "agent"
    SELLER = "seller"
    ADMIN = "admin"
    SYSTEM = "system"


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
        return self.role in (Role.AGENT, Role.ADMIN, Role.SYSTEM)


SYSTEM = Actor(user_id=None, role=Role.SYSTEM, display_name="system")
