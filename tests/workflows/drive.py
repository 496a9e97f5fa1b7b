"""Driving a ticket workflow in tests the way units and operators do."""

from datetime import timedelta

from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from domain.callback import RecordCallback
from domain.handling import Acknowledge, Complete, ProgressNote
from domain.ticket import Actor, CallbackAnswer, TicketInput, TicketState, TicketSummary
from domain.vocabulary import HandlingResult, Role, Satisfaction, Stage
from tests.eventually import assert_eventually
from workflows.consultation import ConsultationWorkflow
from workflows.ticket import TicketWorkflow

CENTER = Actor(role=Role.center, user="回访员")


def unit(unit_id: str) -> Actor:
    return Actor(role=Role.unit, unit=unit_id, user="办理人")


async def start(env: WorkflowEnvironment, queue: str, inp: TicketInput) -> WorkflowHandle:
    from tests.workflows.conftest import remember

    handle = await env.client.start_workflow(TicketWorkflow.run, inp, id=f"ticket-{inp.number}", task_queue=queue)
    remember(queue, handle)
    await env.sleep(timedelta(seconds=1))  # intake and dispatch

    async def past_intake():  # a slow intake activity holds the skipped clock: wait for it in real time
        assert (await state(handle)).stage != Stage.intake, f"ticket {inp.number} is still in intake"

    await assert_eventually(past_intake, timeout=15)
    return handle


async def state(handle: WorkflowHandle) -> TicketState:
    return await handle.query(TicketWorkflow.live_state)


async def acknowledge(handle: WorkflowHandle, unit_id: str):
    return await handle.execute_update(TicketWorkflow.acknowledge, Acknowledge(actor=unit(unit_id)))


async def progress(handle: WorkflowHandle, unit_id: str, note: str, contacted: bool = False):
    return await handle.execute_update(
        TicketWorkflow.progress, ProgressNote(actor=unit(unit_id), note=note, contacted_citizen=contacted)
    )


async def complete(
    handle: WorkflowHandle, unit_id: str, reply: str = "已到现场处理，摊贩已清理", result=HandlingResult.resolved
):
    return await handle.execute_update(
        TicketWorkflow.complete, Complete(actor=unit(unit_id), result=result, reply=reply)
    )


async def answer(handle: WorkflowHandle, reached=True, resolved=True, satisfaction=Satisfaction.satisfied, comment=""):
    if not reached:
        ans = CallbackAnswer(reached=False)
    else:
        ans = CallbackAnswer(reached=True, resolved=resolved, satisfaction=satisfaction, comment=comment)
    return await handle.execute_update(TicketWorkflow.record_callback, RecordCallback(actor=CENTER, answer=ans))


def events(s: TicketState) -> list[str]:
    return [e.event for e in s.timeline]


async def search_attribute(handle: WorkflowHandle, name: str):
    """A search attribute's value, read from the raw description (the time-skipping server's
    describe lacks the type metadata the typed decoder needs)."""
    import json

    from temporalio.api.common.v1 import WorkflowExecution
    from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionRequest

    client = handle._client
    raw = await client.workflow_service.describe_workflow_execution(
        DescribeWorkflowExecutionRequest(namespace=client.namespace, execution=WorkflowExecution(workflow_id=handle.id))
    )
    fields = raw.workflow_execution_info.search_attributes.indexed_fields
    return json.loads(fields[name].data) if name in fields and fields[name].data else None


async def whistle(handle: WorkflowHandle, unit_id: str, units: dict[str, str], reason: str = "需要相关部门联合执法"):
    from domain.deadlines.escalation import Whistle

    return await handle.execute_update(TicketWorkflow.whistle, Whistle(actor=unit(unit_id), units=units, reason=reason))


async def request_escalation(handle: WorkflowHandle, actor: Actor, reason: str = "涉及多个部门，街道无法协调"):
    from domain.deadlines.escalation import EscalationRequest

    return await handle.execute_update(TicketWorkflow.request_escalation, EscalationRequest(actor=actor, reason=reason))


async def urge(handle: WorkflowHandle, actor: Actor, note: str = "请尽快办理并反馈"):
    from domain.deadlines.escalation import UrgeAction

    return await handle.execute_update(TicketWorkflow.urge, UrgeAction(actor=actor, note=note))


async def ask_extension(handle: WorkflowHandle, unit_id: str, by: str, reason: str = "需协调产权单位，工期较长"):
    from domain.deadlines.extension import AskExtension

    return await handle.execute_update(
        TicketWorkflow.request_extension, AskExtension(actor=unit(unit_id), by=by, reason=reason)
    )


async def decide_extension(handle: WorkflowHandle, approve: bool, note: str = ""):
    from domain.deadlines.extension import DecideExtension

    return await handle.execute_update(
        TicketWorkflow.decide_extension, DecideExtension(actor=CENTER, approve=approve, note=note)
    )


async def ask_return(handle: WorkflowHandle, unit_id: str, reason: str = "非本单位职责", suggested: str | None = None):
    from domain.ownership.returns import AskReturn

    return await handle.execute_update(
        "request_return",
        AskReturn(actor=unit(unit_id), reason=reason, suggested_unit=suggested),
        result_type=TicketSummary,
    )


async def decide_return(handle: WorkflowHandle, approve: bool, to: str | None = None, note: str = ""):
    from domain.ownership.returns import DecideReturn

    return await handle.execute_update(
        "decide_return",
        DecideReturn(actor=CENTER, approve=approve, reassign_to=to, note=note),
        result_type=TicketSummary,
    )


async def dispute(handle: WorkflowHandle, unit_id: str, reason: str = "确非我单位职责，申请会商"):
    from domain.ownership.returns import DisputeReturn

    return await handle.execute_update(TicketWorkflow.dispute_return, DisputeReturn(actor=unit(unit_id), reason=reason))


async def open_consultation(handle: WorkflowHandle, candidates: list[str], reason: str = "职责不清，一键会商"):
    from domain.ownership.consultation import OpenConsultation

    return await handle.execute_update(
        "open_consultation_now",
        OpenConsultation(actor=CENTER, candidates=candidates, reason=reason),
        result_type=TicketSummary,
    )


async def answer_consultation(env, handle: WorkflowHandle, unit_id: str, answer: str, reason: str = ""):
    from domain.ownership.consultation import Answer

    s = await state(handle)
    child = env.client.get_workflow_handle(s.open_consultation.workflow_id)
    return await child.execute_update(
        ConsultationWorkflow.answer, Answer(actor=unit(unit_id), answer=answer, reason=reason)
    )


LEADER = Actor(role=Role.leader, user="分管副主任")


async def rule(
    handle: WorkflowHandle, lead: str, cooperating: list[str], save: bool = False, reason: str = "按属地和行业职责确定"
):
    from domain.ownership.ruling import IssueRuling

    return await handle.execute_update(
        "issue_ruling",
        IssueRuling(actor=LEADER, lead=lead, cooperating=cooperating, reason=reason, save_as_rule=save),
        result_type=TicketSummary,
    )


async def report_part(handle: WorkflowHandle, unit_id: str, text: str = "已完成本单位负责部分"):
    from domain.handling import ReportPart

    return await handle.execute_update(TicketWorkflow.report_part, ReportPart(actor=unit(unit_id), report=text))


async def follow_up(handle: WorkflowHandle, handled: bool, note: str = "119已出警，明火已扑灭", actor: Actor = CENTER):
    from domain.emergency import RecordFollowUp

    return await handle.execute_update(
        "record_follow_up", RecordFollowUp(actor=actor, handled=handled, note=note), result_type=TicketSummary
    )
