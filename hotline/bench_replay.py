"""The workflow side of a ticket alone, without a server or a database: replay the committed
full-lifecycle history N times with the sandbox as it was (only domain/ passed through) and with
the worker's runner (the helper modules of workflows/ passed through too), and print the CPU per
replay. Steadier than a bench's rates on a shared machine: nothing but this process is measured.

python -m hotline.bench_replay [N]      (default 40)"""

import asyncio
import sys
import time

from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from core.codec import data_converter
from core.settings import PROJECT_ROOT, Settings
from worker import WORKFLOW_HELPERS, WORKFLOWS

HISTORY = PROJECT_ROOT / "tests" / "workflows" / "histories" / "full_lifecycle.json"
RUNNERS = {
    "sandbox, domain/ passed through": ("domain", "opentelemetry"),
    "worker's runner, + workflows helpers": ("domain", "opentelemetry", *WORKFLOW_HELPERS),
}


async def _cpu_per_replay(passthrough: tuple[str, ...], histories: list[WorkflowHistory]) -> float:
    restrictions = SandboxRestrictions.default.with_passthrough_modules(*passthrough)
    replayer = Replayer(
        workflows=WORKFLOWS, data_converter=data_converter(Settings()),
        workflow_runner=SandboxedWorkflowRunner(restrictions=restrictions),
    )  # fmt: skip
    await replayer.replay_workflow(histories[0])  # warm-up: first imports, not counted
    start = time.process_time()
    for history in histories:
        await replayer.replay_workflow(history)  # a new workflow instance each time
    return (time.process_time() - start) / len(histories)


async def _main(n: int) -> None:
    text = HISTORY.read_text()
    histories = [WorkflowHistory.from_json(f"ticket-replay-{i}", text) for i in range(n)]
    print(f"replaying {HISTORY.name} ({text.count('eventId')} events) {n} times, CPU per replay, ms:")
    for round_ in (1, 2):
        for name, passthrough in RUNNERS.items():
            print(f"  round {round_}  {name:<38} {1000 * await _cpu_per_replay(passthrough, histories):7.1f}")


if __name__ == "__main__":
    asyncio.run(_main(int(sys.argv[1]) if len(sys.argv) > 1 else 40))
