"""A city's folder, catalog/cities/<city>/: `units.toml` (every unit with its tier and parent),
`responsibilities.toml` (category -> sector supervisor and, where the list names one, the lead
unit), and the intake lists (`out_of_scope.toml`, `legal_channels.toml`, `emergency.toml`)."""

import tomllib
from functools import lru_cache
from pathlib import Path

from domain.directory import Directory
from domain.intake.triage import Emergency, LegalChannel, OutOfScopeCategory, TriageLists

CITIES_DIR = Path(__file__).parent / "cities"


def _load_toml(path: Path) -> dict:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except FileNotFoundError as e:
        raise ValueError(f"missing city data file {path}") from e
    except tomllib.TOMLDecodeError as e:
        raise ValueError(f"{path}: {e}") from e


@lru_cache
def load_directory(city: str) -> Directory:
    folder = CITIES_DIR / city
    if not folder.is_dir():
        known = sorted(p.name for p in CITIES_DIR.iterdir() if p.is_dir())
        raise ValueError(f"unknown city {city!r}; known: {', '.join(known)}")
    units = _keyed(_load_toml(folder / "units.toml").get("unit", []), "unit")
    categories = _keyed(_load_toml(folder / "responsibilities.toml").get("category", []), "category")
    return Directory.model_validate({"city": city, "units": units, "categories": categories})


def _keyed(rows: list[dict], what: str) -> dict[str, dict]:
    keyed: dict[str, dict] = {}
    for row in rows:
        key = row.get("id")
        if not key:
            raise ValueError(f"a {what} without an id: {row}")
        if key in keyed:
            raise ValueError(f"{what} id {key!r} appears twice")
        keyed[key] = row
    return keyed


def _read(path: Path, table: str) -> list[dict]:
    if not path.is_file():
        return []
    try:
        with path.open("rb") as f:
            return tomllib.load(f).get(table, [])
    except tomllib.TOMLDecodeError as e:
        raise ValueError(f"{path}: {e}") from e


@lru_cache
def load_lists(city: str) -> TriageLists:
    folder = CITIES_DIR / city
    return TriageLists(
        out_of_scope=[OutOfScopeCategory(**c) for c in _read(folder / "out_of_scope.toml", "category")],
        legal_channels=[LegalChannel(**c) for c in _read(folder / "legal_channels.toml", "channel")],
        emergencies=[Emergency(**s) for s in _read(folder / "emergency.toml", "service")],
    )
