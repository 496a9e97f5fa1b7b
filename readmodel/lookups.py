"""Wrong-phone lookups of citizen self-service, counted in the database per client address (a
salted hash of it) and per ticket number: the limits hold for every API replica and survive a
restart."""

from datetime import datetime, timedelta

from sqlmodel import Session, col, delete, func, select

from readmodel.tables import LookupFailureRow


def failures_since(session: Session, number: str, since: datetime) -> int:
    """Wrong phones on this ticket number, from every client."""
    query = select(func.count()).select_from(LookupFailureRow)
    return session.exec(query.where(LookupFailureRow.number == number, LookupFailureRow.at >= since)).one()


def client_failures_since(session: Session, client: str, since: datetime) -> int:
    """Wrong guesses (any number) from this client."""
    query = select(func.count()).select_from(LookupFailureRow)
    return session.exec(query.where(LookupFailureRow.client == client, LookupFailureRow.at >= since)).one()


def record_failure(session: Session, number: str, at: datetime, keep: timedelta, client: str | None = None) -> None:
    """Counts one wrong phone, and forgets failures older than `keep` (of any ticket)."""
    session.add(LookupFailureRow(number=number, client=client, at=at))
    session.execute(delete(LookupFailureRow).where(col(LookupFailureRow.at) < at - keep))
    session.commit()
