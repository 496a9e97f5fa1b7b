"""A workflow that does what workflow code must never do (test_sandbox): read the wall clock, which
differs on replay. Its own module, importing next to nothing, so the sandbox can import it afresh."""

from datetime import datetime

from temporalio import workflow


@workflow.defn
class ReadsTheClock:
    @workflow.run
    async def run(self) -> str:
        return datetime.now().isoformat()
