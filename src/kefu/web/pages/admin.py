"""Admin pages: the effective after-sales rules per category for a seller type (POLICY.md data)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from kefu.domain.actors import Actor, Role
from kefu.domain.aftersales.model import Category, SellerType
from kefu.web.deps import require_roles
from kefu.web.pages.customer import page
from kefu.web.runtime import get_runtime

router = APIRouter(include_in_schema=False)
admin_only = require_roles(Role.ADMIN)


@router.get("/admin/rules")
def rules(request: Request, seller_type: str = SellerType.SELF_OPERATED.value,
          actor: Actor = Depends(admin_only)) -> Response:
    """One row per category with the parameters the policy book resolves for ``seller_type``."""
    if seller_type not in {s.value for s in SellerType}:
        seller_type = SellerType.SELF_OPERATED.value
    book = get_runtime(request).book
    rows = [(c.value, book.resolve(seller_type, c.value, "").as_display()) for c in Category]
    return page(request, "admin/rules.html", {"rows": rows, "seller_type": seller_type,
                                              "seller_types": [s.value for s in SellerType]})
