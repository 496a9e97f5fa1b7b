"""The replay repair, on a real dev server: a run whose recorded history the worker's code no longer
replays is found, reset to the first workflow task it fails at, its accepted updates are sent again in
their order, and it goes on; a run that fails for another reason is left as it is.

A small workflow stands in for the ticket: the SDK fault that makes a ticket's history unreplayable
(api/replay_repair.py) cannot be provoked on purpose, but a history recorded by one version of the
code and replayed by another fails the same way (tests/workflows/known_nondeterministic/ has the
tickets' own, which the bisection is checked against below)."""

from datetime import timedelta
from pathlib import Path

from temporalio import activity, workflow
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHistory
from temporalio.exceptions import ApplicationError
from temporalio.worker import Replayer, Worker

from api.replay_repair import (
    ReplayRepairActivities,
    Resent,
    ResetOrder,
    StuckRun,
    first_task_not_replaying,
    problems_query,
    repair_stuck,
)
from core.codec import data_converter
from core.settings import Settings
from tests.conftest import task_queue
from tests.eventually import assert_eventually
from worker import replayer
from workflows.replay_repair import ReplayRepairWorkflow

CODE = {"version": 1}


@activity.defn
async def open_tally_v1() -> None:
    pass


@activity.defn
async def open_tally_v2() -> None:
    pass


@workflow.defn(sandboxed=False)
class TallyWorkflow:
    """Opens with an activity (version 2 of the code opens with another one: a history recorded
    by version 1 no longer replays), then takes three marks by update."""

    def __init__(self) -> None:
        self.marks: list[str] = []

    @workflow.run
    async def run(self) -> list[str]:
        opening = open_tally_v1 if CODE["version"] == 1 else open_tally_v2
        await workflow.execute_activity(opening, start_to_close_timeout=timedelta(seconds=10))
        await workflow.wait_condition(lambda: len(self.marks) >= 3)
        return self.marks

    @workflow.update
    def mark(self, label: str) -> list[str]:
        self.marks.append(label)
        return list(self.marks)

    @mark.validator
    def _check_mark(self, label: str) -> None:
        if label in self.marks:
            raise ApplicationError(f"{label} is marked already")

    @workflow.signal
    def nudge(self) -> None:
        """Any new event: the next worker has to replay the history to take it."""


@workflow.defn(sandboxed=False)
class BrokenWorkflow:
    """Its newest task raises: a bug, not a history that does not replay."""

    def __init__(self) -> None:
        self.broken = False

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: self.broken)
        raise RuntimeError("a bug in the newest workflow task")

    @workflow.signal
    def break_down(self) -> None:
        self.broken = True


def repairing_worker(client: Client, queue: str, settings) -> Worker:
    code = Replayer(workflows=[TallyWorkflow, BrokenWorkflow], data_converter=client.data_converter)
    return Worker(
        client, task_queue=queue, workflows=[TallyWorkflow, BrokenWorkflow, ReplayRepairWorkflow],
        activities=[open_tally_v1, open_tally_v2, *ReplayRepairActivities(client, code, settings).all()],
        max_cached_workflows=0,  # every task replays the history from the start, as after a restart
    )  # fmt: skip


async def stuck_runs(client: Client, queue: str) -> list[str]:
    return [w.run_id async for w in client.list_workflows(problems_query(queue))]


async def test_a_run_that_no_longer_replays_is_reset_and_its_updates_sent_again(dev_env, settings):
    client, queue = dev_env.client, task_queue()
    CODE["version"] = 1
    async with repairing_worker(client, queue, settings):
        handle = await client.start_workflow(TallyWorkflow.run, id=f"tally-{queue}", task_queue=queue)
        assert await handle.execute_update(TallyWorkflow.mark, "first") == ["first"]
        assert await handle.execute_update(TallyWorkflow.mark, "second") == ["first", "second"]
    stuck_run = (await handle.describe()).run_id

    CODE["version"] = 2  # a new deployment: the recorded opening no longer replays
    try:
        async with repairing_worker(client, queue, settings):
            await handle.signal(TallyWorkflow.nudge)

            async def reported() -> None:
                assert await stuck_runs(client, queue) == [stuck_run]

            await assert_eventually(reported, timeout=60, interval=0.5)
            assert await repair_stuck(client, queue) == 1
            assert await repair_stuck(client, queue) == 0  # one repair per run, whoever looks
            report = await client.get_workflow_handle_for(
                ReplayRepairWorkflow.run, f"replay-repair-{stuck_run}"
            ).result()
            assert report.reset and report.new_run_id != stuck_run
            assert report.resent == [Resent(r.update_id, "mark", applied=True) for r in report.resent]
            assert len(report.resent) == 2

            # The new run took both marks again, in their order, and goes on with the code of today.
            latest = client.get_workflow_handle(handle.id)
            assert await latest.execute_update(TallyWorkflow.mark, "third") == ["first", "second", "third"]
            assert await latest.result() == ["first", "second", "third"]
            history = await latest.fetch_history()
            opened = [
                e.activity_task_scheduled_event_attributes.activity_type.name
                for e in history.events
                if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
            ]
            assert opened == ["open_tally_v2"]
            code = Replayer(workflows=[TallyWorkflow], data_converter=client.data_converter)
            assert (await code.replay_workflow(history, raise_on_replay_failure=False)).replay_failure is None
            assert await stuck_runs(client, queue) == []
            # A repair activity repeated (its worker killed after the reset): the run is not reset again.
            again = ReplayRepairActivities(client, code, settings)
            order = ResetOrder(StuckRun(handle.id, stuck_run), report.task_completed_event_id, "repeated")
            assert await again.reset_run(order) == report.new_run_id
            assert (await latest.describe()).run_id == report.new_run_id
    finally:
        CODE["version"] = 1


async def test_a_run_whose_newest_task_fails_is_not_reset(dev_env, settings):
    client, queue = dev_env.client, task_queue()
    async with repairing_worker(client, queue, settings):
        handle = await client.start_workflow(BrokenWorkflow.run, id=f"broken-{queue}", task_queue=queue)
        await handle.signal(BrokenWorkflow.break_down)
        stuck_run = (await handle.describe()).run_id

        async def reported() -> None:
            assert await stuck_runs(client, queue) == [stuck_run]

        await assert_eventually(reported, timeout=60, interval=0.5)
        assert await repair_stuck(client, queue) == 1
        report = await client.get_workflow_handle_for(ReplayRepairWorkflow.run, f"replay-repair-{stuck_run}").result()
        assert not report.reset
        assert (await handle.describe()).run_id == stuck_run  # left for the engineer, as it was
        await handle.terminate("test over")


KNOWN = Path(__file__).parent / "known_nondeterministic"


async def test_the_bisection_finds_the_task_of_each_known_unreplayable_ticket():
    """The tickets' own unreplayable histories (recorded by `hotline chaos`): the repair would reset
    each to the task that took the update beside other results."""
    code = replayer(data_converter(Settings()))
    found = {}
    for path in sorted(KNOWN.glob("*.json")):
        history = WorkflowHistory.from_json(f"ticket-{path.stem}", path.read_text())
        result = await first_task_not_replaying(code, history)
        assert result is not None, path.stem
        found[path.stem] = history.events[result[0]].event_id
    assert found == {
        "update_after_timed_out_task": 34,
        "update_beside_delivery_receipts_cold_worker": 33,
        "update_beside_intake_result": 17,
    }


async def test_a_history_that_replays_has_no_task_to_reset_to():
    code = replayer(data_converter(Settings()))
    path = Path(__file__).parent / "histories" / "full_lifecycle.json"
    history = WorkflowHistory.from_json("ticket-full", path.read_text())
    assert await first_task_not_replaying(code, history) is None
