"""The ticket's outbox: everything sent to units and to the citizen leaves from here, in the
background, so a department system that is down for hours never stops the clocks. Each outcome
lands in the timeline; before the ticket closes the outbox settles (a grace period, not a veto)."""

import asyncio
from collections.abc import Coroutine
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError, RetryState

with workflow.unsafe.imports_passed_through():
    from domain.contracts import CitizenNotice, Delivery, DeliveryKind, DeliveryReceipt, WorkOrder

from workflows import calls
from workflows.context import TicketContext

# How long a closed ticket waits for deliveries still retrying (a department system that is down).
SETTLE_GRACE = timedelta(minutes=10)


class Outbox:
    def __init__(self, t: TicketContext) -> None:
        self.t = t
        self._pending: set[asyncio.Task[None]] = set()

    def deliver(self, unit: str, kind: DeliveryKind, note: str = "") -> asyncio.Task[None]:
        """Send something to a unit (its system, or SMS and its list); the work order rides along."""
        s = self.t.state
        delivery = Delivery(
            ticket=s.number,
            workflow_id=s.workflow_id,
            sequence=s.next_delivery(),
            unit=unit,
            kind=kind,
            message=note,
            work_order=WorkOrder.of(s),
        )
        return self.background(self._deliver(delivery))

    def resend(self, unit: str, kind: DeliveryKind, sequence: int, note: str = "") -> asyncio.Task[None]:
        """The same delivery again (its sequence, so the same Idempotency-Key), as the ticket now stands."""
        s = self.t.state
        delivery = Delivery(
            ticket=s.number, workflow_id=s.workflow_id, sequence=sequence, unit=unit, kind=kind, message=note,
            work_order=WorkOrder.of(s),
        )  # fmt: skip
        return self.background(self._deliver(delivery))

    def notify_citizen(self, template: str, phone: str | None = None, **params: str) -> None:
        """An SMS to the citizen (or to the given phone), in the background; none without a phone."""
        s = self.t.state
        phone = phone or s.request.citizen.phone
        if not phone:
            return
        notice = CitizenNotice(
            ticket=s.number,
            workflow_id=s.workflow_id,
            sequence=s.next_delivery(),
            phone=phone,
            template=template,
            params={"number": s.number, **params},
        )
        self.background(self._notify(notice))
        self.t.record("system", "citizen_notified", template, template=template)

    @property
    def busy(self) -> bool:
        """Something is still being sent (or a consultation runs in the background)."""
        return bool(self._pending)

    def background(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.create_task(coro)
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)
        return task

    async def settle(self) -> None:
        """Deliveries finished, or abandoned after the grace period with a timeline line."""
        if not self._pending:
            return
        try:
            await workflow.wait_condition(lambda: not self._pending, timeout=SETTLE_GRACE)
        except TimeoutError:
            n = len(self._pending)
            self.t.record("system", "deliveries_abandoned", f"{n} delivery(ies) still retrying when the ticket closed")
            self.t.changed()

    async def _notify(self, notice: CitizenNotice) -> None:
        try:
            await calls.notify_citizen(notice)
        except ActivityError as e:
            self.t.record("system", "delivery_failed", f"citizen notice {notice.template}: {e.cause or e}")
            self.t.changed()

    async def _first_attempt(self, delivery: Delivery) -> DeliveryReceipt | None:
        """The local first attempt: its receipt, or None when the durable activity is to ask again
        (after the Retry-After the department answered with). A refusal raises. Runs that delivered
        before the patch keep the durable activity for life (decided at a run's first delivery)."""
        if not self.t.patched("delivery-local-first"):
            return None
        self.t.first_attempts += 1
        try:
            return await calls.deliver_first_attempt(delivery)
        except ApplicationError as e:
            if e.non_retryable:
                raise  # a refusal: asking again will not help
            wait = e.next_retry_delay
        except ActivityError:
            return None  # no answer in time: the durable activity asks again
        finally:
            self.t.first_attempts -= 1
        if wait and self.t.patched("delivery-local-retry-after"):
            await workflow.sleep(wait)  # the department's Retry-After (429, 503)
        return None

    async def _deliver(self, delivery: Delivery) -> None:
        t, s = self.t, self.t.state
        try:
            receipt = await self._first_attempt(delivery)
            if receipt is None:
                give_up_after = timedelta(seconds=t.policy.delivery.give_up_after.seconds())
                receipt = await calls.deliver(delivery, give_up_after=give_up_after)
        except (ActivityError, ApplicationError) as e:
            # A refusal at the local first attempt comes as the ApplicationError itself.
            failure = e.cause if isinstance(e, ActivityError) else e
            cause = failure.message if isinstance(failure, ApplicationError) else str(failure or e)
            s.flag("delivery_failed")
            t.record(
                "system", "delivery_failed", f"{delivery.kind.value} to {s.name_of(delivery.unit)}: {cause}",
                unit=delivery.unit, kind=delivery.kind.value, sequence=delivery.sequence,
            )  # fmt: skip
            t.changed()
            refused = isinstance(e, ApplicationError) or e.retry_state == RetryState.NON_RETRYABLE_FAILURE
            if not refused:  # retries ran out
                await calls.give_up_delivery(delivery, f"gave up: {cause}")
            return
        if receipt.channel != "department_api" or not receipt.delivered:
            return  # units on our own client see it in their list; nothing worth a timeline line
        t.record(
            "system", "delivered", f"{delivery.kind.value} to {s.name_of(delivery.unit)}",
            unit=delivery.unit, kind=delivery.kind.value, sequence=delivery.sequence,
        )  # fmt: skip
        t.changed()
