"""After-sales API: evaluate (dry run), preview, submit, lifecycle steps, queues, evidence, inbox.

Error codes (JSON ``{code, message: {zh, en}, detail}``):
``invalid_input`` / ``malformed_json`` (bad body), ``line_out_of_range``, ``invalid_quantity``,
``reason_does_not_fit_type``, ``quantity_already_claimed`` (409), ``illegal_transition`` (409),
``not_allowed`` (403), ``application_not_found`` / ``order_not_found`` (404),
``upload_too_large`` (413), ``unsupported_file_type`` / ``file_type_mismatch`` /
``corrupt_file`` (422), ``note_required``, ``waybill_required``, ``invalid_rating``.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, File, Query, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from kefu.adapters.db.tables.aftersales import Application
from kefu.domain.actors import Actor, Role
from kefu.domain.aftersales.decision import Decision
from kefu.domain.aftersales.lifecycle import STATUS_LABELS, Action, Status
from kefu.domain.aftersales.model import CONDITION_FLAGS, Reason, RequestType
from kefu.domain.money import fmt
from kefu.services import aftersales as svc
from kefu.services import evidence as evidence_svc
from kefu.services.case_format import CaseIn, DecisionOut, parse_case
from kefu.services.notifications import list_inbox
from kefu.services.uow import Database
from kefu.web.deps import current_actor, db_dep, require_roles
from kefu.web.errors import error_responses
from kefu.web.group_commit import GroupCommit, group_commit
from kefu.web.runtime import Runtime, runtime_dep

router = APIRouter(tags=["aftersales"])

ConditionFlag = Annotated[str, Field(pattern="^(" + "|".join(CONDITION_FLAGS) + ")$")]


class ApplicationIn(BaseModel):
    """A request on one order line. ``condition`` lists the flags that are true."""

    model_config = ConfigDict(extra="forbid")

    order_id: str = Field(min_length=1, max_length=64)
    line: int = Field(ge=0, description="index of the order line (0-based)")
    type: RequestType
    reason: Reason
    quantity: int = Field(1, ge=1)
    condition: list[ConditionFlag] = Field(default_factory=list, examples=[["packaging_opened"]])
    gifts_returned: bool = True
    description: str = Field("", max_length=2000)
    evidence_ids: list[int] = Field(default_factory=list, max_length=20)
    damage: list[str] = Field(default_factory=list, description="staff only: damage found")
    proof_of_purchase: bool = True
    serial_matches: bool = True

    def command(self) -> svc.ApplicationRequest:
        return svc.ApplicationRequest(
            order_id=self.order_id, line=self.line, type=self.type, reason=self.reason,
            quantity=self.quantity, condition=frozenset(self.condition), gifts_returned=self.gifts_returned,
            description=self.description, evidence_ids=tuple(self.evidence_ids), damage=frozenset(self.damage),
            proof_of_purchase=self.proof_of_purchase, serial_matches=self.serial_matches)


class TransitionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field("", max_length=2000)
    waybill: str | None = Field(None, max_length=64)
    carrier: str | None = Field(None, max_length=64)
    pickup_at: datetime | None = None
    pickup_address: str | None = Field(None, max_length=500)
    passed: bool | None = Field(None, description="inspection result (inspect only)")
    rating: int | None = Field(None, ge=1, le=5)
    evidence_ids: list[int] = Field(default_factory=list, max_length=20)


class EventOut(BaseModel):
    at: datetime
    action: str
    from_status: str | None
    to_status: str
    actor_role: str
    actor_name: str
    note: str
    data: dict[str, Any]


class EvidenceOut(BaseModel):
    id: int
    filename: str
    content_type: str
    size: int
    purpose: str
    url: str


class RefundOut(BaseModel):
    method: str
    amount: str
    created_at: datetime


class ApplicationOut(BaseModel):
    number: str
    order_id: str
    line: int
    customer_id: str
    seller_id: str
    type: str
    reason: str
    quantity: int
    status: str
    status_label: dict[str, str]
    decision: dict[str, Any]
    refund_amount: str | None
    return_shipping_paid_by: str | None
    free_pickup: bool
    repair_charge: str | None
    due_kind: str | None
    due_at: datetime | None
    return_waybill: str | None
    inspection_passed: bool | None
    rating: int | None
    created_at: datetime
    updated_at: datetime
    actions: list[str] = Field(description="steps the caller may take now")
    events: list[EventOut] | None = None
    evidence: list[EvidenceOut] | None = None
    refunds: list[RefundOut] | None = None


class InboxOut(BaseModel):
    id: int
    at: datetime
    event: str
    zh: str
    en: str
    link: str | None
    read: bool


def _evidence_out(f: Any) -> EvidenceOut:
    return EvidenceOut(id=f.id, filename=f.filename, content_type=f.content_type, size=f.size,
                       purpose=f.purpose, url=f"/api/v1/evidence/{f.id}")


def application_out(app: Application, actor: Actor, *, detail: bool = False) -> ApplicationOut:
    zh, en = STATUS_LABELS[Status(app.status)]
    out = ApplicationOut(
        number=app.number, order_id=app.order_id, line=app.line_no, customer_id=app.customer_id,
        seller_id=app.seller_id, type=app.type, reason=app.reason, quantity=app.quantity, status=app.status,
        status_label={"zh": zh, "en": en}, decision=app.decision,
        refund_amount=None if app.refund_amount is None else fmt(app.refund_amount),
        return_shipping_paid_by=app.return_shipping_paid_by, free_pickup=app.free_pickup,
        repair_charge=app.repair_charge, due_kind=app.due_kind, due_at=app.due_at,
        return_waybill=app.return_waybill, inspection_passed=app.inspection_passed, rating=app.rating,
        created_at=app.created_at, updated_at=app.updated_at,
        actions=[a.value for a in svc.actions_for(actor, app)])
    if detail:
        out.events = [EventOut(at=e.at, action=e.action, from_status=e.from_status, to_status=e.to_status,
                               actor_role=e.actor_role, actor_name=e.actor_name, note=e.note, data=e.data)
                      for e in app.events]
        out.evidence = [_evidence_out(f) for f in app.evidence]
        out.refunds = [RefundOut(method=r.method, amount=fmt(r.amount), created_at=r.created_at)
                       for r in app.refunds]
    return out


def _decision_response(decision: Decision, case_id: str = "") -> Response:
    return Response(orjson.dumps(decision.as_dict(case_id)), media_type="application/json")


@router.post(
    "/aftersales/evaluate", response_model=DecisionOut, responses=error_responses(400),
    summary="Evaluate one case (dry run, writes nothing)",
    openapi_extra={"requestBody": {"required": True, "content": {
        "application/json": {"schema": CaseIn.model_json_schema(ref_template="#/components/schemas/{model}")}}}},
)
async def evaluate_case(request: Request, runtime: Runtime = Depends(runtime_dep)) -> Response:
    """The conformance case format of shared/cases/aftersales/README.md; ``expect`` is ignored."""
    case = parse_case(await request.body())
    from kefu.domain.aftersales.policy import evaluate

    return _decision_response(evaluate(case, runtime.book), case.id)


@router.post("/aftersales/applications/preview", response_model=DecisionOut, responses=error_responses(401, 404))
def preview(body: ApplicationIn, actor: Actor = Depends(current_actor), db: Database = Depends(db_dep),
            runtime: Runtime = Depends(runtime_dep)) -> Response:
    """The decision this request would get now, for the live form (writes nothing)."""
    return _decision_response(svc.preview_application(db, actor, body.command(), runtime.book, runtime.clock))


@router.post("/aftersales/applications", status_code=201, response_model=ApplicationOut,
             responses=error_responses(401, 403, 404, 409))
async def submit(body: ApplicationIn, actor: Actor = Depends(current_actor), db: Database = Depends(db_dep),
                 runtime: Runtime = Depends(runtime_dep)) -> Response:
    """Submit an application; the policy decision comes back at once with its rules."""
    # group commit (kefu.web.group_commit): the submissions this process has in flight share a
    # write transaction; each is prepared (order facts read, request checked) in the thread pool
    submissions: GroupCommit[svc.SubmissionDraft, Application] = group_commit(
        db, "submissions", partial(svc.write_submissions, db))
    app = await submissions.run(partial(svc.prepare_submission, db, actor, body.command(), runtime.book,
                                        runtime.clock))
    # the model is built here, so it is serialised once rather than validated again by FastAPI
    return Response(application_out(app, actor).model_dump_json(), status_code=201,
                    media_type="application/json")


@router.get("/aftersales/applications", response_model=list[ApplicationOut], responses=error_responses(401, 403))
def list_applications(actor: Actor = Depends(current_actor), db: Database = Depends(db_dep),
                      queue: bool = Query(False, description="staff: the review queue ordered by due time"),
                      status: list[Status] | None = Query(None), customer_id: str | None = None,
                      limit: int = Query(50, ge=1, le=200), offset: int = Query(0, ge=0)) -> list[ApplicationOut]:
    """A customer's own applications, or (``queue=true``) the agent's / seller's work queue."""
    if queue or actor.role is Role.SELLER:
        apps = svc.list_review_queue(db, actor, statuses=tuple(status) if status else None, limit=limit,
                                     offset=offset)
    else:
        apps = svc.list_customer_applications(db, actor, customer_id, limit=limit)
    return [application_out(a, actor) for a in apps]


@router.get("/aftersales/applications/{number}", response_model=ApplicationOut, responses=error_responses(401, 404))
def get_application(number: str, actor: Actor = Depends(current_actor),
                    db: Database = Depends(db_dep)) -> ApplicationOut:
    """One application with its history, evidence and refunds."""
    return application_out(svc.get_application(db, actor, number), actor, detail=True)


@router.post("/aftersales/applications/{number}/{action}", response_model=ApplicationOut,
             responses=error_responses(401, 403, 404, 409))
def transition(number: str, action: Action, body: TransitionIn | None = None,
               actor: Actor = Depends(current_actor), db: Database = Depends(db_dep),
               runtime: Runtime = Depends(runtime_dep)) -> ApplicationOut:
    """Take one lifecycle step: approve, reject, schedule_pickup, ship_back, collect, receive,
    inspect, refund, ship_replacement, return_repaired, complete, rate, cancel, add_evidence."""
    if action is Action.AUTO_APPROVE:
        raise_not_allowed()
    b = body or TransitionIn()
    details = svc.TransitionInput(note=b.note, waybill=b.waybill, carrier=b.carrier, pickup_at=b.pickup_at,
                                  pickup_address=b.pickup_address, passed=b.passed, rating=b.rating,
                                  evidence_ids=tuple(b.evidence_ids))
    svc.transition_application(db, actor, number, action, details, runtime.book, runtime.clock)
    return application_out(svc.get_application(db, actor, number), actor, detail=True)


def raise_not_allowed() -> None:
    from kefu.domain.errors import PermissionDenied

    raise PermissionDenied("not_allowed", "此操作只由系统执行。", "Only the system takes this step.")


@router.post("/aftersales/sweep", responses=error_responses(401, 403))
def sweep(actor: Actor = Depends(require_roles(Role.ADMIN)), db: Database = Depends(db_dep),
          runtime: Runtime = Depends(runtime_dep)) -> dict[str, int]:
    """Run the seller-review sweep now (it also runs by itself in the background)."""
    return {"approved": svc.sweep_seller_reviews(db, runtime.book, runtime.clock)}


@router.post("/evidence", status_code=201, response_model=EvidenceOut, tags=["evidence"],
             responses=error_responses(401, 413))
async def upload(request: Request, file: UploadFile = File(...), actor: Actor = Depends(current_actor),
                 db: Database = Depends(db_dep), runtime: Runtime = Depends(runtime_dep)) -> EvidenceOut:
    """Upload one photo (JPEG, PNG, WebP, GIF) or PDF; attach it by id when applying."""
    limit = runtime.settings.max_upload_bytes
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise evidence_svc.too_large(limit)
    row = evidence_svc.upload_evidence(db, runtime.storage, actor, file.filename or "upload", data,
                                       file.content_type, limit, runtime.clock)
    return _evidence_out(row)


@router.get("/evidence/{evidence_id}", tags=["evidence"], responses=error_responses(401, 404),
            response_class=Response)
def download(evidence_id: int, actor: Actor = Depends(current_actor), db: Database = Depends(db_dep),
             runtime: Runtime = Depends(runtime_dep)) -> Response:
    row, data = evidence_svc.read_evidence(db, runtime.storage, actor, evidence_id)
    return Response(data, media_type=row.content_type,
                    headers={"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"})


@router.get("/inbox", response_model=list[InboxOut], tags=["notifications"], responses=error_responses(401, 403))
def inbox(actor: Actor = Depends(require_roles(Role.CUSTOMER)), db: Database = Depends(db_dep)) -> list[InboxOut]:
    """The customer's in-app messages, newest first."""
    assert actor.customer_id is not None
    return [InboxOut(id=i.id, at=i.at, event=i.event, zh=i.zh, en=i.en, link=i.link, read=i.read)
            for i in list_inbox(db, actor.customer_id)]
