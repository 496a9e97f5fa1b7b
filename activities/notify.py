"""Messages to citizens (SMS) through the notification gateway. Each is recorded under its
idempotency key; the phone number goes to the provider and into no log line or row."""

import asyncio

from temporalio import activity

from activities.gateway import Failure, Http, SmsGateway
from core.logging import get_logger
from core.settings import Settings
from domain.contracts import CitizenNotice, Delivery, DeliveryKind, DeliveryReceipt
from readmodel.deliveries import record_delivery


class NotifyActivities:
    def __init__(self, settings: Settings, http: Http | None = None):
        self.settings = settings
        self.sms = SmsGateway(http or Http(settings.department_timeout), settings)

    @activity.defn
    async def notify_citizen(self, notice: CitizenNotice) -> DeliveryReceipt:
        log = get_logger("notify", ticket=notice.ticket, workflow_id=notice.workflow_id).bind(template=notice.template)
        as_delivery = Delivery(
            ticket=notice.ticket,
            workflow_id=notice.workflow_id,
            sequence=notice.sequence,
            unit="citizen",
            kind=DeliveryKind.notice,
            message=notice.template,
        )
        params = {"number": notice.ticket, **notice.params}
        url = self.settings.database_url
        try:
            sent = await self.sms.send(notice.phone, notice.template, params, notice.idempotency_key)
        except Failure as f:
            status = "retrying" if f.retryable else "failed"
            await asyncio.to_thread(record_delivery, url, as_delivery, "sms", status, error=f.reason)
            log.warning("citizen notice did not go through", error=f.reason, retryable=f.retryable)
            raise f.as_activity_error() from None
        await asyncio.to_thread(record_delivery, url, as_delivery, "sms", sent.status, reference=sent.reference)
        log.info("citizen notice sent" if sent.status == "delivered" else "citizen notice queued (no SMS provider)")
        return DeliveryReceipt(delivered=True, channel="sms", detail=sent.status)
