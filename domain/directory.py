"""The city's handling units and its responsibility list (权责清单), as domain data.

A city folder under catalog/cities/<city>/ (read by catalog.cities) holds `units.toml` (every unit
with its tier and parent) and `responsibilities.toml` (category -> sector supervisor and, where the
list names one, the lead unit instead of the street of the address)."""

from pydantic import BaseModel, ConfigDict, Field, model_validator

from domain.vocabulary import Tier, UnitKind


class Unit(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt field in the data file is an error, not a loss

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    name: str
    tier: Tier
    kind: UnitKind
    parent: str | None = None
    aliases: list[str] = []  # other names citizens and operators use ("西海岸新区" for 黄岛区)
    # How the unit is reached: a department-system endpoint, or none (works in our own API, notified by SMS).
    endpoint: str | None = None
    credential_ref: str | None = None
    notify_phone: str | None = None


class Category(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9_]+(\.[a-z0-9_]+)*$")
    name: str
    supervisor: str  # the city sector supervisor that gets the dual-dispatch copy
    lead: str = "street"  # "street" = the street office of the address (首派负责), or a unit id


class Directory(BaseModel):
    city: str
    units: dict[str, Unit]
    categories: dict[str, Category]

    @model_validator(mode="after")
    def _check_references(self) -> "Directory":
        problems = []
        seen_names: dict[str, str] = {}
        for u in self.units.values():
            if u.parent and u.parent not in self.units:
                problems.append(f"unit {u.id}: parent {u.parent!r} is not a unit")
            elif u.parent:
                parent = self.units[u.parent]
                if list(Tier).index(parent.tier) <= list(Tier).index(u.tier):
                    problems.append(f"unit {u.id}: parent {u.parent} is not on a higher tier")
            for name in (u.name, *u.aliases):
                if name in seen_names and seen_names[name] != u.id:
                    problems.append(f"name {name!r} is used by both {seen_names[name]} and {u.id}")
                seen_names[name] = u.id
        for c in self.categories.values():
            if c.supervisor not in self.units:
                problems.append(f"category {c.id}: supervisor {c.supervisor!r} is not a unit")
            elif self.units[c.supervisor].kind != UnitKind.sector:
                problems.append(f"category {c.id}: supervisor {c.supervisor} is not a sector department")
            if c.lead != "street" and c.lead not in self.units:
                problems.append(f"category {c.id}: lead {c.lead!r} is not a unit")
        if not any(u.tier == Tier.city and u.kind == UnitKind.center for u in self.units.values()):
            problems.append("no city-tier center unit to escalate to")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    # -- lookups -----------------------------------------------------------------------------

    def find(self, ref: str, *, tier: Tier | None = None, parent: str | None = None) -> Unit | None:
        """A unit by id, name or alias; optionally only of a tier or under a parent."""
        ref = ref.strip()
        for u in self.units.values():
            if tier and u.tier != tier:
                continue
            if parent and u.parent != parent:
                continue
            if ref == u.id or ref == u.name or ref in u.aliases:
                return u
        return None

    def center(self) -> Unit:
        return next(u for u in self.units.values() if u.tier == Tier.city and u.kind == UnitKind.center)

    def escalation_chain(self, unit_id: str) -> list[str]:
        """The unit, then each tier above it up to the city: street -> district -> city for a
        street office (the three rings, 三环); a city department or utility goes straight to the
        city center."""
        chain = [unit_id]
        unit = self.units[unit_id]
        while unit.parent:
            chain.append(unit.parent)
            unit = self.units[unit.parent]
        if unit.tier != Tier.city or unit.kind != UnitKind.center:
            chain.append(self.center().id)
        return chain
