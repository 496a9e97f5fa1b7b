"""A city's folder, catalog/cities/<city>/: `units.toml` (every unit with its tier and parent),
`responsibilities.toml` (category -> sector supervisor and, where the list names one, the lead
unit), the intake lists (`out_of_scope.toml`, `legal_channels.toml`, `emergency.toml`), the
intake's city data (`synonyms.toml`: variants of words; `places.toml`: roads, communities and
landmarks -> street offices) and the seed corpus the triage model first trains on
(`intake_corpus.toml`)."""

import tomllib
from functools import lru_cache
from pathlib import Path

from domain.directory import Directory
from domain.intake.address import Place
from domain.intake.triage import (
    Emergency,
    LegalChannel,
    OutOfScopeCategory,
    TriageLists,
)

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


def _top(path: Path) -> dict:
    if not path.is_file():
        return {}
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        raise ValueError(f"{path}: {e}") from e


@lru_cache
def load_lists(city: str) -> TriageLists:
    folder = CITIES_DIR / city
    emergency = _top(folder / "emergency.toml")
    synonyms: dict[str, list[str]] = {}
    for g in _read(folder / "synonyms.toml", "group"):
        synonyms.setdefault(g["canonical"], []).extend(g.get("variants", []))
    return TriageLists(
        out_of_scope=[OutOfScopeCategory(**c) for c in _read(folder / "out_of_scope.toml", "category")],
        legal_channels=[LegalChannel(**c) for c in _read(folder / "legal_channels.toml", "channel")],
        emergencies=[Emergency(**s) for s in emergency.get("service", [])],
        synonyms=synonyms,
        past_markers=emergency.get("past_markers", []),
        habitual_markers=emergency.get("habitual_markers", []),
        aftermath_markers=emergency.get("aftermath_markers", []),
        present_markers=emergency.get("present_markers", []),
        present_exceptions=emergency.get("present_exceptions", []),
    )


@lru_cache
def load_places(city: str) -> tuple[Place, ...]:
    """Roads, communities and landmarks with their street offices; unknown unit ids are an error."""
    places = tuple(Place(**p) for p in _read(CITIES_DIR / city / "places.toml", "place"))
    units = load_directory(city).units
    wrong = [f"{p.name}: {s}" for p in places for s in p.streets if s not in units]
    if wrong:
        raise ValueError(f"places.toml of {city} names unknown street units: {', '.join(wrong)}")
    return places


def corpus_groups(city: str) -> list[dict]:
    """The seed corpus (intake_corpus.toml): groups of texts with their path and labels."""
    return _read(CITIES_DIR / city / "intake_corpus.toml", "group")
