"""First-responsible routing (首派负责): who leads, who gets the dual-dispatch copy.

The lead is the street office of the address unless the responsibility list names a unit for the
category; the sector supervisor of the category always gets a copy at the same moment."""

from domain.directory import Directory
from domain.errors import invalid
from domain.ticket import Address, Routing
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


def route(category: str, address: Address, directory: Directory, rules: dict[str, str] | None = None) -> Routing:
    """`rules` are saved rulings (category and area -> lead), which win over the list."""
    check_category(category, directory)
    address = resolve_address(address, directory)
    cat = directory.categories[category]
    street = address.street
    saved = (rules or {}).get(street) or (rules or {}).get(address.district)
    if saved:
        lead, reason = saved, f"saved ruling for {cat.name} in this area"
    elif cat.lead == "street":
        lead, reason = street, "first-responsible: the street office of the address"
    else:
        lead, reason = cat.lead, f"responsibility list: {cat.name} is led by {directory.units[cat.lead].name}"
    # street -> district -> city for a street lead (three rings); a department goes to the city.
    chain = directory.escalation_chain(lead)
    involved = {lead, cat.supervisor, street, address.district, *chain}
    return Routing(
        lead_unit=lead,
        supervisor_unit=cat.supervisor,
        street_unit=street,
        district_unit=address.district,
        escalation_chain=chain,
        escalation_tiers=[directory.units[u].tier for u in chain],
        unit_names={u: directory.units[u].name for u in involved},
        reason=reason,
    )
