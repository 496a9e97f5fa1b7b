"""A deadline that passes while the worker is down fires as soon as it is back, and once.

On the real dev server (the time-skipping server does not move its clock while a workflow task
is waiting for a worker), with a drill pack whose deadlines are seconds long."""

import asyncio
import shutil
from datetime import timedelta

from catalog.policies import POLICIES_DIR
from domain.vocabulary import Tier, Urgency
from tests.conftest import task_queue
from tests.eventually import assert_eventually
from tests.factories import ticket_input
from tests.finish import quiet
from tests.workflows import drive
from worker import build_worker

DRILL = """
name = "drill"
version = "test"
title = "deadlines in seconds"
[clocks.completion]
by_urgency = { emergency = "6s", urgent = "6s", normal = "6s", complex = "6s" }
on_breach = [{ action = "reminder" }, { action = "supervision" }, { action = "escalation", after = "1s" }]
[escalation]
deadline_by_tier = { district = "1h", city = "1h" }
"""


async def test_the_escalation_happens_once_when_the_worker_is_back(dev_env, settings, tmp_path):
    packs = tmp_path / "packs"
    shutil.copytree(POLICIES_DIR, packs)
    (packs / "drill.toml").write_text(DRILL)
    settings = settings.model_copy(update={"policy_dir": packs})
    q = task_queue()

    async with build_worker(dev_env.client, settings, q):
        h = await dev_env.client.start_workflow(
            "TicketWorkflow",
            ticket_input(policy_pack="drill", urgency=Urgency.emergency),
            id=f"ticket-outage-{q}",
            task_queue=q,
        )

        async def dispatched():
            assert (await drive.state(h)).stage.value == "dispatch"

        await assert_eventually(dispatched, timeout=20)
        await drive.acknowledge(h, "qd.shinan.badaxia")
        due = (await drive.state(h)).deadline

    await asyncio.sleep(9)  # no worker: the deadline (6 s) and the escalation step (+1 s) pass

    async with build_worker(dev_env.client, settings, q):

        async def back():
            s = await drive.state(h)
            assert s.tier == Tier.district, [e.event for e in s.timeline]
            return s

        s = await assert_eventually(back)
        escalated = [e for e in s.timeline if e.event == "escalated"]
        assert len(escalated) == 1 and s.coordinator_unit == "qd.shinan"
        assert escalated[0].at > due + timedelta(seconds=2)  # it happened when the worker came back
        ladder = [e.event for e in s.timeline if e.data.get("clock") == "completion" or e.event == "escalated"]
        assert ladder == [
            "deadline_warning",
            "deadline_breached",
            "reminder",
            "supervision",
            "escalated",
            "deadline_moved",
        ]

        async def settled():  # the backlog has fired and what it set going has run: nothing is in flight
            assert await quiet(dev_env.client, h.id), "a workflow task or an activity is still in flight"

        await assert_eventually(settled)
        assert len([e for e in (await drive.state(h)).timeline if e.event == "escalated"]) == 1
        await h.terminate("done")
