"""The service-desk API over HTTP (in-process app, SQLite and PostgreSQL): open, reply, steps,
visibility per role, compliance blocking, errors with stable codes, keyset paging, live events."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from kefu.domain.actors import Actor
from kefu.services import accounts
from kefu.services.uow import Database
from tests.integration.desk_factories import DeskPeople, seed_desk
from tests.integration.factories import make_order


@pytest.fixture
def people(db: Database) -> DeskPeople:
    return seed_desk(db)


def auth(db: Database, actor: Actor) -> dict[str, str]:
    return {"Authorization": f"Bearer {accounts.issue_api_token(db, actor, 'test')}"}


def open_(client: TestClient, headers: dict[str, str], **body) -> dict:
    response = client.post("/api/v1/tickets", json={"subject": "物流太慢", "body": "三天没动了", **body},
                           headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def test_customer_opens_and_follows_a_complaint(client, db, people):
    c1, agent = auth(db, people.c1), auth(db, people.agent1)
    t = open_(client, c1, kind="complaint", category="service_attitude")
    assert t["status"] == "new" and t["status_label"] == "待处理" and t["queue"] == "complaints"
    assert t["messages"][0]["body"] == "三天没动了"
    number = t["number"]
    r = client.post(f"/api/v1/tickets/{number}/actions/confirm", headers=agent)
    assert r.status_code == 200 and r.json()["status"] == "confirmed"
    r = client.post(f"/api/v1/tickets/{number}/messages", json={"body": "已联系快递加急"}, headers=agent)
    assert r.status_code == 201
    r = client.post(f"/api/v1/tickets/{number}/messages", json={"body": "客户情绪激动", "internal": True},
                    headers=agent)
    assert r.status_code == 201
    seen = client.get(f"/api/v1/tickets/{number}", headers=c1).json()
    assert [m["body"] for m in seen["messages"]] == ["三天没动了", "已联系快递加急"]      # no internal note
    assert seen["status"] == "processing"
    assert "accept" not in seen["actions"]
    client.post(f"/api/v1/tickets/{number}/actions/resolve", headers=agent)
    seen = client.get(f"/api/v1/tickets/{number}", headers=c1).json()
    assert seen["actions"] == ["accept", "reopen"]
    r = client.post(f"/api/v1/tickets/{number}/actions/accept", headers=c1)
    assert r.json()["status"] == "closed"


def test_errors_have_stable_codes_and_both_languages(client, db, people):
    c1, c2, agent = auth(db, people.c1), auth(db, people.c2), auth(db, people.agent1)
    r = client.post("/api/v1/tickets", json={"subject": "x"}, headers=c1)
    assert r.status_code == 422 and r.json()["code"] == "invalid_input"
    r = client.post("/api/v1/tickets", json={"subject": "x", "body": "y", "kind": "praise"}, headers=c1)
    assert r.status_code == 422
    r = client.post("/api/v1/tickets", content=b"{not json", headers={**c1, "Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["code"] == "malformed_json"
    r = client.post("/api/v1/tickets", content=b"", headers={**c1, "Content-Type": "application/json"})
    assert r.status_code == 422 and r.json()["detail"]["errors"][0]["loc"] == "body"
    r = client.post("/api/v1/tickets", content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 401 and r.json()["code"] == "not_authenticated"        # who asks comes first
    t = open_(client, c1)
    r = client.get(f"/api/v1/tickets/{t['number']}", headers=c2)
    assert r.status_code == 404 and r.json()["code"] == "ticket_not_found"
    assert r.json()["message"]["zh"] and r.json()["message"]["en"]
    r = client.post(f"/api/v1/tickets/{t['number']}/actions/confirm", headers=agent)
    assert r.status_code == 409 and r.json()["code"] == "illegal_transition"          # not a complaint
    r = client.post(f"/api/v1/tickets/{t['number']}/actions/resolve", headers=c1)
    assert r.status_code == 403 and r.json()["code"] == "not_allowed"
    r = client.get("/api/v1/tickets?cursor=bad", headers=agent)
    assert r.status_code == 422 and r.json()["code"] == "invalid_cursor"
    assert client.get("/api/v1/tickets").status_code == 401


def test_seller_replies_pass_the_compliance_check(client, db, people):
    make_order(db, "O-SELL", customer="C1", seller="S3P")
    c1, seller = auth(db, people.c1), auth(db, people.seller_a)
    t = open_(client, c1, order_id="O-SELL", category="product")
    r = client.post(f"/api/v1/tickets/{t['number']}/messages", json={"body": "加我微信 shop-lily2024 给您便宜"},
                    headers=seller)
    assert r.status_code == 422 and r.json()["code"] == "reply_blocked"
    kinds = {v["kind"] for v in r.json()["detail"]["violations"]}
    assert "im_account" in kinds
    r = client.post(f"/api/v1/tickets/{t['number']}/messages", json={"body": "您好，可以在订单页申请退货"},
                    headers=seller)
    assert r.status_code == 201
    other = auth(db, people.seller_b)
    assert client.get(f"/api/v1/tickets/{t['number']}", headers=other).status_code == 404


def test_the_queue_pages_with_a_keyset_cursor(client, db, people):
    c1, sup = auth(db, people.c1), auth(db, people.sup)
    made = [open_(client, c1, category="logistics")["number"] for _ in range(5)]
    first = client.get("/api/v1/tickets?queue=logistics&limit=2", headers=sup).json()
    assert len(first["tickets"]) == 2 and first["next_cursor"]
    second = client.get(f"/api/v1/tickets?queue=logistics&limit=2&cursor={first['next_cursor']}", headers=sup).json()
    third = client.get(f"/api/v1/tickets?queue=logistics&limit=2&cursor={second['next_cursor']}", headers=sup).json()
    got = [t["number"] for page in (first, second, third) for t in page["tickets"]]
    assert got == made and third["next_cursor"] is None
    mine = client.get("/api/v1/tickets", headers=c1).json()["tickets"]
    assert {t["number"] for t in mine} == set(made)


def test_presence_and_transfer(client, db, people):
    agent2, sup, c1 = auth(db, people.agent2), auth(db, people.sup), auth(db, people.c1)
    t = open_(client, c1, category="product")
    r = client.post(f"/api/v1/tickets/{t['number']}/transfer", json={"queue": "payment"}, headers=sup)
    assert r.status_code == 200 and r.json()["queue"] == "payment"
    assert client.post("/api/v1/desk/presence", json={"online": False}, headers=agent2).json()["online"] is False
    assert client.post("/api/v1/desk/presence", json={"online": True}, headers=c1).status_code == 403


def test_evidence_attached_to_a_complaint_is_readable_only_by_those_who_see_the_ticket(client, db, people):
    import io

    from PIL import Image

    c1, c2, sup = auth(db, people.c1), auth(db, people.c2), auth(db, people.sup)
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buf, format="PNG")
    up = client.post("/api/v1/evidence", files={"file": ("聊天截图.png", buf.getvalue(), "image/png")}, headers=c1)
    assert up.status_code == 201, up.text
    t = open_(client, c1, kind="complaint", category="service_attitude", evidence_ids=[up.json()["id"]])
    [attachment] = t["attachments"]
    url = f"/api/v1/tickets/{t['number']}/attachments/{attachment['id']}"
    got = client.get(url, headers=c1)
    assert got.status_code == 200 and got.content == buf.getvalue()
    assert got.headers["content-type"] == "image/png" and got.headers["x-content-type-options"] == "nosniff"
    assert client.get(url, headers=sup).status_code == 200
    assert client.get(url, headers=c2).status_code == 404
    again = client.post("/api/v1/tickets", json={"subject": "s", "body": "b", "evidence_ids": [up.json()["id"]]},
                        headers=c1)
    assert again.status_code == 403 and again.json()["code"] == "evidence_not_yours"     # already used


# ── the hot routes answer without reading back: the same JSON as a read ───────────────────

DETAIL_FIELDS = ("queue", "assignee_name", "tags", "actions", "messages", "attachments", "history")


def test_the_201_of_an_opened_ticket_is_what_reading_it_shows(client, db, people):
    import io

    from PIL import Image

    c1, agent1, sup = auth(db, people.c1), auth(db, people.agent1), auth(db, people.sup)
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (20, 30, 200)).save(buf, format="PNG")
    up = client.post("/api/v1/evidence", files={"file": ("截图.png", buf.getvalue(), "image/png")}, headers=c1)
    make_order(db, "O-201", customer="C1", seller="S3P")
    cases = [
        (c1, {"kind": "complaint", "category": "service_attitude", "evidence_ids": [up.json()["id"]],
              "tags": ["加急", "催单", "加急"], "order_id": "O-201"}),
        (c1, {"category": "logistics", "named_employee_no": "KF0003"}),          # a consultation: nobody named
        (c1, {"kind": "complaint", "named_employee_no": "KF0001"}),               # D9: to the supervisor
        (sup, {"customer_id": "C2", "queue": "payment", "channel": "phone"}),      # nobody online there
        (agent1, {"customer_id": "C2", "category": "product"}),
    ]
    for headers, body in cases:
        opened = open_(client, headers, **body)
        read = client.get(f"/api/v1/tickets/{opened['number']}", headers=headers)
        assert read.status_code == 200 and opened == read.json(), body


def test_an_agent_who_opens_a_ticket_they_may_not_see_gets_not_found_as_a_read_would(client, db, people):
    agent3 = auth(db, people.agent3)                                                   # logistics only
    r = client.post("/api/v1/tickets", json={"subject": "付款失败", "body": "扣款了没成功", "customer_id": "C1",
                                             "category": "payment"}, headers=agent3)
    assert r.status_code == 404 and r.json()["code"] == "ticket_not_found"
    sup = auth(db, people.sup)
    page = client.get("/api/v1/tickets?queue=payment", headers=sup).json()
    assert [t["subject"] for t in page["tickets"]] == ["付款失败"]                        # it was opened


def test_queue_pages_show_each_ticket_as_reading_it_does_without_the_details(client, db, people):
    c1, c2, sup, agent1 = auth(db, people.c1), auth(db, people.c2), auth(db, people.sup), auth(db, people.agent1)
    made = [open_(client, c1, category="product"), open_(client, c2, kind="complaint"),
            open_(client, c1, category="logistics")]
    client.post(f"/api/v1/tickets/{made[1]['number']}/actions/confirm", headers=agent1)
    for headers, query in ((sup, ""), (agent1, ""), (sup, "?queue=complaints"), (c1, "")):
        page = client.get(f"/api/v1/tickets{query}", headers=headers)
        assert page.status_code == 200 and page.headers["content-type"] == "application/json"
        assert page.json()["tickets"]
        for item in page.json()["tickets"]:
            full = client.get(f"/api/v1/tickets/{item['number']}", headers=headers).json()
            assert item == {**full, **dict.fromkeys(DETAIL_FIELDS)}


def test_queue_listing_errors_keep_their_codes(client, db, people):
    agent3, sup, seller = auth(db, people.agent3), auth(db, people.sup), auth(db, people.seller_a)
    r = client.get("/api/v1/tickets?queue=general", headers=agent3)
    assert r.status_code == 403 and r.json()["code"] == "not_allowed"
    r = client.get("/api/v1/tickets?queue=nope", headers=sup)
    assert r.status_code == 404 and r.json()["code"] == "queue_not_found"
    assert client.get("/api/v1/tickets?queue=general&mine=true", headers=agent3).status_code == 200
    assert client.get("/api/v1/tickets?limit=0", headers=sup).json()["code"] == "invalid_input"
    assert client.get("/api/v1/tickets", headers=seller).json() == {"tickets": [], "next_cursor": None}


def test_the_openapi_document_keeps_the_response_models(client):
    paths = client.get("/openapi.json").json()["paths"]["/api/v1/tickets"]
    assert paths["get"]["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/QueuePageOut"}
    assert paths["post"]["responses"]["201"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/TicketOut"}
    body = paths["post"]["requestBody"]                     # read by the route itself (kefu.web.hot_route)
    assert body["required"] is True
    schema = body["content"]["application/json"]["schema"]
    assert {"subject", "body"} <= set(schema["required"])
    assert schema["properties"]["kind"]["enum"] == ["consultation", "complaint"]
    assert "web_chat" in schema["properties"]["channel"]["enum"]


def test_openings_arriving_together_are_written_in_one_transaction_each_answered_alone(db, people, monkeypatch):
    import asyncio
    from functools import partial

    from kefu.domain.clock import FixedClock
    from kefu.domain.errors import NotFound
    from kefu.services import tickets as svc
    from kefu.web.group_commit import group_commit
    from tests.integration.desk_factories import RULES
    from tests.integration.factories import NOW

    batches: list[int] = []
    write = svc.open_ticket_drafts

    def recording(database, drafts):
        batches.append(len(drafts))
        return write(database, drafts)

    monkeypatch.setattr(svc, "open_ticket_drafts", recording)
    clock = FixedClock(NOW)
    asks = [svc.TicketRequest(subject=f"咨询 {i}", body="有货吗", evidence_ids=(999,) if i == 2 else ())
            for i in range(5)]
    drafts = [svc.prepare_ticket(db, people.c1, req, RULES, clock) for req in asks]

    async def open_all() -> list[object]:
        openings = group_commit(db, "tickets", partial(svc.open_ticket_drafts, db))
        return await asyncio.gather(*(openings.run(partial(lambda d: d, d)) for d in drafts),
                                    return_exceptions=True)

    results = asyncio.run(open_all())
    assert batches == [5]
    assert isinstance(results[2], NotFound) and results[2].code == "evidence_not_found"
    opened = [r for i, r in enumerate(results) if i != 2]
    assert all(isinstance(r, svc.OpenedTicket) for r in opened)
    assert [r.values["subject"] for r in opened] == ["咨询 0", "咨询 1", "咨询 3", "咨询 4"]
    assert len({r.values["number"] for r in opened}) == 4
