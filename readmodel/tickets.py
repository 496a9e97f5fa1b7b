"""Questions the intake desk asks of the read model."""

from datetime import datetime

from sqlmodel import Session, col, or_, select

from readmodel.tables import TicketRow

OPEN_STAGES = ("dispatch", "handling", "rehandle", "callback")


def stored_ticket(session: Session, number: str) -> TicketRow | None:
    """The ticket as last projected: masked state, and the phone's salted hash."""
    return session.get(TicketRow, number)


def find_open_repeat(
    session: Session, category: str, citizen_key: str | None, address_key: str | None, since: datetime
) -> str | None:
    """The open ticket a new request repeats: same category within the window, and the same
    citizen or the same place. The most recent one if several."""
    same = [c for c in (TicketRow.citizen_key == citizen_key if citizen_key else None,
                        TicketRow.address_key == address_key if address_key else None) if c is not None]  # fmt: skip
    if not same:
        return None
    return session.exec(
        select(TicketRow.number)
        .where(TicketRow.category == category, col(TicketRow.stage).in_(OPEN_STAGES))
        .where(col(TicketRow.received_at) >= since, or_(*same))
        .order_by(col(TicketRow.received_at).desc())
        .limit(1)
    ).first()


def open_with_estimated_deadline(session: Session) -> list[TicketRow]:
    """Open tickets whose deadline is only an estimate (a year without an official schedule)."""
    return list(
        session.exec(
            select(TicketRow)
            .where(col(TicketRow.stage).in_(OPEN_STAGES), col(TicketRow.deadline_estimated).is_(True))
            .order_by(col(TicketRow.number))
        ).all()
    )
