"""Reference data an intake desk needs: categories (the responsibility list) and units."""

from fastapi import APIRouter
from pydantic import BaseModel

from api.deps import DirectoryDep, SettingsDep
from domain.directory import Category, Unit
from domain.policy import available_packs

router = APIRouter(tags=["reference"])


class Health(BaseModel):
    status: str
    city: str
    policy_pack: str
    policy_packs: list[str]


@router.get("/health", response_model=Health)
async def health(directory: DirectoryDep, settings: SettingsDep) -> Health:
    return Health(status="ok", city=directory.city, policy_pack=settings.policy_pack, policy_packs=available_packs(settings.policy_dir))


@router.get("/categories", response_model=list[Category], summary="The responsibility list (权责清单)")
async def categories(directory: DirectoryDep) -> list[Category]:
    return list(directory.categories.values())


@router.get("/units", response_model=list[Unit], summary="Handling units of the city")
async def units(directory: DirectoryDep) -> list[Unit]:
    return list(directory.units.values())
