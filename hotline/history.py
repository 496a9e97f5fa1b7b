"""`hotline import-history FILE.csv`: a center's past tickets, for the triage model to start from.

The CSV has a header row; columns (English or Chinese names; only number and description are
required):

    number       工单编号   the center's ticket number (a re-import updates the row)
    received_at  受理时间   ISO date or date-time (optional)
    description  诉求内容   what the citizen said
    address      地址       the address text (optional)
    category     事项       the FINAL category: a responsibility-list id or name
    district     区         optional: read from the address when missing
    street       街道       optional: read from the address when missing
    path         分流       dispatch (default) / direct_answer / out_of_scope / legal_channel / emergency_transfer
    path_detail  分流依据   the emergency number, legal channel, out-of-scope category or article id
    first_unit   首派单位   the unit first dispatched to (id or name)
    lead_unit    办结单位   the unit that finally closed it, after returns, consultations and rulings

Units and categories are matched by id, name or alias from the city's directory; a row that names
an unknown category or unit is skipped with the reason."""

import csv
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import select

from catalog.cities import load_directory, load_places
from core.settings import Settings
from domain.deadlines.calendar import CHINA_TZ
from domain.intake.address import read_address
from domain.intake.triage import TriagePath
from domain.vocabulary import Tier
from readmodel import db
from readmodel.tables import TriageHistoryRow

COLUMNS = {
    "number": ("number", "工单编号", "编号"),
    "received_at": ("received_at", "受理时间", "时间"),
    "description": ("description", "诉求内容", "内容"),
    "address": ("address", "地址"),
    "category": ("category", "事项", "诉求类别"),
    "district": ("district", "区", "区（市）"),
    "street": ("street", "街道"),
    "path": ("path", "分流"),
    "path_detail": ("path_detail", "分流依据"),
    "first_unit": ("first_unit", "首派单位"),
    "lead_unit": ("lead_unit", "办结单位", "承办单位"),
}


@dataclass
class ImportResult:
    added: int = 0
    updated: int = 0
    skipped: int = 0
    problems: list[tuple[int, str]] = field(default_factory=list)


def _columns(header: list[str]) -> dict[str, str]:
    found = {}
    for name, spellings in COLUMNS.items():
        for h in header:
            if h.strip().lstrip("\ufeff") in spellings:
                found[name] = h
    missing = [c for c in ("number", "description") if c not in found]
    if missing:
        raise ValueError(f"the header needs the column(s) {', '.join(missing)}; it has {', '.join(header)}")
    return found


def _time(value: str) -> datetime | None:
    if not value:
        return None
    t = datetime.fromisoformat(value.strip().replace("/", "-"))
    return (t if t.tzinfo else t.replace(tzinfo=CHINA_TZ)).astimezone(UTC)


def import_csv(settings: Settings, file: str | Path) -> ImportResult:
    directory = load_directory(settings.city)
    places = load_places(settings.city)
    by_name = {c.name: c.id for c in directory.categories.values()}
    source = Path(file).name
    result = ImportResult()
    rows: list[TriageHistoryRow] = []
    with Path(file).open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        cols = _columns(list(reader.fieldnames or []))
        for line, raw in enumerate(reader, start=2):

            def get(name: str, raw: dict = raw) -> str:
                return (raw.get(cols[name]) or "").strip() if name in cols else ""

            number, description = get("number"), get("description")
            if not number or not description:
                result.skipped += 1
                result.problems.append((line, "no number or no description"))
                continue
            path = get("path") or TriagePath.dispatch.value
            if path not in {p.value for p in TriagePath}:
                result.skipped += 1
                result.problems.append((line, f"unknown path {path!r}"))
                continue
            category = get("category")
            category = category if category in directory.categories else by_name.get(category, category)
            if category and category not in directory.categories:
                result.skipped += 1
                result.problems.append((line, f"unknown category {get('category')!r}"))
                continue
            if path == TriagePath.dispatch and not category:
                result.skipped += 1
                result.problems.append((line, "a dispatched ticket needs its category"))
                continue
            units: dict[str, str | None] | None = {}
            for name in ("first_unit", "lead_unit", "district", "street"):
                value = get(name)
                tier = {"district": Tier.district, "street": Tier.street}.get(name)
                unit = directory.find(value, tier=tier) if value else None
                if value and unit is None:
                    units = None
                    result.problems.append((line, f"unknown {name.replace('_', ' ')} {value!r}"))
                    break
                assert units is not None
                units[name] = unit.id if unit else None
            if units is None:
                result.skipped += 1
                continue
            address = get("address")
            if not units["street"] and address:
                reading = read_address(address, directory, places)
                units["street"] = reading.street
                units["district"] = units["district"] or reading.district
            if units["street"] and not units["district"]:
                units["district"] = directory.units[units["street"]].parent
            try:
                received = _time(get("received_at"))
            except ValueError:
                result.problems.append((line, f"received_at {get('received_at')!r} is not a date: left empty"))
                received = None
            rows.append(
                TriageHistoryRow(
                    source=source,
                    external_id=number[:80],
                    received_at=received,
                    description=description,
                    address=address[:300],
                    path=path,
                    path_detail=get("path_detail") or None,
                    category=category or None,
                    district=units["district"],
                    street=units["street"],
                    first_unit=units["first_unit"],
                    lead_unit=units["lead_unit"],
                )
            )
    with db.session(settings.database_url) as session:
        existing = {
            r.external_id: r
            for r in session.exec(select(TriageHistoryRow).where(TriageHistoryRow.source == source)).all()
        }
        for row in rows:
            old = existing.get(row.external_id)
            if old is None:
                session.add(row)
                existing[row.external_id] = row
                result.added += 1
            else:
                for name in ("received_at", "description", "address", "path", "path_detail", "category", "district",
                             "street", "first_unit", "lead_unit"):  # fmt: skip
                    setattr(old, name, getattr(row, name))
                session.add(old)
                result.updated += 1
        session.commit()
    return result
