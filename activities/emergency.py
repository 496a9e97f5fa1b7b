"""Emergency transfers (转紧急热线): a request flagged for 110 / 119 / 120 / 122 goes to the
emergency linkage platform at once; the ticket keeps the reference (the link) for follow-up."""

import asyncio

from temporalio import activity

from activities.gateway import Failure, Http
from core.logging import get_logger
from core.settings import Settings
from domain.contracts import Delivery, DeliveryKind, EmergencyTransfer
from readmodel.deliveries import record_delivery


class EmergencyActivities:
    def __init__(self, settings: Settings, http: Http):
        self.settings = settings
        self.http = http

    @activity.defn
    async def transfer_emergency(self, t: EmergencyTransfer) -> str:
        log = get_logger("emergency", ticket=t.ticket, workflow_id=t.workflow_id, unit=f"emergency-{t.service}")
        as_delivery = Delivery(
            ticket=t.ticket, workflow_id=t.workflow_id, sequence=0, unit=f"emergency-{t.service}",
            kind=DeliveryKind.transfer, message=t.description[:200], key=f"{t.ticket}-transfer-{t.service}",
        )  # fmt: skip
        reference = f"{t.service}-{t.ticket}"
        if not self.settings.emergency_endpoint:
            # No linkage platform: the operator transfers the call by phone; the record is the link.
            await asyncio.to_thread(record_delivery, self.settings.database_url, as_delivery, "phone", "queued")
            log.info("emergency transfer recorded for the operator", service=t.service)
            return reference
        try:
            response = await self.http.post(
                self.settings.emergency_endpoint, t, {"Idempotency-Key": as_delivery.idempotency_key}
            )
        except Failure as f:
            await asyncio.to_thread(
                record_delivery, self.settings.database_url, as_delivery, "linkage",
                "retrying" if f.retryable else "failed", error=f.reason,
            )  # fmt: skip
            raise f.as_activity_error() from None
        try:
            reference = str(response.json().get("reference") or reference)
        except (ValueError, AttributeError):
            pass
        await asyncio.to_thread(
            record_delivery, self.settings.database_url, as_delivery, "linkage", "delivered", reference=reference
        )
        log.info("transferred to the emergency service", service=t.service, reference=reference)
        return reference
