"""The record says what happened, and an update's reply shows the ticket after the change."""

from datetime import UTC, timedelta

import pytest
from temporalio.client import WorkflowUpdateFailedError

from domain.ownership.consultation import Answer
from domain.vocabulary import Outcome, Stage
from tests.factories import ticket_input
from tests.workflows import drive
from workflows.consultation import ConsultationWorkflow

STREET = "qd.shinan.badaxia"  # 八大峡街道
URBAN = "qd.dept.urban"  # 市城管局, the sector supervisor of street vendors
TRANSPORT = "qd.dept.transport"  # 市交通运输局: leads taxi tickets and supervises them too


async def test_copied_only_when_a_copy_goes_to_a_supervisor_who_does_not_lead(time_env, queue):
    vendor = await drive.start(time_env, queue, ticket_input())
    taxi = await drive.start(time_env, queue, ticket_input(category="transport.taxi"))
    v, t = await drive.state(vendor), await drive.state(taxi)
    assert [e.data["unit"] for e in v.timeline if e.event == "copied"] == [URBAN]
    assert t.lead_unit == t.supervisor_unit == TRANSPORT
    assert "copied" not in drive.events(t)


async def test_a_callback_reply_shows_the_ticket_it_closed(time_env, queue):
    h = await drive.start(time_env, queue, ticket_input())
    await drive.acknowledge(h, STREET)
    await drive.complete(h, STREET)
    await time_env.sleep(timedelta(seconds=1))  # the first call is requested; the center waits for the answer
    reply = await drive.answer(h)
    assert (reply.stage, reply.outcome) == (Stage.closed, Outcome.confirmed)


async def test_an_unsatisfied_callback_reply_shows_the_ticket_back_with_the_unit(time_env, queue):
    h = await drive.start(time_env, queue, ticket_input())
    await drive.acknowledge(h, STREET)
    await drive.complete(h, STREET)
    await time_env.sleep(timedelta(seconds=1))
    from domain.vocabulary import Satisfaction

    reply = await drive.answer(h, resolved=False, satisfaction=Satisfaction.unsatisfied)
    assert reply.stage == Stage.rehandle and reply.outcome is None


async def test_an_approved_extension_survives_an_escalation_and_the_timeline_says_so(time_env, queue):
    h = await drive.start(time_env, queue, ticket_input())
    await drive.acknowledge(h, STREET)
    await drive.ask_extension(h, STREET, "5d")
    await drive.decide_extension(h, approve=True)
    extended = (await drive.state(h)).deadline
    await time_env.sleep(timedelta(hours=1))
    await drive.request_escalation(h, drive.unit(STREET))
    s = await drive.state(h)
    assert s.coordinator_unit == "qd.shinan" and s.deadline == extended  # the later deadline governs
    kept = [e for e in s.timeline if e.event == "deadline_kept"]
    assert len(kept) == 1 and extended.isoformat() in kept[0].detail


async def test_an_escalation_that_moves_the_deadline_writes_why(time_env, queue):
    h = await drive.start(time_env, queue, ticket_input())
    await drive.acknowledge(h, STREET)
    before = (await drive.state(h)).deadline
    await time_env.sleep(timedelta(hours=1))
    await drive.request_escalation(h, drive.unit(STREET))
    s = await drive.state(h)
    assert s.deadline is not None and s.deadline > before
    [moved] = [e for e in s.timeline if e.event == "deadline_moved"]
    assert "escalated to" in moved.detail and moved.data["due_at"] == s.deadline.isoformat()


async def _consultation(time_env, queue):
    h = await drive.start(time_env, queue, ticket_input())
    await drive.open_consultation(h, [STREET, URBAN])
    await time_env.sleep(timedelta(seconds=1))
    s = await drive.state(h)
    return h, time_env.client.get_workflow_handle(s.open_consultation.workflow_id)


def _answer(unit: str, answer: str, reason: str, round: int | None) -> Answer:
    return Answer(actor=drive.unit(unit), answer=answer, reason=reason, round=round)


async def test_a_resent_consultation_answer_counts_once_and_its_line_is_written_once(time_env, queue):
    h, child = await _consultation(time_env, queue)
    first = _answer(STREET, "decline", "非街道职责", round=1)
    await child.execute_update(ConsultationWorkflow.answer, first)
    again = await child.execute_update(ConsultationWorkflow.answer, first)  # a client's retry
    assert again.rounds[0].answers[STREET].answer == "decline"
    await child.execute_update(ConsultationWorkflow.answer, _answer(URBAN, "lead", "同意主办", round=1))
    assert (await child.result())["status"] == "consensus"  # an untyped handle: the JSON
    await time_env.sleep(timedelta(seconds=1))
    s = await drive.state(h)
    assert [e.event for e in s.timeline].count("consultation_decline") == 1
    assert s.lead_unit == URBAN


async def test_an_answer_to_a_closed_round_is_refused_and_the_real_answer_counts(time_env, queue):
    h, child = await _consultation(time_env, queue)
    await child.execute_update(ConsultationWorkflow.answer, _answer(STREET, "decline", "非街道职责", round=1))
    await time_env.sleep(timedelta(hours=5))  # round 1 ends without 城管局's answer: round 2 opens
    view = await child.query(ConsultationWorkflow.live_state)
    assert len(view.rounds) == 2
    with pytest.raises(WorkflowUpdateFailedError) as err:  # 城管局's late round-1 answer, re-sent
        await child.execute_update(ConsultationWorkflow.answer, _answer(URBAN, "lead", "同意主办", round=1))
    assert "round 1 is closed" in err.value.cause.message
    view = await child.execute_update(ConsultationWorkflow.answer, _answer(URBAN, "lead", "同意主办", round=2))
    assert view.rounds[1].answers[URBAN].answer == "lead"
    await time_env.sleep(timedelta(seconds=1))
    s = await drive.state(h)
    assert [e.event for e in s.timeline].count("consultation_round") == 2  # one line per round
    assert s.consultations[0].seq == view.seq  # the ticket holds the newest mirror
    assert s.consultations[0].rounds[1].answers[URBAN].answer == "lead"


def test_a_unit_acting_while_the_ticket_is_still_being_routed_hears_so():
    from datetime import datetime

    from domain import handling
    from domain.errors import Refusal, RefusalKind
    from domain.ticket import TicketState
    from tests.factories import request

    s = TicketState(number="N1", workflow_id="ticket-N1", request=request(), received_at=datetime.now(UTC))
    with pytest.raises(Refusal) as r:
        handling.check_acknowledge(s, drive.unit(STREET))
    assert r.value.kind == RefusalKind.conflict and "being dispatched" in r.value.reason
