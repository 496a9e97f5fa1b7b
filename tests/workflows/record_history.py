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
from core.temporal import register_search_attributes
from domain.vocabulary import Satisfaction
from readmodel import db
from tests.conftest import BIN
from tests.factories import ticket_input
from tests.workflows import drive
from worker import build_worker

HERE = Path(__file__).parent / "histories"
LEAD = "qd.shinan.badaxia"


async def full_lifecycle(env: WorkflowEnvironment, queue: str) -> str:
    """Intake, dispatch, an urge, the whistle and a department reporting, an extension, a missed
    deadline and escalation, progress, completion, an unsatisfied callback, rehandle, a satisfied
    callback, close."""
    inp = ticket_input().model_copy(update={"number": "full_lifecycle"})  # replayed as ticket-<file name>
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
    from domain.merge import MergeAppeal
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
    from domain.triage import EmergencyService
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


async def main(everything: bool) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(database_url=f"sqlite:///{tmp}/r.db", policy_pack="qingdao")
        db.migrate(settings.database_url)
        env = await WorkflowEnvironment.start_time_skipping(
            data_converter=pydantic_data_converter, test_server_existing_path=str(BIN / "temporal-test-server")
        )
        await register_search_attributes(env.client, "default")
        async with env, build_worker(env.client, settings, "record"):
            HERE.mkdir(exist_ok=True)
            scenarios = {
                "full_lifecycle": lambda: full_lifecycle(env, "record"),
                "dispute_ruling": lambda: dispute(env, "record"),  # also the consultation's history
                "repeats_rated_online": lambda: repeats_rated_online(env, "record"),
                "direct_answer": lambda: direct_answer(env, "record", settings.database_url),
                "emergency_sent_back": lambda: emergency_sent_back(env, "record"),
            }
            for name, record in scenarios.items():
                if (HERE / f"{name}.json").exists() and not everything:
                    continue
                recorded = await record()
                if name == "dispute_ruling":
                    recorded, consultation = recorded
                    (HERE / "consultation_no_consensus.json").write_text(consultation)
                (HERE / f"{name}.json").write_text(recorded)
    print(f"recorded {', '.join(p.name for p in sorted(HERE.glob('*.json')))}")


if __name__ == "__main__":
    import sys

    asyncio.run(main(everything="--all" in sys.argv[1:]))
