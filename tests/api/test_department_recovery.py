"""A department system that loses its state recovers: it lists its open work orders and what
each still expects (GET /work-orders with its unit token), the center re-sends a delivery under
the same Idempotency-Key (a system that kept it answers "duplicate"), and the simulator, killed and
restarted on its durable ledger, resynchronises and every ticket it held still closes."""

import uuid

import httpx
import pytest_asyncio
from sqlmodel import delete

from api.main import create_app
from catalog.cities import load_directory
from readmodel import db
from readmodel.tables import UnitRow
from readmodel.units import seed
from tests.api.conftest import Api
from tests.conftest import task_queue
from tests.eventually import assert_eventually
from tests.simulated import free_port, running_simulator, serve, simulator_settings
from worker import build_worker

CATEGORIES = ["transport.taxi", "water.supply"]


@pytest_asyncio.fixture
async def product(dev_env, settings, api_database):
    """API and worker; the units' endpoints point at a simulator port the test starts and stops."""
    settings = settings.model_copy(update={"task_queue": task_queue(), "database_url": api_database})
    port = free_port()
    sim_url = f"http://127.0.0.1:{port}"
    seed(api_database, load_directory(settings.city), origin=sim_url)
    worker_settings = settings.model_copy(update={"callback_endpoint": f"{sim_url}/citizen/callbacks",
                                                  "sms_endpoint": f"{sim_url}/sms/messages"})  # fmt: skip
    try:
        async with serve(create_app(settings, client=dev_env.client)) as api_url:
            async with build_worker(dev_env.client, worker_settings, settings.task_queue):
                async with httpx.AsyncClient(base_url=api_url, timeout=30) as http:
                    yield Api(http, settings, dev_env.client), api_url, port
    finally:
        with db.session(api_database) as session:  # the session's other API tests run inbox only
            session.exec(delete(UnitRow))
            session.commit()


async def test_a_department_that_lost_its_state_resyncs_and_every_ticket_closes(product, tmp_path):
    api, api_url, port = product
    ledger = tmp_path / "simulator.db"
    lost = simulator_settings(api.settings, simulator_api_url=api_url, simulator_act=False, simulator_ledger=ledger)
    numbers: list[str] = []
    async with running_simulator(lost, port=port) as sim:
        # The department system receives the work orders... and its staff never get to them.
        for i, category in enumerate(CATEGORIES):
            body = {
                "channel": "phone", "kind": "complaint", "urgency": "normal",
                "citizen": {"name": "市民", "phone": f"1370013{uuid.uuid4().int % 10**4:04d}"},
                "description": f"第{i + 1}件：诉求内容，请相关单位尽快处理", "category": category,
                "address": {"district": "市南区", "street": "八大峡街道", "text": f"团岛二路{uuid.uuid4().int % 10**6}号"},
            }  # fmt: skip
            r = await api.http.post(
                "/tickets", json=body, headers=api.auth("intake") | {"Idempotency-Key": str(uuid.uuid4())}
            )
            assert r.status_code == 201, r.text
            numbers.append(r.json()["number"])
        number = numbers[0]

        async def delivered() -> dict:
            r = await api.http.get(
                "/deliveries", params={"ticket": number, "kind": "work_order"}, headers=api.auth("center")
            )
            rows = r.json()["items"]
            assert len(rows) == 1 and rows[0]["status"] == "delivered", rows
            return rows[0]

        work_order = await assert_eventually(delivered)
        lead = work_order["unit"]

        # What the hotline still expects of the unit, for its system to resynchronise.
        r = await api.http.get("/work-orders", headers=api.auth("unit", lead))
        assert r.status_code == 200, r.text
        [mine] = [o for o in r.json()["items"] if o["ticket"] == number]
        assert mine["role"] == "lead" and mine["expects"] == ["acknowledge", "complete"]
        assert mine["work_order_sequence"] == work_order["sequence"]
        assert (await api.http.get("/work-orders", headers=api.auth("center"))).status_code == 403

        # The center re-sends it: the same key, so a system that kept it does nothing twice.
        key = work_order["idempotency_key"]
        r = await api.http.post(
            f"/deliveries/{key}/resend", json={"reason": "部门系统数据恢复"}, headers=api.auth("center")
        )
        assert r.status_code == 200, r.text
        assert (await api.http.post(f"/deliveries/{key}/resend", headers=api.auth("unit", lead))).status_code == 403
        assert (await api.http.post("/deliveries/nope-1/resend", headers=api.auth("center"))).status_code == 404

        async def received_twice():
            got = await sim.received(key=key)
            assert [g["outcome"] for g in got] == ["accepted", "duplicate"], got
            assert got[0]["reference"] == got[1]["reference"]

        await assert_eventually(received_twice)
        state = (await api.http.get(f"/tickets/{number}", headers=api.auth("supervisor"))).json()
        assert "delivery_resent" in [e["event"] for e in state["timeline"]]

    # kill -9 and a restart: the ledger is on disk, the staff pick up what the hotline still expects.
    back = lost.model_copy(update={"simulator_act": True})
    async with running_simulator(back, port=port) as sim:
        assert any(r["key"] == key for r in await sim.received(key=key)), "the durable ledger kept what it received"

        async def closed():
            for n in numbers:
                s = (await api.http.get(f"/tickets/{n}", headers=api.auth("supervisor"))).json()
                assert s["stage"] == "closed", (n, s["stage"], [e["event"] for e in s["timeline"]][-4:])

        await assert_eventually(closed, timeout=45, interval=0.2)
