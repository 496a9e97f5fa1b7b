"""Deliveries to handling units: work orders, copies, reminders, escalations.

Each delivery is recorded in the read model under its idempotency key (ticket number and
delivery sequence), so a retried activity never makes a second delivery."""

from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from temporalio import activity

from core.logging import get_logger
from core.settings import Settings
from domain.contracts import Delivery, DeliveryReceipt
from readmodel import db
from readmodel.tables import DeliveryRow, utcnow
from workflows.activities import DELIVER


class DeliveryActivities:
    def __init__(self, settings: Settings):
        self.settings = settings

    @activity.defn(name=DELIVER)
    def deliver(self, delivery: Delivery) -> DeliveryReceipt:
        log = get_logger(
            "delivery", ticket=delivery.ticket, workflow_id=delivery.workflow_id, unit=delivery.unit,
        ).bind(kind=delivery.kind.value, sequence=delivery.sequence)
        # Units without a department system work in the product's own client: the delivery is
        # their inbox entry (GET /tickets?unit=...), so recording it is delivering it.
        record_delivery(self.settings.database_url, delivery, channel="queue", status="delivered")
        log.info("delivered", channel="queue")
        return DeliveryReceipt(delivered=True, channel="queue")


def record_delivery(url: str, delivery: Delivery, channel: str, status: str, detail: str = "") -> DeliveryRow:
    """Insert or update the delivery's row; the idempotency key keeps it to one row."""
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
        row.status, row.detail, row.channel = status, detail[:500], channel
        row.attempts += 1
        row.updated_at = utcnow()
        session.add(row)
        try:
            session.commit()
        except IntegrityError:  # a concurrent retry inserted it first
            session.rollback()
            row = session.exec(select(DeliveryRow).where(DeliveryRow.idempotency_key == key)).one()
        return row
