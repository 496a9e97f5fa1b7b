"""Talking to a ticket's workflow: queries and updates, with Temporal's errors turned into
answers a caller understands."""

import asyncio
from typing import Any, TypeVar

from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import WorkflowExecutionStatus
from temporalio.api.workflowservice.v1 import (
    DescribeWorkflowExecutionRequest,
    DescribeWorkflowExecutionResponse,
)
from temporalio.client import (
    Client,
    WorkflowQueryFailedError,
    WorkflowQueryRejectedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.workflow import UpdateMethodMultiParam

from api.errors import REFUSAL_STATUS, ApiError, TicketCallError, unavailable
from core.temporal import workflow_id as ticket_workflow_id
from domain.errors import RefusalKind
from domain.ticket import TicketState
from workflows.ticket import TicketWorkflow

# An update waits for a worker to run it; when none polls (worker down), the caller gets a 503 to
# retry instead of a request that hangs. Updates are idempotent where a retry could double them.
UPDATE_TIMEOUT_SECONDS = 20.0
# A read of a ticket's live state waits this long for a worker; then the read model answers.
QUERY_TIMEOUT_SECONDS = 5.0

# The failure type Temporal gives an update that a worker's workflow task completed without taking.
UNPROCESSED = "UnprocessedUpdate"

ParamType = TypeVar("ParamType")
ReturnType = TypeVar("ReturnType")


# What Temporal answers while it is (re)starting or overloaded: try again shortly, not a refusal.
TRANSIENT = {
    RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.CANCELLED, RPCStatusCode.INTERNAL,
    RPCStatusCode.UNKNOWN, RPCStatusCode.RESOURCE_EXHAUSTED, RPCStatusCode.ABORTED,
}  # fmt: skip


def _retry_shortly(number: str, reason: str) -> TicketCallError:
    return TicketCallError(number, 503, reason, unavailable(reason).headers)


def rpc_error(number: str, e: RPCError) -> ApiError:
    if e.status == RPCStatusCode.NOT_FOUND:
        return TicketCallError(number, 404, f"no ticket {number}")
    if e.status in TRANSIENT:
        return _retry_shortly(number, f"Temporal did not answer for ticket {number}: {e.message}")
    # Anything else (a workflow task in failed state, a precondition): the ticket cannot take the
    # call now and a retry later may succeed once the worker recovers; never a bare 5xx.
    return _retry_shortly(number, f"ticket {number} cannot take the call right now, retry shortly: {e.message}")


async def query_state(client: Client, number: str) -> TicketState:
    handle = client.get_workflow_handle(ticket_workflow_id(number))
    try:
        return await asyncio.wait_for(handle.query(TicketWorkflow.live_state), timeout=QUERY_TIMEOUT_SECONDS)
    except TimeoutError as e:
        # A worker busy replaying (just restarted, or the ticket's task slow): the caller falls back
        # on the read model or retries, instead of a page that hangs.
        raise _retry_shortly(number, f"the worker did not answer for ticket {number} in time, retry shortly") from e
    except RPCError as e:
        raise rpc_error(number, e) from e
    except (WorkflowQueryFailedError, WorkflowQueryRejectedError) as e:
        # The worker could not answer (its replay of the ticket failed, or it is rejecting queries):
        # the caller falls back on the read model or retries, as when the worker is down.
        raise _retry_shortly(number, f"the worker could not answer for ticket {number}, retry shortly: {e}") from e


async def describe(client: Client, workflow_id: str) -> DescribeWorkflowExecutionResponse:
    """The raw description: status and memo without decoding search attributes, which a server
    may hand back in shapes the SDK's typed decoding does not expect (a cleared datetime)."""
    execution = WorkflowExecution(workflow_id=workflow_id)
    request = DescribeWorkflowExecutionRequest(namespace=client.namespace, execution=execution)
    return await client.workflow_service.describe_workflow_execution(request)


async def is_closed(client: Client, workflow_id: str) -> bool:
    """After an update found no running workflow: is it a closed ticket, or no ticket at all?"""
    try:
        described = await describe(client, workflow_id)
    except RPCError:
        return False
    return described.workflow_execution_info.status != WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING


async def update(
    client: Client,
    number: str,
    method: UpdateMethodMultiParam[[Any, ParamType], ReturnType],
    arg: ParamType,
    workflow_id: str | None = None,
) -> ReturnType:
    """Run an update on the ticket's workflow (or on one of its children, by id). `method` is the
    workflow's update method (`TicketWorkflow.complete`, `ConsultationWorkflow.answer`): its
    argument and result types are checked, and the result is decoded as the method declares."""
    handle = client.get_workflow_handle(workflow_id or ticket_workflow_id(number))
    try:
        return await asyncio.wait_for(handle.execute_update(method, arg), timeout=UPDATE_TIMEOUT_SECONDS)
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError) as e:
        # No worker, or Temporal gave up waiting for one (it restarted meanwhile): retry shortly.
        raise unavailable(
            f"ticket {number}: no worker answered within {UPDATE_TIMEOUT_SECONDS:.0f} s; retry shortly"
        ) from e
    except WorkflowUpdateFailedError as e:
        cause = e.cause
        if isinstance(cause, ApplicationError) and cause.type == UNPROCESSED:
            # Temporal's, not the ticket's: the worker finished its task without taking the update
            # (seen under chaos after a restart). Nothing was done; the same call again is taken.
            raise unavailable(f"ticket {number}: the worker did not take the action; retry shortly") from e
        if isinstance(cause, ApplicationError) and cause.type in set(RefusalKind):
            raise ApiError(REFUSAL_STATUS[RefusalKind(cause.type)], cause.message) from e
        raise ApiError(409, f"ticket {number} refused the action: {cause}") from e
    except RPCError as e:
        if e.status == RPCStatusCode.NOT_FOUND and await is_closed(client, handle.id):
            raise ApiError(409, f"ticket {number} is closed") from e
        raise rpc_error(number, e) from e
