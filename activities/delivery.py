"""Deliveries to handling units: work orders, copies, reminders, escalations, whistles.

How a unit is reached comes from the unit table: a department-system endpoint gets the delivery
over HTTP (docs/department-api.md); a unit without one works in the product's own client, where
the delivery is its inbox entry, and gets an SMS on its duty phone when it has one.

Each delivery is one row in the read model under its idempotency key (ticket number and delivery
sequence); every retry carries the same key, so the department acts on it once. Temporal's retry
policy (workflows/calls.py) does the retrying; an attempt only says whether
another may help.

The first attempt is a local activity, inside the ticket's workflow task (workflows/delivery.py), so
it must not hold that task long (the task holds one of the worker's workflow-task slots meanwhile):
it waits LOCAL_ATTEMPT_TIMEOUT at most, and it is not made to a system that failed, or answered
slower than LOCAL_SLOW twice, in this worker within the last LOCAL_PAUSE — those deliveries go
straight to the durable activity, whose attempts wait as long as the settings say. A system that asked to
be left alone for a while (429 or 503 with Retry-After) is asked again by no delivery of this
worker before that: the workflow waits the time out, then the durable activity asks."""

import asyncio
import math
import time
from datetime import timedelta

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.gateway import DepartmentApi, Failure, Http, SmsGateway
from catalog import templates
from catalog.cities import load_directory
from core.logging import get_logger
from core.settings import Settings
from domain.contracts import DELIVERY_REJECTED, Delivery, DeliveryReceipt
from domain.deadlines.calendar import deadline_words
from readmodel import db, units
from readmodel.deliveries import give_up, record_delivery
from readmodel.tables import UnitRow

# How long a unit's row read from the unit table serves its deliveries.
UNIT_FRESH = 30.0
# A local first attempt's wait for an answer; a failure, or a second answer within LOCAL_PAUSE
# slower than LOCAL_SLOW, leaves the system to the durable activity for LOCAL_PAUSE (a slow or
# down department then holds up a workflow task once or twice a minute, not on every delivery).
LOCAL_ATTEMPT_TIMEOUT = 2.0
LOCAL_SLOW = 0.5
LOCAL_PAUSE = 60.0


class DeliveryActivities:
    def __init__(self, settings: Settings, http: Http | None = None):
        self.settings = settings
        self.http = http or Http(settings.department_timeout)
        self.departments = DepartmentApi(self.http, settings)
        self.sms = SmsGateway(self.http, settings)
        self._units: dict[str, tuple[float, UnitRow | None]] = {}
        self._troubled_at: dict[str, float] = {}  # a system (endpoint) → when it last failed or was slow
        self._busy_until: dict[str, float] = {}  # a system → until when it asked us to wait (Retry-After)
        self._slow_at: dict[str, float] = {}  # a system → its last slow answer (one is not enough to pause)
        self.clock = time.monotonic

    def _unit(self, unit_id: str) -> UnitRow | None:
        """The unit's row, read at most every UNIT_FRESH seconds: every delivery needs it, and a
        deadline storm sends thousands a minute to the same few dozen units (a read per delivery
        was 5 % of the worker's CPU then). A unit deactivated or re-pointed by `hotline seed` is
        seen within that time."""
        now = self.clock()
        cached = self._units.get(unit_id)
        if cached is not None and now - cached[0] < UNIT_FRESH:
            return cached[1]
        with db.session(self.settings.database_url) as session:
            row = units.get(session, unit_id)
        self._units[unit_id] = (now, row)
        return row

    def _attempt(self, system: str) -> float | None:
        """This attempt's wait for an answer: the settings' for the durable activity, a short one
        for a local first attempt. A local attempt to a system that failed or was slow within
        LOCAL_PAUSE is not made; the delivery goes to the durable activity at once, or once the wait
        the system asked for (Retry-After) is over."""
        if not activity.info().is_local:
            return None
        now = self.clock()
        wait = self._busy_until.get(system, 0.0) - now
        if wait > 0:
            left = timedelta(seconds=math.ceil(wait))
            raise Failure(
                "the system asked to wait (Retry-After): left to the durable retry", retryable=True, retry_after=left
            ).as_activity_error()
        troubled_at = self._troubled_at.get(system)
        if troubled_at is not None and now - troubled_at < LOCAL_PAUSE:
            raise Failure(
                "the system failed or was slow moments ago: left to the durable retry", retryable=True
            ).as_activity_error()
        return LOCAL_ATTEMPT_TIMEOUT

    def _outcome(self, system: str, started: float, log, failure: Failure | None = None) -> None:
        """What an attempt (local or durable) says of the system's health; a refusal says nothing."""
        if failure is not None and not failure.retryable:
            return
        now = self.clock()
        if failure is not None and failure.retry_after:
            self._busy_until[system] = now + failure.retry_after.total_seconds()
        took = now - started
        if failure is None and took <= LOCAL_SLOW:
            self._troubled_at.pop(system, None)
            self._slow_at.pop(system, None)
            return
        if failure is None:
            # One slow answer may be this worker's own pause (a garbage collection, a new
            # connection): a second within LOCAL_PAUSE is the system's.
            last_slow = self._slow_at.get(system)
            self._slow_at[system] = now
            if last_slow is None or now - last_slow >= LOCAL_PAUSE:
                return
            if system not in self._troubled_at:  # once, as it turns slow
                log.warning("slow answers: first attempts to this system left to the durable activity",
                            seconds=round(took, 2), for_seconds=LOCAL_PAUSE)  # fmt: skip
        self._troubled_at[system] = now

    @activity.defn
    async def deliver(self, delivery: Delivery) -> DeliveryReceipt:
        info = activity.info()
        log = get_logger(
            "delivery", ticket=delivery.ticket, workflow_id=delivery.workflow_id, unit=delivery.unit,
        ).bind(kind=delivery.kind.value, sequence=delivery.sequence, attempt=info.attempt, local=info.is_local)  # fmt: skip
        unit = await asyncio.to_thread(self._unit, delivery.unit)
        if unit is None:
            # Not in the unit table (not seeded yet): it still sees the ticket in its own list.
            log.warning("unit not in the unit table (run `hotline seed`); left in its inbox")
            await self._record(delivery, "queue", "delivered", detail="unit not in the unit table: inbox only")
            return DeliveryReceipt(delivered=True, channel="queue")
        if not unit.active:
            reason = f"unit {unit.id} ({unit.name}) is no longer active in the directory"
            await self._record(delivery, "queue", "failed", error=reason)
            log.error("delivery refused", error=reason)
            raise ApplicationError(reason, type=DELIVERY_REJECTED, non_retryable=True)
        if unit.endpoint:
            return await self._to_department(unit, delivery, log)
        if unit.notify_phone:
            return await self._by_sms(unit, delivery, log)
        # Works in the product's own client: the delivery is its inbox entry (GET /tickets?unit=...).
        await self._record(delivery, "queue", "delivered")
        log.info("delivered", channel="queue")
        return DeliveryReceipt(delivered=True, channel="queue")

    @activity.defn
    async def give_up_delivery(self, delivery: Delivery, reason: str) -> None:
        await asyncio.to_thread(give_up, self.settings.database_url, delivery, reason)

    async def _to_department(self, unit: UnitRow, delivery: Delivery, log) -> DeliveryReceipt:
        channel, system, started = "department_api", unit.endpoint or unit.id, self.clock()
        timeout = self._attempt(system)
        try:
            answer = await self.departments.send(unit, delivery, timeout)
        except Failure as f:
            self._outcome(system, started, log, f)
            await self._record(delivery, channel, "retrying" if f.retryable else "failed", error=f.reason)
            if f.retryable:
                log.warning("department system unavailable; Temporal retries", error=f.reason)
            else:
                log.error("department system refused the delivery", error=f.reason)
            raise f.as_activity_error() from None
        self._outcome(system, started, log)
        detail = "duplicate: the department had it already" if answer.duplicate else ""
        await self._record(delivery, channel, "delivered", detail=detail, reference=answer.reference)
        log.info("delivered", channel=channel, reference=answer.reference, duplicate=answer.duplicate)
        return DeliveryReceipt(delivered=True, channel=channel, detail=answer.reference or "")

    async def _by_sms(self, unit: UnitRow, delivery: Delivery, log) -> DeliveryReceipt:
        """The inbox entry is the delivery; the SMS tells the duty officer to look (no citizen data)."""
        wo = delivery.work_order
        category = load_directory(self.settings.city).categories.get(wo.category) if wo else None
        params = {
            "number": delivery.ticket,
            "category": category.name if category else (wo.category if wo else ""),
            "deadline": deadline_words(wo.deadline, wo.deadline_estimated) if wo and wo.deadline else "—",
            "message": delivery.message or "请登录12345平台查看",
        }
        template = f"unit_{delivery.kind.value}"
        template = template if template in templates.load() else "unit_notice"
        assert unit.notify_phone, "deliver() sends by SMS only to units with a duty phone"
        system, started = self.settings.sms_endpoint or "sms", self.clock()
        timeout = self._attempt(system)
        try:
            sent = await self.sms.send(unit.notify_phone, template, params, delivery.idempotency_key, timeout)
        except Failure as f:
            self._outcome(system, started, log, f)
            await self._record(delivery, "sms", "retrying" if f.retryable else "failed", error=f.reason)
            log.warning("SMS to the unit did not go through", error=f.reason, retryable=f.retryable)
            raise f.as_activity_error() from None
        self._outcome(system, started, log)
        await self._record(delivery, "sms", sent.status, reference=sent.reference)
        log.info("unit notified by SMS", channel="sms", status=sent.status)
        return DeliveryReceipt(delivered=True, channel="sms")

    async def _record(self, delivery: Delivery, channel: str, status: str, **kw) -> None:
        await asyncio.to_thread(record_delivery, self.settings.database_url, delivery, channel, status, **kw)
