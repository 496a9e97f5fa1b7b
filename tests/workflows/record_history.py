"""Record the committed histories that the replay test runs.

    .venv/bin/python -m tests.workflows.record_history

It writes only the histories that are missing (a new scenario); `--all` re-records every one,
which throws away the proof that tickets started under older code still replay — do that only
when no ticket started under the old code can still be open or queried."""

import asyncio
from datetime import timedelta
from pathlib import Path

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from core.settings import Settings
from domain.vocabulary import Satisfaction
from readmodel import db
from tests.conftest import BIN
from tests.eventually import assert_eventually
from tests.factories import ticket_input
from tests.workflows import drive
from worker import build_worker
from workflows.search_attributes import register_search_attributes

HERE = Path(__file__).parent / "histories"
LEAD = "qd.shinan.badaxia"


async def full_lifecycle(env: WorkflowEnvironment, queue: str, number: str = "full_lifecycle") -> str:
    """Intake, dispatch, an urge, the whistle and a department reporting, an extension, a missed
    deadline and escalation, progress, completion, an unsatisfied callback, rehandle, a satisfied
    callback, close."""
    inp = ticket_input().model_copy(update={"number": number})  # replayed as ticket-<file name>
    h = await drive.start(env, queue, inp)
    await drive.urge(h, drive.unit("qd.dept.urban"))
    await drive.acknowledge(h, LEAD)
    await drive.whistle(h, LEAD, {"qd.dept.urban": "青岛市城市管理局"})
    await drive.acknowledge(h, "qd.dept.urban")
    await drive.ask_extension(h, LEAD, "2d")
    await drive.decide_extension(h, approve=True)
    await env.sleep(timedelta(days=9, hours=2))  # escalated to the district
    await drive.progress(h, LEAD, "已联系诉求人", contacted=True)
    await drive.complete(h, LEAD, reply="已劝导")
    await env.sleep(timedelta(seconds=1))
    await drive.answer(h, resolved=False, satisfaction=Satisfaction.unsatisfied)
    await env.sleep(timedelta(seconds=1))
    await drive.acknowledge(h, LEAD)
    await drive.complete(h, LEAD, reply="已取缔")
    await env.sleep(timedelta(seconds=1))
    await drive.answer(h)
    await h.result()
    return (await h.fetch_history()).to_json()


async def dispute(env: WorkflowEnvironment, queue: str) -> tuple[str, str]:
    """A return refused and disputed, a consultation without consensus, a ruling saved as a rule,
    cooperating units reporting, close. Returns the ticket's and the consultation's histories."""
    inp = ticket_input(category="housing.property_management").model_copy(update={"number": "dispute_ruling"})
    h = await drive.start(env, queue, inp)
    await drive.ask_return(h, LEAD)
    await drive.decide_return(h, approve=False)
    await drive.dispute(h, LEAD)
    await env.sleep(timedelta(seconds=1))
    child = (await drive.state(h)).open_consultation.workflow_id
    await drive.answer_consultation(env, h, LEAD, "decline", "非街道职责")
    await env.sleep(timedelta(hours=9))  # two rounds pass; 住建局 stays silent
    await drive.rule(h, lead="qd.dept.housing", cooperating=[LEAD], save=True)
    await drive.acknowledge(h, "qd.dept.housing")
    await drive.acknowledge(h, LEAD)
    await drive.report_part(h, LEAD)
    await drive.complete(h, "qd.dept.housing", reply="已约谈物业")
    await env.sleep(timedelta(seconds=1))
    await drive.answer(h)
    await h.result()
    return (await h.fetch_history()).to_json(), (await env.client.get_workflow_handle(child).fetch_history()).to_json()


async def repeats_rated_online(env: WorkflowEnvironment, queue: str) -> str:
    """Three repeats merged (the third puts it under supervision), completion, a callback attempt
    that does not reach the citizen, then the citizen's own online rating, close."""
    from domain.callback import OnlineRating
    from domain.intake.merge import MergeAppeal
    from domain.ticket import Actor, CallbackAnswer, Citizen
    from domain.vocabulary import Channel, Role
    from workflows.ticket import TicketWorkflow

    inp = ticket_input().model_copy(update={"number": "repeats_rated_online"})
    h = await drive.start(env, queue, inp)
    for n in range(1, 4):
        appeal = MergeAppeal(actor=Actor(role=Role.intake, user="desk"), key=f"repeat-{n}", channel=Channel.wechat,
                             citizen=Citizen(name="赵先生", phone="13900000001"), description="烧烤摊又出来了")  # fmt: skip
        await h.execute_update(TicketWorkflow.merge_appeal, appeal)
    await drive.acknowledge(h, LEAD)
    await drive.complete(h, LEAD)
    await env.sleep(timedelta(seconds=1))
    await drive.answer(h, reached=False)
    await env.sleep(timedelta(hours=8, minutes=1))
    answer = CallbackAnswer(reached=True, resolved=True, satisfaction=Satisfaction.satisfied, comment="已解决")
    await h.execute_update(TicketWorkflow.rate_online, OnlineRating(answer=answer))
    await h.result()
    return (await h.fetch_history()).to_json()


async def direct_answer(env: WorkflowEnvironment, queue: str, url: str) -> str:
    """A consultation the knowledge base answers: closed at intake."""
    from domain.vocabulary import Kind
    from readmodel import knowledge

    knowledge.seed(url, "qingdao")
    inp = ticket_input(kind=Kind.consultation, category="labour.social_insurance", description="请问住房公积金怎么提取")
    h = await drive.start(env, queue, inp.model_copy(update={"number": "direct_answer"}))
    await h.result()
    return (await h.fetch_history()).to_json()


async def emergency_sent_back(env: WorkflowEnvironment, queue: str) -> str:
    """Transferred to 110, sent back as a hotline matter, dispatched and closed."""
    from domain.intake.triage import EmergencyService
    from domain.vocabulary import Kind

    inp = ticket_input(kind=Kind.help, emergency_service=EmergencyService.police, description="楼下烧烤摊半夜还在营业")
    h = await drive.start(env, queue, inp.model_copy(update={"number": "emergency_sent_back"}))
    await drive.follow_up(h, handled=False, note="110: 非警务警情，转回12345办理")
    await env.sleep(timedelta(seconds=1))
    await drive.acknowledge(h, LEAD)
    await drive.complete(h, LEAD)
    await drive.answer(h)
    await h.result()
    return (await h.fetch_history()).to_json()


async def emergency_handled(env: WorkflowEnvironment, queue: str) -> str:
    """Transferred to 119, not followed up within the pack's window (overdue), then followed up
    as handled by the service: closed as an emergency transfer."""
    from domain.intake.triage import EmergencyService
    from domain.vocabulary import Kind

    inp = ticket_input(
        kind=Kind.help, emergency_service=EmergencyService.fire, description="楼下饭店后厨着火了，黑烟一直往楼上冒"
    )
    h = await drive.start(env, queue, inp.model_copy(update={"number": "emergency_handled"}))
    await env.sleep(timedelta(hours=24, minutes=5))  # Qingdao: follow up within 24 h
    await drive.follow_up(h, handled=True, note="119已出警，明火已扑灭，无人员伤亡")
    await h.result()
    return (await h.fetch_history()).to_json()


async def out_of_scope(env: WorkflowEnvironment, queue: str, url: str) -> str:
    """A matter outside the hotline's scope: explained and closed at intake."""
    from domain.vocabulary import Kind, Outcome
    from readmodel import knowledge

    knowledge.seed(url, "qingdao")
    inp = ticket_input(kind=Kind.help, description="你们能不能帮我查查楼上那个邻居的手机号，我有急事找他")
    h = await drive.start(env, queue, inp.model_copy(update={"number": "out_of_scope"}))
    assert (await h.result()).outcome == Outcome.out_of_scope
    return (await h.fetch_history()).to_json()


async def legal_channel(env: WorkflowEnvironment, queue: str, url: str) -> str:
    """A matter for the court: guided to the legal channel and closed at intake."""
    from domain.vocabulary import Outcome
    from readmodel import knowledge

    knowledge.seed(url, "qingdao")
    inp = ticket_input(description="法院判决下来半年了，对方还是不执行判决，我申请强制执行也没有动静")
    h = await drive.start(env, queue, inp.model_copy(update={"number": "legal_channel"}))
    assert (await h.result()).outcome == Outcome.legal_channel
    return (await h.fetch_history()).to_json()


async def warning_breach_escalation(
    env: WorkflowEnvironment, queue: str, number: str = "warning_breach_escalation"
) -> str:
    """An emergency nobody acts on: warnings and breaches of the sign-for, contact and completion
    clocks, the whole ladder (reminder, supervision, escalation) by time alone — street, district,
    city, then escalation exhausted at the city tier; late handling, callback, close."""
    from domain.vocabulary import Urgency

    inp = ticket_input(urgency=Urgency.emergency).model_copy(update={"number": number})
    h = await drive.start(env, queue, inp)
    await env.sleep(timedelta(hours=9, minutes=10))  # 2 h deadlines, escalation 1 h after each breach
    await drive.acknowledge(h, LEAD)
    await drive.complete(h, LEAD)
    await env.sleep(timedelta(seconds=1))
    await drive.answer(h)
    await h.result()
    return (await h.fetch_history()).to_json()


async def extension_rejected(env: WorkflowEnvironment, queue: str) -> str:
    """An extension asked for and rejected: the deadline stays; completion, callback, close."""
    inp = ticket_input().model_copy(update={"number": "extension_rejected"})
    h = await drive.start(env, queue, inp)
    await drive.acknowledge(h, LEAD)
    await drive.ask_extension(h, LEAD, "2d")
    await drive.decide_extension(h, approve=False, note="情况不复杂，按期办结")
    await drive.complete(h, LEAD)
    await env.sleep(timedelta(seconds=1))
    await drive.answer(h)
    await h.result()
    return (await h.fetch_history()).to_json()


async def escalation_requested(env: WorkflowEnvironment, queue: str) -> str:
    """The street asks to escalate (district coordinates), then the center escalates to the city;
    completion, callback, close."""
    inp = ticket_input().model_copy(update={"number": "escalation_requested"})
    h = await drive.start(env, queue, inp)
    await drive.acknowledge(h, LEAD)
    await drive.request_escalation(h, drive.unit(LEAD))
    await drive.request_escalation(h, drive.CENTER)
    await drive.complete(h, LEAD)
    await env.sleep(timedelta(seconds=1))
    await drive.answer(h)
    await h.result()
    return (await h.fetch_history()).to_json()


async def return_approved(env: WorkflowEnvironment, queue: str) -> str:
    """The street returns it, the center approves and reassigns it to 城管局 (cancellation to the
    street, a work order to the new lead); the new unit completes, callback, close."""
    inp = ticket_input().model_copy(update={"number": "return_approved"})
    h = await drive.start(env, queue, inp)
    await drive.ask_return(h, LEAD, reason="占道经营由城管执法，非街道职责")
    await drive.decide_return(h, approve=True, to="qd.dept.urban", note="同意改派城管")
    await drive.acknowledge(h, "qd.dept.urban")
    await drive.complete(h, "qd.dept.urban", reply="城管中队已依法取缔")
    await env.sleep(timedelta(seconds=1))
    await drive.answer(h)
    await h.result()
    return (await h.fetch_history()).to_json()


async def second_return_consultation_consensus(env: WorkflowEnvironment, queue: str) -> tuple[str, str]:
    """An approved return, then the new lead returns it too: a second return opens a consultation
    (the clocks pause under Qingdao's rules); a first round without consensus (one unit silent),
    a second round in which the street takes the lead and 城管局 cooperates: reassigned by
    consensus, clocks resume, cooperating unit reports, close. Returns the ticket's and the
    consultation's histories."""
    urban = "qd.dept.urban"
    inp = ticket_input().model_copy(update={"number": "second_return_consultation_consensus"})
    h = await drive.start(env, queue, inp)
    await drive.ask_return(h, LEAD, reason="占道经营由城管执法，非街道职责")
    await drive.decide_return(h, approve=True, to=urban)
    await drive.ask_return(h, urban, reason="属地管理，应由街道牵头")  # the second return: consultation
    await env.sleep(timedelta(seconds=1))
    child = (await drive.state(h)).open_consultation.workflow_id
    await drive.answer_consultation(env, h, urban, "decline", "属地管理")
    await env.sleep(timedelta(hours=4, minutes=1))  # the street stays silent in round one
    await drive.answer_consultation(env, h, LEAD, "lead", "街道牵头办理")
    await drive.answer_consultation(env, h, urban, "cooperating", "城管配合执法")
    await env.sleep(timedelta(seconds=1))
    await drive.acknowledge(h, LEAD)
    await drive.acknowledge(h, urban)
    await drive.report_part(h, urban, "城管中队已清理占道摊点")
    await drive.complete(h, LEAD, reply="街道联合城管已清理")
    await env.sleep(timedelta(seconds=1))
    await drive.answer(h)
    await h.result()
    return (await h.fetch_history()).to_json(), (await env.client.get_workflow_handle(child).fetch_history()).to_json()


async def center_consultation_ruled(env: WorkflowEnvironment, queue: str) -> tuple[str, str]:
    """The center opens a consultation at once (一键会商) on a noise complaint; a leader rules while
    it is still open (the consultation is cancelled) and saves the ruling as a responsibility rule;
    the units report, close. Returns the ticket's and the cancelled consultation's histories."""
    env_dept = "qd.dept.environment"
    inp = ticket_input(category="environment.noise", description="楼下商铺音响整天大声放音乐，噪音扰民")
    h = await drive.start(env, queue, inp.model_copy(update={"number": "center_consultation_ruled"}))
    await drive.open_consultation(h, [LEAD, env_dept])
    await env.sleep(timedelta(seconds=1))
    child = (await drive.state(h)).open_consultation.workflow_id
    await drive.answer_consultation(env, h, LEAD, "decline", "噪音执法属生态环境部门")
    await drive.rule(h, lead=LEAD, cooperating=[env_dept], save=True, reason="社会生活噪音属地街道主办，生态环境局协办")
    await drive.acknowledge(h, LEAD)
    await drive.acknowledge(h, env_dept)
    await drive.report_part(h, env_dept, "已现场监测并告知商户")
    await drive.complete(h, LEAD, reply="商户已降低音量")
    await env.sleep(timedelta(seconds=1))
    await drive.answer(h)
    await h.result()
    return (await h.fetch_history()).to_json(), (await env.client.get_workflow_handle(child).fetch_history()).to_json()


async def routed_by_saved_ruling(env: WorkflowEnvironment, queue: str) -> str:
    """A noise complaint after center_consultation_ruled saved its ruling: dispatched with the
    rule's cooperating unit from the start (so record it after that one); close."""
    env_dept = "qd.dept.environment"
    inp = ticket_input(category="environment.noise", description="楼上棋牌室每天半夜还很吵")
    h = await drive.start(env, queue, inp.model_copy(update={"number": "routed_by_saved_ruling"}))
    assert env_dept in (await drive.state(h)).cooperating, "record center_consultation_ruled first"
    await drive.acknowledge(h, LEAD)
    await drive.acknowledge(h, env_dept)
    await drive.report_part(h, env_dept)
    await drive.complete(h, LEAD)
    await env.sleep(timedelta(seconds=1))
    await drive.answer(h)
    await h.result()
    return (await h.fetch_history()).to_json()


async def callback_at_deadline(env: WorkflowEnvironment, queue: str) -> str:
    """Beijing's rules: the callback waits for the deadline to run out after completion, then
    asks the citizen; confirmed, close."""
    from domain.vocabulary import Urgency

    inp = ticket_input(policy_pack="beijing", urgency=Urgency.urgent).model_copy(
        update={"number": "callback_at_deadline"}
    )
    h = await drive.start(env, queue, inp)
    await drive.acknowledge(h, LEAD)
    await drive.progress(h, LEAD, "已联系诉求人", contacted=True)
    await drive.complete(h, LEAD)
    await env.sleep(timedelta(hours=24, minutes=5))  # urgent: 24 h
    await drive.answer(h)
    await h.result()
    return (await h.fetch_history()).to_json()


async def hard_case(env: WorkflowEnvironment, queue: str) -> str:
    """Unsatisfied after the first handling and both rehandle rounds (Qingdao: at most 2): closed
    as a hard case for the clearing list."""
    inp = ticket_input().model_copy(update={"number": "hard_case"})
    h = await drive.start(env, queue, inp)
    for _ in range(3):
        await drive.acknowledge(h, LEAD)
        await drive.complete(h, LEAD)
        await env.sleep(timedelta(seconds=1))
        await drive.answer(h, resolved=False, satisfaction=Satisfaction.unsatisfied)
        await env.sleep(timedelta(seconds=1))
    await h.result()
    return (await h.fetch_history()).to_json()


async def callback_unreachable(env: WorkflowEnvironment, queue: str) -> str:
    """Every callback attempt goes unanswered (3 attempts 8 h apart): closed as unreachable."""
    inp = ticket_input().model_copy(update={"number": "callback_unreachable"})
    h = await drive.start(env, queue, inp)
    await drive.acknowledge(h, LEAD)
    await drive.complete(h, LEAD)
    await env.sleep(timedelta(seconds=1))
    await drive.answer(h, reached=False)
    await env.sleep(timedelta(hours=25))
    await h.result()
    return (await h.fetch_history()).to_json()


async def no_callback(env: WorkflowEnvironment, queue: str) -> str:
    """A citizen who opted out of the callback: closed without one once the unit completes."""
    from domain.ticket import Citizen

    inp = ticket_input(citizen=Citizen(name="李先生", phone="13700000000", callback_opt_out=True))
    h = await drive.start(env, queue, inp.model_copy(update={"number": "no_callback"}))
    await drive.acknowledge(h, LEAD)
    await drive.complete(h, LEAD)
    await h.result()
    return (await h.fetch_history()).to_json()


# Deliveries over HTTP need the unit table with endpoints: their own worker and read model
# (the other scenarios' units work in the product's own client).
TAXI = "transport.taxi"  # led and supervised by the transport department: one work order, no copy
TRANSPORT = "qd.dept.transport"


async def department_answers(
    env: WorkflowEnvironment, queue: str, settings: Settings, port: int, fault: str, number: str, retry_after: int = 0
) -> str:
    """The department system's first answer to the work order is `fault`: a refusal (HTTP 422, not
    retried) is delivery_failed, a server error is retried until delivered, busy (429 with
    `retry_after`) is asked again once that is over. The department handles it through its unit
    login all the same; callback, close."""
    from tests.simulated import running_simulator, simulator_settings

    async with running_simulator(simulator_settings(settings, simulator_act=False), port=port) as sim:
        await sim.fault(fault, unit=TRANSPORT, count=1, **({"retry_after": retry_after} if retry_after else {}))
        inp = ticket_input(category=TAXI, description="出租车拒载，司机态度恶劣")
        h = await drive.start(env, queue, inp.model_copy(update={"number": number}))
        if retry_after:
            await env.sleep(timedelta(seconds=retry_after + 5))  # the workflow's wait for the Retry-After

        async def settled():  # the delivery runs beside the lifecycle
            s = await drive.state(h)
            assert {"delivered", "delivery_failed"} & set(drive.events(s))

        await assert_eventually(settled, timeout=15)
        await drive.acknowledge(h, TRANSPORT)
        await drive.complete(h, TRANSPORT, reply="已对驾驶员批评教育")
        await env.sleep(timedelta(seconds=1))
        await drive.answer(h)
        await h.result()
    return (await h.fetch_history()).to_json()


async def closed_with_delivery_pending(env: WorkflowEnvironment, queue: str) -> str:
    """The department system is unreachable (nothing listens): the work order is still retrying
    when the ticket closes; the settle grace period runs out and the delivery is abandoned."""
    inp = ticket_input(category=TAXI, description="出租车绕路多收费")
    h = await drive.start(env, queue, inp.model_copy(update={"number": "closed_with_delivery_pending"}))
    await drive.acknowledge(h, TRANSPORT)
    await drive.complete(h, TRANSPORT, reply="已退还多收车费")
    await env.sleep(timedelta(seconds=1))
    await drive.answer(h)
    await h.result()  # after SETTLE_GRACE: deliveries_abandoned
    return (await h.fetch_history()).to_json()


async def delivery_gave_up(env: WorkflowEnvironment, queue: str) -> str:
    """The department system stays unreachable for the pack's [delivery] give_up_after (7 days
    in Qingdao): the retries run out, delivery_failed and the give-up local activity; the
    department handles it through its unit login meanwhile (a complex case, 15 days); close."""
    from domain.vocabulary import Urgency

    inp = ticket_input(category=TAXI, urgency=Urgency.complex, description="出租车公司长期拒绝处理投诉")
    h = await drive.start(env, queue, inp.model_copy(update={"number": "delivery_gave_up"}))
    await drive.acknowledge(h, TRANSPORT)
    await drive.progress(h, TRANSPORT, "已联系诉求人", contacted=True)
    await env.sleep(timedelta(days=7, minutes=5))
    assert "delivery_failed" in (await drive.state(h)).flags
    await drive.complete(h, TRANSPORT, reply="已约谈出租车公司")
    await env.sleep(timedelta(seconds=1))
    await drive.answer(h)
    await h.result()
    return (await h.fetch_history()).to_json()


async def callback_channel_down(env: WorkflowEnvironment, queue: str) -> str:
    """The automated callback survey is unreachable for the whole first attempt (8 h): the attempt
    fails, the ticket stays on the manual callback queue and an operator records the answer; close."""
    inp = ticket_input().model_copy(update={"number": "callback_channel_down"})
    h = await drive.start(env, queue, inp)
    await drive.acknowledge(h, LEAD)
    await drive.complete(h, LEAD)
    await env.sleep(timedelta(hours=8, minutes=5))
    await drive.answer(h)
    await h.result()
    return (await h.fetch_history()).to_json()


async def extension_kept_on_escalation(env: WorkflowEnvironment, queue: str) -> str:
    """An approved extension, then an escalation whose fresh limit is earlier: the extension governs
    (patched "escalation-keeps-extension"); the callback's reply waits for the close (patched
    "callback-reply-after-acted-on")."""
    inp = ticket_input().model_copy(update={"number": "extension_kept_on_escalation"})
    h = await drive.start(env, queue, inp)
    await drive.acknowledge(h, LEAD)
    await drive.ask_extension(h, LEAD, "5d")
    await drive.decide_extension(h, approve=True)
    await env.sleep(timedelta(hours=1))
    await drive.request_escalation(h, drive.unit(LEAD))
    await drive.complete(h, LEAD)
    await env.sleep(timedelta(seconds=1))
    await drive.answer(h)
    await h.result()
    return (await h.fetch_history()).to_json()


async def consultation_answers_by_round(env: WorkflowEnvironment, queue: str) -> tuple[str, str]:
    """The center's consultation; answers name their round, one is sent twice (counted once),
    consensus; the mirrors carry their sequence."""
    from domain.ownership.consultation import Answer
    from workflows.consultation import ConsultationWorkflow

    inp = ticket_input().model_copy(update={"number": "consultation_answers_by_round"})
    h = await drive.start(env, queue, inp)
    await drive.open_consultation(h, [LEAD, "qd.dept.urban"])
    await env.sleep(timedelta(seconds=1))
    child = env.client.get_workflow_handle((await drive.state(h)).open_consultation.workflow_id)
    decline = Answer(actor=drive.unit(LEAD), answer="decline", reason="非街道职责", round=1)
    await child.execute_update(ConsultationWorkflow.answer, decline)
    await child.execute_update(ConsultationWorkflow.answer, decline)
    lead = Answer(actor=drive.unit("qd.dept.urban"), answer="lead", reason="同意主办", round=1)
    await child.execute_update(ConsultationWorkflow.answer, lead)
    await env.sleep(timedelta(seconds=1))
    await drive.acknowledge(h, "qd.dept.urban")
    await drive.complete(h, "qd.dept.urban")
    await env.sleep(timedelta(seconds=1))
    await drive.answer(h)
    await h.result()
    return (await h.fetch_history()).to_json(), (await child.fetch_history()).to_json()


async def continued_as_new(env: WorkflowEnvironment, queue: str) -> tuple[str, str]:
    """A ticket whose history passes its limit (repeats and urges) continues as new, then closes.
    Returns both runs' histories."""
    from domain.intake.merge import MergeAppeal
    from domain.ticket import Actor, Citizen
    from domain.vocabulary import Channel, Role
    from workflows.ticket import TicketWorkflow

    inp = ticket_input().model_copy(update={"number": "continued_as_new", "history_limit": 150})
    h = await drive.start(env, queue, inp)
    first = (await h.describe()).run_id
    await drive.acknowledge(h, LEAD)
    for n in range(12):
        caller, desk = Citizen(name="赵先生", phone="13900000001"), Actor(role=Role.intake, user="desk")
        appeal = MergeAppeal(
            actor=desk, key=f"again-{n}", channel=Channel.phone, citizen=caller, description="又出摊了"
        )
        await h.execute_update(TicketWorkflow.merge_appeal, appeal)
        await drive.urge(h, drive.unit("qd.dept.urban"))
    await env.sleep(timedelta(seconds=1))
    latest = env.client.get_workflow_handle_for(TicketWorkflow.run, h.id)
    await drive.complete(latest, LEAD)
    await env.sleep(timedelta(seconds=1))
    await drive.answer(latest)
    await latest.result()
    before = await env.client.get_workflow_handle(h.id, run_id=first).fetch_history()
    return before.to_json(), (await latest.fetch_history()).to_json()


async def pack_shared(env: WorkflowEnvironment, queue: str) -> str:
    """A full lifecycle taken in after another ticket on the same worker, so that its policy pack
    is the worker's shared copy (workflows.context.shared_pack) rather than its own."""
    await full_lifecycle(env, queue, "pack_shared_first")
    return await full_lifecycle(env, queue, "full_lifecycle_pack_shared")


async def replay_repair(settings: Settings) -> str:
    """The replay repair's own history, on a dev server (the test server has no reset): a run that
    a later version of its code no longer replays (test_replay_repair's stand-in), reset to the
    task it fails at, its two updates sent again."""
    from api.replay_repair import StuckRun
    from core.temporal import DEV_SERVER_FLAGS
    from tests.workflows import test_replay_repair as stand_in
    from workflows.replay_repair import ReplayRepairWorkflow

    env = await WorkflowEnvironment.start_local(
        data_converter=pydantic_data_converter, dev_server_existing_path=str(BIN / "temporal"),
        dev_server_extra_args=DEV_SERVER_FLAGS,
    )  # fmt: skip
    async with env:
        client, queue = env.client, "record-repair"
        stand_in.CODE["version"] = 1
        async with stand_in.repairing_worker(client, queue, settings):
            h = await client.start_workflow(stand_in.TallyWorkflow.run, id="tally", task_queue=queue)
            await h.execute_update(stand_in.TallyWorkflow.mark, "first")
            await h.execute_update(stand_in.TallyWorkflow.mark, "second")
        stuck = StuckRun(h.id, (await h.describe()).run_id)
        stand_in.CODE["version"] = 2
        try:
            async with stand_in.repairing_worker(client, queue, settings):
                repair = await client.start_workflow(
                    ReplayRepairWorkflow.run, stuck, id=f"replay-repair-{stuck.run_id}", task_queue=queue
                )
                assert (await repair.result()).reset
                return (await repair.fetch_history()).to_json()
        finally:
            stand_in.CODE["version"] = 1


async def main(everything: bool) -> None:
    import tempfile

    from catalog.cities import load_directory
    from readmodel.units import seed
    from tests.simulated import free_port

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(database_url=f"sqlite:///{tmp}/r.db", policy_pack="qingdao")
        db.migrate(settings.database_url)
        # The delivery scenarios' read model: the units' endpoints on a port where the simulated
        # department listens only when a scenario runs it; one attempt waits half a second.
        port = free_port()
        departments = Settings(database_url=f"sqlite:///{tmp}/d.db", policy_pack="qingdao", department_timeout=0.5)
        db.migrate(departments.database_url)
        seed(departments.database_url, load_directory(departments.city), origin=f"http://127.0.0.1:{port}")
        # An automated callback survey that nothing answers.
        survey = Settings(database_url=f"sqlite:///{tmp}/c.db", policy_pack="qingdao", department_timeout=0.5,
                          callback_endpoint=f"http://127.0.0.1:{free_port()}/surveys")  # fmt: skip
        db.migrate(survey.database_url)
        env = await WorkflowEnvironment.start_time_skipping(
            data_converter=pydantic_data_converter, test_server_existing_path=str(BIN / "temporal-test-server")
        )
        await register_search_attributes(env.client, "default")
        async with (
            env,
            build_worker(env.client, settings, "record"),
            build_worker(env.client, departments, "record-d"),
            build_worker(env.client, survey, "record-c"),
        ):
            HERE.mkdir(exist_ok=True)
            scenarios = {
                "full_lifecycle": lambda: full_lifecycle(env, "record"),
                "dispute_ruling": lambda: dispute(env, "record"),  # also the consultation's history
                "repeats_rated_online": lambda: repeats_rated_online(env, "record"),
                "direct_answer": lambda: direct_answer(env, "record", settings.database_url),
                "emergency_sent_back": lambda: emergency_sent_back(env, "record"),
                "emergency_handled": lambda: emergency_handled(env, "record"),
                "out_of_scope": lambda: out_of_scope(env, "record", settings.database_url),
                "legal_channel": lambda: legal_channel(env, "record", settings.database_url),
                "warning_breach_escalation": lambda: warning_breach_escalation(env, "record"),
                "extension_rejected": lambda: extension_rejected(env, "record"),
                "escalation_requested": lambda: escalation_requested(env, "record"),
                "return_approved": lambda: return_approved(env, "record"),
                "second_return_consultation_consensus": lambda: second_return_consultation_consensus(env, "record"),
                "center_consultation_ruled": lambda: center_consultation_ruled(env, "record"),
                "routed_by_saved_ruling": lambda: routed_by_saved_ruling(env, "record"),  # after the ruling it saves
                "callback_at_deadline": lambda: callback_at_deadline(env, "record"),
                "hard_case": lambda: hard_case(env, "record"),
                "callback_unreachable": lambda: callback_unreachable(env, "record"),
                "no_callback": lambda: no_callback(env, "record"),
                "delivery_failed": lambda: department_answers(
                    env, "record-d", departments, port, "reject_4xx", "delivery_failed"
                ),
                "closed_with_delivery_pending": lambda: closed_with_delivery_pending(env, "record-d"),
                "delivery_gave_up": lambda: delivery_gave_up(env, "record-d"),
                "callback_channel_down": lambda: callback_channel_down(env, "record-c"),
                "extension_kept_on_escalation": lambda: extension_kept_on_escalation(env, "record"),
                "consultation_answers_by_round": lambda: consultation_answers_by_round(env, "record"),
                "continued_as_new": lambda: continued_as_new(env, "record"),
                # Recorded while the projection was an activity after the task (patch
                # "projection-after-the-task"; re-recorded now it would carry "projection-local-again").
                "full_lifecycle_projected_after_the_task": lambda: full_lifecycle(
                    env, "record", "full_lifecycle_projected_after_the_task"
                ),
                # The policy pack shared with the worker's earlier tickets (no command changes).
                "full_lifecycle_pack_shared": lambda: pack_shared(env, "record"),
                # Since the projection is a local activity again (patch "projection-local-again").
                "full_lifecycle_projected_locally_again": lambda: full_lifecycle(
                    env, "record", "full_lifecycle_projected_locally_again"
                ),
                # Since a delivery's first attempt is a local activity (patch "delivery-local-first"):
                # all delivered at once; a server error, then the durable activity; a refusal.
                "full_lifecycle_delivered_locally": lambda: full_lifecycle(
                    env, "record", "full_lifecycle_delivered_locally"
                ),
                "delivered_after_local_attempt_failed": lambda: department_answers(
                    env, "record-d", departments, port, "error_5xx", "delivered_after_local_attempt_failed"
                ),
                "refused_at_local_attempt": lambda: department_answers(
                    env, "record-d", departments, port, "reject_4xx", "refused_at_local_attempt"
                ),
                # Since the workflow waits out a Retry-After the local attempt was answered with
                # (patch "delivery-local-retry-after"): a timer before the durable activity.
                "delivered_after_the_department_asked_to_wait": lambda: department_answers(
                    env, "record-d", departments, port, "busy", "delivered_after_the_department_asked_to_wait", 60
                ),
                # Since the projector takes its snapshot once the activation's changes and the
                # deliveries' first attempts are in (patch "projection-once-per-activation").
                "full_lifecycle_projected_once_per_activation": lambda: full_lifecycle(
                    env, "record", "full_lifecycle_projected_once_per_activation"
                ),
                "warnings_projected_once_per_activation": lambda: warning_breach_escalation(
                    env, "record", "warnings_projected_once_per_activation"
                ),
                "first_attempt_failed_projected_once_per_activation": lambda: department_answers(
                    env,
                    "record-d",
                    departments,
                    port,
                    "error_5xx",
                    "first_attempt_failed_projected_once_per_activation",
                ),
                # Since one marker stands for every patch (workflows/patches.py), and the search
                # attributes change with the projector's snapshot ("search-attributes-with-projection").
                "full_lifecycle_patches_folded": lambda: full_lifecycle(env, "record", "full_lifecycle_patches_folded"),
                "warnings_patches_folded": lambda: warning_breach_escalation(env, "record", "warnings_patches_folded"),
            }
            # Scenarios that also return a consultation's history, and the file it goes to.
            children = {
                "dispute_ruling": "consultation_no_consensus",
                "second_return_consultation_consensus": "consultation_consensus",
                "center_consultation_ruled": "consultation_cancelled_by_ruling",
                "consultation_answers_by_round": "consultation_answers_named",
                "continued_as_new": "continued_as_new_next_run",  # not a child: the ticket's next run
            }
            for name, record in scenarios.items():
                if (HERE / f"{name}.json").exists() and not everything:
                    continue
                recorded = await record()
                if name in children:
                    recorded, consultation = recorded
                    (HERE / f"{children[name]}.json").write_text(consultation)
                (HERE / f"{name}.json").write_text(recorded)
        if not (HERE / "replay_repair.json").exists() or everything:
            (HERE / "replay_repair.json").write_text(await replay_repair(settings))
    print(f"recorded {', '.join(p.name for p in sorted(HERE.glob('*.json')))}")


if __name__ == "__main__":
    import sys

    asyncio.run(main(everything="--all" in sys.argv[1:]))
