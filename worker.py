"""The Temporal worker: every workflow and activity of the product, on one task queue.

python worker.py            (or `hotline worker`)"""

import asyncio
import importlib.util
import py_compile
import signal
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

from temporalio.client import Client
from temporalio.converter import DataConverter
from temporalio.worker import Replayer, Worker, WorkflowRunner
from temporalio.worker.workflow_sandbox import (
    SandboxedWorkflowRunner,
    SandboxRestrictions,
)

from activities import all_activities
from api.intake import RECONCILE_EVERY, reconcile_forever
from api.projection_check import check_forever
from api.replay_repair import ReplayRepairActivities, repair_forever
from core.collector import freeze_startup_objects, watching_collections
from core.logging import configure_logging, get_logger
from core.payload_visits import walk_payloads_once
from core.sandbox import ContextFreeRunner, asks_the_sandbox
from core.settings import Settings, get_settings
from core.temporal import connect, metrics_runtime
from workflows.assessment import AssessmentReportWorkflow, EarlyWarningWorkflow, ensure_schedules
from workflows.consultation import ConsultationWorkflow
from workflows.replay_repair import ReplayRepairWorkflow
from workflows.ticket import TicketWorkflow
from workflows.triage_training import TriageTrainingWorkflow, ensure_training_schedule

WORKFLOWS = [
    TicketWorkflow,
    ConsultationWorkflow,
    AssessmentReportWorkflow,
    EarlyWarningWorkflow,
    TriageTrainingWorkflow,
    ReplayRepairWorkflow,
]
WORKFLOW_SOURCES = Path(__file__).resolve().parent / "workflows"

# Every module of workflows/ passes through the sandbox in a running worker: imported once, not
# afresh for each new workflow instance. They hold plain, deterministic classes over
# temporalio.workflow's calls (which find the running instance themselves), no class attributes and
# no module-level state but constants and the shared policy packs (workflows/context.py). The
# sandbox re-importing them was 11 % of the worker's CPU in a lifecycle bench profile (helpers) and
# 10 % while 3,000 deadline warnings came due (the definitions), each replay of an evicted ticket
# beginning with one. What the sandbox's isolation buys is a guard: a non-deterministic call
# (datetime.now, random, I/O) in workflow code is refused. The strict runner keeps it: the tests'
# workers and the replay tests run every workflow module inside the full sandbox (conftest sets
# HOTLINE_WORKER_STRICT_SANDBOX), so such a call fails a test before it reaches a worker.
PASSED_THROUGH = ("domain", "opentelemetry")


def cache_workflow_bytecode(folder: Path = WORKFLOW_SOURCES) -> int:
    """The full sandbox (the tests' workers, HOTLINE_WORKER_STRICT_SANDBOX) imports the workflow
    modules afresh for every workflow instance it creates (that is its isolation). Without their
    bytecode on disk (PYTHONDONTWRITEBYTECODE, as on this machine, or a fresh checkout) each of
    those imports compiles the source again: 15 % of the worker's CPU in a bench profile, when the
    worker still ran so. Write it once at start; importlib reads bytecode even where it may not write
    it. Returns how many files were compiled; a read-only install is left as it is."""
    compiled = 0
    for source in folder.glob("*.py"):
        cached = Path(importlib.util.cache_from_source(str(source)))
        try:
            if cached.exists() and cached.stat().st_mtime >= source.stat().st_mtime:
                continue
            py_compile.compile(str(source), cfile=str(cached), doraise=True)
            compiled += 1
        except (OSError, py_compile.PyCompileError):
            continue
    return compiled


def workflow_runner(converter: DataConverter, strict: bool = False) -> WorkflowRunner:
    """domain/ is pure and deterministic: import it once, outside the sandbox; so is workflows/,
    unless `strict` (the tests), where every workflow module is imported into the full sandbox for
    each instance. The serialization context is answered outside the sandbox when the converter
    takes none."""
    passed_through = PASSED_THROUGH if strict else (*PASSED_THROUGH, "workflows")
    sandboxed = SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(*passed_through)
    )
    return sandboxed if asks_the_sandbox(converter) else ContextFreeRunner(sandboxed)


def replayer(converter: DataConverter, strict: bool = False) -> Replayer:
    """This worker's workflow code, to replay a history as the worker would (the replay repair)."""
    runner = workflow_runner(converter, strict)
    walk_payloads_once()
    return Replayer(workflows=WORKFLOWS, data_converter=converter, workflow_runner=runner)


def build_worker(
    client: Client,
    settings: Settings,
    task_queue: str | None = None,
    workflows: list | None = None,
    activities: list | None = None,
    **options,
) -> Worker:
    """The product's worker. `hotline bench` builds its bare baseline with the same options and its
    own workflows and activities, so the two rates compare like with like."""
    options.setdefault("max_cached_workflows", settings.worker_max_cached_workflows)
    options.setdefault("max_concurrent_workflow_tasks", settings.worker_max_concurrent_workflow_tasks)
    options.setdefault(
        "sticky_queue_schedule_to_start_timeout", timedelta(seconds=settings.worker_sticky_timeout_seconds)
    )
    if settings.worker_strict_sandbox:  # only the full sandbox imports workflows/ per instance
        cache_workflow_bytecode()
    walk_payloads_once()
    return Worker(
        client,
        task_queue=task_queue or settings.task_queue,
        workflows=WORKFLOWS if workflows is None else workflows,
        activities=product_activities(client, settings) if activities is None else activities,
        # Activities that touch the database are plain functions: they run on this pool.
        activity_executor=ThreadPoolExecutor(max_workers=32),
        workflow_runner=workflow_runner(client.data_converter, settings.worker_strict_sandbox),
        **options,
    )


def product_activities(client: Client, settings: Settings) -> list:
    """The tickets' activities, and the replay repair's (which need the client and this code)."""
    return [
        *all_activities(settings),
        *ReplayRepairActivities(
            client, replayer(client.data_converter, settings.worker_strict_sandbox), settings
        ).all(),
    ]


@asynccontextmanager
async def reconciling(
    client: Client, settings: Settings, every: timedelta = RECONCILE_EVERY, **kw
) -> AsyncIterator[None]:
    """The loops beside the worker (the API runs none). The intake reconciler starts the workflows
    (and merges the repeats) that an API which died after recording the intake never got to, or
    that were taken in while Temporal was down (looking every 2 s). The projection check rewrites a
    read-model row that a workflow task which never completed had written ahead of its workflow.
    The replay repair resets a run whose history no longer replays (api/replay_repair.py)."""
    tasks = [
        asyncio.create_task(reconcile_forever(client, settings, every, **kw)),
        asyncio.create_task(check_forever(client, settings)),
        asyncio.create_task(repair_forever(client, settings)),
    ]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def _connect_when_reachable(settings: Settings, log) -> Client:
    """Temporal may be restarting (a crash, `hotline up` bringing it back): keep trying, every
    second at first, rather than exit; the worker starts the moment it answers."""
    pause = 0.5
    while True:
        try:
            return await connect(settings, runtime=metrics_runtime(settings), component="worker")
        except RuntimeError as e:  # the SDK's "Failed client connect"
            log.warning("Temporal not reachable yet; retrying", temporal=settings.temporal_address, error=str(e)[:200])
            await asyncio.sleep(pause)
            pause = min(pause * 2, 5.0)


async def run(settings: Settings) -> None:
    log = get_logger("worker")
    client = await _connect_when_reachable(settings, log)
    try:
        if await ensure_training_schedule(client, settings):
            log.info("triage training schedule created", cron=settings.triage_training_cron)
    except Exception as e:  # noqa: BLE001  tickets come first: the schedule is made at the next start
        log.warning("triage training schedule not created", error=str(e))
    worker = build_worker(client, settings)
    try:  # reports and the early-warning scan (idempotent: every worker start checks them)
        log.info("schedules in place", created=await ensure_schedules(client, settings))
    except Exception as e:  # noqa: BLE001 — tickets must not wait for the reports; `hotline schedules` retries
        log.error("could not create the assessment schedules", error=str(e))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    frozen = freeze_startup_objects()  # start-up is done: collections skip what it made (core/collector.py)
    with watching_collections(loop):
        async with worker, reconciling(client, settings):
            log.info(
                "worker started", task_queue=settings.task_queue, temporal=settings.temporal_address,
                metrics_port=settings.worker_metrics_port, tracing=bool(settings.otlp_endpoint),
                frozen_objects=frozen,
            )  # fmt: skip
            await stop.wait()
            log.info("worker stopping")


def main() -> None:
    settings = get_settings()
    configure_logging(json=settings.log_json, level=settings.log_level, secrets=settings.secret_values())
    asyncio.run(run(settings))


if __name__ == "__main__":
    main()
