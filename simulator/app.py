"""The simulator's FastAPI app: the department-system API for every unit with an endpoint, the
simulated citizen channel (callback surveys), an SMS sink, and admin routes for faults.

    uvicorn --factory simulator.app:build      (or `python -m simulator`, `hotline simulator`)"""

import asyncio
from contextlib import asynccontextmanager
from typing import Annotated

import httpx
import structlog
from fastapi import APIRouter, Depends, FastAPI, Header, HTTPException, Path, Request

from catalog.cities import load_directory
from core.logging import configure_logging
from core.settings import Settings, get_settings
from domain.contracts import CallbackSurvey, EmergencyTransfer, SmsMessage
from domain.department_api import Route
from domain.directory import Unit
from domain.privacy import mask_phone
from simulator import contract
from simulator.actors import Actors, ProductApi
from simulator.ledger import Fault, Ledger, Received

log = structlog.get_logger("simulator")  # a lazy proxy: configured by build() after this import


class Simulator:
    """Everything the routes share: the served units, the ledger, the actors."""

    def __init__(self, settings: Settings, transport: httpx.AsyncBaseTransport | None = None):
        self.settings = settings
        self.units: dict[str, Unit] = {u.id: u for u in load_directory(settings.city).units.values() if u.endpoint}
        self.ledger = Ledger(settings.simulator_ledger)
        self.api = ProductApi(settings, transport)
        self.actors = Actors(settings, self.api)
        self.actors.on_answered = self.ledger.answer_once
        self.leads: dict[str, str | None] = {}  # ticket -> its lead unit, from the work orders and copies seen
        self._resync: asyncio.Task | None = None
        self.resyncs = 0  # passes that went through (GET /health shows it)

    # -- after a restart: what the product still expects of the simulated departments -------------

    def start(self) -> None:
        """With a durable ledger: resynchronise now and every simulator_resync_seconds."""
        if self.ledger.durable and self.settings.simulator_act:
            self._resync = asyncio.create_task(self._resync_forever())

    async def _resync_forever(self) -> None:
        while True:
            try:
                resumed = await self.resync()
                self.resyncs += 1
                if resumed:
                    log.info("resynchronised with the hotline", resumed=resumed)
                pause = self.settings.simulator_resync_seconds
            except Exception as e:  # noqa: BLE001 — the product is restarting, or answered oddly: the loop must live on
                log.warning("could not resynchronise yet; trying again", error=str(e), error_type=type(e).__name__)
                pause = 2.0
            await asyncio.sleep(pause)

    async def resync(self) -> int:
        """Take up every open work order the product says a simulated unit still owes (acknowledge,
        complete), and every callback its citizens have not answered: what a department system
        does after losing its state. Returns how many were taken up again."""
        resumed = 0
        for unit in self.units:
            r = await self.api.get("/work-orders", unit=unit)
            if r is None or not r.is_success:
                raise ResyncError(f"GET /work-orders for {unit}: {r.status_code if r is not None else 'unreachable'}")
            for order in r.json()["items"]:
                if "complete" in order["expects"] and self.actors.handle(unit, order["ticket"]):
                    resumed += 1
        r = await self.api.get("/callbacks", limit=500)
        if r is None or not r.is_success:
            raise ResyncError(f"GET /callbacks: {r.status_code if r is not None else 'unreachable'}")
        for ticket in r.json():
            attempt = ticket["callback_attempt"]
            if ticket["lead_unit"] not in self.units or attempt < 1:
                continue
            if (ticket["number"], attempt) not in self.ledger.answered and self.actors.answer(
                ticket["number"], attempt
            ):
                resumed += 1
        return resumed

    def citizen_answers(self, ticket: str) -> bool:
        """The simulated citizens answer the callback of a ticket its simulated departments handled
        (or one it knows nothing of). A ticket led by a unit it does not play — a street office whose
        work a person does by hand — waits for that person's callback too (GET /callbacks)."""
        lead = self.leads.get(ticket)
        return lead is None or lead in self.units

    def act(self, unit: Unit, route: Route, body) -> None:
        """What the department's staff do with something new."""
        work_order = getattr(body, "work_order", None)
        if work_order is not None:
            self.leads[body.ticket] = work_order.lead_unit
        if getattr(body, "kind", None) == "rehandle":  # a new round: its callback attempts count from 1 again
            self.actors.new_round(body.ticket)
            self.ledger.forget_answers(body.ticket)
        if route == Route.work_orders:
            self.actors.work_order(unit.id, body)
        elif route == Route.cancellations:
            self.actors.cancellation(unit.id, body.ticket)

    async def close(self) -> None:
        if self._resync is not None:
            self._resync.cancel()
            await asyncio.gather(self._resync, return_exceptions=True)
        await self.actors.stop()
        await self.api.aclose()
        self.ledger.close()


class ResyncError(Exception):
    pass


def _sim(request: Request) -> Simulator:
    return request.app.state.sim


Sim = Annotated[Simulator, Depends(_sim)]
Key = Annotated[str, Header(alias="Idempotency-Key", min_length=1, max_length=80)]

# -- the citizen's side: the automated callback channel and the SMS provider ------------------

channels = APIRouter(tags=["simulated citizen channel"])


@channels.post("/citizen/callbacks", summary="Callback survey provider: reach the citizen, post the answer back")
async def callback_survey(survey: CallbackSurvey, key: Key, sim: Sim) -> dict:
    reference, new = sim.ledger.once("citizen", key)
    answers = sim.citizen_answers(survey.ticket)
    outcome = ("accepted" if answers else "left_to_operator") if new else "duplicate"
    sim.ledger.note("citizen", "callbacks", key, survey.ticket, survey.channel, outcome, reference)
    if new and answers:
        sim.actors.callback_survey(survey)
    return {"id": reference, "duplicate": not new}


@channels.post("/sms/messages", summary="SMS provider: take a message (kept masked, never sent)")
async def sms(message: SmsMessage, key: Key, sim: Sim) -> dict:
    reference, new = sim.ledger.once("sms", key)
    # The number is masked before it is kept: the ledger is listed by GET /admin/received.
    sim.ledger.note(
        f"sms:{mask_phone(message.to)}",
        "sms",
        key,
        None,
        message.template,
        "accepted" if new else "duplicate",
        reference,
    )
    return {"id": reference, "duplicate": not new}


@channels.post(
    "/emergency/transfers",
    summary="Emergency linkage platform (110 / 119 / 120 / 122): take a transfer, give a reference",
)  # fmt: skip
async def emergency_transfer(transfer: EmergencyTransfer, key: Key, sim: Sim) -> dict:
    reference, new = sim.ledger.once(f"emergency-{transfer.service}", key)
    sim.ledger.note(
        f"emergency-{transfer.service}", "transfers", key, transfer.ticket, "transfer",
        "accepted" if new else "duplicate", reference,
    )  # fmt: skip
    return {"reference": f"{transfer.service}-{reference}", "duplicate": not new}


# -- admin: faults on demand, what came in ----------------------------------------------------

admin = APIRouter(prefix="/admin", tags=["admin"])


@admin.post("/faults", response_model=list[Fault], summary="Inject a fault")
async def add_fault(fault: Fault, sim: Sim) -> list[Fault]:
    if fault.unit is not None and fault.unit not in sim.units:
        raise HTTPException(422, f"unit {fault.unit!r} has no department system here (see GET /admin/units)")
    sim.ledger.add_fault(fault)
    log.info("fault injected", unit=fault.unit or "all", mode=fault.mode, count=fault.count)
    return sim.ledger.faults


@admin.get("/faults", response_model=list[Fault], summary="Faults in force")
async def faults(sim: Sim) -> list[Fault]:
    return sim.ledger.faults


@admin.delete("/faults", status_code=204, summary="Clear all faults")
async def clear_faults(sim: Sim) -> None:
    sim.ledger.clear_faults()


@admin.get("/received", response_model=list[Received], summary="What the simulator received, oldest first")
async def received(
    sim: Sim, unit: str | None = None, ticket: str | None = None, key: str | None = None
) -> list[Received]:
    return [
        r for r in sim.ledger.received
        if (unit is None or r.unit == unit) and (ticket is None or r.ticket == ticket) and (key is None or r.key == key)
    ]  # fmt: skip


@admin.get("/units", summary="Units whose department system is simulated here")
async def served_units(sim: Sim) -> list[dict]:
    return [{"id": u.id, "name": u.name, "credential_ref": u.credential_ref} for u in sim.units.values()]


def _unit_in_path(unit_id: Annotated[str, Path(description="unit id from the hotline directory")]) -> None:
    """Documents the path's unit id; the contract's dependency reads and checks it."""


def create_app(settings: Settings | None = None, transport: httpx.AsyncBaseTransport | None = None) -> FastAPI:
    """`transport` is for the simulator's calls to the product API (tests may answer them)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.sim.start()
        yield
        await app.state.sim.close()

    app = FastAPI(
        title="12345 department simulator",
        version=contract.CONTRACT_VERSION,
        description="Stands in for the department systems, the SMS provider and the callback channel. "
        "The contract alone: GET /department-api.json.",
        lifespan=lifespan,
    )
    app.state.sim = Simulator(settings, transport)
    app.include_router(contract.router, prefix="/units/{unit_id}", dependencies=[Depends(_unit_in_path)])
    app.include_router(channels)
    app.include_router(admin)

    @app.get("/department-api.json", include_in_schema=False)
    async def department_api() -> dict:
        return contract.contract_openapi()

    @app.get("/health", tags=["admin"])
    async def health(sim: Sim) -> dict:
        return {
            "status": "ok",
            "units": len(sim.units),
            "product_api": str(sim.api.http.base_url),
            "acting": settings.simulator_act,
            "durable": sim.ledger.durable,
            "resyncs": sim.resyncs,
        }

    return app


def build() -> FastAPI:
    settings = get_settings()
    configure_logging(json=settings.log_json, level=settings.log_level, secrets=settings.secret_values())
    return create_app(settings)


def main() -> None:
    import uvicorn

    settings = get_settings()
    uvicorn.run(
        "simulator.app:build", factory=True, host=settings.simulator_host, port=settings.simulator_port,
        log_config=None, access_log=False,
    )  # fmt: skip
