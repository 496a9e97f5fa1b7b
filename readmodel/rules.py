"""Saved rulings as responsibility rules: written when a leader saves a ruling, read at intake."""

from sqlmodel import Session, select

from domain.ownership.ruling import ResponsibilityRule
from readmodel import db
from readmodel.tables import ResponsibilityRuleRow, utcnow


def for_category(url: str, category: str) -> list[ResponsibilityRule]:
    with db.session(url) as session:
        rows = session.exec(select(ResponsibilityRuleRow).where(ResponsibilityRuleRow.category == category)).all()
    return [
        ResponsibilityRule(
            category=r.category,
            area=r.area,
            lead=r.lead,
            cooperating=r.cooperating.split(),
            ticket=r.ticket,
            ruled_by=r.ruled_by,
            reason=r.reason,
        )  # fmt: skip
        for r in rows
    ]


def save(url: str, rule: ResponsibilityRule) -> None:
    """Idempotent: saving the same ruling again changes nothing; a newer one replaces the old."""
    with db.session(url) as session:
        row = session.exec(
            select(ResponsibilityRuleRow).where(
                ResponsibilityRuleRow.category == rule.category, ResponsibilityRuleRow.area == rule.area
            )
        ).first() or ResponsibilityRuleRow(
            category=rule.category, area=rule.area, lead=rule.lead, ticket=rule.ticket, ruled_by=rule.ruled_by
        )
        row.lead, row.cooperating = rule.lead, " ".join(rule.cooperating)
        row.ticket, row.ruled_by, row.reason = rule.ticket, rule.ruled_by, rule.reason[:2000]
        row.created_at = utcnow()
        session.add(row)
        session.commit()


def all_rules(session: Session) -> list[ResponsibilityRuleRow]:
    return list(session.exec(select(ResponsibilityRuleRow).order_by(ResponsibilityRuleRow.category)).all())
