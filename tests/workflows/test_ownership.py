"""Who owns it: returns, consultation rounds, binding rulings and cooperating units."""

from datetime import timedelta

import pytest
from sqlmodel import select
from temporalio.client import WorkflowUpdateFailedError

from domain.vocabulary import Outcome, Stage
from readmodel import db
from readmodel.tables import DeliveryRow, ResponsibilityRuleRow, TicketReturnRow, TicketUnitRow
from tests.factories import ticket_input
from tests.workflows import drive

STREET = "qd.shinan.badaxia"  # 八大峡街道: first-responsible for a street problem
URBAN = "qd.dept.urban"  # 市城管局: the sector supervisor of street vendors
MARKET = "qd.dept.market"  # 市市场监管局
HOUSING = "qd.dept.housing"  # 市住建局


async def refused(kind: str, call) -> str:
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await call
    assert err.value.cause.type == kind, err.value.cause
    return err.value.cause.message


def events(s, *names):
    return [e.event for e in s.timeline if e.event in names]


async def deliveries(settings, number, unit):
    with db.session(settings.database_url) as session:
        return [
            d.kind
            for d in session.exec(select(DeliveryRow).where(DeliveryRow.ticket == number, DeliveryRow.unit == unit))
        ]


async def test_an_approved_return_goes_to_the_next_candidate_who_closes_it(time_env, queue, settings):
    inp = ticket_input()
    h = await drive.start(time_env, queue, inp)
    await drive.ask_return(h, STREET, reason="占道经营由城管执法，非街道职责")
    s = await drive.state(h)
    assert "return_pending" in s.flags and s.pending_return.unit == STREET
    await drive.decide_return(h, approve=True, note="同意改派城管")
    s = await drive.state(h)
    # The next candidate of the responsibility list: the sector department.
    assert (s.lead_unit, s.previous_leads, s.stage) == (URBAN, [STREET], Stage.dispatch)
    assert s.escalation_chain == [URBAN, "qd.center"] and s.acknowledged_at is None
    assert events(s, "return_requested", "return_approved", "reassigned") == [
        "return_requested",
        "return_approved",
        "reassigned",
    ]

    await drive.acknowledge(h, URBAN)
    await drive.complete(h, URBAN, reply="城管中队已依法取缔")
    await time_env.sleep(timedelta(seconds=1))
    await drive.answer(h)
    assert (await h.result()).outcome == Outcome.confirmed
    assert "cancellation" in await deliveries(settings, inp.number, STREET)
    assert "work_order" in await deliveries(settings, inp.number, URBAN)
    with db.session(settings.database_url) as session:
        [ret] = session.exec(select(TicketReturnRow).where(TicketReturnRow.ticket == inp.number)).all()
        assert (ret.unit, ret.status) == (STREET, "approved")
        leads = session.exec(
            select(TicketUnitRow.unit).where(TicketUnitRow.number == inp.number, TicketUnitRow.role == "lead")
        ).all()
        assert leads == [URBAN]


async def test_a_refused_return_stays_with_the_unit_and_its_deadline(time_env, queue):
    h = await drive.start(time_env, queue, ticket_input())
    due = (await drive.state(h)).deadline
    await drive.ask_return(h, STREET)
    assert "waiting" in await refused("Conflict", drive.ask_return(h, STREET))
    assert "waiting for the center" in await refused("Conflict", drive.complete(h, STREET))
    await drive.decide_return(h, approve=False, note="属地管理，请街道牵头")
    s = await drive.state(h)
    assert (s.lead_unit, s.deadline, s.returns[0].status) == (STREET, due, "rejected")
    assert "return_pending" not in s.flags
    await drive.acknowledge(h, STREET)


async def test_returns_only_within_the_window_and_only_by_the_lead(time_env, queue):
    h = await drive.start(time_env, queue, ticket_input())
    assert "does not handle" in await refused("Forbidden", drive.ask_return(h, "qd.shinan.yunnanlu"))
    await time_env.sleep(timedelta(hours=4, minutes=5))  # Qingdao: 4 h to return
    assert "must be asked for by" in await refused("Conflict", drive.ask_return(h, STREET))


async def test_the_first_responsible_street_may_not_return_where_the_city_says_so(time_env, queue):
    h = await drive.start(time_env, queue, ticket_input(policy_pack="yantai"))
    assert "首接负责" in await refused("Forbidden", drive.ask_return(h, STREET))


async def test_a_disputed_refusal_goes_to_consultation_and_consensus_settles_it(time_env, queue):
    h = await drive.start(time_env, queue, ticket_input())
    await drive.ask_return(h, STREET)
    await drive.decide_return(h, approve=False)
    await drive.dispute(h, STREET)
    await time_env.sleep(timedelta(seconds=1))
    s = await drive.state(h)
    view = s.open_consultation
    assert view is not None and set(view.candidates) == {STREET, URBAN} and len(view.rounds) == 1
    assert s.clocks["completion"].paused_at is not None  # Qingdao pauses the clocks meanwhile
    assert "consultation_opened" in drive.events(s) and "in_consultation" in s.flags

    await drive.answer_consultation(time_env, h, URBAN, "lead", "属城管执法范围，同意主办")
    await drive.answer_consultation(time_env, h, STREET, "cooperating", "街道配合劝导")
    await time_env.sleep(timedelta(seconds=1))
    s = await drive.state(h)
    assert s.lead_unit == URBAN and set(s.cooperating) == {STREET}
    assert s.consultations[0].status == "consensus"
    answers = s.consultations[0].rounds[0].answers
    assert (answers[URBAN].answer, answers[STREET].answer) == ("lead", "cooperating")
    assert events(s, "consultation_lead", "consultation_cooperating", "consultation_settled") == [
        "consultation_lead", "consultation_cooperating", "consultation_settled",
    ]  # fmt: skip
    assert s.clocks["completion"].paused_at is None and "in_consultation" not in s.flags


async def test_no_consensus_after_the_rounds_needs_a_ruling_which_binds(time_env, queue):
    h = await drive.start(time_env, queue, ticket_input())
    await drive.open_consultation(h, [STREET, URBAN, MARKET])
    await time_env.sleep(timedelta(seconds=1))
    for _round in range(2):  # Qingdao: two rounds of 4 h
        await drive.answer_consultation(time_env, h, STREET, "decline", "非街道职责")
        await drive.answer_consultation(time_env, h, URBAN, "decline", "应由市场监管")
        # 市场监管局 stays silent
        await time_env.sleep(timedelta(hours=4, minutes=1))
    s = await drive.state(h)
    assert s.consultations[0].status == "needs_ruling" and "awaiting_ruling" in s.flags
    assert [r.answers[MARKET].answer for r in s.consultations[0].rounds] == ["silent", "silent"]
    assert "ruling_needed" in drive.events(s)

    await drive.rule(h, lead=URBAN, cooperating=[STREET, MARKET])
    s = await drive.state(h)
    assert s.lead_unit == URBAN and set(s.cooperating) == {STREET, MARKET} and "ruled" in s.flags
    message = await refused("Conflict", drive.ask_return(h, URBAN))
    assert message.startswith("ruled")
    assert "ruled" in await refused("Conflict", drive.open_consultation(h, [STREET, URBAN]))


async def test_cooperating_units_report_their_part_and_the_lead_records_it(time_env, queue, settings):
    inp = ticket_input()
    h = await drive.start(time_env, queue, inp)
    await drive.rule(h, lead=STREET, cooperating=[URBAN, MARKET])
    await drive.acknowledge(h, STREET)
    assert "acknowledge" in await refused("Conflict", drive.report_part(h, URBAN))
    await drive.acknowledge(h, URBAN)
    await drive.report_part(h, URBAN, "城管中队已清理占道摊点")
    assert "cooperating units" in await refused("Forbidden", drive.report_part(h, HOUSING))
    s = await drive.state(h)
    assert s.cooperating[URBAN].report == "城管中队已清理占道摊点"
    await drive.complete(h, STREET, reply="街道联合城管已清理")
    s = await drive.state(h)
    assert s.completion.parts_done == [URBAN]
    assert "cooperation" in await deliveries(settings, inp.number, MARKET)


async def test_three_units_say_not_ours_and_it_ends_with_a_lead_a_closed_ticket_and_a_rule(time_env, queue, settings):
    inp = ticket_input(
        category="housing.property_management", description="小区物业不作为，楼道堆物无人清理，消防通道被占"
    )
    h = await drive.start(time_env, queue, inp)
    s = await drive.state(h)
    assert s.lead_unit == STREET and s.supervisor_unit == HOUSING

    # 1. The street returns it; the center agrees and names 市住建局.
    await drive.ask_return(h, STREET, reason="物业管理属住建部门")
    await drive.decide_return(h, approve=True, to=HOUSING)
    # 2. 住建局 returns it too, naming 市场监管局: a second return goes straight to consultation.
    await drive.ask_return(h, HOUSING, reason="物业收费问题属市场监管", suggested=MARKET)
    await time_env.sleep(timedelta(seconds=1))
    s = await drive.state(h)
    assert set(s.open_consultation.candidates) == {HOUSING, STREET, MARKET}
    # 3. Nobody takes it, two rounds.
    for _round in range(2):
        for unit, why in ((HOUSING, "应属地管理"), (STREET, "街道无执法权"), (MARKET, "不涉及价格")):
            await drive.answer_consultation(time_env, h, unit, "decline", why)
        await time_env.sleep(timedelta(seconds=1))
    s = await drive.state(h)
    assert s.consultations[0].status == "needs_ruling"
    # 4. The leader rules, and saves it for the kind of case.
    await drive.rule(
        h, lead=HOUSING, cooperating=[STREET, MARKET], save=True, reason="物业监管由住建主办，街道、市场监管协办"
    )
    assert "ruled" in await refused("Conflict", drive.ask_return(h, HOUSING))
    await drive.acknowledge(h, HOUSING)
    for unit in (STREET, MARKET):
        await drive.acknowledge(h, unit)
        await drive.report_part(h, unit)
    await drive.complete(h, HOUSING, reply="已约谈物业公司，楼道清理完毕")
    await time_env.sleep(timedelta(seconds=1))
    await drive.answer(h)
    result = await h.result()
    assert (result.stage, result.outcome, result.lead_unit) == (Stage.closed, Outcome.confirmed, HOUSING)

    with db.session(settings.database_url) as session:
        [saved] = session.exec(select(ResponsibilityRuleRow)).all()
    assert (saved.category, saved.area, saved.lead, saved.cooperating.split()) == (
        "housing.property_management", STREET, HOUSING, [STREET, MARKET],
    )  # fmt: skip

    # The next such ticket goes straight to the right units.
    nxt = await drive.start(
        time_env, queue, ticket_input(category="housing.property_management", description="物业不清理垃圾")
    )
    s = await drive.state(nxt)
    assert s.lead_unit == HOUSING and set(s.cooperating) == {STREET, MARKET}
    assert "saved ruling" in next(e.detail for e in s.timeline if e.event == "routed")
