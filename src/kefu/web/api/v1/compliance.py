"""Reply compliance API: check a reply before it is sent (shared/eval/compliance/README.md).

Open like ``/aftersales/evaluate``: a dry run that reads nothing private and writes nothing.
Error codes: ``invalid_input`` (422: no ``text``, not a string, longer than 10,000 characters),
``malformed_json`` (400).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from kefu.adapters.compliance_files import load_compliance_rules
from kefu.domain.compliance import check_reply
from kefu.web.errors import error_responses
from kefu.web.runtime import Runtime, runtime_dep

router = APIRouter(tags=["compliance"])

MAX_TEXT = 10_000


class ComplianceCheckIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(max_length=MAX_TEXT, description="the reply a seller or agent wants to send",
                      examples=["亲，加我微信abc_123，私下给您退"])


class ViolationOut(BaseModel):
    kind: str = Field(description="phone, im_account, email, external_link, bank_account, payment_account, "
                                  "qr_code, offline_store, advertising or abusive")
    match: str = Field(description="the words of the reply that show it")
    reason_zh: str
    reason_en: str


class ComplianceCheckOut(BaseModel):
    allowed: bool
    violations: list[ViolationOut]


@router.post("/compliance/check", response_model=ComplianceCheckOut, responses=error_responses(400),
             summary="Check a reply for contact details, links, accounts, QR codes, shops, ads and abuse")
async def check(body: ComplianceCheckIn, runtime: Runtime = Depends(runtime_dep)) -> ComplianceCheckOut:
    """Whether the reply may be sent; if not, each violation with its reason in Chinese and English."""
    result = check_reply(body.text, load_compliance_rules(runtime.settings.policy_dir))
    return ComplianceCheckOut(allowed=result.allowed,
                              violations=[ViolationOut(**v.as_dict()) for v in result.violations])
