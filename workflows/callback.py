"""Stage 5 — callback (回访) and rehandle (重办): the citizen is asked whether the problem was
solved; unresolved or unsatisfied sends the ticket back to the unit with a new deadline."""

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from domain import callback
    from domain.deadlines import clocks
    from domain.callback import OnlineRating, RecordCallback
    from domain.contracts import CallbackRequest, DeliveryKind, DeliveryReceipt
    from domain.ticket import TicketSummary
    from domain.vocabulary import Outcome, Stage

from workflows import activities as acts
from workflows.base import TicketBase


class CallbackStage(TicketBase):
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
        answered = lambda: callback.answer_of_round(s) is not None  # noqa: E731
        if rule.when == "at_deadline" and s.clocks.get(clocks.ClockName.completion):
            # Beijing: the citizen is asked when the handling period has run out (an online rating
            # meanwhile makes the call unnecessary).
            due = s.clocks[clocks.ClockName.completion].due_at
            if due > self.now():
                self.record("system", "callback_scheduled", f"callback at deadline expiry {due.isoformat()}")
                self._changed()
                await self._wait(answered, due - self.now())
        elif rule.when == "at_completion" and rule.rating_window.amount:
            # The reply goes out by SMS first: a citizen who rates it online is not called.
            window_ends, _ = clocks.add_limit(self.now(), rule.rating_window, self.calendar)
            self.notify_citizen("reply_ready_rate", reply=s.completion.reply if s.completion else "", window=rule.rating_window.in_words())
            self.record("system", "callback_scheduled", f"callback at {window_ends.isoformat()} unless rated online first")
            self._changed()
            await self._wait(answered, window_ends - self.now())

        spacing = timedelta(seconds=rule.spacing.seconds())
        for attempt in range(1, rule.attempts + 1):
            if answered():
                break
            s.callback_attempts = attempt
            await self._request_callback(attempt, spacing)
            if not await self._wait(answered, spacing):
                self.record("system", "callback_no_answer", f"attempt {attempt} of {rule.attempts} got no answer")
                self._changed()
        answer = callback.answer_of_round(s)
        if answer is None:
            s.assessed_satisfaction = {"satisfied": "satisfied", "unsatisfied": "unsatisfied"}.get(rule.unreachable_counts_as)
            return Outcome.unreachable
        if not answer.confirms:
            return None
        s.assessed_satisfaction = answer.satisfaction.value
        return Outcome.rated_online if answer.online else Outcome.confirmed

    @staticmethod
    async def _wait(condition, timeout: timedelta) -> bool:
        try:
            await workflow.wait_condition(condition, timeout=timeout)
            return True
        except asyncio.TimeoutError:
            return False

    async def _request_callback(self, attempt: int, spacing: timedelta) -> None:
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
        try:
            # A callback channel that stays down for the whole attempt only costs that attempt:
            # the ticket is still on the manual callback queue.
            await workflow.execute_activity(
                acts.REQUEST_CALLBACK, request, result_type=DeliveryReceipt,
                **{**acts.DELIVERY, "schedule_to_close_timeout": spacing},
            )  # fmt: skip
        except ActivityError as e:
            self.record("system", "callback_channel_failed", f"attempt {attempt}: {e.cause or e}", attempt=attempt)
            self._changed()

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
        callback.record(self.state, action.actor.label, action.answer, self.state.callback_attempts, self.now())
        self._changed()
        return self.summary()

    @record_callback.validator
    def _check_record_callback(self, action: RecordCallback) -> None:
        self.guard(callback.check_record, self.state, action.actor)

    @workflow.update
    def rate_online(self, rating: OnlineRating) -> TicketSummary:
        """The citizen rated the reply in self-service: no callback needed."""
        callback.record(self.state, "citizen (online)", rating.answer, self.state.callback_attempts, self.now(), online=True)
        self._changed()
        return self.summary()

    @rate_online.validator
    def _check_rate_online(self, rating: OnlineRating) -> None:
        self.guard(callback.check_online, self.state)
