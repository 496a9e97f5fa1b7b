"""Next year's official calendar applied to open tickets (POST /calendar/apply, `hotline calendar
apply`): a ticket whose deadline was estimated is re-timed through its workflow, with a timeline
line; a ticket whose deadline was not estimated keeps it; running it again changes nothing."""

from datetime import date, datetime, timedelta

import pytest_asyncio
from sqlmodel import select

from api.calendar import apply_to_open_tickets
from catalog.calendar import build_calendar, calendar_to_apply
from domain.deadlines.calendar import CHINA_TZ
from domain.ticket import Actor
from domain.vocabulary import Role
from readmodel import db
from readmodel.tables import IntakeRequestRow, TicketRow
from tests.api.conftest import serve
from tests.api.test_end_to_end import fresh
from tests.eventually import assert_eventually
from tests.finish import finish

# A center's calendar file with an official 2027 schedule (test data: New Year Jan 1-3 and a
# make-up Saturday on Jan 9, which the rule-based estimate does not know).
OFFICIAL_2027 = """
[years.2027]
published = "国务院办公厅关于2027年部分节假日安排的通知（测试数据）"
holidays = ["2027-01-01", "2027-01-02", "2027-01-03"]
workdays = ["2027-01-09"]
"""


@pytest_asyncio.fixture
async def api(time_env, settings, tmp_path):
    center_file = tmp_path / "calendar.toml"
    center_file.write_text("# no 2027 yet\n", encoding="utf-8")
    update = {"policy_pack": "sichuan", "calendar_file": center_file}
    async with serve(time_env, settings.model_copy(update=update)) as running:
        running.center_file = center_file
        yield running
        with db.session(settings.database_url) as session:
            numbers = session.exec(select(IntakeRequestRow.number)).all()
        for number in numbers:
            await finish(time_env.client, f"ticket-{number}")


async def _row(api, number: str, check=lambda row: True) -> TicketRow:
    def read():
        with db.session(api.settings.database_url) as session:
            row = session.get(TicketRow, number)
            return row if row is not None and check(row) else None

    def found() -> TicketRow:
        row = read()
        assert row is not None, f"ticket {number} not yet in the read model as expected"
        return row

    return await assert_eventually(found)


async def test_an_official_2027_schedule_re_times_estimated_deadlines_only(api, time_env):
    # Monday 21 Dec 2026: a complaint has 15 working days under the Sichuan pack, into 2027.
    await time_env.sleep(datetime(2026, 12, 21, 9, tzinfo=CHINA_TZ) - await time_env.get_current_time())
    intake, center = api.auth("intake"), api.auth("center")
    estimated = (await api.http.post("/tickets", json=fresh(kind="complaint"), headers=intake)).json()["number"]
    exact = (await api.http.post("/tickets", json=fresh(kind="complaint", urgency="emergency"), headers=intake)).json()[
        "number"
    ]
    row = await _row(api, estimated, lambda r: r.deadline is not None)
    assert (
        row.deadline_estimated
        and (await _row(api, exact, lambda r: r.deadline is not None)).deadline_estimated is False
    )

    before = (await api.http.get(f"/tickets/{estimated}", headers=center)).json()
    exact_before = (await api.http.get(f"/tickets/{exact}", headers=center)).json()
    assert before["deadline_estimated"] and "estimated_deadline" in before["flags"]
    dispatched = datetime.fromisoformat(next(e["at"] for e in before["timeline"] if e["event"] == "dispatched"))
    rule_based = build_calendar([2026, 2027, 2028])
    assert datetime.fromisoformat(before["deadline"]) == rule_based.add_working_days(dispatched, 15)[0]

    # Only the center applies a calendar.
    r = await api.http.post("/calendar/apply", headers=api.auth("supervisor"))
    assert r.status_code == 403

    # The State Council publishes 2027: the center adds it to its calendar file and applies it.
    api.center_file.write_text(OFFICIAL_2027, encoding="utf-8")
    r = await api.http.post("/calendar/apply", headers=center, json={"note": "国办发明电〔2026〕X号"})
    assert r.status_code == 200, r.text
    applied = r.json()
    assert {y["year"]: y["source"] for y in applied["years"]}[2027] == "center_file"
    assert [t["number"] for t in applied["retimed"]] == [estimated] and applied["failed"] == []

    official = calendar_to_apply(date(2026, 12, 21), api.center_file)
    expected = rule_based.updated_with(official).add_working_days(dispatched, 15)[0]
    assert expected != datetime.fromisoformat(before["deadline"])  # the make-up Saturday counts
    after = (await api.http.get(f"/tickets/{estimated}", headers=center)).json()
    assert datetime.fromisoformat(after["deadline"]) == expected
    assert not after["deadline_estimated"] and "estimated_deadline" not in after["flags"]
    moved = [e for e in after["timeline"] if e["event"] == "deadline_moved"]
    assert [(m["actor"], m["data"]["clock"], m["data"]["was"]) for m in moved] == [
        ("center:tester", "completion", before["deadline"])
    ]
    # The list follows.
    listed = (await api.http.get("/tickets", headers=center)).json()["items"]
    item = next(t for t in listed if t["number"] == estimated)
    assert (datetime.fromisoformat(item["deadline"]), item["deadline_estimated"]) == (expected, False)

    # The ticket that was never estimated keeps its deadline and its timeline.
    exact_after = (await api.http.get(f"/tickets/{exact}", headers=center)).json()
    assert exact_after["deadline"] == exact_before["deadline"]
    assert len(exact_after["timeline"]) == len(exact_before["timeline"])

    # Applying it again: nothing left to re-time.
    again = await apply_to_open_tickets(
        api.client, api.settings.database_url, official, Actor(role=Role.center, user="cli")
    )
    assert again.retimed == [] and again.failed == []
    final = (await api.http.get(f"/tickets/{estimated}", headers=center)).json()
    assert final["deadline"] == after["deadline"] and len(final["timeline"]) == len(after["timeline"])

    # The re-timed clock fires at its new time: one day earlier than the estimate said.
    await time_env.sleep(expected - await time_env.get_current_time() + timedelta(minutes=1))
    breached = (await api.http.get(f"/tickets/{estimated}", headers=center)).json()
    assert breached["overdue"]
    at = next(e["at"] for e in breached["timeline"]
              if e["event"] == "deadline_breached" and e["data"]["clock"] == "completion")  # fmt: skip
    assert abs(datetime.fromisoformat(at) - expected) < timedelta(seconds=5)
