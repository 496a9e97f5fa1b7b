"""Stage 5 — callback (回访) and rehandle (重办): the citizen is asked whether the problem was
solved; unresolved or unsatisfied sends the ticket back to the unit with a new deadline."""

import asyncio
from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain import callback, clocks
    from domain.callback import RecordCallback
    from domain.contracts import CallbackRequest, DeliveryKind, DeliveryReceipt
    from domain.ticket import TicketSummary
    from domain.vocabulary import Outcome, Stage

from workflows import activities as acts
from workflows.base import TicketBase


class CallbackStage(TicketBase):
    _callback_attempt: int = 0

    async def callback(self) -> Outcome | None:
        """The outcome to close with, or None when the citizen was not satisfied (rehandle)."""
        s = self.state
        citizen = s.request.citizen
        s.stage = Stage.callback
        if citizen.callback_opt_out or not citizen.phone:
            why = "citizen opted out of callback" if citizen.callback_opt_out else "no phone number to call back"
            self.record("system", "callback_skipped", why)
            self._changed()
            return Outcome.no_callback
        self._changed()

        rule = self.policy.callback
        if rule.when == "at_deadline" and s.clocks.get(clocks.ClockName.completion):
            # Beijing: the citizen is asked when the handling period has run out.
            due = s.clocks[clocks.ClockName.completion].due_at
            if due > self.now():
                self.record("system", "callback_scheduled", f"callback at deadline expiry {due.isoformat()}")
                self._changed()
                await workflow.sleep(due - self.now())

        spacing = timedelta(seconds=rule.spacing.seconds())
        for attempt in range(1, rule.attempts + 1):
            self._callback_attempt = attempt
            await self._request_callback(attempt)
            try:
                await workflow.wait_condition(lambda: callback.answer_of_round(s) is not None, timeout=spacing)
            except asyncio.TimeoutError:
                self.record("system", "callback_no_answer", f"attempt {attempt} of {rule.attempts} got no answer")
                self._changed()
                continue
            answer = callback.answer_of_round(s)
            return Outcome.confirmed if answer.confirms else None
        return Outcome.unreachable

    async def _request_callback(self, attempt: int) -> None:
        s = self.state
        completion = s.completion
        request = CallbackRequest(
            ticket=s.number,
            workflow_id=s.workflow_id,
            sequence=s.next_delivery(),
            attempt=attempt,
            phone=s.request.citizen.phone,
            result=completion.result.value if completion else "",
            reply=completion.reply if completion else "",
        )
        self.record("system", "callback_requested", f"attempt {attempt}", attempt=attempt)
        self._changed()
        await workflow.execute_activity(
            acts.REQUEST_CALLBACK, request, result_type=DeliveryReceipt, **acts.DELIVERY
        )

    def can_rehandle(self) -> bool:
        return self.state.rehandle_round < self.policy.rehandle.max_rounds

    def rehandle(self) -> None:
        s = self.state
        s.rehandle_round += 1
        s.stage = Stage.rehandle
        s.completion = None
        s.acknowledged_at = None
        clocks.restart_for_rehandle(s, self.policy, self.calendar, self.now())
        self.record(
            "system", "rehandle", f"round {s.rehandle_round}: back to {s.name_of(s.lead_unit)}",
            round=s.rehandle_round, deadline=s.deadline.isoformat() if s.deadline else None,
        )  # fmt: skip
        self._changed()
        self.deliver(s.coordinator_unit or s.lead_unit, DeliveryKind.rehandle, f"第{s.rehandle_round}次重办")

    @workflow.update
    def record_callback(self, action: RecordCallback) -> TicketSummary:
        callback.record(self.state, action.actor.label, action.answer, self._callback_attempt, self.now())
        self._changed()
        return self.summary()

    @record_callback.validator
    def _check_record_callback(self, action: RecordCallback) -> None:
        self.guard(callback.check_record, self.state, action.actor)
