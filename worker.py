"""The Temporal worker: every workflow and activity of the product, on one task queue.

    python worker.py            (or `hotline worker`)"""

import asyncio
import signal
from concurrent.futures import ThreadPoolExecutor

from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import (
    SandboxedWorkflowRunner,
    SandboxRestrictions,
)

from activities import all_activities
from core.logging import configure_logging, get_logger
from core.settings import Settings, get_settings
from core.temporal import connect
from workflows.consultation import ConsultationWorkflow
from workflows.ticket import TicketWorkflow
from workflows.triage_training import TriageTrainingWorkflow, ensure_training_schedule

WORKFLOWS = [TicketWorkflow, ConsultationWorkflow, TriageTrainingWorkflow]


def build_worker(client: Client, settings: Settings, task_queue: str | None = None, **options) -> Worker:
    return Worker(
        client,
        task_queue=task_queue or settings.task_queue,
        workflows=WORKFLOWS,
        activities=all_activities(settings),
        # Activities that touch the database are plain functions: they run on this pool.
        activity_executor=ThreadPoolExecutor(max_workers=32),
        # domain/ is pure and deterministic: import it once, outside the sandbox.
        workflow_runner=SandboxedWorkflowRunner(
            restrictions=SandboxRestrictions.default.with_passthrough_modules("domain")
        ),
        **options,
    )


async def run(settings: Settings) -> None:
    log = get_logger("worker")
    client = await connect(settings)
    try:
        if await ensure_training_schedule(client, settings):
            log.info("triage training schedule created", cron=settings.triage_training_cron)
    except Exception as e:  # noqa: BLE001  tickets come first: the schedule is made at the next start
        log.warning("triage training schedule not created", error=str(e))
    worker = build_worker(client, settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with worker:
        log.info("worker started", task_queue=settings.task_queue, temporal=settings.temporal_address)
        await stop.wait()
        log.info("worker stopping")


def main() -> None:
    settings = get_settings()
    configure_logging(json=settings.log_json, level=settings.log_level)
    asyncio.run(run(settings))


if __name__ == "__main__":
    main()
