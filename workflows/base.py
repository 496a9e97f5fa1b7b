"""What every stage of a ticket shares: its state, its rules, how it tells the world.

The stages (intake, dispatch, handling, escalation, callback) are mixins over this base and
`ticket.TicketWorkflow` composes them. Side effects leave through three doors only:
`deliver()` (a unit must know), the projector (the read model) and `_changed()` (search attributes)."""

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError, RetryState

with workflow.unsafe.imports_passed_through():
    from domain.deadlines.calendar import WorkCalendar
    from domain.contracts import CitizenNotice, Delivery, DeliveryKind, DeliveryReceipt, Projection, WorkOrder
    from domain.errors import Refusal
    from domain.policy import PolicyPack
    from domain.ticket import TicketInput, TicketState, TicketSummary

from workflows import activities as acts
from workflows import search_attributes as sa


# How long a closed ticket waits for deliveries still retrying (a department system that is down).
SETTLE_GRACE = timedelta(minutes=10)


class TicketBase:
    state: TicketState
    policy: PolicyPack
    calendar: WorkCalendar
    citizen_key: str | None

    def _init_base(self, input: TicketInput) -> None:
        info = workflow.info()
        self.state = TicketState(
            number=input.number,
            workflow_id=info.workflow_id,
            request=input.request,
            received_at=input.received_at,
        )
        self.citizen_key = None
        self._projected_version = -1
        self._last_search_attributes: dict[str, object] = {}
        self._pending_deliveries: set[asyncio.Task] = set()
        # Changes of ownership (return decisions, consultation outcomes, rulings) wait on
        # activities: one at a time.
        self._ownership = asyncio.Lock()
        self._consultations: dict[int, workflow.ChildWorkflowHandle] = {}
        self._routed_cooperating: list[str] = []  # a saved ruling's cooperating units, for dispatch

    # -- time and the timeline ---------------------------------------------------------------

    @staticmethod
    def now() -> datetime:
        return workflow.now()

    def record(self, actor: str, event: str, detail: str = "", **data: Any) -> None:
        self.state.record(self.now(), actor, event, detail, **data)
        # One log line per timeline event (replay-safe). The free-text detail stays out: it may
        # quote the citizen.
        workflow.logger.info(
            event,
            extra={"ticket": self.state.number, "unit": data.get("unit") or actor, "stage": self.state.stage.value},
        )

    # -- rules -------------------------------------------------------------------------------

    @staticmethod
    def guard(check: Callable[..., None], *args: Any) -> None:
        """Run a domain check in an update validator: a refusal rejects the update with its
        reason and a type the API maps to 403 / 409 / 422, and leaves nothing in history."""
        try:
            check(*args)
        except Refusal as r:
            raise ApplicationError(r.reason, type=r.kind.value, non_retryable=True) from None

    def summary(self) -> TicketSummary:
        return TicketSummary.of(self.state)

    # -- every change: version, search attributes; the projector follows ---------------------

    def _changed(self) -> None:
        self.state.version += 1
        values = self._search_attribute_values()
        updates = sa.updates_for(values, self._last_search_attributes)
        if updates:
            workflow.upsert_search_attributes(updates)
            self._last_search_attributes = values

    def _search_attribute_values(self) -> dict[str, object]:
        s = self.state
        req = s.request
        warned = any(c.warned_at and not c.breached_at and c.running for c in s.clocks.values())
        units = sorted({u for u in (s.lead_unit, s.supervisor_unit, s.coordinator_unit, *self._extra_units()) if u})
        return {
            sa.STATUS.name: s.stage.value,
            sa.TIER.name: s.tier.value,
            sa.LEAD_UNIT.name: s.lead_unit,
            sa.CATEGORY.name: req.category,
            sa.DISTRICT.name: s.district_unit or req.address.district,
            sa.URGENCY.name: req.urgency.value,
            sa.CHANNEL.name: req.channel.value,
            sa.POLICY.name: s.policy.name if s.policy else None,
            sa.DEADLINE.name: s.deadline,
            sa.OVERDUE.name: s.overdue,
            sa.WARNED.name: warned,
            sa.SUPERVISED.name: "supervised" in s.flags,
            sa.FLAGS.name: list(s.flags),
            sa.UNITS.name: units,
        }

    def _extra_units(self) -> list[str]:
        """Units beyond lead, supervisor and coordinator: the cooperating ones."""
        return list(self.state.cooperating)

    async def _project_forever(self) -> None:
        """Keep the read model one step behind the state, never two: one local activity per
        burst of changes."""
        while True:
            await workflow.wait_condition(lambda: self._projected_version != self.state.version)
            snapshot = Projection(state=self.state.masked(), citizen_key=self.citizen_key)
            await workflow.execute_local_activity(acts.PROJECT_TICKET, snapshot, **acts.PROJECTION)
            self._projected_version = snapshot.state.version

    async def _settle(self) -> None:
        """Before the workflow ends: deliveries finished (a department that is still down gets a
        grace period, not a veto over closing), read model up to date."""
        if self._pending_deliveries:
            try:
                await workflow.wait_condition(lambda: not self._pending_deliveries, timeout=SETTLE_GRACE)
            except asyncio.TimeoutError:
                n = len(self._pending_deliveries)
                self.record("system", "deliveries_abandoned", f"{n} delivery(ies) still retrying when the ticket closed")
                self._changed()
        await workflow.wait_condition(lambda: self._projected_version == self.state.version)
        await workflow.wait_condition(workflow.all_handlers_finished)

    # -- telling units -----------------------------------------------------------------------

    def work_order(self) -> WorkOrder:
        s = self.state
        req = s.request
        return WorkOrder(
            number=s.number,
            category=req.category,
            kind=req.kind,
            urgency=req.urgency,
            enterprise=req.enterprise,
            description=req.description,
            address=req.address.text,
            district=s.district_unit,
            street=s.street_unit,
            citizen_name=req.citizen.name,
            citizen_phone=req.citizen.phone,
            lead_unit=s.lead_unit,
            supervisor_unit=s.supervisor_unit,
            deadline=s.deadline,
            deadline_estimated=s.deadline_estimated,
        )

    def deliver(self, unit: str, kind: DeliveryKind, note: str = "") -> asyncio.Task:
        """Send something to a unit without holding up the lifecycle: a department that is down
        for hours must not stop the clocks. The outcome lands in the timeline."""
        delivery = Delivery(
            ticket=self.state.number,
            workflow_id=self.state.workflow_id,
            sequence=self.state.next_delivery(),
            unit=unit,
            kind=kind,
            message=note,
            work_order=self.work_order(),
        )
        return self._background(self._deliver(delivery))

    def _give_up_after(self) -> timedelta:
        return timedelta(seconds=self.policy.delivery.give_up_after.seconds())

    def notify_citizen(self, template: str, phone: str | None = None, **params: str) -> None:
        """An SMS to the citizen (or to the given phone), in the background; none without a phone."""
        phone = phone or self.state.request.citizen.phone
        if not phone:
            return
        notice = CitizenNotice(
            ticket=self.state.number,
            workflow_id=self.state.workflow_id,
            sequence=self.state.next_delivery(),
            phone=phone,
            template=template,
            params={"number": self.state.number, **params},
        )
        self._background(self._notify(notice))
        self.record("system", "citizen_notified", template, template=template)

    async def _notify(self, notice: CitizenNotice) -> None:
        try:
            await workflow.execute_activity(acts.NOTIFY_CITIZEN, notice, result_type=DeliveryReceipt, **acts.DELIVERY)
        except ActivityError as e:
            self.record("system", "delivery_failed", f"citizen notice {notice.template}: {e.cause or e}")
            self._changed()

    def _background(self, coro) -> asyncio.Task:
        task = asyncio.create_task(coro)
        self._pending_deliveries.add(task)
        task.add_done_callback(self._pending_deliveries.discard)
        return task

    async def _deliver(self, delivery: Delivery) -> None:
        try:
            receipt = await workflow.execute_activity(
                acts.DELIVER, delivery, result_type=DeliveryReceipt,
                **{**acts.DELIVERY, "schedule_to_close_timeout": self._give_up_after()},
            )  # fmt: skip
        except ActivityError as e:
            cause = e.cause.message if isinstance(e.cause, ApplicationError) else str(e.cause or e)
            self.state.flag("delivery_failed")
            self.record(
                "system", "delivery_failed", f"{delivery.kind.value} to {self.state.name_of(delivery.unit)}: {cause}",
                unit=delivery.unit, kind=delivery.kind.value, sequence=delivery.sequence,
            )  # fmt: skip
            self._changed()
            if e.retry_state != RetryState.NON_RETRYABLE_FAILURE:  # retries ran out, not a refusal
                await workflow.execute_local_activity(
                    acts.GIVE_UP_DELIVERY, args=[delivery, f"gave up: {cause}"], **acts.PROJECTION
                )
            return
        if receipt.channel != "department_api" or not receipt.delivered:
            return  # units on our own client see it in their list; nothing worth a timeline line
        self.record(
            "system", "delivered", f"{delivery.kind.value} to {self.state.name_of(delivery.unit)}",
            unit=delivery.unit, kind=delivery.kind.value, sequence=delivery.sequence,
        )  # fmt: skip
        self._changed()
