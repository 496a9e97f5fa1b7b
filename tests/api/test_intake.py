"""Starting a ticket's workflow on the real dev server: a retried start whose answer was lost is
the same ticket; a number already taken by another request is never merged into it."""

import pytest

from api.intake import NumberCollision, start
from tests.conftest import task_queue
from tests.factories import ticket_input


async def test_a_retried_start_is_the_same_ticket_and_another_request_is_refused(dev_env, settings):
    settings = settings.model_copy(update={"task_queue": task_queue()})  # no worker: only the start matters
    inp = ticket_input()
    await start(dev_env.client, settings, inp, key="desk-07-0001")
    await start(dev_env.client, settings, inp, key="desk-07-0001")  # the answer was lost: retried
    with pytest.raises(NumberCollision):
        await start(dev_env.client, settings, inp, key="web-0002")
    await dev_env.client.get_workflow_handle(f"ticket-{inp.number}").terminate("test finished")
