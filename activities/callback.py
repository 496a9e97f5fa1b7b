"""Callback requests (回访): each attempt goes to the callback channel — the automated survey
provider (voice or SMS) when one is configured, else the manual queue, where operators see the
waiting tickets (stage=callback) and record the citizen's answer through the API."""

import asyncio

from temporalio import activity

from activities.gateway import CallbackChannel, Failure, Http
from core.logging import get_logger
from core.settings import Settings
from domain.contracts import CallbackRequest, Delivery, DeliveryKind, DeliveryReceipt
from readmodel.deliveries import record_delivery


class CallbackActivities:
    def __init__(self, settings: Settings, http: Http | None = None):
        self.settings = settings
        self.channel = CallbackChannel(http or Http(settings.department_timeout), settings)

    @activity.defn
    async def request_callback(self, request: CallbackRequest) -> DeliveryReceipt:
        log = get_logger("callback", ticket=request.ticket, workflow_id=request.workflow_id).bind(
            attempt=request.attempt
        )
        automated = self.channel.automated and bool(request.phone)
        as_delivery = Delivery(
            ticket=request.ticket,
            workflow_id=request.workflow_id,
            sequence=request.sequence,
            unit="callback-survey" if automated else "callback-queue",
            kind=DeliveryKind.callback,
            message=f"callback attempt {request.attempt}",
        )
        url = self.settings.database_url
        if not automated:
            await asyncio.to_thread(record_delivery, url, as_delivery, "queue", "delivered")
            log.info("callback requested", channel="queue")
            return DeliveryReceipt(delivered=True, channel="queue")
        channel = self.settings.callback_channel
        try:
            await self.channel.send(request, as_delivery.idempotency_key)
        except Failure as f:
            if f.retryable:
                await asyncio.to_thread(record_delivery, url, as_delivery, channel, "retrying", error=f.reason)
                log.warning("callback channel unavailable; Temporal retries", error=f.reason)
                raise f.as_activity_error() from None
            # Refused by the provider: a person calls instead; the ticket does not stall.
            await asyncio.to_thread(
                record_delivery, url, as_delivery, "queue", "delivered",
                "the survey provider refused it: manual callback", error=f.reason,
            )  # fmt: skip
            log.error("callback channel refused the request; left to the manual queue", error=f.reason)
            return DeliveryReceipt(delivered=True, channel="queue", detail=f.reason)
        await asyncio.to_thread(record_delivery, url, as_delivery, channel, "delivered")
        log.info("callback requested", channel=channel)
        return DeliveryReceipt(delivered=True, channel=channel)
