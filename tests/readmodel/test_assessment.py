"""The assessment's figures from the read model (run on SQLite and, with --postgres, PostgreSQL):
rates by the pack's definitions, exclusions with who and why, the joint department assessment,
drill-downs that list exactly the tickets a figure counts, the surge scan, the monthly focus and
the stored report."""

import json
from datetime import UTC, datetime, timedelta

from activities.assessment import AssessmentActivities, produce
from activities.projection import ProjectionActivities
from api.routes.assessment import report_tables, to_csv, to_xlsx
from catalog.cities import load_directory
from catalog.policies import load_pack
from domain.assessment import Group, Period, ReportKind, ScanInput
from domain.contracts import Projection
from domain.policy import ClockName
from domain.ticket import Clock, TicketState
from domain.vocabulary import Stage
from readmodel import assessment, db
from readmodel.tables import AssessmentExclusionRow, AssessmentReportRow, MonthlyFocusRow, TicketRow
from tests.assessment_rows import add, ticket_row
from tests.factories import ticket_input

RULE = load_pack("qingdao").assessment
DIRECTORY = load_directory("qingdao")
NOV = Period.parse("2025-11")
DAY = NOV.start + timedelta(days=3)


def figures(url, group, unit, period=NOV):
    with db.session(url) as session:
        return next(s for s in assessment.ranking(session, DIRECTORY, group, period, RULE) if s.unit == unit)


def drill(url, group, unit, metric, outcome=None, period=NOV):
    with db.session(url) as session:
        return {r.number for r in session.exec(assessment.drill_down(group, unit, period, metric, outcome, RULE))}


def test_three_rates_decline_and_on_time_with_their_tickets(settings):
    url = settings.database_url
    late = add(url, [ticket_row(DAY, contacted_on_time=False, completed_on_time=False) for _ in range(2)])
    unresolved = add(url, [ticket_row(DAY, resolved=False, satisfaction="unsatisfied")])
    basically = add(url, [ticket_row(DAY, satisfaction="basically_satisfied")])
    undecided = add(
        url,
        [
            ticket_row(
                DAY, contacted_on_time=None, resolved=None, satisfaction=None, completed_on_time=None, stage="handling"
            )
        ],
    )
    good = add(url, [ticket_row(DAY + timedelta(hours=i)) for i in range(7)])
    add(url, [ticket_row(NOV.previous().start + timedelta(days=1)) for _ in range(16)])  # October: 16
    add(url, [ticket_row(DAY, lead_unit=None, intake_path="direct_answer")])  # answered at once: not assessed

    s = figures(url, Group.street, "qd.shinan.badaxia")
    assert s.assessed == 12 and s.counts.previous == 16
    assert s.rates["response"] == round(9 / 11, 4)  # contacted in time / contact decided
    assert s.rates["resolution"] == round(10 / 11, 4)  # callback said resolved / answered
    assert s.rates["satisfaction"] == round(10 / 11, 4)  # satisfied + basically satisfied
    assert s.rates["on_time"] == round(9 / 11, 4)
    assert s.rates["decline"] == 0.25  # 16 -> 12
    assert {i.fact: i.count for i in s.items}["overdue"] == 2

    assert drill(url, Group.street, "qd.shinan.badaxia", "response", "missed") == set(late)
    assert drill(url, Group.street, "qd.shinan.badaxia", "response", "counted") == set(unresolved + basically + good)
    assert drill(url, Group.street, "qd.shinan.badaxia", "satisfaction", "counted") >= set(basically)
    assert drill(url, Group.street, "qd.shinan.badaxia", "resolution", "missed") == set(unresolved)
    assert drill(url, Group.street, "qd.shinan.badaxia", "volume") == set(
        late + unresolved + basically + undecided + good
    )
    assert drill(url, Group.street, "qd.shinan.badaxia", "overdue") == set(late)
    # The district answers for its area: the same tickets.
    assert figures(url, Group.district, "qd.shinan").assessed == 12


def test_a_ticket_ruled_out_after_review_leaves_every_figure(settings):
    url = settings.database_url
    bad = add(url, [ticket_row(DAY, resolved=False, satisfaction="unsatisfied", kind="complaint")])[0]
    add(url, [ticket_row(DAY) for _ in range(3)])
    assert figures(url, Group.street, "qd.shinan.badaxia").rates["satisfaction"] == 0.75
    with db.session(url) as session:
        session.add(
            AssessmentExclusionRow(
                number=bad,
                reason="enterprise_clearing",
                note="经核查投诉不实，为企正名",
                decided_by="center:张科长",
                decided_at=DAY,
            )
        )
        session.commit()
    s = figures(url, Group.street, "qd.shinan.badaxia")
    assert s.assessed == 3 and s.rates["satisfaction"] == 1.0
    assert drill(url, Group.street, "qd.shinan.badaxia", "excluded") == {bad}
    assert bad not in drill(url, Group.street, "qd.shinan.badaxia", "volume")


def test_departments_answer_for_what_they_supervise_and_what_they_lead(settings):
    url = settings.database_url
    supervised = add(
        url,
        [
            ticket_row(DAY, supervisor_unit="qd.dept.water", lead_unit="qd.util.water", category="water.supply")
            for _ in range(3)
        ],
    )
    led = add(url, [ticket_row(DAY, supervisor_unit="qd.dept.urban", lead_unit="qd.dept.water") for _ in range(2)])
    s = figures(url, Group.department, "qd.dept.water")
    assert s.assessed == 5
    assert drill(url, Group.department, "qd.dept.water", "volume") == set(supervised + led)
    assert figures(url, Group.utility, "qd.util.water").assessed == 3  # the company: what it leads
    # The locality of the same tickets is scored on them too (dual assessment).
    assert figures(url, Group.street, "qd.shinan.badaxia").assessed == 5


def test_a_drill_down_reads_page_by_page_the_tickets_it_lists(settings):
    """What the API shows: pages in (received_at, number) order, none lost or repeated where a
    department's supervised and led tickets interleave and share a minute, the total on every
    page, past the last page only the total."""
    url = settings.database_url
    supervised = add(
        url,
        [
            ticket_row(DAY + timedelta(minutes=i // 2), supervisor_unit="qd.dept.water", lead_unit="qd.util.water")
            for i in range(13)
        ],
    )
    led = add(
        url,
        [
            ticket_row(DAY + timedelta(minutes=i), supervisor_unit="qd.dept.urban", lead_unit="qd.dept.water")
            for i in range(9)
        ],
    )
    unsatisfied = add(
        url, [ticket_row(DAY + timedelta(minutes=3), lead_unit="qd.dept.water", satisfaction="unsatisfied")]
    )
    with db.session(url) as session:
        everything = [
            r.number
            for r in session.exec(assessment.drill_down(Group.department, "qd.dept.water", NOV, "volume", None, RULE))
        ]
        assert set(everything) == set(supervised + led + unsatisfied)
        pages = []
        for page in range(1, 6):
            total, rows = assessment.drill_down_page(
                session, Group.department, "qd.dept.water", NOV, "volume", None, RULE, page, 5
            )
            assert total == 23
            pages.append([r.number for r in rows])
        assert [n for p in pages for n in p] == everything and [len(p) for p in pages] == [5, 5, 5, 5, 3]
        assert assessment.drill_down_page(
            session, Group.department, "qd.dept.water", NOV, "volume", None, RULE, 6, 5
        ) == (23, [])
        total, rows = assessment.drill_down_page(
            session, Group.department, "qd.dept.water", NOV, "satisfaction", "missed", RULE, 1, 50
        )
        assert (total, [r.number for r in rows]) == (1, unsatisfied)
        total, rows = assessment.drill_down_page(
            session, Group.street, "qd.shinan.badaxia", NOV, "volume", None, RULE, 2, 20
        )
        street = [
            r.number
            for r in session.exec(assessment.drill_down(Group.street, "qd.shinan.badaxia", NOV, "volume", None, RULE))
        ]
        assert total == 23 and [r.number for r in rows] == street[20:]
        for number in led[:3] + supervised[-2:]:
            session.add(
                AssessmentExclusionRow(
                    number=number, reason="unreasonable", note="经核查", decided_by="center:李", decided_at=DAY
                )
            )
        session.commit()
        total, rows = assessment.drill_down_page(
            session, Group.department, "qd.dept.water", NOV, "excluded", None, RULE, 2, 3
        )
        ruled_out = [
            r.number
            for r in session.exec(assessment.drill_down(Group.department, "qd.dept.water", NOV, "excluded", None, RULE))
        ]
        assert total == 5 and [r.number for r in rows] == ruled_out[3:] and len(ruled_out) == 5
        assert (
            assessment.drill_down_page(session, Group.department, "qd.dept.water", NOV, "volume", None, RULE, 1, 50)[0]
            == 18
        )


def test_ranking_with_minimum_sample_and_the_change_since_last_month(settings):
    url = settings.database_url
    oct_day = NOV.previous().start + timedelta(days=2)
    # October: 八大峡 worse than 云南路; November the other way round. 中山路 has 3 perfect tickets.
    add(url, [ticket_row(oct_day, contacted_on_time=i < 5) for i in range(10)])
    add(url, [ticket_row(oct_day, street="qd.shinan.yunnanlu", lead_unit="qd.shinan.yunnanlu") for _ in range(10)])
    add(url, [ticket_row(DAY) for _ in range(10)])
    add(
        url,
        [
            ticket_row(DAY, street="qd.shinan.yunnanlu", lead_unit="qd.shinan.yunnanlu", contacted_on_time=i < 5)
            for i in range(10)
        ],
    )
    add(url, [ticket_row(DAY, street="qd.shinan.zhongshanlu", lead_unit="qd.shinan.zhongshanlu") for _ in range(3)])
    with db.session(url) as session:
        ranked = assessment.ranking(session, DIRECTORY, Group.street, NOV, RULE)
    top = [s for s in ranked if s.ranked]
    assert [s.unit for s in top] == ["qd.shinan.badaxia", "qd.shinan.yunnanlu"]
    assert top[0].rank_change == 1 and top[1].rank_change == -1
    small = next(s for s in ranked if s.unit == "qd.shinan.zhongshanlu")
    assert small.rank is None and not small.ranked and small.assessed == 3
    assert len(ranked) == len([u for u in DIRECTORY.units.values() if u.tier == "street"])  # every street listed


def _water(at, community="团岛社区", street="qd.shinan.badaxia"):
    return ticket_row(
        at,
        category="water.supply",
        lead_unit="qd.util.water",
        supervisor_unit="qd.dept.water",
        street=street,
        community=community,
        stage="dispatch",
        resolved=None,
        satisfaction=None,
    )


def test_twelve_water_complaints_in_one_community_raise_one_warning_a_normal_day_none(settings):
    url = settings.database_url
    now = datetime(2025, 11, 20, 10, tzinfo=UTC)
    rule = RULE.surge
    # A normal day: the usual spread of requests over the day, a few water complaints here and there.
    normal = [
        ticket_row(now - timedelta(minutes=37 * i), category=c, street=s, community=m)
        for i, (c, s, m) in enumerate(
            [
                ("urban.street_vendor", "qd.shinan.badaxia", None),
                ("water.supply", "qd.shinan.yunnanlu", "云南社区"),
                ("noise.construction", "qd.shinan.zhongshanlu", None),
            ]
            * 13
        )
    ]
    add(url, normal)
    with db.session(url) as session:
        assert assessment.scan_surges(session, now, rule) == []
    cluster = add(url, [_water(now - timedelta(minutes=9 * i + 1)) for i in range(12)])  # 12 within 2 h
    raised = AssessmentActivities(settings).scan_surges(ScanInput(at=now))
    assert len(raised) == 1
    assert set(raised[0].recipients) == {"qd.shinan", "qd.dept.water"}  # the district and the sector supervisor
    assert "团岛社区" in raised[0].message and "12件" in raised[0].message
    with db.session(url) as session:
        w = assessment.warnings_in(session, now - timedelta(hours=1), now + timedelta(hours=1))
        assert len(w) == 1 and set(w[0].numbers.split()) == set(cluster) and w[0].community == "团岛社区"
        # The next scan, ten minutes on: the same surge is not warned of twice.
        assert assessment.scan_surges(session, now + timedelta(minutes=10), rule) == []


def test_focus_candidates_and_the_trend_of_the_picked_topic(settings):
    url = settings.database_url
    add(
        url,
        [
            ticket_row(DAY, category="labour.wage_arrears", repeat_count=1, satisfaction="unsatisfied")
            for _ in range(10)
        ],
    )
    add(url, [ticket_row(DAY) for _ in range(12)])
    add(url, [ticket_row(NOV.next().start + timedelta(days=2), category="labour.wage_arrears") for _ in range(5)])
    with db.session(url) as session:
        candidates = assessment.focus_candidates(session, NOV, RULE)
        assert candidates[0]["category"] == "labour.wage_arrears"  # 10 + 2x10 repeats + 3x10 unsatisfied
        assert candidates[0]["score"] == 60 and candidates[1]["tickets"] == 12
        focus = MonthlyFocusRow(
            month="2025-11", category="labour.wage_arrears", title="欠薪", picked_by="leader", picked_at=DAY
        )
        trend = {t["month"]: t for t in assessment.focus_trend(session, focus)}
    assert trend["2025-11"]["tickets"] == 10 and trend["2025-12"]["change_vs_focus_month"] == -0.5


def test_a_report_is_stored_and_renders_as_csv_and_xlsx(settings):
    url = settings.database_url
    add(url, [ticket_row(DAY, channel="wechat" if i % 2 else "phone", repeat_count=i % 3) for i in range(12)])
    add(url, [ticket_row(DAY, lead_unit="qd.shinan.yunnanlu", first_responsible_unit="qd.shinan.badaxia")])
    receipt = produce(settings, ReportKind.monthly, NOV, "test")
    again = produce(settings, ReportKind.monthly, NOV, "test")  # a rerun replaces it
    assert receipt.id == again.id and receipt.tickets == 13
    with db.session(url) as session:
        row = session.get(AssessmentReportRow, receipt.id)
    content = json.loads(row.content_json)
    assert content["volume"]["channel"] == {"phone": 7, "wechat": 6}
    assert content["handling"]["first_dispatch_accuracy"] == round(12 / 13, 4)
    assert content["handling"]["repeat_tickets"] == 8
    assert content["rankings"]["street"][0]["unit"] == "qd.shinan.badaxia"
    csv_text = to_csv(report_tables(content))
    assert "三率排名 ranking street" in csv_text and "qd.shinan.badaxia" in csv_text
    import io

    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(to_xlsx(report_tables(content))))
    assert any("ranking street" in name for name in wb.sheetnames)


def test_the_projection_writes_what_the_rates_count(settings):
    received = datetime(2026, 11, 22, 1, tzinfo=UTC)
    inp = ticket_input(address={"district": "市南区", "street": "八大峡街道", "text": "团岛社区5号楼"})
    s = TicketState(
        number="20261122000077",
        workflow_id="ticket-20261122000077",
        request=inp.request,
        received_at=received,
        stage=Stage.callback,
        lead_unit="qd.shinan.yunnanlu",
        first_responsible_unit="qd.shinan.badaxia",
        street_unit="qd.shinan.badaxia",
        version=1,
        acknowledged_at=received + timedelta(minutes=30),
    )
    due = received + timedelta(hours=24)
    s.clocks = {
        ClockName.contact.value: Clock(
            name=ClockName.contact,
            limit="24h",
            started_at=received,
            due_at=due,
            warn_at=due,
            met_at=received + timedelta(hours=2),
        ),
        ClockName.completion.value: Clock(
            name=ClockName.completion,
            limit="24h",
            started_at=received,
            due_at=due,
            warn_at=due,
            breached_at=due,
            met_at=due + timedelta(hours=3),
        ),
    }
    ProjectionActivities(settings).project_ticket(Projection(state=s.masked(), citizen_key=None))
    with db.session(settings.database_url) as session:
        row = session.get(TicketRow, s.number)
    assert (row.contacted_on_time, row.completed_on_time, row.acknowledged_on_time) == (True, False, None)
    assert row.community == "团岛社区" and row.first_responsible_unit == "qd.shinan.badaxia"
    assert db.aware(row.acknowledged_at) == received + timedelta(minutes=30)
