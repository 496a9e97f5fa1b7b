"""What units, supervisors and the center do about deadlines: extensions, the street's whistle,
escalation on request, urging — and a worker outage across a deadline."""

from datetime import timedelta

import pytest
from sqlmodel import select
from temporalio.client import WorkflowUpdateFailedError

from domain.ticket import Actor
from domain.vocabulary import Role, Tier, Urgency
from readmodel import db
from readmodel.tables import DeliveryRow
from tests.eventually import assert_eventually
from tests.factories import ticket_input
from tests.workflows import drive

LEAD = "qd.shinan.badaxia"
URBAN = {"qd.dept.urban": "青岛市城市管理局"}
ENVIRONMENT = {"qd.dept.environment": "青岛市生态环境局"}


async def refused(kind: str, call) -> str:
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await call
    assert err.value.cause.type == kind, err.value.cause
    return err.value.cause.message


async def test_an_extension_asked_in_time_moves_the_deadline_and_tells_the_citizen(time_env, queue):
    h = await drive.start(time_env, queue, ticket_input())
    await drive.acknowledge(h, LEAD)
    due = (await drive.state(h)).deadline
    await drive.ask_extension(h, LEAD, "3d")
    assert "waiting" in await refused("Conflict", drive.ask_extension(h, LEAD, "1d"))
    await drive.decide_extension(h, approve=True, note="同意延期三天")
    s = await drive.state(h)
    assert s.deadline == due + timedelta(days=3)
    assert [e.event for e in s.timeline][-3:] == ["extension_approved", "deadline_moved", "citizen_notified"]
    # Qingdao allows one extension per ticket.
    assert "allows 1 extension" in await refused("Conflict", drive.ask_extension(h, LEAD, "1d"))
    # The old deadline passes quietly; the new one is what counts.
    await time_env.sleep(due - s.timeline[-1].at + timedelta(hours=2))
    s = await drive.state(h)
    assert s.clocks["completion"].breached_at is None and s.tier == Tier.street


async def test_an_extension_after_the_deadline_or_too_long_is_refused(time_env, queue):
    h = await drive.start(time_env, queue, ticket_input(urgency=Urgency.urgent))
    await drive.acknowledge(h, LEAD)
    assert "at most 7d" in await refused("Invalid", drive.ask_extension(h, LEAD, "10d"))
    assert "not waiting" not in await refused("Conflict", drive.decide_extension(h, approve=True))
    await time_env.sleep(timedelta(hours=24, minutes=10))  # urgent: 24 h; escalation only at +1 h
    assert "has passed" in await refused("Conflict", drive.ask_extension(h, LEAD, "1d"))


async def test_a_rejected_extension_leaves_the_deadline(time_env, queue):
    h = await drive.start(time_env, queue, ticket_input())
    await drive.acknowledge(h, LEAD)
    due = (await drive.state(h)).deadline
    await drive.ask_extension(h, LEAD, "2d")
    await drive.decide_extension(h, approve=False, note="情况不复杂，按期办结")
    s = await drive.state(h)
    assert s.deadline == due and s.extensions[0].decision == "rejected"


async def test_the_whistle_summons_departments_who_must_report_in_time(time_env, queue, settings):
    inp = ticket_input()
    h = await drive.start(time_env, queue, inp)
    assert "acknowledge" in await refused("Conflict", drive.whistle(h, LEAD, URBAN))
    await drive.acknowledge(h, LEAD)
    await drive.whistle(h, LEAD, URBAN | ENVIRONMENT)
    assert "already cooperating" in await refused("Conflict", drive.whistle(h, LEAD, URBAN))
    await drive.acknowledge(h, "qd.dept.urban")  # 城管 reports at once
    await time_env.sleep(timedelta(minutes=65))  # 生态环境局 does not (Qingdao: 30 min to report)

    s = await drive.state(h)
    assert set(s.cooperating) == {"qd.dept.urban", "qd.dept.environment"}
    assert s.cooperating["qd.dept.urban"].acknowledged_at is not None
    late = [
        e.event for e in s.timeline if e.data.get("unit") == "qd.dept.environment" and e.data.get("clock") == "report"
    ]
    assert late == ["deadline_warning", "deadline_breached", "reminder", "supervision"]
    assert not [e for e in s.timeline if e.data.get("unit") == "qd.dept.urban" and e.data.get("clock") == "report"]

    def delivered():  # deliveries run in the background: the last ones land a moment later
        with db.session(settings.database_url) as session:
            rows = session.exec(select(DeliveryRow).where(DeliveryRow.ticket == inp.number)).all()
        assert {d.unit for d in rows if d.kind == "whistle"} == {"qd.dept.urban", "qd.dept.environment"}
        assert "qd.dept.environment" in {d.unit for d in rows if d.kind == "reminder"}

    await assert_eventually(delivered, timeout=20)


async def test_only_a_street_lead_whistles(time_env, queue):
    h = await drive.start(time_env, queue, ticket_input(category="transport.taxi"))
    await drive.acknowledge(h, "qd.dept.transport")
    assert "street office" in await refused("Forbidden", drive.whistle(h, "qd.dept.transport", URBAN))


async def test_the_street_may_escalate_at_once_then_the_center_up_to_the_city(time_env, queue):
    h = await drive.start(time_env, queue, ticket_input())
    await drive.acknowledge(h, LEAD)
    await drive.request_escalation(h, drive.unit(LEAD))
    s = await drive.state(h)
    assert (s.tier, s.coordinator_unit) == (Tier.district, "qd.shinan")
    assert "already coordinated" in await refused("Conflict", drive.request_escalation(h, drive.unit(LEAD)))
    assert "does not handle" in await refused(
        "Forbidden", drive.request_escalation(h, drive.unit("qd.shinan.yunnanlu"))
    )
    await drive.request_escalation(h, drive.CENTER)
    assert (await drive.state(h)).tier == Tier.city
    assert "city tier" in await refused("Conflict", drive.request_escalation(h, drive.CENTER))


async def test_the_sector_supervisor_and_the_center_urge_and_it_is_counted(time_env, queue, settings):
    inp = ticket_input()
    h = await drive.start(time_env, queue, inp)
    await drive.urge(h, drive.unit("qd.dept.urban"))
    await drive.urge(h, Actor(role=Role.supervisor, user="督办科"))
    assert "sector supervisor" in await refused("Forbidden", drive.urge(h, drive.unit("qd.dept.housing")))
    s = await drive.state(h)
    assert len(s.urges) == 2 and "urged" in s.flags
    await time_env.sleep(timedelta(seconds=1))
    with db.session(settings.database_url) as session:
        from readmodel.tables import TicketRow

        assert session.get(TicketRow, inp.number).urge_count == 2
        urged = session.exec(
            select(DeliveryRow).where(DeliveryRow.ticket == inp.number, DeliveryRow.kind == "urge")
        ).all()
    assert [d.unit for d in urged] == [LEAD, LEAD]
