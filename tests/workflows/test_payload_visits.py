"""The worker's one walk over an activation's and a completion's payloads gives byte for byte what
the SDK's three walks give, refuses an externally stored payload as the SDK does, and leaves a
converter with external storage to the SDK's own walks. The suite's workers and replayers run the
one walk (build_worker and replayer turn it on), so every test with a worker, the sealed-history
test among them, runs through it too."""

from collections.abc import Sequence

import pytest
import temporalio.bridge.worker as bridge_worker
from temporalio.api.common.v1 import Payload, SearchAttributes
from temporalio.bridge.proto.activity_result import ActivityResolution, Success
from temporalio.bridge.proto.workflow_activation import (
    DoUpdate,
    InitializeWorkflow,
    ResolveActivity,
    SignalWorkflow,
    WorkflowActivation,
    WorkflowActivationJob,
)
from temporalio.bridge.proto.workflow_commands import (
    CompleteWorkflowExecution,
    ScheduleActivity,
    ScheduleLocalActivity,
    UpdateResponse,
    UpsertWorkflowSearchAttributes,
    WorkflowCommand,
)
from temporalio.bridge.proto.workflow_completion import Success as CompletionSuccess
from temporalio.bridge.proto.workflow_completion import WorkflowActivationCompletion
from temporalio.converter import DataConverter, PayloadCodec

from core import payload_visits
from core.codec import data_converter
from core.settings import Settings
from worker import build_worker, replayer


class _Reversing(PayloadCodec):
    """A deterministic codec, so that two encodings can be compared byte for byte."""

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [Payload(metadata={"encoding": b"test/reversed"}, data=p.SerializeToString()[::-1]) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [Payload.FromString(p.data[::-1]) if p.metadata.get("encoding") == b"test/reversed" else p
                for p in payloads]  # fmt: skip


CONVERTER = DataConverter(payload_codec=_Reversing())


def _plain(name: str) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=f'"{name}"'.encode())


def _search_attribute() -> SearchAttributes:
    return SearchAttributes(indexed_fields={"Stage": Payload(metadata={"encoding": b"json/plain"}, data=b'"intake"')})


def _activation(payload) -> WorkflowActivation:
    return WorkflowActivation(
        run_id="run",
        jobs=[
            WorkflowActivationJob(
                initialize_workflow=InitializeWorkflow(
                    workflow_type="Ticket", workflow_id="ticket-1", arguments=[payload("start")],
                    headers={"trace": payload("header")}, search_attributes=_search_attribute(),
                )
            ),
            WorkflowActivationJob(do_update=DoUpdate(id="u1", name="acknowledge", input=[payload("ack")])),
            WorkflowActivationJob(signal_workflow=SignalWorkflow(signal_name="urge", input=[payload("a"), payload("b")])),
            WorkflowActivationJob(resolve_activity=ResolveActivity(
                seq=3, result=ActivityResolution(completed=Success(result=payload("delivered"))), is_local=True,
            )),
        ],
    )  # fmt: skip


def _completion(payload) -> WorkflowActivationCompletion:
    commands = [
        WorkflowCommand(schedule_activity=ScheduleActivity(seq=1, activity_type="deliver", arguments=[payload("wo")])),
        WorkflowCommand(schedule_local_activity=ScheduleLocalActivity(seq=2, activity_type="project",
                                                                      arguments=[payload("row")])),
        WorkflowCommand(update_response=UpdateResponse(protocol_instance_id="u1", completed=payload("done"))),
        WorkflowCommand(upsert_workflow_search_attributes=UpsertWorkflowSearchAttributes(
            search_attributes=_search_attribute())),
        WorkflowCommand(complete_workflow_execution=CompleteWorkflowExecution(result=payload("closed"))),
    ]  # fmt: skip
    return WorkflowActivationCompletion(run_id="run", successful=CompletionSuccess(commands=commands))


async def _sealed(name: str) -> Payload:
    return (await CONVERTER.payload_codec.encode([_plain(name)]))[0]  # type: ignore[union-attr]


@pytest.mark.parametrize("headers", [True, False])
async def test_one_walk_decodes_an_activation_as_the_sdks_three_walks_do(headers):
    sealed = {name: await _sealed(name) for name in ("start", "header", "ack", "a", "b", "delivered")}
    by_sdk, by_one_walk = _activation(sealed.__getitem__), _activation(sealed.__getitem__)
    await payload_visits._sdk_decode_activation(by_sdk, CONVERTER, headers, 1)
    await payload_visits.decode_activation(by_one_walk, CONVERTER, headers, 1)
    assert by_one_walk.SerializeToString(deterministic=True) == by_sdk.SerializeToString(deterministic=True)
    assert by_one_walk.jobs[1].do_update.input[0] == _plain("ack")  # opened, not just equal to the SDK's
    assert (by_one_walk.jobs[0].initialize_workflow.headers["trace"] == _plain("header")) is headers
    search_attribute = by_one_walk.jobs[0].initialize_workflow.search_attributes.indexed_fields["Stage"]
    assert search_attribute.data == b'"intake"'  # search attributes are never sealed, so never opened


@pytest.mark.parametrize("headers", [True, False])
async def test_one_walk_encodes_a_completion_as_the_sdks_three_walks_do(headers):
    by_sdk, by_one_walk = _completion(_plain), _completion(_plain)
    await payload_visits._sdk_encode_completion(by_sdk, CONVERTER, headers, 1)
    await payload_visits.encode_completion(by_one_walk, CONVERTER, headers, 1)
    assert by_one_walk.SerializeToString(deterministic=True) == by_sdk.SerializeToString(deterministic=True)
    commands = by_one_walk.successful.commands
    assert commands[1].schedule_local_activity.arguments[0] == await _sealed("row")
    assert commands[2].update_response.completed == await _sealed("done")
    assert commands[3].upsert_workflow_search_attributes.search_attributes.indexed_fields["Stage"].data == b'"intake"'


async def test_the_products_codec_round_trips_through_the_one_walk():
    """The product's AES-GCM codec: what the one walk seals, the one walk opens."""
    converter = data_converter(Settings())
    completion = _completion(_plain)
    await payload_visits.encode_completion(completion, converter, True, 1)
    sealed = completion.successful.commands[0].schedule_activity.arguments[0]
    assert sealed.metadata["encoding"] == b"binary/encrypted" and b"wo" not in sealed.data
    activation = WorkflowActivation(jobs=[WorkflowActivationJob(do_update=DoUpdate(id="u", input=[sealed]))])
    await payload_visits.decode_activation(activation, converter, True, 1)
    assert activation.jobs[0].do_update.input[0] == _plain("wo")


@pytest.mark.parametrize("metadata", [
    {"__temporal_external_storage_reference": b"true"},  # the marker on a sealed reference
    {"encoding": b"json/external-storage-reference"},  # the reference itself
])  # fmt: skip
async def test_an_externally_stored_payload_is_refused_as_the_sdk_refuses_it(metadata):
    """Stored outside the history by some other client: without external storage neither walk can
    fetch it, and both say so."""
    for decode in (payload_visits._sdk_decode_activation, payload_visits.decode_activation):
        reference = Payload(metadata=metadata, data=b"{}")
        activation = WorkflowActivation(jobs=[WorkflowActivationJob(do_update=DoUpdate(id="u", input=[reference]))])
        with pytest.raises(RuntimeError, match="TMPRL1105"):
            await decode(activation, CONVERTER, True, 1)


async def test_a_converter_with_external_storage_keeps_the_sdks_walks(monkeypatch):
    calls = []

    async def sdk_decode(*args):
        calls.append("decode")

    async def sdk_encode(*args):
        calls.append("encode")

    monkeypatch.setattr(payload_visits, "_sdk_decode_activation", sdk_decode)
    monkeypatch.setattr(payload_visits, "_sdk_encode_completion", sdk_encode)

    class _WithStorage:
        external_storage = object()

    await payload_visits.decode_activation(_activation(_plain), _WithStorage(), True, 4)  # type: ignore[arg-type]
    await payload_visits.encode_completion(_completion(_plain), _WithStorage(), True, 4)  # type: ignore[arg-type]
    assert calls == ["decode", "encode"]


def _walks_once() -> bool:
    return (bridge_worker.decode_activation, bridge_worker.encode_completion) == (
        payload_visits.decode_activation,
        payload_visits.encode_completion,
    )


async def test_the_worker_and_the_replayer_walk_once(time_env, settings, monkeypatch):
    def the_sdks_walks():
        monkeypatch.setattr(bridge_worker, "decode_activation", payload_visits._sdk_decode_activation)
        monkeypatch.setattr(bridge_worker, "encode_completion", payload_visits._sdk_encode_completion)

    the_sdks_walks()
    async with build_worker(time_env.client, settings, "walks-once"):
        assert _walks_once()
    the_sdks_walks()
    replayer(CONVERTER)
    assert _walks_once()
