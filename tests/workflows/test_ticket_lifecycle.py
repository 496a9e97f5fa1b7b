"""The ticket lifecycle on the time-skipping server: the paths a hotline center sees every day."""

from datetime import timedelta

import pytest
from sqlmodel import col, select
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode

from domain.ticket import Citizen
from domain.vocabulary import Outcome, Satisfaction, Stage, Tier
from readmodel import db
from readmodel.tables import DeliveryRow, TicketRow
from tests.factories import ticket_input
from tests.workflows import drive
from workflows import search_attributes as sa

LEAD = "qd.shinan.badaxia"
SUPERVISOR = "qd.dept.urban"


def _at(s, event):
    return next(e.at for e in s.timeline if e.event == event)


def _near(a, b, within=timedelta(seconds=2)) -> bool:
    """Timers fire on the server's clock: allow the few milliseconds a workflow task takes."""
    return abs(a - b) <= within


async def test_standard_path_closes_with_every_stage_in_the_timeline(time_env, queue, settings):
    inp = ticket_input()
    h = await drive.start(time_env, queue, inp)

    s = await drive.state(h)
    assert s.stage == Stage.dispatch
    assert (s.lead_unit, s.supervisor_unit, s.tier) == (LEAD, SUPERVISOR, Tier.street)
    assert s.policy.name == "qingdao"
    # Qingdao, normal urgency: results due 7 days after dispatch.
    assert s.deadline - _at(s, "dispatched") == timedelta(days=7)
    # First-responsible dispatch and the dual-dispatch copy happen at the same moment.
    assert _at(s, "dispatched") == _at(s, "copied")

    await drive.acknowledge(h, LEAD)
    await drive.progress(h, LEAD, "已联系诉求人，明日到现场", contacted=True)
    await time_env.sleep(timedelta(hours=3))
    await drive.complete(h, LEAD)
    await time_env.sleep(timedelta(seconds=1))
    assert (await drive.state(h)).stage == Stage.callback
    await drive.answer(h, satisfaction=Satisfaction.satisfied)

    result = await h.result()
    assert (result.stage, result.outcome) == (Stage.closed, Outcome.confirmed)
    s = await drive.state(h)
    assert drive.events(s) == [
        "received", "triaged", "routed", "dispatched", "copied", "acknowledged", "progress",
        "completed", "callback_requested", "callback_answered", "closed",
    ]  # fmt: skip
    assert all(c.met_at is not None for c in s.clocks.values())

    assert await drive.search_attribute(h, sa.STATUS.name) == "closed"
    assert await drive.search_attribute(h, sa.LEAD_UNIT.name) == LEAD

    with db.session(settings.database_url) as session:
        row = session.get(TicketRow, inp.number)
        assert (row.stage, row.outcome) == ("closed", "confirmed")
        assert "13800138000" not in row.state_json and "王女士" not in row.state_json
        deliveries = {
            (d.unit, d.kind) for d in session.exec(select(DeliveryRow).where(DeliveryRow.ticket == inp.number))
        }
    assert {(LEAD, "work_order"), (SUPERVISOR, "copy")} <= deliveries


async def test_missed_deadlines_escalate_street_district_city_and_no_further(time_env, queue):
    h = await drive.start(time_env, queue, ticket_input())
    await drive.acknowledge(h, LEAD)
    s = await drive.state(h)
    due = s.deadline
    dispatched = _at(s, "dispatched")

    await time_env.sleep(timedelta(days=7, hours=1, minutes=1))
    s = await drive.state(h)
    assert (s.tier, s.coordinator_unit) == (Tier.district, "qd.shinan")
    ladder = [e for e in s.timeline if e.data.get("clock") == "completion" or e.event == "escalated"]
    assert [e.event for e in ladder] == [
        "deadline_warning",
        "deadline_breached",
        "reminder",
        "supervision",
        "escalated",
        "deadline_moved",
    ]
    # At the pack's times: warning at 80 % of the clock, then breach, supervision +30 min, escalation +1 h.
    assert _near(ladder[0].at, dispatched + (due - dispatched) * 0.8)
    assert _near(ladder[1].at, due) and _near(ladder[2].at, due)
    assert _near(ladder[3].at, due + timedelta(minutes=30))
    assert _near(ladder[4].at, due + timedelta(hours=1))
    assert "supervised" in s.flags
    # The district coordinates on a fresh deadline.
    assert s.deadline == ladder[4].at + timedelta(days=7)

    await time_env.sleep(timedelta(days=7, hours=1, minutes=1))
    s = await drive.state(h)
    assert (s.tier, s.coordinator_unit) == (Tier.city, "qd.center")

    await time_env.sleep(timedelta(days=7, hours=1, minutes=1))
    s = await drive.state(h)
    assert s.tier == Tier.city
    assert [e.data["tier"] for e in s.timeline if e.event == "escalated"] == ["district", "city"]
    assert "escalation_exhausted" in drive.events(s)
    assert await drive.search_attribute(h, sa.TIER.name) == "city"
    assert await drive.search_attribute(h, sa.OVERDUE.name) is True

    # The city coordinator can bring it home.
    await drive.complete(h, "qd.center", reply="市级协调相关部门已处理完毕")
    await time_env.sleep(timedelta(seconds=1))
    await drive.answer(h)
    assert (await h.result()).outcome == Outcome.confirmed


async def test_unsatisfied_callback_sends_it_back_then_closes(time_env, queue, settings):
    inp = ticket_input()
    h = await drive.start(time_env, queue, inp)
    await drive.acknowledge(h, LEAD)
    await drive.complete(h, LEAD, reply="已口头劝导")
    await time_env.sleep(timedelta(seconds=1))
    await drive.answer(h, resolved=False, satisfaction=Satisfaction.unsatisfied, comment="摊子还在")
    await time_env.sleep(timedelta(seconds=1))

    s = await drive.state(h)
    assert (s.stage, s.rehandle_round) == (Stage.rehandle, 1)
    assert s.completion is None and s.acknowledged_at is None
    assert s.deadline is not None and s.deadline > _at(s, "rehandle")

    await drive.acknowledge(h, LEAD)
    await drive.complete(h, LEAD, reply="联合城管执法取缔，已恢复通行")
    await time_env.sleep(timedelta(seconds=1))
    await drive.answer(h, satisfaction=Satisfaction.basically_satisfied)
    result = await h.result()
    assert result.outcome == Outcome.confirmed
    s = await drive.state(h)
    assert drive.events(s).count("completed") == 2
    assert drive.events(s).index("rehandle") < drive.events(s).index("closed")
    with db.session(settings.database_url) as session:
        kinds = [
            d.kind
            for d in session.exec(
                select(DeliveryRow)
                .where(DeliveryRow.ticket == inp.number, DeliveryRow.unit == LEAD)
                .order_by(col(DeliveryRow.sequence))  # in the order they were sent, not as stored
            )
        ]
    assert kinds == ["work_order", "rehandle"]


async def test_opted_out_citizen_gets_no_callback(time_env, queue):
    h = await drive.start(
        time_env, queue, ticket_input(citizen=Citizen(name="李先生", phone="13900139000", callback_opt_out=True))
    )
    await drive.acknowledge(h, LEAD)
    await drive.complete(h, LEAD)
    result = await h.result()
    assert (result.stage, result.outcome) == (Stage.closed, Outcome.no_callback)
    names = drive.events(await drive.state(h))
    assert "callback_skipped" in names and "callback_requested" not in names


async def test_wrong_units_completion_is_refused_and_leaves_no_trace(time_env, queue):
    h = await drive.start(time_env, queue, ticket_input())
    await drive.acknowledge(h, LEAD)
    await time_env.sleep(timedelta(seconds=1))  # let the projection and timers settle
    before = [e.event_type for e in (await h.fetch_history()).events]

    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await drive.complete(h, "qd.shinan.yunnanlu")
    assert refused.value.cause.type == "Forbidden"
    assert "八大峡街道" in refused.value.cause.message

    after = [e.event_type for e in (await h.fetch_history()).events]
    # The real server keeps no trace at all (checked in tests/api/test_end_to_end.py); the
    # time-skipping server persists the empty workflow task that ran the validator, nothing more.
    added = {EventType.Name(t) for t in after[len(before) :]}
    assert after[: len(before)] == before
    assert added <= {
        "EVENT_TYPE_WORKFLOW_TASK_SCHEDULED",
        "EVENT_TYPE_WORKFLOW_TASK_STARTED",
        "EVENT_TYPE_WORKFLOW_TASK_COMPLETED",
    }
    s = await drive.state(h)
    assert s.completion is None and s.stage == Stage.handling


async def test_nothing_is_completed_twice_and_a_closed_ticket_accepts_nothing(time_env, queue):
    h = await drive.start(time_env, queue, ticket_input(citizen=Citizen(phone="13700137000", callback_opt_out=True)))
    with pytest.raises(WorkflowUpdateFailedError) as early:
        await drive.complete(h, LEAD)
    assert early.value.cause.type == "Conflict"  # acknowledge first
    await drive.acknowledge(h, LEAD)
    await drive.complete(h, LEAD)
    with pytest.raises((WorkflowUpdateFailedError, RPCError)):
        await drive.complete(h, LEAD)
    await h.result()
    with pytest.raises(RPCError) as closed:
        await drive.acknowledge(h, LEAD)
    assert closed.value.status == RPCStatusCode.NOT_FOUND  # the API turns this into 409 "closed"


async def test_unreachable_citizen_closes_after_the_packs_attempts(time_env, queue):
    h = await drive.start(time_env, queue, ticket_input())
    await drive.acknowledge(h, LEAD)
    await drive.complete(h, LEAD)
    await time_env.sleep(timedelta(seconds=1))
    await drive.answer(h, reached=False)
    await time_env.sleep(timedelta(hours=25))
    result = await h.result()
    assert result.outcome == Outcome.unreachable
    s = await drive.state(h)
    # Qingdao: 3 attempts, 8 hours apart.
    assert [e.data["attempt"] for e in s.timeline if e.event == "callback_requested"] == [1, 2, 3]


async def test_rehandle_limit_makes_a_hard_case(time_env, queue):
    h = await drive.start(time_env, queue, ticket_input())
    for _ in range(3):  # the first handling and two rehandle rounds (Qingdao: at most 2)
        await drive.acknowledge(h, LEAD)
        await drive.complete(h, LEAD)
        await time_env.sleep(timedelta(seconds=1))
        await drive.answer(h, resolved=False, satisfaction=Satisfaction.unsatisfied)
        await time_env.sleep(timedelta(seconds=1))
    result = await h.result()
    assert result.outcome == Outcome.hard_case
    assert "hard_case" in result.flags
