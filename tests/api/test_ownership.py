"""Returns, consultation, ruling and cooperating reports through the API, with their refusals."""

from datetime import timedelta

from tests.api.test_end_to_end import create, fresh
from tests.eventually import assert_eventually

STREET = "qd.shinan.badaxia"


async def test_return_consultation_ruling_over_http(api_in_skipped_time, time_env):
    api = api_in_skipped_time
    street, urban = api.auth("unit", STREET), api.auth("unit", "qd.dept.urban")
    center, leader = api.auth("center"), api.auth("leader")
    number = (await api.http.post("/tickets", json=fresh(), headers=api.auth("intake"))).json()["number"]
    await time_env.sleep(timedelta(seconds=1))

    r = await api.http.post(
        f"/tickets/{number}/return-request", headers=street, json={"reason": "非街道职责", "suggested_unit": "火星局"}
    )
    assert r.status_code == 422 and "unknown unit" in r.json()["detail"]
    r = await api.http.post(f"/tickets/{number}/return-request", headers=street, json={"reason": "非街道职责"})
    assert r.status_code == 200, r.text
    r = await api.http.post(f"/tickets/{number}/return-decision", headers=street, json={"approve": True})
    assert r.status_code == 403
    r = await api.http.post(
        f"/tickets/{number}/return-decision", headers=center, json={"approve": False, "note": "属地负责"}
    )
    assert r.status_code == 200 and r.json()["lead_unit"] == STREET

    r = await api.http.post(f"/tickets/{number}/consultation/answer", headers=urban, json={"answer": "lead"})
    assert r.status_code == 409 and "no consultation" in r.json()["detail"]
    r = await api.http.post(f"/tickets/{number}/return-dispute", headers=street, json={"reason": "确非街道职责"})
    assert r.status_code == 200
    await time_env.sleep(timedelta(seconds=1))
    # A candidate reads the ticket, then answers.
    assert (await api.http.get(f"/tickets/{number}", headers=urban)).status_code == 200
    r = await api.http.post(f"/tickets/{number}/consultation/answer", headers=urban, json={"answer": "decline"})
    assert r.status_code == 422 and "say why" in r.json()["detail"]
    r = await api.http.post(
        f"/tickets/{number}/consultation/answer", headers=urban, json={"answer": "decline", "reason": "应由街道牵头"}
    )
    assert r.status_code == 200, r.text
    r = await api.http.post(
        f"/tickets/{number}/consultation/answer", headers=urban, json={"answer": "lead", "reason": "改主意"}
    )
    assert r.status_code == 409 and "already answered" in r.json()["detail"]

    r = await api.http.post(f"/tickets/{number}/ruling", headers=center, json={"lead": "市城管局", "reason": "定了"})
    assert r.status_code == 403 and "leader" in r.json()["detail"]
    body = {"lead": "市城管局", "cooperating": ["八大峡街道"], "reason": "城管主办，街道协办", "save_as_rule": True}
    r = await api.http.post(f"/tickets/{number}/ruling", headers=leader, json=body)
    assert r.status_code == 200 and r.json()["lead_unit"] == "qd.dept.urban", r.text
    r = await api.http.post(f"/tickets/{number}/return-request", headers=urban, json={"reason": "还是不归我们"})
    assert r.status_code == 409 and r.json()["detail"].startswith("ruled")

    r = await api.http.post(f"/tickets/{number}/acknowledge", headers=street)
    assert r.status_code == 200
    r = await api.http.post(f"/tickets/{number}/report", headers=street, json={"report": "街道已协助清理"})
    assert r.status_code == 200
    state = (await api.http.get(f"/tickets/{number}", headers=center)).json()
    assert state["cooperating"][STREET]["report"] == "街道已协助清理"
    assert state["consultations"][0]["status"] == "ruled" and state["ruling"]["lead"] == "qd.dept.urban"

    rules = (await api.http.get("/responsibility-rules", headers=center)).json()
    assert rules == [
        {"category": "urban.street_vendor", "area": STREET, "lead": "qd.dept.urban", "cooperating": [STREET],
         "ticket": number, "ruled_by": "leader:tester", "reason": "城管主办，街道协办"}
    ]  # fmt: skip
    assert (await api.http.get("/responsibility-rules", headers=street)).status_code == 403


async def test_the_lead_confirms_a_cooperating_units_part_that_was_not_reported(api):
    """`parts_done` on complete: the lead names the cooperating units whose part is done."""
    street, urban = api.auth("unit", STREET), api.auth("unit", "qd.dept.urban")
    number = (await create(api)).json()["number"]

    async def dispatched():
        r = await api.http.get(f"/tickets/{number}", headers=street)
        assert r.status_code == 200 and r.json()["stage"] == "dispatch", r.text

    await assert_eventually(dispatched)
    body = {"lead": STREET, "cooperating": ["市城管局", "qd.dept.market"], "reason": "街道主办，城管、市场监管协办"}
    r = await api.http.post(f"/tickets/{number}/ruling", headers=api.auth("leader"), json=body)
    assert r.status_code == 200, r.text
    assert (await api.http.post(f"/tickets/{number}/acknowledge", headers=street)).status_code == 200
    assert (await api.http.post(f"/tickets/{number}/acknowledge", headers=urban)).status_code == 200
    r = await api.http.post(f"/tickets/{number}/report", headers=urban, json={"report": "城管已清理占道摊点"})
    assert r.status_code == 200, r.text

    done = {"result": "resolved", "reply": "街道联合城管、市场监管已清理"}
    r = await api.http.post(f"/tickets/{number}/complete", headers=street, json=done | {"parts_done": ["火星局"]})
    assert r.status_code == 422 and "unknown unit" in r.json()["detail"]
    not_cooperating = {"parts_done": ["qd.dept.housing"]}
    r = await api.http.post(f"/tickets/{number}/complete", headers=street, json=done | not_cooperating)
    assert r.status_code == 422 and "not cooperating units" in r.json()["detail"], r.text
    # 市场监管局 never reported: the lead confirms its part (by name) along with the city management's.
    parts = {"parts_done": ["qd.dept.urban", "青岛市市场监督管理局"]}
    r = await api.http.post(f"/tickets/{number}/complete", headers=street, json=done | parts)
    assert r.status_code == 200, r.text
    state = (await api.http.get(f"/tickets/{number}", headers=api.auth("center"))).json()
    assert state["completion"]["parts_done"] == ["qd.dept.urban", "qd.dept.market"]
    assert state["cooperating"]["qd.dept.market"]["report"] is None
