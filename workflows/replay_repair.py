"""ReplayRepairWorkflow: one run whose history no longer replays, found, reset and brought back
(api/replay_repair.py says why and how). A workflow, so that a worker killed halfway through a
repair leaves nothing half done: every step is an activity that Temporal retries, and each is safe
to repeat."""

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from api.replay_repair import (
        RepairReport,
        ReplayRepairActivities,
        ResendOrder,
        ResetOrder,
        StuckRun,
    )

CALL = timedelta(minutes=2)
# Waiting for the reset task (or an update's outcome): each attempt asks again, for up to 10 min.
WAIT = RetryPolicy(
    initial_interval=timedelta(seconds=1), backoff_coefficient=1.5, maximum_interval=timedelta(seconds=10)
)


@workflow.defn
class ReplayRepairWorkflow:
    @workflow.run
    async def run(self, stuck: StuckRun) -> RepairReport:
        a = ReplayRepairActivities
        fault = await workflow.execute_activity_method(a.find_replay_fault, stuck, start_to_close_timeout=CALL)
        if fault is None:
            return RepairReport(stuck.workflow_id, stuck.run_id, reset=False)
        new_run_id = await workflow.execute_activity_method(
            a.reset_run,
            ResetOrder(stuck, fault.task_completed_event_id, fault.error),
            start_to_close_timeout=CALL,
        )
        if not new_run_id:  # replaced by another hand meanwhile
            return RepairReport(stuck.workflow_id, stuck.run_id, reset=False)
        reset = StuckRun(stuck.workflow_id, new_run_id)
        await workflow.execute_activity_method(
            a.await_task,
            reset,
            start_to_close_timeout=CALL,
            schedule_to_close_timeout=timedelta(minutes=10),
            retry_policy=WAIT,
        )
        resent = []
        for update in fault.updates:  # one after the other: in the order the ticket took them
            resent.append(
                await workflow.execute_activity_method(
                    a.resend_update, ResendOrder(reset, update), start_to_close_timeout=CALL, retry_policy=WAIT
                )
            )
        await workflow.execute_activity_method(a.recheck_row, stuck.workflow_id, start_to_close_timeout=CALL)
        return RepairReport(stuck.workflow_id, stuck.run_id, True, new_run_id, fault.task_completed_event_id, resent)
