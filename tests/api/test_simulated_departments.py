"""No hand-driving: the product (real dev server, worker, API over HTTP) with the department
simulator. Tickets taken in through the API are handled by the simulated departments, their
callbacks answered by the simulated citizens, and they close; the read model shows every delivery."""

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
from tests.simulated import running_simulator, serve, simulator_settings
from worker import build_worker

# Categories whose lead unit is a department or utility with its own system.
CATEGORIES = ["transport.taxi", "water.supply", "heating.supply", "market.prepaid_card", "labour.wage_arrears"]


@pytest_asyncio.fixture
async def stack(dev_env, settings, api_database):
    """API, simulator (answering through that API), units seeded to reach the simulator, and a
    worker whose callback channel and SMS provider are the simulator."""
    settings = settings.model_copy(update={"task_queue": task_queue(), "database_url": api_database})
    app = create_app(settings, client=dev_env.client)
    async with serve(app) as api_url:
        sim_settings = simulator_settings(
            settings, simulator_api_url=api_url, simulator_unsatisfied_rate=0.3, simulator_extension_rate=0.3
        )
        async with running_simulator(sim_settings) as sim:
            seed(api_database, load_directory(settings.city), origin=sim.url)
            worker_settings = settings.model_copy(update={
                "callback_endpoint": f"{sim.url}/citizen/callbacks",
                "sms_endpoint": f"{sim.url}/sms/messages",
            })  # fmt: skip
            try:
                async with build_worker(dev_env.client, worker_settings, settings.task_queue):
                    async with httpx.AsyncClient(base_url=api_url, timeout=30) as http:
                        yield Api(http, settings, dev_env.client), sim
            finally:
                # The session's other API tests run without department systems (inbox only).
                with db.session(api_database) as session:
                    session.exec(delete(UnitRow))
                    session.commit()


async def test_a_batch_of_tickets_flows_to_closed_with_no_hand_driving(stack):
    api, sim = stack
    intake = api.auth("intake")
    numbers = []
    for i, category in enumerate(CATEGORIES):
        body = {
            "channel": "phone", "kind": "complaint", "urgency": "normal",
            "citizen": {"name": "市民", "phone": f"1380013{8000 + i:04d}"},
            "description": f"第{i + 1}件：诉求内容，请相关单位尽快处理", "category": category,
            "address": {"district": "市南区", "street": "八大峡街道", "text": "团岛二路12号"},
        }  # fmt: skip
        r = await api.http.post("/tickets", json=body, headers=intake | {"Idempotency-Key": str(uuid.uuid4())})
        assert r.status_code == 201, r.text
        numbers.append(r.json()["number"])

    supervisor = api.auth("supervisor")

    async def closed() -> dict[str, dict]:
        states = {}
        for n in numbers:
            states[n] = (await api.http.get(f"/tickets/{n}", headers=supervisor)).json()
        assert all(s["stage"] == "closed" for s in states.values()), {
            n: (s["stage"], [e["event"] for e in s["timeline"]][-3:]) for n, s in states.items()
        }
        return states

    states = await assert_eventually(closed, timeout=60, interval=0.1)

    for n, s in states.items():
        events = [e["event"] for e in s["timeline"]]
        assert s["outcome"] in ("confirmed", "hard_case"), (n, events)  # unsatisfied twice: the clearing list
        # Handled by the department's own people, through the API, with its unit token.
        assert {e["actor"] for e in s["timeline"] if e["event"] in ("acknowledged", "completed")} == {s["lead_unit"]}
        assert "callback_answered" in events and "delivery_failed" not in events

        r = await api.http.get("/deliveries", params={"ticket": n}, headers=supervisor)
        assert r.status_code == 200
        deliveries = r.json()["items"]
        assert deliveries and all(d["status"] == "delivered" for d in deliveries), deliveries
        kinds = {(d["unit"], d["kind"], d["channel"]) for d in deliveries}
        assert (s["lead_unit"], "work_order", "department_api") in kinds
        if s["supervisor_unit"] != s["lead_unit"]:
            assert (s["supervisor_unit"], "copy", "department_api") in kinds
        rounds = events.count("callback_requested")
        assert sum(1 for d in deliveries if d["kind"] == "callback" and d["channel"] == "voice") == rounds
        assert sum(1 for d in deliveries if d["kind"] == "rehandle") == events.count("rehandle")
        # Each work order and rehandle was taken by the department once.
        for d in deliveries:
            if d["channel"] == "department_api":
                assert [x["outcome"] for x in await sim.received(key=d["idempotency_key"])] == ["accepted"]

    # A unit sees only its own deliveries; the center sees how every unit is reached.
    unit = states[numbers[0]]["lead_unit"]
    r = await api.http.get("/deliveries", params={"unit": "qd.shinan.badaxia"}, headers=api.auth("unit", unit))
    assert r.status_code == 403
    r = await api.http.get("/deliveries", headers=api.auth("unit", unit))
    assert r.status_code == 200 and {d["unit"] for d in r.json()["items"]} == {unit}
    assert (await api.http.get("/deliveries", headers=api.auth("intake"))).status_code == 403
    r = await api.http.get("/deliveries", params={"status": "nonsense"}, headers=supervisor)
    assert r.status_code == 422 and "status" in r.json()["detail"]
    units = {u["id"]: u for u in (await api.http.get("/units", headers=api.auth("intake"))).json()}
    assert (
        units["qd.dept.transport"]["reached_by"] == "department_api"
        and "transport.taxi" in units["qd.dept.transport"]["supervises"]
    )
    assert units["qd.shinan.badaxia"]["reached_by"] == "own_client"
    assert (await api.http.get("/units/qd.nowhere", headers=api.auth("intake"))).status_code == 404
