"""Reference data an intake desk needs: categories (the responsibility list) and units."""

import asyncio
from datetime import timedelta
from typing import Literal

from anyio import to_thread
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text

from api.deps import ActorDep, DirectoryDep, SessionDep, SettingsDep
from api.errors import not_found
from catalog.policies import available_packs
from domain.directory import Category
from domain.vocabulary import Tier, UnitKind
from readmodel import db
from readmodel import units as unit_table
from readmodel.tables import UnitRow

router = APIRouter(tags=["reference"])


class Health(BaseModel):
    status: str
    city: str
    policy_pack: str
    policy_packs: list[str]


@router.get("/health", response_model=Health, summary="Liveness: the one call without a token (load balancers)")
async def health(directory: DirectoryDep, settings: SettingsDep) -> Health:
    packs = available_packs(settings.policy_dir)
    return Health(status="ok", city=directory.city, policy_pack=settings.policy_pack, policy_packs=packs)


@router.get("/health/live", summary="Liveness: the process answers (restart it if not)")
async def live() -> dict[str, str]:
    return {"status": "ok"}


def _database_answers(url: str) -> None:
    with db.session(url) as session:
        session.execute(text("SELECT 1"))


async def _check(what: str, probe) -> tuple[str, str]:
    try:
        await asyncio.wait_for(probe(), timeout=3)
        return what, "ok"
    except Exception as e:  # unreachable, refused, timed out: say which and why
        return what, f"{type(e).__name__}: {e}"[:300] or "unreachable"


@router.get(
    "/health/ready",
    summary="Readiness: Temporal and the read model answer (send no traffic here if not)",
    responses={503: {"description": "a dependency does not answer: which one and why; Retry-After"}},
)
async def ready(request: Request, settings: SettingsDep):
    async def temporal() -> None:
        client = await request.app.state.temporal.get()
        if not await client.service_client.check_health(timeout=timedelta(seconds=3)):
            raise RuntimeError(f"Temporal at {settings.temporal_address} is not serving")

    async def database() -> None:
        await to_thread.run_sync(_database_answers, settings.database_url)

    checks = dict(await asyncio.gather(_check("temporal", temporal), _check("database", database)))
    if all(v == "ok" for v in checks.values()):
        return {"status": "ready", "checks": checks}
    failed = ", ".join(k for k, v in checks.items() if v != "ok")
    return JSONResponse(
        {"status": "unavailable", "failed": failed, "checks": checks}, status_code=503, headers={"Retry-After": "5"}
    )


@router.get("/categories", response_model=list[Category], summary="The responsibility list (权责清单)")
async def categories(_: ActorDep, directory: DirectoryDep) -> list[Category]:
    return list(directory.categories.values())


ReachedBy = Literal["department_api", "sms", "own_client"]


class UnitView(BaseModel):
    id: str
    name: str
    tier: Tier
    kind: UnitKind
    parent: str | None
    aliases: list[str]
    supervises: list[str]  # categories it is the sector supervisor of
    reached_by: ReachedBy
    endpoint: str | None
    active: bool

    @classmethod
    def of(cls, row: UnitRow) -> "UnitView":
        reached_by: ReachedBy = "department_api" if row.endpoint else "sms" if row.notify_phone else "own_client"
        return cls(**row.model_dump(exclude={"credential_ref", "notify_phone", "updated_at"}), reached_by=reached_by)


@router.get("/units", response_model=list[UnitView], summary="Handling units of the city (seeded by `hotline seed`)")
async def units(
    _: ActorDep,
    session: SessionDep,
    tier: Tier | None = None,
    kind: UnitKind | None = None,
    include_inactive: bool = False,
) -> list[UnitView]:
    rows = await db.in_thread(unit_table.all_units, session)
    return [
        UnitView.of(r)
        for r in rows
        if (include_inactive or r.active) and (tier is None or r.tier == tier) and (kind is None or r.kind == kind)
    ]


@router.get("/units/{unit_id}", response_model=UnitView, summary="One handling unit")
async def unit(unit_id: str, _: ActorDep, session: SessionDep) -> UnitView:
    row = await db.in_thread(unit_table.get, session, unit_id)
    if row is None:
        raise not_found(f"no unit {unit_id!r} (see GET /units)")
    return UnitView.of(row)
