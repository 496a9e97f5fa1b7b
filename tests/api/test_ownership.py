"""Returns, consultation, ruling and cooperating reports through the API, with their refusals."""

from datetime import timedelta

from tests.api.test_end_to_end import fresh

STREET = "qd.shinan.badaxia"


async def test_return_consultation_ruling_over_http(api_in_skipped_time, time_env):
    api = api_in_skipped_time
    street, urban = api.auth("unit", STREET), api.auth("unit", "qd.dept.urban")
    center, leader = api.auth("center"), api.auth("leader")
    number = (await api.http.post("/tickets", json=fresh(), headers=api.auth("intake"))).json()["number"]
    await time_env.sleep(timedelta(seconds=1))

    r = await api.http.post(f"/tickets/{number}/return-request", headers=street, json={"reason": "非街道职责", "suggested_unit": "火星局"})
    assert r.status_code == 422 and "unknown unit" in r.json()["detail"]
    r = await api.http.post(f"/tickets/{number}/return-request", headers=street, json={"reason": "非街道职责"})
    assert r.status_code == 200, r.text
    r = await api.http.post(f"/tickets/{number}/return-decision", headers=street, json={"approve": True})
    assert r.status_code == 403
    r = await api.http.post(f"/tickets/{number}/return-decision", headers=center, json={"approve": False, "note": "属地负责"})
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
    r = await api.http.post(f"/tickets/{number}/consultation/answer", headers=urban, json={"answer": "decline", "reason": "应由街道牵头"})
    assert r.status_code == 200, r.text
    r = await api.http.post(f"/tickets/{number}/consultation/answer", headers=urban, json={"answer": "lead", "reason": "改主意"})
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
