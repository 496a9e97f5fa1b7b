"""A long-lived ticket (many repeats, urges, rehandles) continues as new before its history grows
past Temporal's limits, and carries on where it was."""

from datetime import timedelta

from domain.intake.merge import MergeAppeal
from domain.ticket import Actor, Citizen
from domain.vocabulary import Channel, Outcome, Role, Stage
from tests.factories import ticket_input
from tests.workflows import drive
from workflows.ticket import TicketWorkflow

STREET = "qd.shinan.badaxia"
URBAN = "qd.dept.urban"  # the sector supervisor: it may urge


async def test_a_ticket_with_a_long_history_continues_as_new_and_closes(time_env, queue):
    inp = ticket_input().model_copy(update={"history_limit": 150})
    h = await drive.start(time_env, queue, inp)
    first_run = (await h.describe()).run_id
    await drive.acknowledge(h, STREET)
    for n in range(12):  # a citizen who keeps calling, a supervisor who keeps urging
        caller = Citizen(name="赵先生", phone="13900000001")
        desk = Actor(role=Role.intake, user="desk")
        appeal = MergeAppeal(
            actor=desk, key=f"again-{n}", channel=Channel.phone, citizen=caller, description="又出摊了"
        )
        await h.execute_update(TicketWorkflow.merge_appeal, appeal)
        await drive.urge(h, drive.unit(URBAN))
    await time_env.sleep(timedelta(seconds=1))

    latest = time_env.client.get_workflow_handle_for(TicketWorkflow.run, h.id)
    now_run = (await latest.describe()).run_id
    assert now_run != first_run  # a new run of the same ticket
    s = await drive.state(latest)
    assert len(s.appeals) == 12 and len(s.urges) == 12 and s.acknowledged_at is not None
    assert "continued" in drive.events(s) and s.stage == Stage.handling
    history = await time_env.client.get_workflow_handle(h.id, run_id=now_run).fetch_history()
    assert len(history.events) < 150  # the new run starts small

    await drive.complete(latest, STREET)
    await time_env.sleep(timedelta(seconds=1))
    await drive.answer(latest)
    assert (await latest.result()).outcome == Outcome.confirmed
