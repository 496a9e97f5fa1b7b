"""The department simulator over real HTTP: it keeps the contract (credential, Idempotency-Key,
one action per key), behaves like department staff and citizens through the product's API (here
answered by a stand-in that records the calls), and injects faults on demand."""

import asyncio
import json
from datetime import UTC, datetime

import httpx
import pytest
import pytest_asyncio

from api.auth import verify
from core.settings import Settings
from domain.contracts import WorkOrder
from domain.department_api import WorkOrderDelivery
from domain.vocabulary import Kind, Role, Urgency
from tests.eventually import assert_eventually
from tests.simulated import running_simulator, simulator_settings

UNIT = "qd.dept.market"
NUMBER = "20261122000777"


class ProductStandIn:
    """The product API as the simulator sees it: records each call, answers 200 (or what a path is told)."""

    def __init__(self, answers: dict[str, int] | None = None):
        self.calls: list[tuple[str, str, dict | None, str]] = []  # (path, role/unit, body)
        self.answers = answers or {}
        self.not_yet = 0  # this many acknowledges answered 409 "being dispatched" with Retry-After

    def __call__(self, request: httpx.Request) -> httpx.Response:
        secret = Settings().token_secret.get_secret_value()
        actor = verify(secret, request.headers["Authorization"].removeprefix("Bearer "))
        body = json.loads(request.content) if request.content else None
        self.calls.append((request.url.path, actor.unit or actor.role.value, body))
        action = request.url.path.rsplit("/", 1)[-1]
        if action == "acknowledge" and self.not_yet:
            self.not_yet -= 1
            return httpx.Response(409, headers={"Retry-After": "0"}, json={"detail": "being dispatched"})
        status = self.answers.get(action, 200)
        return httpx.Response(status, json={"detail": "Not Found"} if status == 404 else {"number": NUMBER})

    def actions(self) -> list[str]:
        return [path.rsplit("/", 1)[-1] for path, _, _ in self.calls]


def work_order(sequence: int = 1, kind: str = "work_order") -> dict:
    wo = WorkOrder(
        number=NUMBER, category="market.prepaid_card", kind=Kind.complaint, urgency=Urgency.normal,
        enterprise=False, description="健身房跑路，预付卡无法退费", address="香港中路10号", district="qd.shinan",
        street="qd.shinan.badaxia", citizen_name="王女士", citizen_phone="13800138000", lead_unit=UNIT,
        supervisor_unit=UNIT, deadline=datetime(2026, 11, 29, tzinfo=UTC),
    )  # fmt: skip
    return WorkOrderDelivery(ticket=NUMBER, sequence=sequence, unit=UNIT, kind=kind, work_order=wo).model_dump(
        mode="json"
    )


def headers(sequence: int = 1, credential: str | None = None) -> dict[str, str]:
    secret = credential or Settings().department_credential("dept-market")
    return {"Idempotency-Key": f"{NUMBER}-{sequence}", "Authorization": f"Bearer {secret}"}


async def completed(product: ProductStandIn) -> None:
    """Until the simulated department has completed the ticket through the product's API."""

    def check():
        assert "complete" in product.actions(), product.actions()

    await assert_eventually(check)


async def idle(sim) -> None:
    """Until no simulated department or citizen has anything left to do: after this, nothing more
    reaches the product (what a test then finds missing never happened)."""

    def check():
        assert not sim.state.actors.tasks, f"{len(sim.state.actors.tasks)} simulated action(s) still running"

    await assert_eventually(check)


@pytest.fixture
def product() -> ProductStandIn:
    return ProductStandIn()


@pytest_asyncio.fixture
async def sim(product):
    settings = simulator_settings(
        Settings(), simulator_ack_delay=(0.01, 0.02), simulator_complete_delay=(0.05, 0.1),
        simulator_callback_delay=(0.01, 0.02),
    )  # fmt: skip
    async with running_simulator(settings, transport=httpx.MockTransport(product)) as sim:
        yield sim


async def test_a_repeated_delivery_is_answered_the_same_and_handled_once(sim, product):
    first = await sim.http.post(f"/units/{UNIT}/work-orders", json=work_order(), headers=headers())
    again = await sim.http.post(f"/units/{UNIT}/work-orders", json=work_order(), headers=headers())
    assert first.status_code == again.status_code == 200
    assert first.json() == {"reference": first.json()["reference"], "duplicate": False}
    assert again.json() == {"reference": first.json()["reference"], "duplicate": True}

    await completed(product)
    await idle(sim)  # a second handling, were there one, would have run by now
    assert product.actions() == ["acknowledge", "progress", "complete"]
    path, who, body = product.calls[0]
    assert path == f"/tickets/{NUMBER}/acknowledge" and who == UNIT  # with a unit token for that unit
    assert product.calls[1][2]["contacted_citizen"] is True
    assert product.calls[2][2]["result"] == "resolved"
    assert [r["outcome"] for r in await sim.received(key=f"{NUMBER}-1")] == ["accepted", "duplicate"]


async def test_the_contract_is_enforced(sim, product):
    url = f"/units/{UNIT}/work-orders"
    r = await sim.http.post(url, json=work_order(), headers=headers(credential="wrong"))
    assert r.status_code == 401 and "credential" in r.json()["detail"]
    r = await sim.http.post(url, json=work_order(), headers={"Idempotency-Key": f"{NUMBER}-1"})
    assert r.status_code == 401
    r = await sim.http.post(url, json=work_order(), headers={"Authorization": headers()["Authorization"]})
    assert r.status_code == 422  # no Idempotency-Key
    r = await sim.http.post("/units/qd.shinan.badaxia/work-orders", json=work_order(), headers=headers())
    assert r.status_code == 404  # a street office has no department system
    r = await sim.http.post(url, json={"ticket": NUMBER}, headers=headers())
    assert r.status_code == 422
    await idle(sim)
    assert product.calls == []  # nothing refused was acted on


async def test_faults_are_injected_for_a_unit_and_a_number_of_requests(sim):
    url = f"/units/{UNIT}/work-orders"
    await sim.fault("down", unit=UNIT, count=1)
    await sim.fault("error_5xx", count=1)  # every unit
    assert (await sim.http.post(url, json=work_order(), headers=headers())).status_code == 503
    assert (await sim.http.post(url, json=work_order(), headers=headers())).status_code == 500
    assert (await sim.http.post(url, json=work_order(), headers=headers())).status_code == 200
    await sim.fault("slow", unit=UNIT, count=1)  # simulator_slow_seconds: 0.2 here
    r = await sim.http.post(url, json=work_order(), headers=headers())
    assert r.status_code == 200 and r.elapsed.total_seconds() >= 0.2 and r.json()["duplicate"] is True
    await sim.fault("busy", unit=UNIT, count=1, retry_after=90)
    r = await sim.http.post(url, json=work_order(), headers=headers())
    assert r.status_code == 429 and r.headers["Retry-After"] == "90"
    await sim.fault("reject_4xx", unit=UNIT)
    assert (await sim.http.post(url, json=work_order(2), headers=headers(2))).status_code == 422
    assert (await sim.http.post(url, json=work_order(2), headers=headers(2))).status_code == 422
    assert (await sim.http.delete("/admin/faults")).status_code == 204
    assert (await sim.http.post(url, json=work_order(2), headers=headers(2))).status_code == 200
    r = await sim.http.post("/admin/faults", json={"unit": "qd.nowhere", "mode": "down"})
    assert r.status_code == 422 and "qd.nowhere" in r.json()["detail"]
    r = await sim.http.post("/admin/faults", json={"mode": "explode"})
    assert r.status_code == 422


async def test_an_action_on_a_ticket_still_being_routed_is_sent_again_after_the_pause(sim, product):
    """The work order can reach the department before the ticket's row shows it routed: the
    product answers 409 with Retry-After, and the department sends the same action again."""
    product.not_yet = 2
    await sim.http.post(f"/units/{UNIT}/work-orders", json=work_order(), headers=headers())
    await completed(product)
    assert product.actions() == ["acknowledge", "acknowledge", "acknowledge", "progress", "complete"]


async def test_extension_and_return_not_offered_by_the_product_still_end_in_completion(product):
    product.answers = {"extension-request": 404, "return-request": 405}
    settings = simulator_settings(
        Settings(), simulator_ack_delay=(0.01, 0.02), simulator_complete_delay=(0.02, 0.05),
        simulator_extension_rate=1.0, simulator_return_rate=1.0,
    )  # fmt: skip
    async with running_simulator(settings, transport=httpx.MockTransport(product)) as sim:
        assert (
            await sim.http.post(f"/units/{UNIT}/work-orders", json=work_order(), headers=headers())
        ).status_code == 200
        await completed(product)
    assert product.actions() == ["acknowledge", "progress", "extension-request", "return-request", "complete"]
    assert product.calls[2][2] == {"by": "3d", "reason": "需协调多个部门现场核查，申请延期"}
    assert product.calls[3][2]["suggested_unit"] is None


async def test_a_cancellation_stops_the_handling(product):
    settings = simulator_settings(Settings(), simulator_ack_delay=(0.3, 0.3))
    async with running_simulator(settings, transport=httpx.MockTransport(product)) as sim:
        await sim.http.post(f"/units/{UNIT}/work-orders", json=work_order(), headers=headers())
        cancel = {"ticket": NUMBER, "sequence": 2, "unit": UNIT, "message": "已改派"}
        r = await sim.http.post(f"/units/{UNIT}/cancellations", json=cancel, headers=headers(2))
        assert r.status_code == 200
        await idle(sim)  # the cancelled handling has ended (its acknowledgement was due at 0.3 s)
    assert product.calls == []


async def test_the_simulated_citizen_answers_a_callback_with_a_center_token(sim, product):
    survey = {
        "ticket": NUMBER, "attempt": 1, "channel": "voice", "phone": "13800138000", "result": "resolved",
        "reply": "已退费", "text": "请评价",
    }  # fmt: skip
    r = await sim.http.post("/citizen/callbacks", json=survey, headers={"Idempotency-Key": f"{NUMBER}-5"})
    assert r.status_code == 200

    def called():
        assert product.calls, "the simulated citizen has not answered yet"

    await assert_eventually(called)
    path, who, body = product.calls[0]
    assert path == f"/tickets/{NUMBER}/callback" and who == Role.center.value
    assert body["reached"] is True and body["satisfaction"] in ("satisfied", "basically_satisfied")

    sms = {
        "to": "13800138000",
        "sign": "青岛12345",
        "text": "您的诉求已受理",
        "template": "ticket_received",
        "reference": "k",
    }
    assert (await sim.http.post("/sms/messages", json=sms, headers={"Idempotency-Key": "k"})).status_code == 200
    listed = json.dumps(await sim.received())
    assert "13800138000" not in listed and "138****8000" in listed


class SlowFirstCallback(ProductStandIn):
    """The first callback answer gets no reply until `release` (an API restarting meanwhile)."""

    def __init__(self):
        super().__init__()
        self.release = asyncio.Event()

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        response = super().__call__(request)
        if request.url.path.endswith("/callback") and self.actions().count("callback") == 1:
            await self.release.wait()
        return response


async def test_a_new_round_is_answered_while_the_last_rounds_answer_still_waits_for_its_reply():
    """Chaos found it: the round-1 answer's reply was still being waited for when the rehandle and
    the round-2 survey came; the simulated citizen never answered round 2 (a ticket left in callback)."""
    product = SlowFirstCallback()
    settings = simulator_settings(Settings(), simulator_callback_delay=(0.01, 0.02))
    survey = {
        "ticket": NUMBER, "attempt": 1, "channel": "voice", "phone": "13800138000", "result": "resolved",
        "reply": "已退费", "text": "请评价",
    }  # fmt: skip
    async with running_simulator(settings, transport=httpx.MockTransport(product)) as sim:
        await sim.http.post("/citizen/callbacks", json=survey, headers={"Idempotency-Key": f"{NUMBER}-5"})

        def answered_once():
            assert product.actions().count("callback") == 1, product.actions()

        await assert_eventually(answered_once)
        # The product took the answer (unsatisfied) and sends the ticket back: round 2.
        r = await sim.http.post(f"/units/{UNIT}/work-orders", json=work_order(6, kind="rehandle"), headers=headers(6))
        assert r.status_code == 200
        await completed(product)
        await sim.http.post("/citizen/callbacks", json=survey, headers={"Idempotency-Key": f"{NUMBER}-7"})

        def answered_again():
            assert product.actions().count("callback") == 2, product.actions()

        await assert_eventually(answered_again)
        product.release.set()
