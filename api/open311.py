"""Open311 GeoReport v2 (https://wiki.open311.org/GeoReport_v2) beside the product's own API.

Civic reporting apps (FixMyStreet and others) send a city's back office their reports in this
shape. Services are the categories of the responsibility list (权责清单); a posted request is
taken in like any other (api/intake.py: exactly once, deferred when Temporal is away) on the
`open311` channel, by the client application its api_key names (HOTLINE_OPEN311_KEYS). Requests
are read back from the read model; only those that came in through Open311 are listed here, so a
citizen's phone call never appears in a public feed.

Everything here is plain functions (documents in, documents out); api/routes/open311.py serves
them as JSON or XML."""

import hashlib
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from domain.deadlines.calendar import CHINA_TZ
from domain.directory import Category, Directory, Unit
from domain.ticket import TicketState
from domain.vocabulary import Kind, Stage, Tier

FORMATS = ("json", "xml")
MAX_SPAN = timedelta(days=90)  # the spec: a date range may not span more than 90 days
MEDIA_PREFIX = "Media: "
_COORDS = re.compile(r"\s*@\s*(-?\d+(?:\.\d+)?),\s*(-?\d+(?:\.\d+)?)\s*$")


class Open311Error(Exception):
    """An error in the spec's format: [{"code": 400, "description": "..."}]."""

    def __init__(self, code: int, description: str):
        super().__init__(description)
        self.code = code
        self.description = description


def split_format(name: str) -> tuple[str, str]:
    """`urban.road_damage.json` -> ("urban.road_damage", "json"): ids may contain dots."""
    stem, dot, fmt = name.rpartition(".")
    if not dot or fmt not in FORMATS:
        raise Open311Error(400, f"{name!r}: the format must be .json or .xml")
    return stem, fmt


def w3c(ts: datetime | None) -> str | None:
    if ts is None:
        return None
    return ts.astimezone(CHINA_TZ).isoformat(timespec="seconds")


# -- services -------------------------------------------------------------------------------------


def _group(cat: Category, directory: Directory) -> str:
    sup = directory.units.get(cat.supervisor)
    return sup.name if sup else cat.id.split(".")[0]


def service(cat: Category, directory: Directory) -> dict[str, Any]:
    lead = "the street office of the address" if cat.lead == "street" else directory.units[cat.lead].name
    return {
        "service_code": cat.id,
        "service_name": cat.name,
        "description": f"{cat.name}: handled by {lead}, supervised by {_group(cat, directory)}",
        "metadata": True,  # district, street and kind: see the definition
        "type": "realtime",
        "keywords": cat.id.split(".")[0],
        "group": _group(cat, directory),
    }


def services(directory: Directory) -> list[dict[str, Any]]:
    return [service(c, directory) for c in directory.categories.values()]


def _streets(directory: Directory) -> list[Unit]:
    return [u for u in directory.units.values() if u.tier == Tier.street]


def definition(code: str, directory: Directory) -> dict[str, Any]:
    if code not in directory.categories:
        raise Open311Error(404, f"no service {code!r}; see services.json")
    districts = [u for u in directory.units.values() if u.tier == Tier.district]
    street_values = []
    for s in _streets(directory):
        parent = directory.units.get(s.parent or "")
        street_values.append({"key": s.id, "name": f"{parent.name if parent else ''} {s.name}".strip()})
    return {
        "service_code": code,
        "attributes": [
            {
                "variable": True, "code": "street", "datatype": "singlevaluelist", "required": False,
                "datatype_description": "the street office (街道/镇) of the place; or name it in address_string",
                "order": 1, "description": "Street office", "values": street_values,
            },
            {
                "variable": True, "code": "district", "datatype": "singlevaluelist", "required": False,
                "datatype_description": "the district (区/市); implied by the street office",
                "order": 2, "description": "District", "values": [{"key": d.id, "name": d.name} for d in districts],
            },
            {
                "variable": True, "code": "kind", "datatype": "singlevaluelist", "required": False,
                "datatype_description": "what kind of request this is (default: help, 求助)",
                "order": 3, "description": "Kind of request",
                "values": [{"key": k.value, "name": k.value} for k in Kind],
            },
        ],
    }  # fmt: skip


# -- posting a request -------------------------------------------------------------------------


@dataclass
class Posted:
    """What a POST requests carried, parsed."""

    service_code: str
    description: str
    address_text: str
    street: str | None
    district: str | None
    kind: Kind
    name: str
    phone: str | None


def _one(form: dict[str, list[str]], name: str) -> str:
    values = form.get(name) or [""]
    return values[0].strip()


def _attribute(form: dict[str, list[str]], code: str) -> str:
    # attribute[street]=...; multivaluelists repeat it as attribute[code][]=...
    return _one(form, f"attribute[{code}]") or _one(form, f"attribute[{code}][]")


def parse_post(form: dict[str, list[str]]) -> Posted:
    code = _one(form, "service_code")
    if not code:
        raise Open311Error(400, "service_code is required; see services.json")
    description = _one(form, "description")
    media = _one(form, "media_url")
    if media:
        description = f"{description}\n{MEDIA_PREFIX}{media}".strip()
    if len(description) < 2:
        raise Open311Error(400, "description is required: what is the problem?")
    lat, lon = _one(form, "lat"), _one(form, "long")
    address = _one(form, "address_string")
    if lat or lon:
        try:
            la, lo = float(lat), float(lon)
        except ValueError:
            raise Open311Error(400, f"lat and long must both be numbers (got {lat!r}, {lon!r})") from None
        if not (-90 <= la <= 90 and -180 <= lo <= 180):
            raise Open311Error(400, f"lat {la} / long {lo} is not a place on Earth")
        address = f"{address} @{la},{lo}".strip()
    elif not address and not _one(form, "address_id"):
        raise Open311Error(400, "a location is required: lat and long, or address_string")
    kind_value = _attribute(form, "kind") or Kind.help.value
    try:
        kind = Kind(kind_value)
    except ValueError:
        raise Open311Error(400, f"attribute[kind] {kind_value!r} is not one of {', '.join(Kind)}") from None
    name = f"{_one(form, 'last_name')}{_one(form, 'first_name')}"  # Chinese order: family name first
    return Posted(
        service_code=code, description=description[:4000], address_text=address[:300],
        street=_attribute(form, "street") or None, district=_attribute(form, "district") or None,
        kind=kind, name=name[:50], phone=_one(form, "phone") or None,
    )  # fmt: skip


def locate(posted: Posted, directory: Directory) -> tuple[str, str]:
    """(district, street) unit ids for the report: the attributes when given, else the street
    office or district named in address_string. A clear 400 when the street cannot be told."""
    district = directory.find(posted.district, tier=Tier.district) if posted.district else None
    if posted.district and district is None:
        raise Open311Error(400, f"attribute[district] {posted.district!r} is not a district of {directory.city}")
    if posted.street:
        street = directory.find(posted.street, tier=Tier.street, parent=district.id if district else None)
        if street is None:
            where = f" in {district.name}" if district else ""
            raise Open311Error(400, f"attribute[street] {posted.street!r} is not a street office{where}")
    else:
        text = _COORDS.sub("", posted.address_text)
        if district is None:
            named = [u for u in directory.units.values() if u.tier == Tier.district and _named_in(u, text)]
            district = named[0] if len(named) == 1 else None
        found = [
            s for s in _streets(directory)
            if _named_in(s, text) and (district is None or s.parent == district.id)
        ]  # fmt: skip
        if len(found) != 1:
            why = "names none" if not found else f"could be {', '.join(s.name for s in found[:5])}"
            raise Open311Error(
                400,
                f"the street office (街道/镇) of this report cannot be determined: the address {why}; "
                "send attribute[street] (see the service definition) or name the street office in address_string",
            )
        street = found[0]
    if district is None:
        district = directory.units[street.parent or ""]
    elif street.parent != district.id:
        raise Open311Error(400, f"street office {street.name} is not in {district.name}")
    return district.id, street.id


def _named_in(unit: Unit, text: str) -> bool:
    return any(n and n in text for n in (unit.name, *unit.aliases)) if text else False


def intake_key(client: str, posted: Posted, given: str | None, today: str) -> str:
    """The intake's Idempotency-Key, which is also the token of a deferred request: a retry of the
    same report by the same application on the same day (or with the same Idempotency-Key) is the
    same ticket."""
    basis = f"{client}\n{given}" if given else f"{client}\n{today}\n{posted!r}"
    return "open311-" + hashlib.sha256(basis.encode()).hexdigest()[:40]


# -- reading requests back --------------------------------------------------------------------------

_NOTES = {
    Stage.intake: "received",
    Stage.follow_up: "transferred to the emergency service; the center follows it up",
    Stage.dispatch: "sent to {lead}, awaiting its acknowledgement",
    Stage.handling: "being handled by {lead}",
    Stage.rehandle: "sent back to {lead} to be handled again",
    Stage.callback: "handled by {lead}; the center is asking the citizen",
}


def status_notes(state: TicketState) -> str:
    lead = state.unit_names.get(state.lead_unit or "", state.lead_unit or "the responsible unit")
    if state.stage == Stage.closed:
        return f"closed: {state.outcome.value}" if state.outcome else "closed"
    return _NOTES[state.stage].format(lead=lead)


def request_view(state: TicketState, updated_at: datetime | None, deadline: datetime | None,
                 directory: Directory) -> dict[str, Any]:  # fmt: skip
    req = state.request
    description, media = req.description, None
    lines = description.split("\n")
    if lines[-1].startswith(MEDIA_PREFIX):
        description, media = "\n".join(lines[:-1]), lines[-1][len(MEDIA_PREFIX) :]
    address, lat, lon = req.address.text, None, None
    coords = _COORDS.search(address)
    if coords:
        address, lat, lon = address[: coords.start()], float(coords.group(1)), float(coords.group(2))
    cat = directory.categories.get(req.category)
    lead = state.lead_unit
    return {
        "service_request_id": state.number,
        "status": "closed" if state.stage == Stage.closed else "open",
        "status_notes": status_notes(state),
        "service_name": cat.name if cat else req.category,
        "service_code": req.category,
        "description": description,
        "agency_responsible": state.unit_names.get(lead, lead) if lead else None,
        "service_notice": None,
        "requested_datetime": w3c(state.received_at),
        "updated_datetime": w3c(updated_at or state.received_at),
        "expected_datetime": w3c(deadline),
        "address": address or None,
        "address_id": None,
        "zipcode": None,
        "lat": lat,
        "long": lon,
        "media_url": media,
    }


def parse_date(value: str, name: str) -> datetime:
    try:
        ts = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise Open311Error(400, f"{name} {value!r} is not a W3C datetime, e.g. 2026-01-01T00:00:00Z") from None
    return ts if ts.tzinfo else ts.replace(tzinfo=CHINA_TZ)


# -- XML in the spec's shapes ------------------------------------------------------------------


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return "" if v is None else str(v)


def _fill(parent: ET.Element, doc: dict[str, Any]) -> None:
    for key, v in doc.items():
        el = ET.SubElement(parent, key)
        if key == "values" and isinstance(v, list):
            for item in v:
                _fill(ET.SubElement(el, "value"), item)
        elif key == "attributes" and isinstance(v, list):
            for item in v:
                _fill(ET.SubElement(el, "attribute"), item)
        else:
            el.text = _value(v)


def to_xml(root: str, item: str | None, docs: list[dict[str, Any]] | dict[str, Any]) -> bytes:
    """`<services><service>…</service></services>`; a single document fills the root itself
    (`<service_definition>`)."""
    top = ET.Element(root)
    if isinstance(docs, dict):
        _fill(top, docs)
    else:
        for doc in docs:
            _fill(ET.SubElement(top, item or root), doc)
    return b'<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(top, encoding="unicode").encode()


def errors_xml(errors: list[dict[str, Any]]) -> bytes:
    return to_xml("errors", "error", errors)
