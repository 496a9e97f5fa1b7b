"""The assessment office's recurring work, run by Temporal Schedules (not cron): the daily, weekly
and monthly reports, and the early-warning scan (未诉先办) every few minutes.

    report-daily    01:00 Beijing time, for yesterday
    report-weekly   Monday 02:00, for last week
    report-monthly  the 1st, 03:00, for last month
    early-warning   every [assessment.surge] scan_every of the pack

`ensure_schedules` creates them, or brings their specs up to date (idempotent): the worker calls it
at start, and `hotline schedules` does it on its own."""

import asyncio
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.assessment import AssessmentActivities
    from domain.assessment import (
        Period,
        RaisedWarning,
        ReportInput,
        ReportKind,
        ReportReceipt,
        ScanInput,
        WarningDelivery,
    )

REPORT_TIMEOUT = timedelta(minutes=10)
SCAN_TIMEOUT = timedelta(minutes=2)
RETRY = RetryPolicy(initial_interval=timedelta(seconds=2), maximum_interval=timedelta(minutes=1))
# A warning is worth something for hours, not days: a department system down longer gets it in the
# list (GET /assessment/warnings) and the next day's report.
WARNING_GIVE_UP = timedelta(hours=6)
WARNING_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=10),
    non_retryable_error_types=["DeliveryRejected"],
)


@workflow.defn
class AssessmentReportWorkflow:
    @workflow.run
    async def run(self, input: ReportInput) -> ReportReceipt:
        period = input.period or Period.last_complete(input.kind.period_kind, workflow.now()).label
        return await workflow.execute_activity_method(
            AssessmentActivities.produce_report,
            input.model_copy(update={"period": period}),
            start_to_close_timeout=REPORT_TIMEOUT,
            retry_policy=RETRY,
        )


@workflow.defn
class EarlyWarningWorkflow:
    @workflow.run
    async def run(self, input: ScanInput) -> list[int]:
        at = input.at or workflow.now()
        raised: list[RaisedWarning] = await workflow.execute_activity_method(
            AssessmentActivities.scan_surges, ScanInput(at=at), start_to_close_timeout=SCAN_TIMEOUT, retry_policy=RETRY
        )
        deliveries = [
            workflow.execute_activity_method(
                AssessmentActivities.deliver_warning,
                WarningDelivery(warning=w.id, unit=unit, message=w.message),
                start_to_close_timeout=timedelta(seconds=30),
                schedule_to_close_timeout=WARNING_GIVE_UP,
                retry_policy=WARNING_RETRY,
            )
            for w in raised
            for unit in w.recipients
        ]
        results = await asyncio.gather(*deliveries, return_exceptions=True)
        failed = [r for r in results if isinstance(r, BaseException)]
        if failed:
            workflow.logger.warning("early warnings not delivered: %d of %d", len(failed), len(results))
        return [w.id for w in raised]


SCHEDULE_IDS = {
    "daily": "report-daily",
    "weekly": "report-weekly",
    "monthly": "report-monthly",
    "scan": "early-warning",
}


def schedule_specs(settings) -> dict:
    """Schedule id -> (spec, workflow run method, its input, workflow id)."""
    from temporalio.client import ScheduleCalendarSpec, ScheduleIntervalSpec, ScheduleRange, ScheduleSpec

    from catalog.policies import load_pack

    surge = load_pack(settings.policy_pack).assessment.surge
    tz = "Asia/Shanghai"

    def at(hour: int, **day: int) -> ScheduleSpec:
        # day_of_week / day_of_month when given; the spec's own defaults (every day) otherwise.
        days: dict[str, Any] = {k: [ScheduleRange(v)] for k, v in day.items()}
        cal = ScheduleCalendarSpec(
            hour=[ScheduleRange(hour)],
            minute=[ScheduleRange(0)],
            second=[ScheduleRange(0)],
            **days,
        )
        return ScheduleSpec(calendars=[cal], time_zone_name=tz)

    return {
        SCHEDULE_IDS["daily"]: (at(1), AssessmentReportWorkflow.run, ReportInput(kind=ReportKind.daily)),
        SCHEDULE_IDS["weekly"]: (
            at(2, day_of_week=1),
            AssessmentReportWorkflow.run,
            ReportInput(kind=ReportKind.weekly),
        ),
        SCHEDULE_IDS["monthly"]: (
            at(3, day_of_month=1),
            AssessmentReportWorkflow.run,
            ReportInput(kind=ReportKind.monthly),
        ),
        SCHEDULE_IDS["scan"]: (
            ScheduleSpec(intervals=[ScheduleIntervalSpec(every=timedelta(seconds=surge.scan_every.seconds()))]),
            EarlyWarningWorkflow.run,
            ScanInput(),
        ),
    }


async def ensure_schedules(client, settings) -> list[str]:
    """Create the schedules, or update a changed spec (the scan interval follows the pack)."""
    from temporalio.client import Schedule, ScheduleActionStartWorkflow, ScheduleAlreadyRunningError, ScheduleUpdate

    created = []
    for sid, (spec, run, arg) in schedule_specs(settings).items():
        schedule = Schedule(
            action=ScheduleActionStartWorkflow(
                run, arg, id=sid, task_queue=settings.task_queue, execution_timeout=timedelta(hours=1)
            ),
            spec=spec,
        )
        try:
            await client.create_schedule(sid, schedule)
            created.append(sid)
        except ScheduleAlreadyRunningError:

            def update(input, schedule=schedule):
                current = input.description.schedule  # keeps its state (a paused schedule stays paused)
                current.spec, current.action = schedule.spec, schedule.action
                return ScheduleUpdate(schedule=current)

            await client.get_schedule_handle(sid).update(update)
    return created
