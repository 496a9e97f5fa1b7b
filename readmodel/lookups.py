"""Wrong-phone lookups of citizen self-service, counted per ticket number in the database: the
limit holds for every API replica and survives a restart."""

from datetime import datetime, timedelta

from sqlmodel import Session, col, delete, func, select

from readmodel.tables import LookupFailureRow


def failures_since(session: Session, number: str, since: datetime) -> int:
    query = select(func.count()).select_from(LookupFailureRow)
    return session.exec(query.where(LookupFailureRow.number == number, LookupFailureRow.at >= since)).one()


def record_failure(session: Session, number: str, at: datetime, keep: timedelta) -> None:
    """Counts one wrong phone, and forgets failures older than `keep` (of any ticket)."""
    session.add(LookupFailureRow(number=number, at=at))
    session.execute(delete(LookupFailureRow).where(col(LookupFailureRow.at) < at - keep))
    session.commit()
