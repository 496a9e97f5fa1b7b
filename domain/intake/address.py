"""Reading the district and street office from the address a citizen gives (属地: the street of the
address is the first-responsible unit for most categories).

The gazetteer is the city's directory — every district and street office by name and alias
(units.toml) — and its places (places.toml: roads, communities, landmarks -> street offices). The
longest names found in the text win; a district named narrows the streets; when the text fits more
than one street, the reading says so and lists them, for the operator to choose."""

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from domain.directory import Directory
from domain.intake.textsearch import normalize
from domain.vocabulary import Tier


class Place(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    aliases: list[str] = []
    streets: list[str] = Field(min_length=1)


class StreetCandidate(BaseModel):
    id: str
    name: str
    district: str
    district_name: str
    matched: str  # the words of the address that point to it


class AddressReading(BaseModel):
    district: str | None = None
    district_name: str | None = None
    street: str | None = None
    street_name: str | None = None
    ambiguous: bool = False  # the address fits more than one street: see candidates
    candidates: list[StreetCandidate] = []
    matched: list[str] = []  # the names found in the address


@dataclass(frozen=True)
class _Entry:
    surface: str
    units: tuple[str, ...]
    rank: int  # 3: a street's full name, 2: a street's alias, 1: a place; 0: a district


_built: dict[tuple[int, int], tuple[Directory, tuple, tuple[_Entry, ...]]] = {}


def _gazetteer(directory: Directory, places: tuple[Place, ...]) -> tuple[_Entry, ...]:
    """Built once per directory and places (the loaders cache both for the process)."""
    key = (id(directory), id(places))
    cached = _built.get(key)
    if cached is not None and cached[0] is directory and cached[1] is places:
        return cached[2]
    if len(_built) > 16:
        _built.clear()
    entries_sorted = _build(directory, places)
    _built[key] = (directory, places, entries_sorted)
    return entries_sorted


def _build(directory: Directory, places: tuple[Place, ...]) -> tuple[_Entry, ...]:
    entries: dict[str, _Entry] = {}

    def add(surface: str, units: tuple[str, ...], rank: int) -> None:
        key = normalize(surface).replace(" ", "")
        if len(key) < 2:
            return
        old = entries.get(key)
        if old is None or rank > old.rank:
            entries[key] = _Entry(key, units, rank)
        elif rank == old.rank:
            entries[key] = _Entry(key, tuple(dict.fromkeys(old.units + units)), rank)

    for u in directory.units.values():
        if u.tier == Tier.district:
            for name in (u.name, *u.aliases):
                add(name, (u.id,), 0)
        elif u.tier == Tier.street:
            add(u.name, (u.id,), 3)
            for name in u.aliases:
                add(name, (u.id,), 2)
    for p in places:
        known = tuple(s for s in p.streets if s in directory.units)
        if known:
            for name in (p.name, *p.aliases):
                add(name, known, 1)
    return tuple(sorted(entries.values(), key=lambda e: len(e.surface), reverse=True))


def _find(text: str, gazetteer: tuple[_Entry, ...]) -> list[_Entry]:
    """The names in the text, longest first, never two over the same characters."""
    taken = [False] * len(text)
    found = []
    for e in gazetteer:
        start = text.find(e.surface)
        while start >= 0:
            end = start + len(e.surface)
            if not any(taken[start:end]):
                taken[start:end] = [True] * (end - start)
                found.append((start, e))
            start = text.find(e.surface, end)
    return [e for _, e in sorted(found, key=lambda f: f[0])]


def read_address(text: str, directory: Directory, places: tuple[Place, ...] = ()) -> AddressReading:
    norm = normalize(text or "").replace(" ", "")
    if not norm:
        return AddressReading()
    found = _find(norm, _gazetteer(directory, places))
    districts = list(dict.fromkeys(u for e in found if e.rank == 0 for u in e.units))
    streets = [e for e in found if e.rank > 0]
    district = districts[0] if districts else None
    reading = AddressReading(matched=[e.surface for e in found])

    def candidate(unit: str, matched: str) -> StreetCandidate:
        u = directory.units[unit]
        d = directory.units[u.parent] if u.parent else u
        return StreetCandidate(id=u.id, name=u.name, district=d.id, district_name=d.name, matched=matched)

    options: dict[str, tuple[int, str]] = {}
    for e in streets:
        for unit in e.units:
            if district and directory.units[unit].parent not in districts:
                continue
            if unit not in options or e.rank > options[unit][0]:
                options[unit] = (e.rank, e.surface)
    if not options and streets and district:
        # The street names another district than the one said: trust neither, ask.
        for e in streets:
            for unit in e.units:
                options.setdefault(unit, (e.rank, e.surface))
        district = None
    if options:
        best = max(rank for rank, _ in options.values())
        top = [u for u, (rank, _) in options.items() if rank == best]
        reading.candidates = [candidate(u, options[u][1]) for u in top]
        if len(top) == 1:
            reading.street = top[0]
            reading.street_name = directory.units[top[0]].name
            district = directory.units[top[0]].parent
        else:
            reading.ambiguous = True
            parents = {directory.units[u].parent for u in top}
            district = parents.pop() if len(parents) == 1 else district
    if district:
        reading.district = district
        reading.district_name = directory.units[district].name
    return reading
