"""TriageTrainingWorkflow: retrain the intake triage model on the center's data, run by a
Temporal Schedule (nightly by default, HOTLINE_TRIAGE_TRAINING_CRON) that the worker creates at
start if it is missing. Each run that finds new training data makes a new active version; the
previous versions stay for rollback (`hotline triage-models --rollback`)."""

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.triage_training import (
        TrainingRequest,
        TrainingResult,
        TriageTrainingActivities,
    )

SCHEDULE_ID = "triage-training"
WORKFLOW_ID = "triage-training"


@workflow.defn
class TriageTrainingWorkflow:
    @workflow.run
    async def run(self, request: TrainingRequest) -> TrainingResult:
        return await workflow.execute_activity_method(
            TriageTrainingActivities.train_triage_model,
            request,
            start_to_close_timeout=timedelta(minutes=30),
            retry_policy=RetryPolicy(initial_interval=timedelta(seconds=30), maximum_attempts=3),
        )


async def ensure_training_schedule(client, settings) -> bool:
    """Create the nightly schedule unless it exists (idempotent). Returns True when created; a
    new schedule runs at once, so at a center's first start the model trains on the city's data
    and the seed corpus without waiting for the night."""
    from temporalio.client import (
        Schedule,
        ScheduleActionStartWorkflow,
        ScheduleAlreadyRunningError,
        ScheduleOverlapPolicy,
        SchedulePolicy,
        ScheduleSpec,
    )

    schedule = Schedule(
        action=ScheduleActionStartWorkflow(
            TriageTrainingWorkflow.run, TrainingRequest(by="schedule"), id=WORKFLOW_ID, task_queue=settings.task_queue
        ),
        spec=ScheduleSpec(cron_expressions=[settings.triage_training_cron], time_zone_name="Asia/Shanghai"),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )
    try:
        await client.create_schedule(SCHEDULE_ID, schedule, trigger_immediately=True)
        return True
    except ScheduleAlreadyRunningError:
        return False
