"""The desk's suggestions over HTTP: POST /triage names the likely categories, the district and
street read from the address, and the units routing would give; POST /tickets takes a form
without category or street and records what was suggested, what was chosen and by whom."""

import uuid
from datetime import UTC

from readmodel import knowledge
from tests.api.test_end_to_end import fresh
from tests.eventually import assert_eventually


async def _preview(api, **q):
    r = await api.http.post("/triage", json=q, headers=api.auth("intake"))
    assert r.status_code == 200, r.text
    return r.json()


async def test_the_preview_suggests_category_street_and_units(api):
    knowledge.seed(api.settings.database_url, api.settings.city)
    p = await _preview(
        api, description="楼下新开的烧烤店，排烟管子对着我家窗户，满屋子油烟味", kind="complaint",
        address="市北区台东八路55号",
    )  # fmt: skip
    assert p["suggestion"]["path"] == "dispatch"
    assert p["categories"][0]["id"] == "urban.cooking_fumes" and len(p["categories"]) == 3
    assert 0 < p["categories"][2]["confidence"] <= p["categories"][0]["confidence"] <= 1
    assert p["district"] == {"id": "qd.shibei", "name": "市北区"}
    assert p["street"]["id"] == "qd.shibei.taidong" and not p["address"]["ambiguous"]
    assert p["lead_unit"]["id"] == "qd.shibei.taidong" and p["supervisor_unit"]["id"] == "qd.dept.urban"
    assert p["model_version"] >= 1


async def test_an_ambiguous_address_says_so_with_its_candidates(api):
    p = await _preview(api, description="路口的红绿灯坏了两天了没人修", kind="complaint", address="李沧区书院路")
    assert p["street"] is None and p["address"]["ambiguous"]
    assert {c["id"] for c in p["address"]["candidates"]} == {"qd.licang.licun", "qd.licang.hushanlu"}
    assert p["district"]["id"] == "qd.licang"


async def test_a_paraphrased_emergency_is_suggested_for_transfer(api):
    p = await _preview(api, description="有个人拎着菜刀在楼道里追着邻居跑", kind="help")
    assert p["suggestion"]["path"] == "emergency_transfer"
    assert p["suggestion"]["emergency"]["number"] == "110"


async def test_a_short_service_complaint_that_names_a_vehicle_is_dispatched_not_sent_to_122(api):
    """No emergency word, only a taxi: the model alone must not transfer a complaint to 122."""
    p = await _preview(api, description="出租车拒载", kind="complaint")
    assert p["suggestion"]["path"] == "dispatch", p["suggestion"]
    assert p["categories"][0]["id"] == "transport.taxi"


async def test_a_ticket_without_category_or_street_takes_the_suggestion_and_records_it(api):
    body = fresh(description="小区楼下的垃圾桶一个礼拜没人清运，臭味熏天，苍蝇到处飞")
    body.pop("category")
    body["address"] = {"text": f"市北区台东三路{uuid.uuid4().int % 1000}号"}
    r = await api.http.post("/tickets", json=body, headers=api.auth("intake") | {"Idempotency-Key": str(uuid.uuid4())})
    assert r.status_code == 201, r.text
    number = r.json()["number"]

    async def routed():
        s = (await api.http.get(f"/tickets/{number}", headers=api.auth("center"))).json()
        assert s.get("lead_unit"), f"ticket {number} not routed yet"
        return s

    s = await assert_eventually(routed)
    assert s["request"]["category"] == "urban.sanitation"
    assert s["request"]["address"]["street"] == "qd.shibei.taidong" and s["lead_unit"] == "qd.shibei.taidong"
    record = s["triage"]["intake"]
    assert record["category"] == "urban.sanitation" and record["category_by"] == "suggestion"
    assert record["suggested_categories"][0]["id"] == "urban.sanitation"
    assert record["street"] == "qd.shibei.taidong" and record["street_by"] == "suggestion"


async def test_a_form_that_names_its_category_records_the_operator_as_chooser(api):
    body = fresh(description="小区楼下的垃圾桶一个礼拜没人清运，臭味熏天", category="urban.sanitation")
    r = await api.http.post("/tickets", json=body, headers=api.auth("intake") | {"Idempotency-Key": str(uuid.uuid4())})
    assert r.status_code == 201, r.text
    number = r.json()["number"]

    async def triaged():
        s = (await api.http.get(f"/tickets/{number}", headers=api.auth("center"))).json()
        assert s.get("triage"), f"ticket {number} not triaged yet"
        return s

    record = (await assert_eventually(triaged))["triage"]["intake"]
    assert record["category_by"] == "intake:tester" and record["street_by"] == "intake:tester"


async def test_an_address_that_fits_two_streets_is_refused_with_them(api):
    body = fresh()
    body.pop("category")
    body["address"] = {"text": "李沧区书院路88号"}
    r = await api.http.post("/tickets", json=body, headers=api.auth("intake"))
    assert r.status_code == 422 and "李村街道" in r.text and "虎山路街道" in r.text


async def test_first_dispatch_accuracy_by_month_and_category_for_the_center(api):
    import json
    from datetime import datetime

    from readmodel import db
    from readmodel.tables import TicketRow

    when = datetime(2031, 5, 10, 4, tzinfo=UTC)  # a month of its own in the shared read model
    tag = uuid.uuid4().hex[:6]
    with db.session(api.settings.database_url) as session:
        for n, lead in enumerate(["qd.shibei.taidong", "qd.shibei.taidong", "qd.dept.urban"]):
            state = {"first_responsible_unit": "qd.shibei.taidong", "returns": [], "previous_leads": []}
            session.add(TicketRow(
                number=f"FD{tag}{n}", workflow_id=f"ticket-FD{tag}{n}", stage="closed", tier="street", lead_unit=lead,
                category="urban.sanitation", urgency="normal", kind="complaint", channel="phone", intake_path="dispatch",
                closed_at=when, state_json=json.dumps(state),
            ))  # fmt: skip
        session.commit()
    r = await api.http.get("/stats/first-dispatch", params={"month": "2031-05"}, headers=api.auth("leader"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["tickets"], body["kept"], body["rate"]) == (3, 2, 0.6667)
    assert body["by_month"] == [{"month": "2031-05", "tickets": 3, "kept": 2, "rate": 0.6667}]
    assert body["by_category"][0]["category"] == "urban.sanitation"
    assert (
        await api.http.get("/stats/first-dispatch", headers=api.auth("unit", "qd.shibei.taidong"))
    ).status_code == 403
    bad = await api.http.get("/stats/first-dispatch", params={"month": "2031-5x"}, headers=api.auth("center"))
    assert bad.status_code == 422


async def test_a_vague_request_the_operator_filed_under_a_category_is_dispatched(api):
    """ "请相关单位尽快处理" says nothing the lists know; the model alone leans out of scope. The
    operator filed it under a category of the responsibility list, so it goes to the unit."""
    body = fresh(description="请相关单位尽快处理")
    r = await api.http.post("/tickets", json=body, headers=api.auth("intake") | {"Idempotency-Key": str(uuid.uuid4())})
    assert r.status_code == 201, r.text
    number = r.json()["number"]

    async def routed():
        s = (await api.http.get(f"/tickets/{number}", headers=api.auth("center"))).json()
        assert s["stage"] not in ("intake", "closed") and s.get("lead_unit"), s["stage"]
        return s

    s = await assert_eventually(routed)
    assert s["triage"]["path"] == "dispatch" and s["triage"]["reason"].startswith("in scope: filed under")
