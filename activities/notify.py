"""Messages to citizens (SMS). Each is recorded under its idempotency key."""

from temporalio import activity

from activities.delivery import record_delivery
from core.logging import get_logger
from core.settings import Settings
from domain.contracts import CitizenNotice, Delivery, DeliveryKind, DeliveryReceipt
from workflows.activities import NOTIFY_CITIZEN


class NotifyActivities:
    def __init__(self, settings: Settings):
        self.settings = settings

    @activity.defn(name=NOTIFY_CITIZEN)
    def notify_citizen(self, notice: CitizenNotice) -> DeliveryReceipt:
        log = get_logger("notify", ticket=notice.ticket, workflow_id=notice.workflow_id)
        as_delivery = Delivery(
            ticket=notice.ticket,
            workflow_id=notice.workflow_id,
            sequence=notice.sequence,
            unit="citizen",
            kind=DeliveryKind.notice,
            message=notice.template,
        )
        record_delivery(self.settings.database_url, as_delivery, channel="sms", status="queued")
        log.info("citizen notice queued", template=notice.template)
        return DeliveryReceipt(delivered=True, channel="sms")
