"""The worker passes the ticket's helper modules through the sandbox (imported once, not for every
new instance): only modules that define no workflow may be among them. It answers the payloads'
serialization context outside the sandbox only for a converter that takes none."""

import dataclasses
import importlib
import inspect
from collections.abc import Sequence
from pathlib import Path

from temporalio.api.common.v1 import Payload
from temporalio.converter import DataConverter, PayloadCodec, SerializationContext, WithSerializationContext
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

import workflows
from core.codec import data_converter
from core.sandbox import ContextFreeRunner
from core.settings import Settings
from worker import WORKFLOW_HELPERS, workflow_runner


def _defines_a_workflow(module) -> bool:
    return any(
        hasattr(obj, "__temporal_workflow_definition") and obj.__module__ == module.__name__
        for _, obj in inspect.getmembers(module, inspect.isclass)
    )


def test_helpers_passed_through_define_no_workflow():
    for name in WORKFLOW_HELPERS:
        assert not _defines_a_workflow(importlib.import_module(name)), f"{name} defines a workflow: keep it sandboxed"


def test_every_helper_module_is_passed_through():
    """A new helper module left out would be re-imported for every ticket instance again."""
    folder = Path(workflows.__file__).parent
    modules = {f"workflows.{p.stem}" for p in folder.glob("*.py") if p.stem != "__init__"}
    helpers = {m for m in modules if not _defines_a_workflow(importlib.import_module(m))}
    assert helpers == set(WORKFLOW_HELPERS)


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
