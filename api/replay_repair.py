"""Replay repair: a run whose own history no longer replays, reset to the workflow task it fails at.

Why: temporalio 1.35 (also 1.33) can record a workflow task that it then cannot replay. A worker with
nothing cached takes a task that carries an update beside other results (a delivery receipt, the
intake decision): live it runs the results first and the update after them; on replay it runs the
update first (cf. temporalio/sdk-python#1591). The ticket goes on while its worker keeps it
cached; the next worker that has to replay it (a restart, an eviction) fails that task for ever,
and the ticket is stuck. No workflow code replays such a history (tests/workflows/known_
nondeterministic/), so the repair rewinds it, as an engineer on call would:

1. Temporal marks a run whose workflow task keeps failing (the `TemporalReportedProblems` search
   attribute, after `system.numConsecutiveWorkflowTaskProblemsToTriggerSearchAttribute` failures;
   2 in the embedded default). The loop beside each worker lists those of its task queue and starts
   one `ReplayRepairWorkflow` per run (its id is the run's: started once, whoever sees it first).
2. The workflow replays the run's history on this worker's code, task by task (a bisection), to the
   first workflow task that does not replay. When every completed task replays, the failure is not
   this fault (a bug in the newest task): nothing is reset, and the log says so.
3. It resets the run to that task: Temporal copies the history up to the task's start into a new run
   and the task runs again, with the results it had, and without its updates (signals are kept).
4. Once that task completed, it sends again, in their order and under their own ids, the updates
   accepted from that task on, as they were recorded (their payloads still sealed): each now reaches
   the ticket after the results, as it did live. One refused now (the ticket moved meanwhile) is
   logged with the reason; its caller had been told it was done.
5. It rewrites the ticket's read-model row from the new run when the two differ.

Durable: a worker killed in the middle leaves the repair workflow to go on elsewhere. Each step is
safe to repeat: the reset first looks whether the run was reset already (Temporal would reset a
closed run again), and an update sent twice under its id runs once."""

import asyncio
import base64
from dataclasses import dataclass, field
from datetime import timedelta

from temporalio import activity
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import EventType, ResetReapplyExcludeType, UpdateWorkflowExecutionLifecycleStage
from temporalio.api.history.v1 import HistoryEvent
from temporalio.api.update.v1 import Request, WaitPolicy
from temporalio.api.workflowservice.v1 import ResetWorkflowExecutionRequest, UpdateWorkflowExecutionRequest
from temporalio.client import Client, WorkflowHistory
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError
from temporalio.worker import Replayer

from api import projection_check
from api.errors import ApiError
from api.workflow_calls import describe
from core.logging import get_logger
from core.settings import Settings
from core.temporal import WORKFLOW_ID_PREFIX

log = get_logger("replay_repair")

REPAIR_EVERY = timedelta(seconds=10)
# The failures Temporal reports that a replay can explain: a command that differs from the history,
# or the workflow's code raising (an update run before the results it needs).
PROBLEMS = (
    "cause=WorkflowTaskFailedCauseNonDeterministicError",
    "cause=WorkflowTaskFailedCauseWorkflowWorkerUnhandledFailure",
)
COMPLETED = EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED
FAILED = EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED
SCHEDULED = EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED
ACCEPTED = EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED
REPAIR_ID_PREFIX = "replay-repair-"


@dataclass(frozen=True)
class StuckRun:
    workflow_id: str
    run_id: str


@dataclass(frozen=True)
class AcceptedUpdate:
    """An update as its acceptance recorded it; `request` is the serialized
    temporal.api.update.v1.Request, base64 (its payloads as sealed in the history)."""

    update_id: str
    name: str
    request: str


@dataclass(frozen=True)
class ReplayFault:
    """Where a run's history stops replaying: the WorkflowTaskCompleted event of the first task that
    does not, what the replay said, and the updates accepted from that task on."""

    task_completed_event_id: int
    error: str
    updates: list[AcceptedUpdate] = field(default_factory=list)


@dataclass(frozen=True)
class ResetOrder:
    run: StuckRun
    task_completed_event_id: int
    error: str


@dataclass(frozen=True)
class ResendOrder:
    run: StuckRun
    update: AcceptedUpdate


@dataclass(frozen=True)
class Resent:
    update_id: str
    name: str
    applied: bool
    refusal: str = ""


@dataclass(frozen=True)
class RepairReport:
    workflow_id: str
    stuck_run_id: str
    reset: bool
    new_run_id: str = ""
    task_completed_event_id: int = 0
    resent: list[Resent] = field(default_factory=list)


def ticket_of(workflow_id: str) -> str | None:
    return workflow_id.removeprefix(WORKFLOW_ID_PREFIX) if workflow_id.startswith(WORKFLOW_ID_PREFIX) else None


def task_prefix(workflow_id: str, events: list[HistoryEvent], completed_at: int) -> WorkflowHistory:
    """The history through one workflow task's commands: up to the next task's scheduling."""
    end = next((n for n in range(completed_at + 1, len(events)) if events[n].event_type == SCHEDULED), len(events))
    return WorkflowHistory(workflow_id, events[:end])


async def first_task_not_replaying(replayer: Replayer, history: WorkflowHistory) -> tuple[int, str] | None:
    """The index (in `history.events`) of the WorkflowTaskCompleted event of the first task that does
    not replay, and the replay's error; None when every completed task replays. A prefix that does
    not replay stays so when it grows, so a bisection finds it in a few replays."""
    events = list(history.events)
    completed = [i for i, e in enumerate(events) if e.event_type == COMPLETED]

    async def failure(k: int) -> str | None:
        result = await replayer.replay_workflow(
            task_prefix(history.workflow_id, events, completed[k]), raise_on_replay_failure=False
        )
        return None if result.replay_failure is None else str(result.replay_failure)

    if not completed or (error := await failure(len(completed) - 1)) is None:
        return None
    low, high = 0, len(completed) - 1  # the first failing task is in [low, high]; high fails
    while low < high:
        middle = (low + high) // 2
        if (reason := await failure(middle)) is None:
            low = middle + 1
        else:
            high, error = middle, reason
    return completed[high], error


def accepted_updates(events: list[HistoryEvent], after_event_id: int) -> list[AcceptedUpdate]:
    """The updates accepted after an event, in their order."""
    found = []
    for event in events:
        if event.event_type == ACCEPTED and event.event_id > after_event_id:
            request = event.workflow_execution_update_accepted_event_attributes.accepted_request
            found.append(
                AcceptedUpdate(
                    update_id=request.meta.update_id,
                    name=request.input.name,
                    request=base64.b64encode(request.SerializeToString()).decode(),
                )
            )
    return found


class ReplayRepairActivities:
    """The repair's calls to Temporal, with this worker's workflow code (the replayer)."""

    def __init__(self, client: Client, replayer: Replayer, settings: Settings) -> None:
        self.client = client
        self.replayer = replayer
        self.settings = settings

    def all(self) -> list:
        return [self.find_replay_fault, self.reset_run, self.await_task, self.resend_update, self.recheck_row]

    @activity.defn
    async def find_replay_fault(self, run: StuckRun) -> ReplayFault | None:
        history = await self.client.get_workflow_handle(run.workflow_id, run_id=run.run_id).fetch_history()
        found = await first_task_not_replaying(self.replayer, history)
        bound = log.bind(ticket=ticket_of(run.workflow_id), workflow_id=run.workflow_id, run_id=run.run_id)
        if found is None:
            bound.error(
                "workflow task keeps failing, yet every completed task replays: not a replay fault, nothing "
                "reset; the worker's log has the failure"
            )
            return None
        index, error = found
        completed = history.events[index]
        return ReplayFault(completed.event_id, error[:2000], accepted_updates(list(history.events), completed.event_id))

    async def reset_before(self, order: ResetOrder) -> str | None:
        """When the run is no longer the workflow's latest: the run this repair's reset made (a repeat
        after a crash: Temporal would reset a closed run again), or "" for another one (an engineer's
        reset): nothing to do. None while the run is still the latest."""
        run = order.run
        latest = (await describe(self.client, run.workflow_id)).workflow_execution_info.execution.run_id
        if latest == run.run_id:
            return None
        history = await self.client.get_workflow_handle(run.workflow_id, run_id=latest).fetch_history()
        ours = any(
            e.event_type == FAILED and e.workflow_task_failed_event_attributes.base_run_id == run.run_id
            for e in history.events
        )
        return latest if ours else ""

    @activity.defn
    async def reset_run(self, order: ResetOrder) -> str:
        """Reset to the task (it runs again); its updates and later ones are left out, to be sent
        again in order once it ran (Temporal would put them before the task's results). Returns the
        new run's id; "" when another hand replaced the run meanwhile."""
        run = order.run
        if (done := await self.reset_before(order)) is not None:
            return done
        response = await self.client.workflow_service.reset_workflow_execution(
            ResetWorkflowExecutionRequest(
                namespace=self.client.namespace,
                workflow_execution=WorkflowExecution(workflow_id=run.workflow_id, run_id=run.run_id),
                reason=f"replay repair: workflow task completed at event {order.task_completed_event_id} does not "
                f"replay: {order.error[:300]}",
                workflow_task_finish_event_id=order.task_completed_event_id,
                request_id=f"{REPAIR_ID_PREFIX}{run.run_id}-{order.task_completed_event_id}",
                reset_reapply_exclude_types=[ResetReapplyExcludeType.RESET_REAPPLY_EXCLUDE_TYPE_UPDATE],
                identity=self.client.identity,
            ),
            retry=True,
        )
        log.warning(
            "history did not replay: run reset to the workflow task it fails at", ticket=ticket_of(run.workflow_id),
            workflow_id=run.workflow_id, run_id=run.run_id, new_run_id=response.run_id,
            event_id=order.task_completed_event_id, error=order.error[:300],
        )  # fmt: skip
        return response.run_id

    @activity.defn
    async def await_task(self, run: StuckRun) -> None:
        """Done once the new run's first task completed (no workflow task pending); until then this
        activity fails and Temporal retries it."""
        described = await describe(self.client, run.workflow_id)
        if described.workflow_execution_info.execution.run_id != run.run_id:
            return  # reset again meanwhile: nothing to wait for here
        if described.HasField("pending_workflow_task"):
            raise ApplicationError("the reset task has not completed yet")

    @activity.defn
    async def resend_update(self, order: ResendOrder) -> Resent:
        """Send an update again as it was recorded, to the new run, and wait for its outcome (under
        its own id: sent twice, it runs once)."""
        request = Request.FromString(base64.b64decode(order.update.request))
        request.meta.identity = self.client.identity
        response = await self.client.workflow_service.update_workflow_execution(
            UpdateWorkflowExecutionRequest(
                namespace=self.client.namespace,
                workflow_execution=WorkflowExecution(workflow_id=order.run.workflow_id, run_id=order.run.run_id),
                request=request,
                wait_policy=WaitPolicy(
                    lifecycle_stage=UpdateWorkflowExecutionLifecycleStage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED
                ),
            ),
            retry=True,
        )
        if not response.HasField("outcome"):
            raise ApplicationError("the update has not completed yet")  # Temporal retries the activity
        update = order.update
        if response.outcome.HasField("failure"):
            refusal = response.outcome.failure.message
            log.warning(
                "update sent again after the reset was refused", ticket=ticket_of(order.run.workflow_id),
                workflow_id=order.run.workflow_id, update=update.name, update_id=update.update_id, refusal=refusal,
            )  # fmt: skip
            return Resent(update.update_id, update.name, applied=False, refusal=refusal)
        return Resent(update.update_id, update.name, applied=True)

    @activity.defn
    async def recheck_row(self, workflow_id: str) -> bool:
        """The ticket's row rewritten from the new run when they differ (a refused update leaves the
        run behind the row)."""
        number = ticket_of(workflow_id)
        if number is None:
            return False  # not a ticket: no row
        try:
            return await projection_check.recheck(self.client, self.settings, number)
        except ApiError as e:
            if e.status == 404:
                return False
            raise


def problems_query(task_queue: str) -> str:
    listed = ", ".join(f"'{p}'" for p in PROBLEMS)
    return f"TaskQueue = '{task_queue}' AND ExecutionStatus = 'Running' AND TemporalReportedProblems IN ({listed})"


async def repair_stuck(client: Client, task_queue: str) -> int:
    """Start a repair for every run of the task queue whose workflow task keeps failing (one per run:
    a second start is refused). Returns how many were started."""
    from workflows.replay_repair import ReplayRepairWorkflow

    started = 0
    async for found in client.list_workflows(problems_query(task_queue), limit=200):
        if found.id.startswith(REPAIR_ID_PREFIX):
            continue  # a repair's own failure is for the engineer (the log says it)
        try:
            await client.start_workflow(
                ReplayRepairWorkflow.run, StuckRun(found.id, found.run_id), id=f"{REPAIR_ID_PREFIX}{found.run_id}",
                task_queue=task_queue, id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            )  # fmt: skip
        except WorkflowAlreadyStartedError:
            continue
        started += 1
        log.warning(
            "workflow task keeps failing: replay repair started", ticket=ticket_of(found.id), workflow_id=found.id
        )
    return started


async def repair_forever(client: Client, settings: Settings, every: timedelta = REPAIR_EVERY) -> None:
    """The repair's loop, beside each worker."""
    while True:
        try:
            await repair_stuck(client, settings.task_queue)
        except (RPCError, RuntimeError) as e:  # Temporal away: look again later
            log.warning("replay repair could not list the stuck runs", error=str(e)[:300])
        await asyncio.sleep(every.total_seconds())
