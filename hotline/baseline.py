"""The engine's ceiling on this machine: a bare workflow of three activities and one signal, run by a
worker built with the product's options (`worker.build_worker`) on the same Temporal server.
`hotline bench` runs it before the tickets and prints the ratio of the two rates.

python -m hotline.baseline      (a worker on the task queue below; the bench starts it)"""

import asyncio
import signal
from datetime import timedelta

from temporalio import activity, workflow

TASK_QUEUE = "hotline-bench-baseline"


@activity.defn
def bare_step(n: int) -> int:
    """A plain function on the worker's thread pool, as the product's database activities are."""
    return n + 1


@workflow.defn
class BareWorkflow:
    def __init__(self) -> None:
        self._go = False

    @workflow.run
    async def run(self) -> int:
        timeout = timedelta(seconds=30)
        n = await workflow.execute_activity(bare_step, 0, start_to_close_timeout=timeout)
        await workflow.wait_condition(lambda: self._go)
        n = await workflow.execute_activity(bare_step, n, start_to_close_timeout=timeout)
        return await workflow.execute_activity(bare_step, n, start_to_close_timeout=timeout)

    @workflow.signal
    def go(self) -> None:
        self._go = True


async def _serve() -> None:
    from core.collector import freeze_startup_objects
    from core.settings import get_settings
    from core.temporal import connect
    from worker import build_worker

    settings = get_settings()
    client = await connect(settings)
    worker = build_worker(client, settings, TASK_QUEUE, workflows=[BareWorkflow], activities=[bare_step])
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    freeze_startup_objects()  # as the product's worker does
    async with worker:
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(_serve())
