"""The callback loop (回访) on the time-skipping server: the citizen's word closes the ticket."""

from datetime import timedelta

import pytest
from sqlmodel import select
from temporalio.client import WorkflowUpdateFailedError
from temporalio.service import RPCError

from domain.callback import OnlineRating
from domain.ticket import CallbackAnswer
from domain.vocabulary import Outcome, Satisfaction, Stage
from readmodel import db
from readmodel.tables import DeliveryRow, TicketRow
from tests.factories import ticket_input
from tests.workflows import drive
from workflows.ticket import TicketWorkflow

LEAD = "qd.shinan.badaxia"


def online(resolved=True, satisfaction=Satisfaction.satisfied, comment="摊子没了，谢谢"):
    return OnlineRating(
        answer=CallbackAnswer(reached=True, resolved=resolved, satisfaction=satisfaction, comment=comment)
    )


async def _completed(time_env, queue, **kw):
    h = await drive.start(time_env, queue, ticket_input(**kw))
    await drive.acknowledge(h, LEAD)
    await drive.complete(h, LEAD)
    await time_env.sleep(timedelta(seconds=1))
    return h


async def test_a_citizen_who_rated_online_is_not_called_again(time_env, queue, settings):
    h = await _completed(time_env, queue)
    await h.execute_update(TicketWorkflow.rate_online, online())
    result = await h.result()
    assert result.outcome == Outcome.rated_online
    s = await drive.state(h)
    assert drive.events(s).count("callback_requested") == 1  # the first attempt was already on its way
    assert "rated_online" in drive.events(s) and s.assessed_satisfaction == "satisfied"
    with db.session(settings.database_url) as session:
        row = session.get(TicketRow, s.number)
    assert (row.outcome, row.resolved, row.satisfaction) == ("rated_online", True, "satisfied")


async def test_a_rating_before_the_reply_or_a_second_one_is_refused(time_env, queue):
    h = await drive.start(time_env, queue, ticket_input())
    with pytest.raises(WorkflowUpdateFailedError) as early:
        await h.execute_update(TicketWorkflow.rate_online, online())
    assert "once it has been answered" in early.value.cause.message
    await drive.acknowledge(h, LEAD)
    await drive.complete(h, LEAD)
    await time_env.sleep(timedelta(seconds=1))
    await drive.answer(h, satisfaction=Satisfaction.basically_satisfied)
    with pytest.raises((WorkflowUpdateFailedError, RPCError)):  # refused, or the ticket is already closed
        await h.execute_update(TicketWorkflow.rate_online, online())
    assert (await h.result()).outcome == Outcome.confirmed


async def test_an_unsatisfied_online_rating_sends_it_back(time_env, queue):
    h = await _completed(time_env, queue)
    await h.execute_update(
        TicketWorkflow.rate_online, online(resolved=False, satisfaction=Satisfaction.unsatisfied, comment="还在摆")
    )
    await time_env.sleep(timedelta(seconds=1))
    s = await drive.state(h)
    assert (s.stage, s.rehandle_round) == (Stage.rehandle, 1)


async def test_reached_on_the_second_attempt(time_env, queue, settings):
    h = await _completed(time_env, queue)
    await drive.answer(h, reached=False)  # the operator rang, nobody answered
    await time_env.sleep(timedelta(hours=8, minutes=1))  # Qingdao: the next attempt 8 h later
    s = await drive.state(h)
    assert s.callback_attempts == 2 and s.stage == Stage.callback
    await drive.answer(h, satisfaction=Satisfaction.satisfied)
    result = await h.result()
    assert result.outcome == Outcome.confirmed
    s = await drive.state(h)
    answered = next(c for c in s.callbacks if c.reached)
    assert answered.attempt == 2
    assert [e.event for e in s.timeline if e.event.startswith("callback_")] == [
        "callback_requested", "callback_unreached", "callback_no_answer", "callback_requested", "callback_answered",
    ]  # fmt: skip
    with db.session(settings.database_url) as session:
        attempts = session.exec(
            select(DeliveryRow).where(DeliveryRow.ticket == s.number, DeliveryRow.kind == "callback")
        ).all()
    assert len(attempts) == 2


async def test_unreachable_counts_as_the_pack_says(time_env, queue, settings):
    h = await _completed(time_env, queue)
    await time_env.sleep(timedelta(hours=25))
    assert (await h.result()).outcome == Outcome.unreachable
    s = await drive.state(h)
    assert s.assessed_satisfaction is None  # Qingdao: excluded from the satisfaction rate


async def test_at_deadline_packs_wait_for_the_deadline_unless_the_citizen_rates_first(time_env, queue):
    # Beijing asks the citizen when the handling period has run out, not at completion.
    h = await _completed(time_env, queue, policy_pack="beijing")
    s = await drive.state(h)
    assert "callback_scheduled" in drive.events(s) and "callback_requested" not in drive.events(s)
    await time_env.sleep(timedelta(days=1))
    assert "callback_requested" not in drive.events(await drive.state(h))
    await h.execute_update(TicketWorkflow.rate_online, online())
    result = await h.result()
    assert result.outcome == Outcome.rated_online
    assert "callback_requested" not in drive.events(await drive.state(h))


@pytest.fixture
def rating_window_settings(settings, tmp_path):
    """Qingdao's rules with a two-hour online-rating window before the first call."""
    from core.settings import PROJECT_ROOT

    packs = tmp_path / "packs"
    packs.mkdir()
    qingdao = (PROJECT_ROOT / "catalog" / "policies" / "qingdao.toml").read_text()
    (packs / "qingdao.toml").write_text(qingdao.replace('spacing = "8h"', 'spacing = "8h"\nrating_window = "2h"'))
    return settings.model_copy(update={"policy_dir": packs})


async def test_a_rating_window_lets_the_citizen_rate_the_reply_before_anyone_calls(time_env, rating_window_settings):
    from tests.conftest import task_queue
    from tests.finish import finish
    from worker import build_worker

    q = task_queue()
    async with build_worker(time_env.client, rating_window_settings, q):
        rated, called = await drive.start(time_env, q, ticket_input()), await drive.start(time_env, q, ticket_input())
        try:
            for h in (rated, called):
                await drive.acknowledge(h, LEAD)
                await drive.complete(h, LEAD, reply="已清理占道摊点")
            await time_env.sleep(timedelta(seconds=1))
            s = await drive.state(rated)
            assert drive.events(s)[-2:] == ["citizen_notified", "callback_scheduled"]
            sms = [e for e in s.timeline if e.event == "citizen_notified"][-1]
            assert sms.data["template"] == "reply_ready_rate"
            # One citizen rates within the window: never called. (Its result is awaited last: waiting
            # on a result lets the test server skip time, past the other's window.)
            await rated.execute_update(TicketWorkflow.rate_online, online())
            # The other does not: called when the window has passed.
            await time_env.sleep(timedelta(hours=1))
            assert "callback_requested" not in drive.events(await drive.state(called))
            await time_env.sleep(timedelta(hours=1, minutes=5))
            assert "callback_requested" in drive.events(await drive.state(called))
            assert (await rated.result()).outcome == Outcome.rated_online
            assert "callback_requested" not in drive.events(await drive.state(rated))
        finally:
            for h in (rated, called):
                await finish(time_env.client, h.id)
