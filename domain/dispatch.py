"""First-responsible routing (首派负责): who leads, who gets the dual-dispatch copy.

The lead is the street office of the address unless the responsibility list names a unit for the
category; the sector supervisor of the category always gets a copy at the same moment."""

from domain.directory import Directory
from domain.errors import invalid
from domain.ownership.ruling import ResponsibilityRule
from domain.ticket import Address, Routing, UnitInfo
from domain.vocabulary import Tier


def resolve_address(address: Address, directory: Directory) -> Address:
    """The address with district and street as unit ids; a clear refusal when they do not exist
    or the street is not in the district."""
    district = directory.find(address.district, tier=Tier.district)
    if district is None:
        raise invalid(f"unknown district {address.district!r}")
    street = directory.find(address.street, tier=Tier.street)
    if street is None:
        raise invalid(f"unknown street {address.street!r}")
    if street.parent != district.id:
        raise invalid(f"street {street.name} is not in {district.name}")
    return address.model_copy(update={"district": district.id, "street": street.id})


def check_category(category: str, directory: Directory) -> None:
    if category not in directory.categories:
        raise invalid(f"unknown category {category!r}; see GET /categories")


def route(
    category: str, address: Address, directory: Directory, rules: list[ResponsibilityRule] | None = None
) -> Routing:
    """`rules` are saved rulings for the category; one for the street, else for the district,
    wins over the list and brings its cooperating units along."""
    check_category(category, directory)
    address = resolve_address(address, directory)
    cat = directory.categories[category]
    street = address.street
    by_area = {r.area: r for r in rules or [] if r.category == category and r.lead in directory.units}
    saved = by_area.get(street) or by_area.get(address.district)
    cooperating: list[str] = []
    if saved:
        lead, reason = saved.lead, f"saved ruling (ticket {saved.ticket}): {saved.reason}"
        cooperating = [u for u in saved.cooperating if u in directory.units and u != lead]
    elif cat.lead == "street":
        lead, reason = street, "first-responsible: the street office of the address"
    else:
        lead, reason = cat.lead, f"responsibility list: {cat.name} is led by {directory.units[cat.lead].name}"
    info = unit_info(lead, directory)
    # Who else could own it, for "the next candidate" of an approved return: locality and sector.
    listed = cat.lead if cat.lead != "street" else street
    candidates = [u for u in dict.fromkeys([street, listed, cat.supervisor, address.district]) if u != lead]
    involved = {cat.supervisor, street, address.district, *cooperating, *candidates}
    return Routing(
        lead_unit=lead,
        supervisor_unit=cat.supervisor,
        street_unit=street,
        district_unit=address.district,
        escalation_chain=info.escalation_chain,
        escalation_tiers=info.escalation_tiers,
        unit_names={**info.unit_names, **{u: directory.units[u].name for u in involved}},
        reason=reason,
        cooperating=cooperating,
        candidates=candidates,
    )


def unit_info(unit_id: str, directory: Directory) -> UnitInfo:
    """A unit with its escalation chain: street -> district -> city for a street (three rings);
    a city department or utility goes straight to the city center."""
    unit = directory.units.get(unit_id)
    if unit is None:
        raise invalid(f"unknown unit {unit_id!r}; see GET /units")
    chain = directory.escalation_chain(unit_id)
    return UnitInfo(
        id=unit.id,
        name=unit.name,
        tier=unit.tier,
        escalation_chain=chain,
        escalation_tiers=[directory.units[u].tier for u in chain],
        unit_names={u: directory.units[u].name for u in chain},
    )
