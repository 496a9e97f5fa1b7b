"""A running worker passes workflows/ through the sandbox (imported once, not for every new
instance); the tests' workers run it in the full sandbox, which refuses a non-deterministic call.
The worker answers the payloads' serialization context outside the sandbox only for a converter
that takes none."""

import dataclasses
import uuid
from collections.abc import Sequence

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.client import WorkflowFailureError, WorkflowHistory
from temporalio.converter import DataConverter, PayloadCodec, SerializationContext, WithSerializationContext
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner
from temporalio.workflow import NondeterminismError

from core.codec import data_converter
from core.sandbox import ContextFreeRunner
from core.settings import Settings
from tests.workflows import record_history
from tests.workflows.reads_the_clock import ReadsTheClock
from worker import build_worker, replayer, workflow_runner


def _passed_through(runner) -> set[str]:
    sandboxed = runner.sandboxed if isinstance(runner, ContextFreeRunner) else runner
    return set(sandboxed.restrictions.passthrough_modules)


def test_the_worker_imports_workflow_code_once_and_the_tests_in_the_sandbox():
    conv = data_converter(Settings())
    assert {"domain", "workflows"} <= _passed_through(workflow_runner(conv))
    assert "workflows" not in _passed_through(workflow_runner(conv, strict=True))
    assert Settings().worker_strict_sandbox, "the tests' conftest asks for the strict sandbox"


async def test_the_strict_sandbox_refuses_a_non_deterministic_call(time_env):
    """The guard the tests keep: workflow code that reads the wall clock fails its run."""
    q = f"strict-{uuid.uuid4().hex[:8]}"
    runner = workflow_runner(time_env.client.data_converter, strict=True)
    # A refused call fails the workflow task, which Temporal retries for ever; failing the run
    # instead lets the test see the refusal.
    async with Worker(time_env.client, task_queue=q, workflows=[ReadsTheClock], workflow_runner=runner,
                      workflow_failure_exception_types=[NondeterminismError]):  # fmt: skip
        with pytest.raises(WorkflowFailureError) as e:
            await time_env.client.execute_workflow(ReadsTheClock.run, id=f"clock-{q}", task_queue=q)
    assert "datetime.datetime.now" in str(e.value.cause)


async def test_the_workers_runner_runs_a_lifecycle_that_replays_in_the_full_sandbox(time_env, settings):
    """The suite's workers run the full sandbox, so this is where the running worker's runner is
    exercised live: a whole lifecycle (updates, an urge, a whistle, an extension, a missed deadline
    and escalation, an unsatisfied callback and rehandle), whose history then replays in the full
    sandbox, command for command."""
    q = f"worker-runner-{uuid.uuid4().hex[:8]}"
    running = settings.model_copy(update={"worker_strict_sandbox": False})
    async with build_worker(time_env.client, running, q):
        recorded = await record_history.full_lifecycle(time_env, q, number=q)
    history = WorkflowHistory.from_json(f"ticket-{q}", recorded)
    assert any(e.HasField("workflow_execution_completed_event_attributes") for e in history.events)
    await replayer(data_converter(settings), strict=True).replay_workflow(history)


class _PerWorkflowCodec(PayloadCodec, WithSerializationContext):
    """A codec that would, say, pick a key per workflow: it must be told the context."""

    def __init__(self, context: SerializationContext | None = None) -> None:
        self.context = context

    def with_context(self, context: SerializationContext) -> "_PerWorkflowCodec":
        return _PerWorkflowCodec(context)

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return list(payloads)

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return list(payloads)


def test_the_context_is_skipped_only_for_a_converter_that_takes_none():
    assert isinstance(workflow_runner(data_converter(Settings())), ContextFreeRunner)  # the product's
    per_workflow = dataclasses.replace(DataConverter.default, payload_codec=_PerWorkflowCodec())
    assert isinstance(workflow_runner(per_workflow), SandboxedWorkflowRunner)
