"""The workflow worker's payload codec in one walk of each activation and each completion, not three.

For every activation the SDK (temporalio 1.35) walks the whole activation three times: once to
open external-storage references, once to fetch externally stored payloads, once to run the codec
(AES-GCM here); and every completion three times the other way round. With no external storage
configured the first two walks in, and the last two out, change nothing: they only look for
reference payloads (to refuse them) — yet each walk visits every job and command, and the storage
walk out builds a store context for every payload sequence. A lifecycle profile put the payload
visitor at ~15 % of the worker's samples.

`walk_payloads_once()` makes the workers' decode and encode take the same steps on each payload
sequence in one walk: in, the reference check, the retrieve check and the codec, in the SDK's
order; out, the codec, then the reference check; through the same command-aware converter, so
each command's serialization context applies as before. A converter with external storage keeps
the SDK's walks: its fetches run concurrently across a walk, which one walk would not.
Written against temporalio 1.35: tests/workflows/test_payload_visits.py compares it with the
SDK's walks, so an upgrade that changes them fails there."""

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import temporalio.bridge.worker as bridge_worker
from temporalio.api.common.v1 import Payload
from temporalio.bridge.proto.workflow_activation import WorkflowActivation
from temporalio.bridge.proto.workflow_completion import WorkflowActivationCompletion
from temporalio.converter import DataConverter
from temporalio.converter._extstore import StorageOperationMetrics
from temporalio.worker._command_aware_visitor import CommandAwarePayloadVisitor

Sequences = Callable[[Sequence[Payload]], Awaitable[list[Payload]]]

_sdk_decode_activation = bridge_worker.decode_activation
_sdk_encode_completion = bridge_worker.encode_completion


async def decode_activation(
    activation: WorkflowActivation, data_converter: DataConverter, decode_headers: bool, storage_concurrency_limit: int
) -> StorageOperationMetrics:
    if data_converter.external_storage is not None:
        return await _sdk_decode_activation(activation, data_converter, decode_headers, storage_concurrency_limit)

    async def each(payloads: Sequence[Payload]) -> list[Payload]:
        references_opened = await data_converter._decode_reference_payload_sequence(payloads)
        retrieved = await data_converter._external_retrieve_payload_sequence(references_opened)
        return await data_converter._decode_payload_sequence(retrieved)

    await _walk(activation, each, headers=decode_headers)
    return StorageOperationMetrics()


async def encode_completion(
    completion: WorkflowActivationCompletion,
    data_converter: DataConverter,
    encode_headers: bool,
    storage_concurrency_limit: int,
) -> StorageOperationMetrics:
    if data_converter.external_storage is not None:
        return await _sdk_encode_completion(completion, data_converter, encode_headers, storage_concurrency_limit)

    async def each(payloads: Sequence[Payload]) -> list[Payload]:
        # The store step is skipped: without external storage it hands back what it is given.
        encoded = await data_converter._encode_payload_sequence(payloads)
        return await data_converter._encode_reference_payload_sequence(encoded)

    await _walk(completion, each, headers=encode_headers)
    return StorageOperationMetrics()


async def _walk(message: Any, each: Sequences, headers: bool) -> None:
    visitor = CommandAwarePayloadVisitor(skip_search_attributes=True, skip_headers=not headers)
    await visitor.visit(bridge_worker._Visitor(each), message)


def walk_payloads_once() -> None:
    """Make this process's workflow workers (and replayers) walk each activation and completion once.
    Idempotent; the SDK's functions stay reachable for a converter with external storage."""
    bridge_worker.decode_activation = decode_activation
    bridge_worker.encode_completion = encode_completion
