"""The department-system API as routes: what every department system implements, here served by
the simulator for each unit under /units/{unit_id}. `contract_openapi()` is the documented
contract (docs/department-api.openapi.json is its export; a test keeps the two equal).

    hotline department-api > docs/department-api.openapi.json"""

import asyncio
import hmac
import json
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Depends, FastAPI, Header, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from domain.department_api import Cancellation, DeliveryAnswer, Notice, Route, Urge, WorkOrderDelivery
from domain.directory import Unit

log = structlog.get_logger("simulator")  # a lazy proxy: configured by build() after this import

CONTRACT_VERSION = "1.0"

DESCRIPTION = """
What a department system (城管, 住建, 人社, the water, power, gas and heating companies...)
implements to take part in the 12345 hotline. The hotline knows each unit's base URL (`endpoint`)
and credential; it POSTs JSON to four routes under it.

* **`Idempotency-Key: <ticket number>-<delivery sequence>`** on every call. A retry carries the
  same key: do it once, and answer a repeat `200` with `"duplicate": true` and the same reference.
* **`Authorization: Bearer <credential>`**: the unit's credential, agreed with the center.
* **Answers**: any `2xx` is delivered. `408`, `429` and `5xx` (and timeouts) make the hotline try
  again later with backoff, for up to 7 days (`Retry-After` in seconds is honoured, up to 10 min).
  Any other `4xx` is a definite refusal: not retried, shown to the center as a delivery failure.
* **Answering back**: the department acts on the ticket through the hotline's own API with a
  unit token for its unit: `POST /tickets/{number}/acknowledge` (签收), `/progress`, `/complete`
  (办结), `/return-request` (退单), `/extension-request` (延期). See docs/department-api.md.
* **Recovering after a loss**: `GET /work-orders` (unit token) lists the unit's open tickets and
  what each still expects; the center can re-send a delivery under the same key
  (`POST /deliveries/{key}/resend`).
"""

_bearer = HTTPBearer(auto_error=False, description="The unit's credential, agreed with the 12345 center")

IdempotencyKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key", min_length=3, max_length=80, examples=["20261122000001-1"],
        description="<ticket number>-<delivery sequence>: the same on every retry; act on it once",
    ),
]  # fmt: skip

REFUSALS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Missing or wrong credential (not retried)"},
    422: {"description": "The department cannot take it, with the reason in `detail` (not retried)"},
    429: {"description": "Too many requests: retried later (Retry-After in seconds)"},
    503: {"description": "Unavailable: retried later with backoff"},
}


async def department(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Unit:
    """The served unit of the path, its faults applied, its credential checked."""
    sim = request.app.state.sim
    unit_id = request.path_params.get("unit_id", "")
    unit = sim.units.get(unit_id)
    if unit is None:
        raise HTTPException(404, f"no department system for unit {unit_id!r} here")
    route, key = request.url.path.rsplit("/", 1)[-1], request.headers.get("Idempotency-Key", "")
    fault = sim.ledger.take_fault(unit_id)
    request.state.fault = fault.mode if fault else None
    if fault and fault.mode != "timeout":
        sim.ledger.note(unit_id, route, key, None, None, f"fault:{fault.mode}")
        if fault.mode == "error_5xx":
            raise HTTPException(500, "simulated internal error")
        if fault.mode == "down":
            raise HTTPException(503, "simulated outage: the department system is down")
        if fault.mode == "busy":
            raise HTTPException(429, "simulated load: too many requests", {"Retry-After": str(fault.retry_after)})
        if fault.mode == "reject_4xx":
            raise HTTPException(422, "simulated refusal: 工单信息不完整，本系统无法接收")
        if fault.mode == "slow":
            await asyncio.sleep(sim.settings.simulator_slow_seconds)
    if unit.credential_ref:
        expected = sim.settings.department_credential(unit.credential_ref)
        given = credentials.credentials if credentials else ""
        if not hmac.compare_digest(given.encode(), expected.encode()):
            sim.ledger.note(unit_id, route, key, None, None, "unauthorized")
            raise HTTPException(401, "missing or wrong credential for this unit", {"WWW-Authenticate": "Bearer"})
    return unit


Department = Annotated[Unit, Depends(department)]

router = APIRouter(tags=["department-system API"], responses=REFUSALS)


async def _receive(request: Request, unit: Unit, route: Route, key: str, body) -> DeliveryAnswer:
    sim = request.app.state.sim
    reference, new = sim.ledger.once(unit.id, key)
    sim.ledger.note(unit.id, route.value, key, body.ticket, body.kind, "accepted" if new else "duplicate", reference)
    log.info("received", unit=unit.id, ticket=body.ticket, route=route.value, kind=body.kind, duplicate=not new)
    if new:
        sim.act(unit, route, body)
    if request.state.fault == "timeout":
        # Done, but the answer never comes back in time: the caller gives up and retries the same
        # key, which must not be done twice.
        for _ in range(1200):
            if await request.is_disconnected():
                break
            await asyncio.sleep(0.05)
    return DeliveryAnswer(reference=reference, duplicate=not new)


@router.post("/work-orders", response_model=DeliveryAnswer, summary="Receive a work order (派单) or a rehandle (重办)")
async def work_orders(body: WorkOrderDelivery, key: IdempotencyKey, unit: Department, request: Request):
    """The unit now handles the ticket: acknowledge it, contact the citizen, complete it, all
    through the hotline's API. `work_order.deadline` is when the result is due."""
    return await _receive(request, unit, Route.work_orders, key, body)


@router.post("/cancellations", response_model=DeliveryAnswer, summary="Receive a cancellation (改派)")
async def cancellations(body: Cancellation, key: IdempotencyKey, unit: Department, request: Request):
    """The unit no longer owns the ticket (reassigned after a return, or by the center): stop work on it."""
    return await _receive(request, unit, Route.cancellations, key, body)


@router.post("/urges", response_model=DeliveryAnswer, summary="Receive an urge (催办)")
async def urges(body: Urge, key: IdempotencyKey, unit: Department, request: Request):
    """The ticket is late or the citizen called again: speed up."""
    return await _receive(request, unit, Route.urges, key, body)


@router.post(
    "/notices",
    response_model=DeliveryAnswer,
    summary="Receive a notice: copy, reminder, supervision, escalation, warning, whistle",
)
async def notices(body: Notice, key: IdempotencyKey, unit: Department, request: Request):
    """Something the unit should know: the dual-dispatch copy to the sector supervisor (双派), a
    reminder or supervision (督办) when a deadline passed, an escalation it now coordinates, a
    deadline warning, a whistle (吹哨) summoning it to join. The citizen's contact is only in work
    orders for units that take part in the handling."""
    return await _receive(request, unit, Route.notices, key, body)


def contract_openapi() -> dict:
    """The contract as OpenAPI: the four routes relative to a unit's endpoint."""
    app = FastAPI(
        title="12345 hotline: department-system API",
        version=CONTRACT_VERSION,
        description=DESCRIPTION,
        servers=[{
            "url": "{endpoint}",
            "description": "the unit's endpoint in the hotline directory",
            "variables": {"endpoint": {"default": "http://127.0.0.1:8100/units/qd.dept.urban"}},
        }],
    )  # fmt: skip
    app.include_router(router)
    return app.openapi()


def main() -> None:
    print(json.dumps(contract_openapi(), ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
