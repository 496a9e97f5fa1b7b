"""The unit table: seeded from the city's data files, read by deliveries to find how a unit is
reached (its department-system endpoint and credential reference, or none)."""

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from sqlmodel import Session, select

from domain.directory import Directory
from readmodel import db
from readmodel.tables import UnitRow, utcnow


@dataclass(frozen=True)
class SeedResult:
    added: int
    updated: int
    deactivated: int
    unchanged: int


def rebase(endpoint: str | None, origin: str | None) -> str | None:
    """The endpoint with its scheme://host:port replaced by `origin`; the path stays."""
    if not endpoint or not origin:
        return endpoint
    target = urlsplit(origin if "://" in origin else f"http://{origin}")
    parts = urlsplit(endpoint)
    return urlunsplit((target.scheme, target.netloc, parts.path, parts.query, parts.fragment))


def seed(url: str, directory: Directory, origin: str | None = None) -> SeedResult:
    """Upsert every unit of the directory (idempotent: a second run changes nothing). Units the
    file no longer lists are kept but marked inactive: open tickets may still name them."""
    supervises: dict[str, list[str]] = {}
    for c in directory.categories.values():
        supervises.setdefault(c.supervisor, []).append(c.id)
    added = updated = deactivated = unchanged = 0
    with db.session(url) as session:
        existing = {row.id: row for row in session.exec(select(UnitRow))}
        for unit in directory.units.values():
            values: dict[str, Any] = dict(
                name=unit.name,
                tier=unit.tier.value,
                kind=unit.kind.value,
                parent=unit.parent,
                aliases=list(unit.aliases),
                supervises=sorted(supervises.get(unit.id, [])),
                endpoint=rebase(unit.endpoint, origin),
                credential_ref=unit.credential_ref,
                notify_phone=unit.notify_phone,
                active=True,
            )
            row = existing.get(unit.id)
            if row is None:
                session.add(UnitRow(id=unit.id, updated_at=utcnow(), **values))
                added += 1
            elif any(getattr(row, k) != v for k, v in values.items()):
                for k, v in values.items():
                    setattr(row, k, v)
                row.updated_at = utcnow()
                session.add(row)
                updated += 1
            else:
                unchanged += 1
        for unit_id, row in existing.items():
            if unit_id not in directory.units and row.active:
                row.active, row.updated_at = False, utcnow()
                session.add(row)
                deactivated += 1
        session.commit()
    return SeedResult(added, updated, deactivated, unchanged)


def get(session: Session, unit_id: str) -> UnitRow | None:
    return session.get(UnitRow, unit_id)


def all_units(session: Session) -> list[UnitRow]:
    return list(session.exec(select(UnitRow).order_by(UnitRow.id)))
