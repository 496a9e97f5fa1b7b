"""The delivery table: one row per idempotency key, updated by every attempt, so the center sees
each delivery's status (delivered, queued, retrying, failed), attempts and last error."""

from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from domain.contracts import Delivery
from readmodel import db
from readmodel.tables import DeliveryRow, utcnow


def record_delivery(
    url: str,
    delivery: Delivery,
    channel: str,
    status: str,
    detail: str = "",
    *,
    error: str | None = None,
    reference: str | None = None,
) -> DeliveryRow:
    """Insert or update the delivery's row (one attempt); the idempotency key keeps it to one row."""
    key = delivery.idempotency_key
    with db.session(url) as session:
        row = session.exec(select(DeliveryRow).where(DeliveryRow.idempotency_key == key)).first()
        if row is None:
            row = DeliveryRow(
                idempotency_key=key,
                ticket=delivery.ticket,
                sequence=delivery.sequence,
                unit=delivery.unit,
                kind=delivery.kind.value,
                channel=channel,
                status=status,
            )
        now = utcnow()
        row.status, row.detail, row.channel = status, detail[:500], channel
        if error:
            row.last_error = error[:500]  # kept after a later success: "delivered after ..."
        if reference:
            row.reference = reference[:120]
        if status == "delivered" and row.delivered_at is None:
            row.delivered_at = now
        row.attempts += 1
        row.updated_at = now
        session.add(row)
        try:
            session.commit()
        except IntegrityError:  # a concurrent retry inserted it first
            session.rollback()
            row = session.exec(select(DeliveryRow).where(DeliveryRow.idempotency_key == key)).one()
        return row


def give_up(url: str, delivery: Delivery, reason: str) -> None:
    """Temporal has stopped retrying (its schedule-to-close ran out): the row says failed, with why."""
    with db.session(url) as session:
        row = session.exec(select(DeliveryRow).where(DeliveryRow.idempotency_key == delivery.idempotency_key)).first()
        if row is None or row.status in ("delivered", "failed"):
            return
        row.status, row.last_error, row.updated_at = "failed", reason[:500], utcnow()
        session.add(row)
        session.commit()
