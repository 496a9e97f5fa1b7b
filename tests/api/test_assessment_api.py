"""The assessment over real HTTP: the office sees every unit, a unit its own figures; exclusions
with who and why; reports produced by the report workflow and downloaded as CSV and XLSX; the
month's focus picked by a leader; early warnings to the units they concern."""

import io
from datetime import timedelta

from openpyxl import load_workbook

from domain.assessment import Period
from readmodel import db
from readmodel.tables import EarlyWarningRow
from tests.assessment_rows import add, ticket_row

MARCH = Period.parse("2024-03")
DAY = MARCH.start + timedelta(days=4)


_loaded: dict[str, tuple[list[str], list[str]]] = {}


def _month(api):
    """March 2024 of two streets, loaded once into the session's read model."""
    url = api.settings.database_url
    if url in _loaded:
        return _loaded[url]
    late = add(url, [ticket_row(DAY, contacted_on_time=False) for _ in range(2)])
    unsatisfied = add(url, [ticket_row(DAY, satisfaction="unsatisfied", resolved=False)])
    add(url, [ticket_row(DAY) for _ in range(9)])
    add(
        url,
        [
            ticket_row(
                DAY,
                street="qd.shinan.yunnanlu",
                lead_unit="qd.shinan.yunnanlu",
                category="labour.wage_arrears",
                repeat_count=2,
            )
            for _ in range(12)
        ],
    )
    _loaded[url] = late, unsatisfied
    return late, unsatisfied


async def test_the_office_sees_the_ranking_and_a_unit_its_own_line(api):
    late, _ = _month(api)
    center, unit = api.auth("center"), api.auth("unit", "qd.shinan.badaxia")
    r = await api.http.get("/assessment/rankings", params={"group": "street", "period": "2024-03"}, headers=center)
    assert r.status_code == 200, r.text
    body = r.json()
    ranked = [u["unit"] for u in body["units"] if u["ranked"]]
    assert ranked[:2] == ["qd.shinan.yunnanlu", "qd.shinan.badaxia"] and body["min_sample"] == 10
    mine = (await api.http.get("/assessment/rankings", params={"period": "2024-03"}, headers=unit)).json()["units"]
    assert [u["unit"] for u in mine] == ["qd.shinan.badaxia"] and mine[0]["rank"] == 2
    own = await api.http.get("/assessment/units/qd.shinan.badaxia", params={"period": "2024-03"}, headers=unit)
    assert own.json()["rates"]["response"] == 0.8333
    other = await api.http.get("/assessment/units/qd.shinan.yunnanlu", params={"period": "2024-03"}, headers=unit)
    assert other.status_code == 403
    missed = await api.http.get(
        "/assessment/units/qd.shinan.badaxia/tickets",
        headers=unit,
        params={"period": "2024-03", "metric": "response", "outcome": "missed"},
    )
    assert {t["number"] for t in missed.json()["items"]} == set(late) and missed.json()["total"] == 2
    assert (await api.http.get("/assessment/rankings", headers=api.auth("intake"))).status_code == 403
    district = await api.http.get(
        "/assessment/rankings", params={"group": "district", "period": "2024-03"}, headers=center
    )
    assert next(u for u in district.json()["units"] if u["unit"] == "qd.shinan")["assessed"] == 24


async def test_a_ticket_ruled_out_after_review_says_who_and_why(api):
    _, unsatisfied = _month(api)
    center = api.auth("center")
    body = {"number": unsatisfied[0], "reason": "malicious", "note": "同一人反复恶意投诉，经核查不实"}
    assert (
        await api.http.post("/assessment/exclusions", json=body, headers=api.auth("unit", "qd.shinan.badaxia"))
    ).status_code == 403
    r = await api.http.post("/assessment/exclusions", json=body, headers=center)
    assert r.status_code == 201 and r.json()["decided_by"] == "center:tester"
    listed = (await api.http.get("/assessment/exclusions", params={"period": "2024-03"}, headers=center)).json()
    assert [(e["number"], e["reason"]) for e in listed] == [(unsatisfied[0], "malicious")]
    excluded = await api.http.get(
        "/assessment/units/qd.shinan.badaxia/tickets",
        headers=center,
        params={"period": "2024-03", "metric": "excluded"},
    )
    assert [t["number"] for t in excluded.json()["items"]] == unsatisfied
    assert (await api.http.delete(f"/assessment/exclusions/{unsatisfied[0]}", headers=center)).status_code == 204
    assert (
        await api.http.post("/assessment/exclusions", json={**body, "number": "nope"}, headers=center)
    ).status_code == 404


async def test_a_report_is_produced_listed_and_downloaded(api):
    _month(api)
    center = api.auth("center")
    r = await api.http.post("/assessment/reports", json={"kind": "monthly", "period": "2024-03"}, headers=center)
    assert r.status_code == 200, r.text
    report_id = r.json()["id"]
    listed = (await api.http.get("/assessment/reports", params={"kind": "monthly"}, headers=center)).json()
    assert report_id in [x["id"] for x in listed]
    full = (await api.http.get(f"/assessment/reports/{report_id}", headers=center)).json()
    assert full["content"]["volume"]["category"]["labour.wage_arrears"] == 12
    csv_r = await api.http.get(f"/assessment/reports/{report_id}/download", params={"format": "csv"}, headers=center)
    assert csv_r.headers["content-type"].startswith("text/csv") and "qd.shinan.badaxia" in csv_r.content.decode(
        "utf-8-sig"
    )
    x = await api.http.get(f"/assessment/reports/{report_id}/download", params={"format": "xlsx"}, headers=center)
    wb = load_workbook(io.BytesIO(x.content))
    assert any("ranking street" in n for n in wb.sheetnames)
    assert (await api.http.get("/assessment/reports", headers=api.auth("unit", "qd.shinan.badaxia"))).status_code == 403
    wrong = await api.http.post("/assessment/reports", json={"kind": "weekly", "period": "2024-03"}, headers=center)
    assert wrong.status_code == 422


async def test_a_leader_picks_the_months_focus_and_follows_it(api):
    _month(api)
    candidates = (
        await api.http.get("/assessment/focus/candidates", params={"month": "2024-03"}, headers=api.auth("supervisor"))
    ).json()
    top = candidates[0]
    assert (top["category"], top["district"], top["repeats"]) == ("labour.wage_arrears", "qd.shinan", 24)
    pick = {"category": top["category"], "district": top["district"], "title": "根治欠薪", "note": "市领导牵头"}
    assert (await api.http.put("/assessment/focus/2024-03", json=pick, headers=api.auth("center"))).status_code == 403
    r = await api.http.put("/assessment/focus/2024-03", json=pick, headers=api.auth("leader"))
    assert r.status_code == 200, r.text
    trend = {t["month"]: t["tickets"] for t in r.json()["trend"]}
    assert trend["2024-03"] == 12 and trend["2024-02"] == 0
    tickets = (await api.http.get("/assessment/focus/2024-03/tickets", headers=api.auth("leader"))).json()
    assert tickets["total"] == trend["2024-03"]


async def test_warnings_reach_the_units_they_concern(api):
    with db.session(api.settings.database_url) as session:
        w = EarlyWarningRow(
            key="water.supply|qd.shinan.badaxia|团岛社区",
            category="water.supply",
            district="qd.shinan",
            street="qd.shinan.badaxia",
            community="团岛社区",
            count=12,
            baseline=0.1,
            window_start=DAY,
            window_end=DAY + timedelta(hours=2),
            raised_at=DAY + timedelta(hours=2),
            numbers="A1 A2",
            recipients=["qd.shinan", "qd.dept.water"],
        )
        session.add(w)
        session.commit()
        wid = w.id
    seen = (await api.http.get("/assessment/warnings", headers=api.auth("unit", "qd.shinan"))).json()
    assert wid in [x["id"] for x in seen]
    assert wid not in [
        x["id"]
        for x in (await api.http.get("/assessment/warnings", headers=api.auth("unit", "qd.shinan.badaxia"))).json()
    ]
    assert wid in [x["id"] for x in (await api.http.get("/assessment/warnings", headers=api.auth("center"))).json()]
