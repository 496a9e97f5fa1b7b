"""Reference data an intake desk needs: categories (the responsibility list) and units."""

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel

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
