"""The five paths of intake on the time-skipping server: four end at the desk, with the answer in
the timeline and no unit dispatched; repeats join the open ticket (并单)."""

from datetime import timedelta

import pytest
from sqlmodel import select
from temporalio.client import WorkflowUpdateFailedError
from temporalio.service import RPCError

from domain.intake.merge import MergeAppeal
from domain.intake.triage import EmergencyService, TriageOverride, TriagePath
from domain.ticket import Actor, Citizen
from domain.vocabulary import Channel, Kind, Outcome, Role, Stage
from readmodel import db, knowledge
from readmodel.tables import DeliveryRow, TicketRow
from tests.factories import ticket_input
from tests.workflows import drive
from workflows.ticket import TicketWorkflow

LEAD = "qd.shinan.badaxia"


@pytest.fixture
def seeded(settings):
    knowledge.seed(settings.database_url, "qingdao")
    return settings


def _deliveries(settings, number):
    with db.session(settings.database_url) as session:
        return [(d.unit, d.kind) for d in session.exec(select(DeliveryRow).where(DeliveryRow.ticket == number))]


async def _closed_at_intake(time_env, queue, inp):
    h = await drive.start(time_env, queue, inp)
    result = await h.result()
    s = await drive.state(h)
    assert result.stage == Stage.closed and "dispatched" not in drive.events(s)
    return result, s


async def test_a_consultation_the_knowledge_base_answers_closes_at_intake(time_env, queue, seeded):
    inp = ticket_input(kind=Kind.consultation, category="labour.social_insurance",
                       description="您好，我想问一下住房公积金怎么提取，租房的能不能取出来")  # fmt: skip
    result, s = await _closed_at_intake(time_env, queue, inp)
    assert result.outcome == Outcome.direct_answer
    answered = next(e for e in s.timeline if e.event == "answered")
    assert "公积金" in answered.data["title"] and answered.detail == s.triage.article.answer
    assert drive.events(s) == ["received", "triaged", "answered", "citizen_notified", "closed"]
    # The citizen gets the answer by SMS; no unit was given anything.
    assert not {"work_order", "copy"} & {k for _, k in _deliveries(seeded, inp.number)}
    with db.session(seeded.database_url) as session:
        row = session.get(TicketRow, inp.number)
    assert (row.intake_path, row.outcome) == ("direct_answer", "direct_answer")


async def test_a_matter_outside_the_hotlines_scope_is_explained_and_closed(time_env, queue, seeded):
    inp = ticket_input(kind=Kind.help, category="urban.street_vendor",
                       description="你们能不能帮我查查楼上那个邻居的手机号，我有急事找他")  # fmt: skip
    result, s = await _closed_at_intake(time_env, queue, inp)
    assert result.outcome in (Outcome.out_of_scope, Outcome.legal_channel), s.triage
    assert s.triage.path in (TriagePath.out_of_scope, TriagePath.legal_channel)
    assert {"explained", "guided"} & set(drive.events(s))


async def test_a_matter_for_the_court_is_guided_to_it(time_env, queue, seeded):
    inp = ticket_input(kind=Kind.complaint, category="urban.street_vendor",
                       description="法院判决下来半年了，对方还是不执行判决，我申请强制执行也没有动静")  # fmt: skip
    result, s = await _closed_at_intake(time_env, queue, inp)
    assert result.outcome == Outcome.legal_channel
    guided = next(e for e in s.timeline if e.event == "guided")
    assert guided.data["channel"] == "court" and "人民法院" in guided.detail


async def test_an_emergency_is_transferred_at_once_and_closes_when_the_center_has_followed_it_up(
    time_env, queue, seeded
):
    inp = ticket_input(kind=Kind.help, category="urban.street_vendor", emergency_service=EmergencyService.fire,
                       description="楼下饭店后厨着火了，黑烟一直往楼上冒，快来人")  # fmt: skip
    h = await drive.start(time_env, queue, inp)
    s = await drive.state(h)
    assert s.stage == Stage.follow_up and "follow_up" in s.flags and s.transfer_reference
    transferred = next(e for e in s.timeline if e.event == "transferred")
    assert transferred.data == {"service": "119", "reference": s.transfer_reference}
    assert ("emergency-119", "transfer") in _deliveries(seeded, inp.number)
    # An emergency transfer is nobody's work order: handling actions are refused.
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await drive.acknowledge(h, LEAD)
    assert "emergency service" in refused.value.cause.message
    # Only the center records what the service did.
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await drive.follow_up(h, handled=True, actor=drive.unit(LEAD))
    assert refused.value.cause.type == "Forbidden"

    await drive.follow_up(h, handled=True, note="119已出警，明火已扑灭，无人员伤亡")
    result = await h.result()
    s = await drive.state(h)
    assert (result.stage, result.outcome) == (Stage.closed, Outcome.emergency_transfer)
    assert "follow_up" not in result.flags and "dispatched" not in drive.events(s)
    assert s.follow_up.handled and s.follow_up.note == "119已出警，明火已扑灭，无人员伤亡"
    assert drive.events(s)[-2:] == ["followed_up", "closed"]


async def test_a_transfer_not_followed_up_in_the_packs_window_is_flagged_overdue(time_env, queue, seeded):
    inp = ticket_input(kind=Kind.help, category="urban.street_vendor", emergency_service=EmergencyService.police,
                       description="小区门口有人打架，手里拿着刀")  # fmt: skip
    h = await drive.start(time_env, queue, inp)
    assert not (await drive.state(h)).overdue
    await time_env.sleep(timedelta(hours=24, minutes=5))  # Qingdao: follow up within 24 h
    s = await drive.state(h)
    assert s.stage == Stage.follow_up and {"follow_up", "follow_up_overdue"} <= set(s.flags) and s.overdue
    assert "follow_up_overdue" in drive.events(s)
    await drive.follow_up(h, handled=True, note="110已处置，双方已带离")
    result = await h.result()
    assert result.outcome == Outcome.emergency_transfer and not {"follow_up", "follow_up_overdue"} & set(result.flags)


async def test_a_transfer_the_service_sends_back_is_dispatched_like_any_request(time_env, queue, seeded):
    inp = ticket_input(kind=Kind.help, category="urban.street_vendor", emergency_service=EmergencyService.police,
                       description="楼下烧烤摊半夜还在营业，油烟噪音很大")  # fmt: skip
    h = await drive.start(time_env, queue, inp)
    await drive.follow_up(h, handled=False, note="110: 非警务警情，转回12345办理")
    await time_env.sleep(timedelta(seconds=1))
    s = await drive.state(h)
    assert s.stage == Stage.dispatch and s.lead_unit == LEAD
    assert drive.events(s)[-3:] == ["sent_back_by_emergency_service", "dispatched", "copied"]
    await drive.acknowledge(h, LEAD)
    await drive.complete(h, LEAD)
    await drive.answer(h)
    result = await h.result()
    assert result.outcome == Outcome.confirmed
    assert {("qd.shinan.badaxia", "work_order"), ("emergency-110", "transfer")} <= set(_deliveries(seeded, inp.number))


async def test_the_operators_override_wins_and_is_recorded_with_its_reason(time_env, queue, seeded):
    inp = ticket_input(kind=Kind.consultation, category="labour.social_insurance",
                       description="我想问一下住房公积金怎么提取，租房能不能取出来")  # fmt: skip
    inp.triage_override = TriageOverride(path=TriagePath.dispatch, reason="群众要求公积金中心书面答复")
    inp.received_by = "intake:desk-07"
    h = await drive.start(time_env, queue, inp)
    s = await drive.state(h)
    assert s.stage in (Stage.dispatch, Stage.handling)
    assert (s.triage.path, s.triage.suggested, s.triage.overridden_by) == (
        TriagePath.dispatch,
        TriagePath.direct_answer,
        "intake:desk-07",
    )
    triaged = next(e for e in s.timeline if e.event == "triaged")
    assert "群众要求公积金中心书面答复" in triaged.detail


async def test_repeats_join_the_open_ticket_and_the_third_puts_it_under_supervision(time_env, queue, seeded):
    h = await drive.start(time_env, queue, ticket_input())
    for n in range(1, 4):
        appeal = MergeAppeal(actor=Actor(role=Role.intake, user="desk"), key=f"repeat-{n}", channel=Channel.wechat,
                             citizen=Citizen(name="赵先生", phone=f"1390000000{n}"), description="烧烤摊又出来了，还是没人管")  # fmt: skip
        summary = await h.execute_update(TicketWorkflow.merge_appeal, appeal)
        assert ("supervised" in summary.flags) == (n == 3)
    # A retried merge counts once.
    await h.execute_update(TicketWorkflow.merge_appeal, appeal)
    s = await drive.state(h)
    assert len(s.appeals) == 3 and drive.events(s).count("merged") == 3
    assert [e.data["repeat"] for e in s.timeline if e.event == "merged"] == [1, 2, 3]
    await time_env.sleep(timedelta(seconds=1))
    kinds = _deliveries(seeded, s.number)
    assert ("qd.dept.urban", "supervision") in kinds and kinds.count((LEAD, "notice")) == 3
    with db.session(seeded.database_url) as session:
        assert session.get(TicketRow, s.number).repeat_count == 3


async def test_a_closed_ticket_takes_no_repeat(time_env, queue, seeded):
    inp = ticket_input(kind=Kind.consultation, category="labour.social_insurance",
                       description="请问住房公积金怎么提取")  # fmt: skip
    h = await drive.start(time_env, queue, inp)
    await h.result()
    appeal = MergeAppeal(actor=Actor(role=Role.intake, user="desk"), key="late", channel=Channel.phone,
                         citizen=Citizen(phone="13900000009"), description="再问一下公积金")  # fmt: skip
    with pytest.raises((WorkflowUpdateFailedError, RPCError)):  # refused, or the ticket is already closed
        await h.execute_update(TicketWorkflow.merge_appeal, appeal)
