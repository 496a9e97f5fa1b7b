"""The workflow side of a ticket alone, without a server or a database: replay the committed
full-lifecycle history N times, and its beginning (a dispatched ticket waiting to be signed for:
what a sign-for warning wakes when the ticket was evicted from the cache), with the full sandbox
(the tests' strict runner: only domain/ passed through) and with the worker's runner (workflows/
passed through too, the payloads' serialization context answered outside the sandbox), and print
the CPU per replay. Steadier than a bench's rates on a shared machine: nothing but this process is
measured.

python -m hotline.bench_replay [N]      (default 40)"""

import asyncio
import json
import sys
import time
from collections.abc import AsyncIterator, Callable

from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer, WorkflowRunner

from core.codec import data_converter
from core.settings import PROJECT_ROOT, Settings
from worker import WORKFLOWS, workflow_runner

HISTORY = PROJECT_ROOT / "tests" / "workflows" / "histories" / "full_lifecycle.json"
RUNNERS: dict[str, Callable[[], WorkflowRunner]] = {
    "full sandbox (the tests')": lambda: workflow_runner(data_converter(Settings()), strict=True),
    "the worker's runner": lambda: workflow_runner(data_converter(Settings())),
}


def _dispatched(history: dict) -> dict:
    """The history up to the first update (the sign-for): dispatched, its work orders delivered."""
    events = history["events"]
    first_update = next(
        i for i, e in enumerate(events) if e["eventType"] == "EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED"
    )
    return {**history, "events": events[:first_update]}


async def _cpu_per_replay(runner: Callable[[], WorkflowRunner], histories: list[WorkflowHistory]) -> float:
    replayer = Replayer(workflows=WORKFLOWS, data_converter=data_converter(Settings()), workflow_runner=runner())
    await replayer.replay_workflow(histories[0])  # warm-up: first imports, not counted

    async def each() -> AsyncIterator[WorkflowHistory]:
        for history in histories:
            yield history

    # One replay worker for all (as a running worker is): replay_workflow would build a worker,
    # and prepare every workflow definition in the sandbox, for each history.
    start = time.process_time()
    await replayer.replay_workflows(each())  # a new workflow instance for each history
    return (time.process_time() - start) / len(histories)


async def _main(n: int) -> None:
    full = json.loads(HISTORY.read_text())
    for label, history in (("full lifecycle", full), ("dispatched", _dispatched(full))):
        histories = [WorkflowHistory.from_json(f"ticket-replay-{i}", history) for i in range(n)]
        print(f"replaying {label} ({len(history['events'])} events of {HISTORY.name}) {n} times, CPU per replay, ms:")
        for round_ in (1, 2):
            for name, runner in RUNNERS.items():
                print(f"  round {round_}  {name:<38} {1000 * await _cpu_per_replay(runner, histories):7.1f}")


if __name__ == "__main__":
    asyncio.run(_main(int(sys.argv[1]) if len(sys.argv) > 1 else 40))
