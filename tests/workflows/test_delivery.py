"""Deliveries to department systems over real HTTP, on the time-skipping server: the department
simulator runs in-process on a real port; a department that is down, failing, refusing or too
slow to answer is what Temporal's retry policy and the idempotency key are for."""

import shutil
from datetime import timedelta

import pytest
import pytest_asyncio
from sqlmodel import select

from catalog.cities import load_directory
from catalog.policies import POLICIES_DIR
from domain.vocabulary import Urgency
from readmodel import db
from readmodel.tables import DeliveryRow
from readmodel.units import seed
from tests.conftest import task_queue
from tests.eventually import assert_eventually
from tests.factories import ticket_input
from tests.simulated import free_port, running_simulator, simulator_settings
from tests.workflows import drive
from worker import build_worker

TAXI = "transport.taxi"  # led and supervised by the transport department: one work order, no copy
TRANSPORT = "qd.dept.transport"
WATER = "water.supply"  # led by the water company, copied to the water department


def _at(s, event, **data):
    return next(e.at for e in s.timeline if e.event == event and all(e.data.get(k) == v for k, v in data.items()))


def _near(a, b, within=timedelta(seconds=2)) -> bool:
    return abs(a - b) <= within


@pytest.fixture
def sim_port() -> int:
    return free_port()


@pytest.fixture
def settings(settings, sim_port):
    """The read model knows the city's units, their endpoints on the simulator's port; one
    attempt waits half a second for an answer."""
    seed(settings.database_url, load_directory(settings.city), origin=f"http://127.0.0.1:{sim_port}")
    return settings.model_copy(update={"department_timeout": 0.5})


@pytest_asyncio.fixture
async def sim(settings, sim_port):
    async with running_simulator(simulator_settings(settings, simulator_act=False), port=sim_port) as sim:
        yield sim


def rows(settings, number: str) -> dict[int, DeliveryRow]:
    with db.session(settings.database_url) as session:
        return {r.sequence: r for r in session.exec(select(DeliveryRow).where(DeliveryRow.ticket == number))}


async def row_when(settings, number: str, sequence: int, status: str, timeout: float = 10.0) -> DeliveryRow:
    """Deliveries run beside the lifecycle: wait (real time, no timers) until the row says so."""

    def check() -> DeliveryRow:
        row = rows(settings, number).get(sequence)
        assert row is not None and row.status == status, f"delivery {number}-{sequence} is not {status}: {row}"
        return row

    return await assert_eventually(check, timeout=timeout)


async def test_work_order_and_copy_reach_the_department_systems_over_http(time_env, queue, settings, sim):
    inp = ticket_input(category=WATER, description="小区停水三天，没有任何通知")
    h = await drive.start(time_env, queue, inp)

    work_order = await row_when(settings, inp.number, 1, "delivered")
    copy = await row_when(settings, inp.number, 2, "delivered")
    assert (work_order.unit, work_order.kind, work_order.channel) == ("qd.util.water", "work_order", "department_api")
    assert (copy.unit, copy.kind, copy.channel) == ("qd.dept.water", "copy", "department_api")
    assert work_order.attempts == 1 and work_order.reference.startswith("SIM-") and work_order.delivered_at

    seen = {(r["unit"], r["route"], r["key"], r["outcome"]) for r in await sim.received(ticket=inp.number)}
    assert seen == {
        ("qd.util.water", "work-orders", f"{inp.number}-1", "accepted"),
        ("qd.dept.water", "notices", f"{inp.number}-2", "accepted"),
    }
    await time_env.sleep(timedelta(seconds=1))
    s = await drive.state(h)
    assert sorted(e.data["kind"] for e in s.timeline if e.event == "delivered") == ["copy", "work_order"]
    # Both went out inside the workflow task that dispatched the ticket (a local first attempt):
    # no activity task for either, and no workflow task for their results.
    history = await h.fetch_history()
    activities = [e.activity_task_scheduled_event_attributes.activity_type.name for e in history.events
                  if e.HasField("activity_task_scheduled_event_attributes")]  # fmt: skip
    assert "deliver" not in activities


async def test_a_department_down_for_hours_gets_the_work_order_once_after_it_recovers(
    time_env, queue, settings, sim_port
):
    # Nothing listens on the department's port: connection refused, attempt after attempt.
    inp = ticket_input(category=TAXI, urgency=Urgency.emergency, description="出租车拒载，司机态度恶劣")
    h = await drive.start(time_env, queue, inp)
    await time_env.sleep(timedelta(hours=1, minutes=45))

    s = await drive.state(h)
    dispatched = _at(s, "dispatched")
    # The clocks ran on time while the department was unreachable (emergency: sign-for 1 h,
    # completion 2 h with its warning at 80 %), and the reminder was sent (also waiting).
    assert _near(_at(s, "deadline_breached", clock="acknowledge"), dispatched + timedelta(hours=1))
    assert _near(_at(s, "deadline_warning", clock="completion"), dispatched + timedelta(minutes=96))
    assert "reminder" in drive.events(s) and "delivered" not in drive.events(s)
    down = rows(settings, inp.number)[1]
    assert down.status == "retrying" and down.attempts >= 5 and "unreachable" in down.last_error

    async with running_simulator(simulator_settings(settings, simulator_act=False), port=sim_port) as sim:
        await time_env.sleep(timedelta(minutes=11))  # the retry policy's maximum interval is 10 minutes
        row = await row_when(settings, inp.number, 1, "delivered")
        # Once: the department saw the work order's key one time, and accepted it.
        assert [r["outcome"] for r in await sim.received(key=f"{inp.number}-1")] == ["accepted"]
    assert row.attempts > down.attempts and "unreachable" in row.last_error  # delivered after an outage

    s = await drive.state(h)
    delivered = [e for e in s.timeline if e.event == "delivered" and e.data["kind"] == "work_order"]
    assert len(delivered) == 1 and delivered[0].at > dispatched + timedelta(hours=1, minutes=45)
    # The completion deadline was not moved by the outage.
    assert s.deadline == dispatched + timedelta(hours=2)


async def test_server_errors_are_retried_by_temporal_until_the_department_takes_it(time_env, queue, settings, sim):
    await sim.fault("error_5xx", unit=TRANSPORT, count=2)
    inp = ticket_input(category=TAXI)
    await drive.start(time_env, queue, inp)
    await time_env.sleep(timedelta(seconds=30))  # backoff 2 s, 4 s

    row = await row_when(settings, inp.number, 1, "delivered")
    outcomes = [r["outcome"] for r in await sim.received(key=f"{inp.number}-1")]
    assert outcomes == ["fault:error_5xx", "fault:error_5xx", "accepted"]
    assert row.attempts == 3 and row.last_error == "HTTP 500: simulated internal error"


async def test_a_department_that_asks_to_wait_is_asked_again_after_its_retry_after(time_env, queue, settings, sim):
    # Busy: 429 with Retry-After 5 minutes, to the first attempt (the local one, in the workflow task).
    await sim.fault("busy", unit=TRANSPORT, count=1, retry_after=300)
    inp = ticket_input(category=TAXI)
    h = await drive.start(time_env, queue, inp)

    async def asked_once():
        assert [r["outcome"] for r in await sim.received(key=f"{inp.number}-1")] == ["fault:busy"]

    await assert_eventually(asked_once)
    await time_env.sleep(timedelta(minutes=6))

    row = await row_when(settings, inp.number, 1, "delivered")
    assert [r["outcome"] for r in await sim.received(key=f"{inp.number}-1")] == ["fault:busy", "accepted"]
    assert row.attempts == 2 and "HTTP 429" in row.last_error
    s = await drive.state(h)
    waited = _at(s, "delivered", kind="work_order") - _at(s, "dispatched")
    assert timedelta(minutes=5) <= waited < timedelta(minutes=6)  # not at once, not a minute late


async def test_a_refusal_is_not_retried_and_the_center_sees_it(time_env, queue, settings, sim):
    await sim.fault("reject_4xx", unit=TRANSPORT)
    inp = ticket_input(category=TAXI)
    h = await drive.start(time_env, queue, inp)
    await row_when(settings, inp.number, 1, "failed")
    await time_env.sleep(timedelta(hours=1))  # long enough for many retries, were there any

    assert [r["outcome"] for r in await sim.received(key=f"{inp.number}-1")] == ["fault:reject_4xx"]
    row = rows(settings, inp.number)[1]
    assert row.status == "failed" and row.attempts == 1
    assert row.last_error.startswith("HTTP 422") and "工单信息不完整" in row.last_error
    s = await drive.state(h)
    assert "delivery_failed" in s.flags
    [failed] = [e for e in s.timeline if e.event == "delivery_failed"]
    assert failed.data["kind"] == "work_order" and "HTTP 422" in failed.detail and "交通运输局" in failed.detail


async def test_an_answer_lost_in_a_timeout_is_retried_under_the_same_key_and_done_once(time_env, queue, settings, sim):
    # The department takes the work order but its answer never arrives in time; the retry
    # carries the same Idempotency-Key and is answered as a duplicate.
    await sim.fault("timeout", unit=TRANSPORT, count=1)
    inp = ticket_input(category=TAXI)
    await drive.start(time_env, queue, inp)
    await time_env.sleep(timedelta(seconds=10))

    row = await row_when(settings, inp.number, 1, "delivered")
    seen = await sim.received(key=f"{inp.number}-1")
    assert [r["outcome"] for r in seen] == ["accepted", "duplicate"]
    assert seen[0]["reference"] == seen[1]["reference"] == row.reference
    assert row.attempts == 2 and "no answer within 0.5 s" in row.last_error and "duplicate" in row.detail


async def test_a_department_down_for_good_ends_as_a_failed_delivery_and_does_not_hold_the_ticket(
    time_env, settings, tmp_path
):
    # A city that stops retrying after an hour (the pack's [delivery] give_up_after); nothing
    # listens on the simulator's port meanwhile.
    packs = tmp_path / "packs"
    shutil.copytree(POLICIES_DIR, packs)
    (packs / "patient.toml").write_text(
        (POLICIES_DIR / "qingdao.toml").read_text().replace('name = "qingdao"', 'name = "patient"')
        + '\n[delivery]\ngive_up_after = "1h"\n'
    )
    settings = settings.model_copy(update={"policy_dir": packs})
    q = task_queue()
    async with build_worker(time_env.client, settings, q):
        inp = ticket_input(
            category=TAXI, description="出租车拒载，态度恶劣", urgency=Urgency.urgent, policy_pack="patient"
        )
        h = await drive.start(time_env, q, inp)
        await drive.acknowledge(h, TRANSPORT)
        await time_env.sleep(timedelta(hours=1, minutes=5))
        failed = await row_when(settings, inp.number, 1, "failed")
        assert failed.last_error.startswith("gave up")
        s = await drive.state(h)
        assert "delivery_failed" in s.flags
        # The department answered through its own unit credentials meanwhile: the ticket closes.
        await drive.complete(h, TRANSPORT, reply="已对驾驶员批评教育并处罚")
        await time_env.sleep(timedelta(seconds=1))
        await drive.answer(h)
        assert (await h.result()).stage.value == "closed"
