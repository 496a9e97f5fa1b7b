"""Committed histories must replay on today's workflow code: a change that breaks determinism
for open tickets fails here (version such changes with workflow.patched)."""

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from core.codec import data_converter
from core.settings import Settings
from worker import WORKFLOWS

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_history_replays(path: Path):
    """With the product's converter: these histories were recorded before payloads were sealed, and
    the codec passes such payloads through, as it does for tickets opened before encryption."""
    history = WorkflowHistory.from_json(f"ticket-{path.stem}", path.read_text())
    replayer = Replayer(
        workflows=WORKFLOWS,
        data_converter=data_converter(Settings()),
        workflow_runner=SandboxedWorkflowRunner(
            restrictions=SandboxRestrictions.default.with_passthrough_modules("domain")
        ),
    )
    await replayer.replay_workflow(history)


def test_there_is_a_history_to_replay():
    assert HISTORIES, "record one with: python -m tests.workflows.record_history"
