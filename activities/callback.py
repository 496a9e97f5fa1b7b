"""Callback requests (回访): each attempt is put in front of the callback channel."""

from temporalio import activity

from core.logging import get_logger
from core.settings import Settings
from domain.contracts import CallbackRequest, Delivery, DeliveryKind, DeliveryReceipt
from activities.delivery import record_delivery
from workflows.activities import REQUEST_CALLBACK


class CallbackActivities:
    def __init__(self, settings: Settings):
        self.settings = settings

    @activity.defn(name=REQUEST_CALLBACK)
    def request_callback(self, request: CallbackRequest) -> DeliveryReceipt:
        log = get_logger("callback", ticket=request.ticket, workflow_id=request.workflow_id)
        # The manual callback queue: operators see waiting tickets (stage=callback) and record
        # the citizen's answer through the API.
        as_delivery = Delivery(
            ticket=request.ticket,
            workflow_id=request.workflow_id,
            sequence=request.sequence,
            unit="callback-queue",
            kind=DeliveryKind.notice,
            message=f"callback attempt {request.attempt}",
        )
        record_delivery(self.settings.database_url, as_delivery, channel="queue", status="delivered")
        log.info("callback requested", attempt=request.attempt)
        return DeliveryReceipt(delivered=True, channel="queue")
