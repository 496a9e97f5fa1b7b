"""The worker's workflow runner: Temporal's sandbox, minus one cost that buys this product nothing.

For every payload sequence it encodes (each command's input, each update's reply) the SDK asks the
workflow instance which serialization context applies, and which external-storage target, and the
sandboxed instance answers each by compiling and running a code string inside the sandbox. The
context only matters to a payload converter or codec that takes one (`WithSerializationContext`),
the target only to a converter with external storage; this product's converter (pydantic JSON) and
codec (AES-GCM) take no context and store nothing outside, so the answers are "no context" and the
workflow itself, given without entering the sandbox: the payloads are byte for byte what the
sandbox's answers produce. Any other converter gets the plain sandboxed runner."""

from collections.abc import Sequence

from temporalio import workflow
from temporalio.bridge.proto.workflow_activation import WorkflowActivation
from temporalio.bridge.proto.workflow_completion import WorkflowActivationCompletion
from temporalio.converter import (
    ActivitySerializationContext,
    DataConverter,
    SerializationContext,
    StorageDriverStoreContext,
    StorageDriverWorkflowInfo,
    WorkflowSerializationContext,
)
from temporalio.worker import WorkflowInstance, WorkflowInstanceDetails, WorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner


def asks_the_sandbox(converter: DataConverter) -> bool:
    """Whether any part of the converter is told the serialization context (the SDK's own test:
    `with_context` hands back the same converter when no part takes one), or stores payloads
    outside the history."""
    if converter.external_storage is not None:
        return True
    probes = (
        WorkflowSerializationContext(namespace="probe", workflow_id="probe"),
        ActivitySerializationContext(namespace="probe", workflow_id="probe", workflow_type="probe",
                                     activity_id="probe", activity_type="probe", activity_task_queue="probe", is_local=False),
    )  # fmt: skip
    return any(converter.with_context(c) is not converter for c in probes)


class ContextFreeRunner(WorkflowRunner):
    """The sandboxed runner, its instances answering the converter's questions without entering the
    sandbox."""

    def __init__(self, sandboxed: SandboxedWorkflowRunner) -> None:
        self.sandboxed = sandboxed

    def prepare_workflow(self, defn: workflow._Definition) -> None:
        self.sandboxed.prepare_workflow(defn)

    def create_instance(self, det: WorkflowInstanceDetails) -> WorkflowInstance:
        return _ContextFree(self.sandboxed.create_instance(det))

    def set_worker_level_failure_exception_types(self, types: Sequence[type[BaseException]]) -> None:
        self.sandboxed.set_worker_level_failure_exception_types(types)


class _ContextFree(WorkflowInstance):
    def __init__(self, inner: WorkflowInstance) -> None:
        self.inner = inner

    def activate(self, act: WorkflowActivation) -> WorkflowActivationCompletion:
        return self.inner.activate(act)

    def get_serialization_context(self, command_info: object) -> SerializationContext | None:
        return None  # command_info: the SDK's private CommandInfo

    def get_external_store_context(self, command_info: object) -> StorageDriverStoreContext:
        info = self.inner.get_info()  # unused without external storage, which this runner requires
        workflow_info = StorageDriverWorkflowInfo(
            id=info.workflow_id, run_id=info.run_id, type=info.workflow_type, namespace=info.namespace
        )
        return StorageDriverStoreContext(target=workflow_info)

    def get_info(self) -> workflow.Info:
        return self.inner.get_info()

    def get_thread_id(self) -> int | None:
        return self.inner.get_thread_id()
