"""The assessment's workflows on the time-skipping server (the schedules start exactly these), and
the schedules themselves on the dev server."""

import uuid
from datetime import timedelta

from sqlmodel import select

from domain.assessment import Period, PeriodKind, ReportInput, ReportKind, ScanInput
from readmodel import db
from readmodel.tables import AssessmentReportRow, DeliveryRow, EarlyWarningRow
from tests.assessment_rows import add, ticket_row
from tests.conftest import task_queue
from workflows.assessment import AssessmentReportWorkflow, EarlyWarningWorkflow, ensure_schedules


def _water(at, community="团岛社区"):
    return ticket_row(
        at,
        category="water.supply",
        lead_unit="qd.util.water",
        supervisor_unit="qd.dept.water",
        community=community,
        stage="dispatch",
        resolved=None,
        satisfaction=None,
    )


async def test_a_water_cluster_is_warned_of_once_and_delivered_to_district_and_supervisor(time_env, queue, settings):
    now = await time_env.get_current_time()
    add(settings.database_url, [ticket_row(now - timedelta(hours=h)) for h in range(1, 20)])  # the usual day
    scan = dict(task_queue=queue, execution_timeout=timedelta(minutes=5))
    assert (
        await time_env.client.execute_workflow(EarlyWarningWorkflow.run, ScanInput(), id=f"scan-{uuid.uuid4()}", **scan)
        == []
    )

    add(settings.database_url, [_water(now - timedelta(minutes=8 * i + 1)) for i in range(12)])  # within 2 h
    raised = await time_env.client.execute_workflow(
        EarlyWarningWorkflow.run, ScanInput(), id=f"scan-{uuid.uuid4()}", **scan
    )
    assert len(raised) == 1
    # The next scan (one interval later) does not warn of the same surge again.
    later = ScanInput(at=now + timedelta(minutes=10))
    assert (
        await time_env.client.execute_workflow(EarlyWarningWorkflow.run, later, id=f"scan-{uuid.uuid4()}", **scan) == []
    )
    with db.session(settings.database_url) as session:
        warning = session.get(EarlyWarningRow, raised[0])
        deliveries = session.exec(select(DeliveryRow).where(DeliveryRow.ticket == f"W{raised[0]}")).all()
    assert warning.count == 12 and warning.community == "团岛社区"
    assert sorted(warning.delivered_to) == ["qd.dept.water", "qd.shinan"]
    assert {(d.unit, d.kind, d.status) for d in deliveries} == {
        ("qd.shinan", "early_warning", "delivered"),
        ("qd.dept.water", "early_warning", "delivered"),
    }


async def test_a_scheduled_report_covers_the_last_complete_period(time_env, queue, settings):
    now = await time_env.get_current_time()
    last_month = Period.last_complete(PeriodKind.month, now)
    add(settings.database_url, [ticket_row(last_month.start + timedelta(days=1, hours=i)) for i in range(5)])
    receipt = await time_env.client.execute_workflow(
        AssessmentReportWorkflow.run,
        ReportInput(kind=ReportKind.monthly),
        id=f"report-{uuid.uuid4()}",
        task_queue=queue,
    )
    assert (receipt.period, receipt.tickets) == (last_month.label, 5)
    with db.session(settings.database_url) as session:
        row = session.get(AssessmentReportRow, receipt.id)
    assert (row.kind, row.period, row.produced_by) == ("monthly", last_month.label, "schedule")


async def test_the_schedules_are_created_once_with_their_specs(dev_env, settings):
    s = settings.model_copy(update={"task_queue": task_queue()})
    client = dev_env.client
    try:
        assert sorted(await ensure_schedules(client, s)) == [
            "early-warning",
            "report-daily",
            "report-monthly",
            "report-weekly",
        ]
        assert await ensure_schedules(client, s) == []  # idempotent: a second worker start changes nothing
        monthly = (await client.get_schedule_handle("report-monthly").describe()).schedule
        cal = monthly.spec.calendars[0]
        assert monthly.spec.time_zone_name == "Asia/Shanghai"
        assert (cal.day_of_month[0].start, cal.hour[0].start) == (1, 3)
        weekly = (await client.get_schedule_handle("report-weekly").describe()).schedule.spec.calendars[0]
        assert weekly.day_of_week[0].start == 1  # Monday
        scan = (await client.get_schedule_handle("early-warning").describe()).schedule
        assert scan.spec.intervals[0].every == timedelta(minutes=10)  # the pack's scan_every
        assert scan.action.workflow == "EarlyWarningWorkflow"
    finally:
        for sid in ("early-warning", "report-daily", "report-monthly", "report-weekly"):
            try:
                await client.get_schedule_handle(sid).delete()
            except Exception:  # noqa: BLE001
                pass
