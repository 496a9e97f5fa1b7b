"""The workflow side of a ticket alone, without a server or a database: replay the committed
full-lifecycle history N times with the sandbox as it was (only domain/ passed through), with the
helper modules of workflows/ passed through too, and with the worker's runner (which also answers
the payloads' serialization context outside the sandbox), and print the CPU per replay. Steadier
than a bench's rates on a shared machine: nothing but this process is measured.

python -m hotline.bench_replay [N]      (default 40)"""

import asyncio
import sys
import time
from collections.abc import AsyncIterator, Callable

from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer, WorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from core.codec import data_converter
from core.settings import PROJECT_ROOT, Settings
from worker import WORKFLOW_HELPERS, WORKFLOWS, workflow_runner

HISTORY = PROJECT_ROOT / "tests" / "workflows" / "histories" / "full_lifecycle.json"
RUNNERS: dict[str, Callable[[], WorkflowRunner]] = {
    "sandbox, domain/ passed through": lambda: _sandbox("domain", "opentelemetry"),
    "+ workflows helpers": lambda: _sandbox("domain", "opentelemetry", *WORKFLOW_HELPERS),
    "+ no context (the worker's runner)": lambda: workflow_runner(data_converter(Settings())),
}


def _sandbox(*passthrough: str) -> SandboxedWorkflowRunner:
    return SandboxedWorkflowRunner(restrictions=SandboxRestrictions.default.with_passthrough_modules(*passthrough))


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
    text = HISTORY.read_text()
    histories = [WorkflowHistory.from_json(f"ticket-replay-{i}", text) for i in range(n)]
    print(f"replaying {HISTORY.name} ({text.count('eventId')} events) {n} times, CPU per replay, ms:")
    for round_ in (1, 2):
        for name, runner in RUNNERS.items():
            print(f"  round {round_}  {name:<38} {1000 * await _cpu_per_replay(runner, histories):7.1f}")


if __name__ == "__main__":
    asyncio.run(_main(int(sys.argv[1]) if len(sys.argv) > 1 else 40))
