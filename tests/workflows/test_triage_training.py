"""Retraining the intake triage model: the TriageTrainingWorkflow on the time-skipping server
makes a new active version when the center's history grew and keeps the previous one for
rollback; the schedule that runs it is created once, at the worker's start."""

import asyncio
import uuid

from temporalio.client import ScheduleHandle

from activities.triage_training import TrainingRequest
from hotline.history import import_csv
from readmodel import triage_models
from tests.conftest import task_queue
from worker import build_worker
from workflows.triage_training import (
    SCHEDULE_ID,
    TriageTrainingWorkflow,
    ensure_training_schedule,
)

HISTORY = """工单编号,受理时间,诉求内容,地址,事项,首派单位,办结单位
H001,2026-09-01 09:00,台东夜市的烧烤油烟熏得整栋楼没法开窗,市北区台东八路,餐饮油烟,台东街道,台东街道
H002,2026-09-03 10:12,楼下麻辣烫的排烟管对着卧室,市北区台东三路,urban.cooking_fumes,台东街道,青岛市城市管理局
H003,2026-09-05 11:40,饭店后厨油烟直排，邻居都咳嗽,市北区台东六路,餐饮油烟,台东街道,青岛市城市管理局
H004,2026-09-07 15:30,烧烤店的烟熏黑了我家阳台,市北区利津路,餐饮油烟,台东街道,青岛市城市管理局
"""


async def _train(env, queue, **request):
    return await env.client.execute_workflow(
        TriageTrainingWorkflow.run,
        TrainingRequest(**request),
        id=f"triage-training-{uuid.uuid4().hex[:8]}",
        task_queue=queue,
    )


async def test_a_run_with_new_history_makes_a_new_active_version_and_keeps_the_previous(
    time_env, queue, settings, tmp_path
):
    url = settings.database_url
    first = await _train(time_env, queue)
    assert first.trained and first.version == 1 and first.previous_version is None
    assert first.held_out["held_out"] > 0 and 0 < first.held_out["path_accuracy"] <= 1

    again = await _train(time_env, queue)  # nothing new: the version stays
    assert not again.trained and again.version == 1

    csv = tmp_path / "history.csv"
    csv.write_text(HISTORY, encoding="utf-8")
    assert import_csv(settings, csv).added == 4
    second = await _train(time_env, queue)
    assert second.trained and second.version == 2 and second.previous_version == 1
    assert second.samples["history"] == 4

    rows = {r.version: r for r in triage_models.versions(url)}
    assert rows[2].active and not rows[1].active and rows[1].artefact != rows[2].artefact
    model = triage_models.active_model(settings)
    assert model.version == 2
    # Three of four such tickets in 台东 were finally led by the urban department, not the street.
    corr = model.lead_correction("urban.cooking_fumes", "qd.shibei.taidong", "qd.shibei")
    assert corr is not None and corr.unit == "qd.dept.urban"

    assert triage_models.rollback(url).version == 1
    assert triage_models.active_model(settings).version == 1


async def test_the_schedule_is_created_once_and_a_run_it_starts_trains_a_version(dev_env, settings):
    settings = settings.model_copy(update={"task_queue": task_queue()})
    assert await ensure_training_schedule(dev_env.client, settings)
    try:
        assert not await ensure_training_schedule(dev_env.client, settings)
        handle = dev_env.client.get_schedule_handle(SCHEDULE_ID)
        spec = (await handle.describe()).schedule.spec
        assert spec.time_zone_name == "Asia/Shanghai"
        assert [r.start for c in spec.calendars for r in c.hour] == [3]  # 03:00 Beijing time, nightly
        async with build_worker(dev_env.client, settings, settings.task_queue):
            await handle.trigger()
            for _ in range(600):
                if triage_models.active_row(settings.database_url):
                    break
                await asyncio.sleep(0.1)
        row = triage_models.active_row(settings.database_url)
        assert row is not None and row.trained_by == "schedule"
    finally:
        handle: ScheduleHandle = dev_env.client.get_schedule_handle(SCHEDULE_ID)
        await handle.delete()
