"""The Temporal worker: every workflow and activity of the product, on one task queue.

python worker.py            (or `hotline worker`)"""

import asyncio
import signal
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from datetime import timedelta

from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import (
    SandboxedWorkflowRunner,
    SandboxRestrictions,
)

from activities import all_activities
from api.intake import RECONCILE_EVERY, reconcile_forever
from core.logging import configure_logging, get_logger
from core.settings import Settings, get_settings
from core.temporal import connect
from workflows.consultation import ConsultationWorkflow
from workflows.ticket import TicketWorkflow

WORKFLOWS = [TicketWorkflow, ConsultationWorkflow]


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


@asynccontextmanager
async def reconciling(
    client: Client, settings: Settings, every: timedelta = RECONCILE_EVERY, **kw
) -> AsyncIterator[None]:
    """The intake reconciler beside the worker: it starts the workflows (and merges the repeats)
    that an API which died after recording the intake never got to, or that were taken in while
    Temporal was down (looking every 2 s). The API runs no loop."""
    task = asyncio.create_task(reconcile_forever(client, settings, every, **kw))
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def _connect_when_reachable(settings: Settings, log) -> Client:
    """Temporal may be restarting (a crash, `hotline up` bringing it back): keep trying, every
    second at first, rather than exit; the worker starts the moment it answers."""
    pause = 0.5
    while True:
        try:
            return await connect(settings)
        except RuntimeError as e:  # the SDK's "Failed client connect"
            log.warning("Temporal not reachable yet; retrying", temporal=settings.temporal_address, error=str(e)[:200])
            await asyncio.sleep(pause)
            pause = min(pause * 2, 5.0)


async def run(settings: Settings) -> None:
    log = get_logger("worker")
    client = await _connect_when_reachable(settings, log)
    worker = build_worker(client, settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with worker, reconciling(client, settings):
        log.info("worker started", task_queue=settings.task_queue, temporal=settings.temporal_address)
        await stop.wait()
        log.info("worker stopping")


def main() -> None:
    settings = get_settings()
    configure_logging(json=settings.log_json, level=settings.log_level)
    asyncio.run(run(settings))


if __name__ == "__main__":
    main()
