"""The workbench's boards counted in SQL: the supervisors' overview (by stage, tier and place,
today by local hour, the week by local day) and the center's queues (counts and nearest deadline
first), on the read model as the projection writes it."""

from datetime import UTC, datetime, timedelta

from activities.projection import ProjectionActivities
from domain.contracts import Projection
from domain.deadlines.calendar import CHINA_TZ
from domain.ticket import ExtensionRequest, TicketState
from domain.vocabulary import Stage
from readmodel import db
from readmodel.tables import TicketRow
from tests.factories import ticket_input
from web import routes

NAMES = {
    "qd.shinan": "市南区",
    "qd.shinan.badaxia": "八大峡街道",
    "qd.shibei": "市北区",
    "qd.shibei.taidong": "台东街道",
}


def row(number: str, stage: str, received: datetime, **kw) -> TicketRow:
    values = {"workflow_id": f"ticket-{number}", "tier": "street", "category": "environment.noise",
              "district": "qd.shinan", "street": "qd.shinan.badaxia", "urgency": "normal", "kind": "complaint",
              "channel": "phone", "state_json": "{}", **kw}  # fmt: skip
    return TicketRow(number=number, stage=stage, received_at=received, **values)


def local(day: datetime, hour: int) -> datetime:
    """`hour` o'clock China time on the local day of `day`, in UTC."""
    d = day.astimezone(CHINA_TZ).date()
    return datetime(d.year, d.month, d.day, hour, 30, tzinfo=CHINA_TZ).astimezone(UTC)


def test_the_overview_counts_by_stage_place_hour_and_day(settings):
    now = datetime.now(UTC)
    today_hour = now.astimezone(CHINA_TZ).hour
    with db.session(settings.database_url) as s:
        s.add(row("1", "dispatch", local(now, today_hour), overdue=True))
        s.add(row("2", "handling", local(now, 0), warned=True, tier="district"))
        s.add(row("3", "handling", local(now - timedelta(days=2), 9), district="qd.shibei", street="qd.shibei.taidong"))
        s.add(row("4", "closed", local(now - timedelta(days=3), 10), closed_at=local(now, 0)))
        s.add(row("5", "closed", now - timedelta(days=30), closed_at=now - timedelta(days=20)))  # before the week
        s.commit()
    o = routes.overview(settings.database_url, NAMES)
    assert (o.open, o.overdue, o.warned) == (3, 1, 1)
    assert o.by_stage == {"dispatch": 1, "handling": 2} and o.by_tier == {"street": 2, "district": 1}
    assert [(d.id, d.open, d.overdue, d.warned) for d in o.districts] == [
        ("qd.shinan", 2, 1, 1),
        ("qd.shibei", 1, 0, 0),
    ]
    assert [(a.name, a.open) for a in o.streets["qd.shibei"]] == [("台东街道", 1)]
    assert o.today == {"received": 2, "closed": 1}
    hours = {h["hour"]: (h["received"], h["closed"]) for h in o.today_by_hour if h["received"] or h["closed"]}
    assert hours == ({0: (2, 1)} if today_hour == 0 else {0: (1, 1), today_hour: (1, 0)})
    week = {w["date"]: (w["received"], w["closed"]) for w in o.week}
    day = lambda n: (now - timedelta(days=n)).astimezone(CHINA_TZ).date().isoformat()  # noqa: E731
    assert len(week) == 7 and week[day(0)] == (2, 1) and week[day(2)] == (1, 0) and week[day(3)] == (1, 0)
    assert sum(r for r, _ in week.values()) == 4 and sum(c for _, c in week.values()) == 1


def test_the_center_queues_count_in_one_pass_and_list_the_nearest_deadline_first(settings):
    now = datetime.now(UTC)
    with db.session(settings.database_url) as s:
        s.add(row("1", "handling", now, flags="return_pending urged", deadline=now + timedelta(days=2)))
        s.add(row("2", "handling", now, flags="return_pending", deadline=now + timedelta(hours=1), warned=True))
        s.add(row("3", "handling", now, flags="return_pending"))  # no deadline: last
        s.add(row("4", "callback", now))
        s.add(row("5", "handling", now, flags="in_consultation awaiting_ruling", overdue=True, deadline=now))
        s.add(row("6", "closed", now, flags="return_pending", outcome="hard_case", closed_at=now))
        s.commit()
    q = routes.queue(settings.database_url, "returns", 200)
    assert [t.number for t in q.items] == ["2", "1", "3"]
    assert q.counts == {"returns": 3, "extensions": 0, "follow_up": 0, "callbacks": 1, "warnings": 2,
                        "consultations": 1, "rulings": 1, "hard_cases": 1}  # fmt: skip
    assert [t.number for t in routes.queue(settings.database_url, "warnings", 1).items] == ["5"]
    assert [t.number for t in routes.queue(settings.database_url, "hard_cases", 200).items] == ["6"]


def test_a_pending_extension_is_a_column_the_extensions_queue_reads(settings):
    now = datetime.now(UTC)
    s = TicketState(number="20261122000042", workflow_id="ticket-20261122000042", request=ticket_input().request,
                    received_at=now, stage=Stage.handling, lead_unit="qd.shinan.badaxia", version=1)  # fmt: skip
    s.extensions = [ExtensionRequest(unit="qd.shinan.badaxia", by="3d", reason="需要协调", at=now)]
    project = ProjectionActivities(settings).project_ticket
    project(Projection(state=s.masked(), citizen_key="k"))
    q = routes.queue(settings.database_url, "extensions", 200)
    assert [t.number for t in q.items] == ["20261122000042"] and q.items[0].extension_pending
    s.extensions[0].decision, s.version = "approved", 2
    project(Projection(state=s.masked(), citizen_key="k"))
    assert routes.queue(settings.database_url, "extensions", 200).counts["extensions"] == 0
