"""Ending a test's open tickets on the time-skipping server without leaking its clock."""

import contextlib

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.service import RPCError

from api.workflow_calls import describe
from tests.eventually import assert_eventually

_OPENED = {EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED}
_CLOSED = {
    EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
    EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED,
    EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT,
    EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED,
    EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED,
    EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT,
    EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED,
}


async def _settle(client: Client, workflow_id: str, seconds: float = 10.0) -> None:
    """Wait (in real time, bounded) until the workflow and its children have no workflow task
    and no activity in flight; a workflow that stays busy is terminated all the same."""

    async def settled() -> None:
        assert await quiet(client, workflow_id), f"{workflow_id} still has work in flight"

    with contextlib.suppress(AssertionError):
        await assert_eventually(settled, timeout=seconds)


async def quiet(client: Client, workflow_id: str) -> bool:
    """The workflow and its children have no workflow task and no activity in flight."""
    handle = client.get_workflow_handle(workflow_id)
    balance = 0
    async for event in handle.fetch_history_events():
        balance += (event.event_type in _OPENED) - (event.event_type in _CLOSED)
    if balance:
        return False
    children = (await describe(client, workflow_id)).pending_children
    for child in children:
        if not await quiet(client, child.workflow_id):
            return False
    return True


async def finish(client: Client, workflow_id: str) -> None:
    """Terminate a ticket once it is quiet, while its worker still runs: the test server never
    releases its lock on skipping for a workflow task or activity in flight at termination, and a
    later test's `sleep` would then take real time (and time out)."""
    with contextlib.suppress(RPCError):
        await _settle(client, workflow_id)
        await client.get_workflow_handle(workflow_id).terminate("test finished")
