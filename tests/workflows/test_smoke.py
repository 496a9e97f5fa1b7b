from datetime import timedelta

from domain.handling import Acknowledge, Complete
from domain.callback import RecordCallback
from domain.ticket import Actor, CallbackAnswer
from domain.vocabulary import HandlingResult, Role, Satisfaction, Stage
from tests.conftest import task_queue
from tests.factories import ticket_input
from worker import build_worker
from workflows.ticket import TicketWorkflow


async def test_smoke(time_env, settings):
    q = task_queue()
    async with build_worker(time_env.client, settings, q):
        inp = ticket_input()
        h = await time_env.client.start_workflow(TicketWorkflow.run, inp, id=f"ticket-{inp.number}", task_queue=q)
        await time_env.sleep(5)
        st = await h.query(TicketWorkflow.live_state)
        print(st.stage, st.lead_unit, st.deadline)
        unit = Actor(role=Role.unit, unit=st.lead_unit)
        await h.execute_update(TicketWorkflow.acknowledge, Acknowledge(actor=unit))
        await h.execute_update(TicketWorkflow.complete, Complete(actor=unit, result=HandlingResult.resolved, reply="已劝离摊贩"))
        await time_env.sleep(5)
        await h.execute_update(TicketWorkflow.record_callback, RecordCallback(actor=Actor(role=Role.center), answer=CallbackAnswer(reached=True, resolved=True, satisfaction=Satisfaction.satisfied)))
        res = await h.result()
        assert res.stage == Stage.closed
        st = await h.query(TicketWorkflow.live_state)
        for e in st.timeline:
            print(e.at, e.actor, e.event, e.detail)
