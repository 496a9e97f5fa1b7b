import pytest_asyncio
from temporalio.client import WorkflowHandle

from tests.conftest import task_queue
from tests.finish import finish
from worker import build_worker

_started: dict[str, list[WorkflowHandle]] = {}


def remember(queue: str, handle: WorkflowHandle) -> None:
    _started.setdefault(queue, []).append(handle)


@pytest_asyncio.fixture
async def queue(time_env, settings):
    """A worker with every workflow and activity, on a fresh task queue, writing to a fresh read
    model. Tickets a test leaves open are terminated afterwards: an open workflow whose worker
    is gone would hold the time-skipping server's clock for every later test."""
    q = task_queue()
    async with build_worker(time_env.client, settings, q):
        yield q
        for handle in _started.pop(q, []):
            await finish(time_env.client, handle.id)
