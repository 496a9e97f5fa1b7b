"""The delivery table: one row per idempotency key, updated by every attempt, so the center sees
each delivery's status (delivered, queued, retrying, failed), attempts and last error."""

from sqlalchemy import func
from sqlmodel import select

from domain.contracts import Delivery
from readmodel import db
from readmodel.projection import INSERT
from readmodel.tables import DeliveryRow, utcnow

DELIVERY = DeliveryRow.__table__  # type: ignore[attr-defined]


def record_delivery(
    url: str,
    delivery: Delivery,
    channel: str,
    status: str,
    detail: str = "",
    *,
    error: str | None = None,
    reference: str | None = None,
) -> None:
    """Insert or update the delivery's row (one attempt) in one statement: the idempotency key
    keeps it to one row, and a concurrent retry's attempt is counted, not lost. The last error and
    the department's reference stay once given ("delivered after ..."); the first delivery's time
    is kept."""
    now = utcnow()
    engine = db.get_engine(url)
    insert = INSERT[engine.dialect.name](DELIVERY).values(
        idempotency_key=delivery.idempotency_key, ticket=delivery.ticket, sequence=delivery.sequence,
        unit=delivery.unit, kind=delivery.kind.value, channel=channel, status=status, attempts=1,
        detail=detail[:500], last_error=error[:500] if error else None,
        reference=reference[:120] if reference else None,
        delivered_at=now if status == "delivered" else None, created_at=now, updated_at=now,
    )  # fmt: skip
    upsert = insert.on_conflict_do_update(
        index_elements=[DELIVERY.c.idempotency_key],
        set_={
            "status": insert.excluded.status,
            "detail": insert.excluded.detail,
            "channel": insert.excluded.channel,
            "attempts": DELIVERY.c.attempts + 1,
            "last_error": func.coalesce(insert.excluded.last_error, DELIVERY.c.last_error),
            "reference": func.coalesce(insert.excluded.reference, DELIVERY.c.reference),
            "delivered_at": func.coalesce(DELIVERY.c.delivered_at, insert.excluded.delivered_at),
            "updated_at": insert.excluded.updated_at,
        },
    )
    with engine.begin() as conn:
        conn.execute(upsert)


def give_up(url: str, delivery: Delivery, reason: str) -> None:
    """Temporal has stopped retrying (its schedule-to-close ran out): the row says failed, with why."""
    with db.session(url) as session:
        row = session.exec(select(DeliveryRow).where(DeliveryRow.idempotency_key == delivery.idempotency_key)).first()
        if row is None or row.status in ("delivered", "failed"):
            return
        row.status, row.last_error, row.updated_at = "failed", reason[:500], utcnow()
        session.add(row)
        session.commit()
