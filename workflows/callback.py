"""Callback (回访) and rehandle (重办): the citizen is asked whether the problem was solved;
unresolved or unsatisfied sends the ticket back to the unit with a new deadline. Per the pack the
call comes at completion or when the handling period has run out, and an online rating meanwhile
makes it unnecessary.

The update handlers (record_callback, rate_online) are in ticket.py; what they wait for is here."""

from collections.abc import Callable
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from domain import callback
    from domain.contracts import CallbackRequest, DeliveryKind
    from domain.deadlines import clocks
    from domain.vocabulary import Outcome, Stage

from workflows import calls
from workflows.context import TicketContext
from workflows.delivery import Outbox


class Callback:
    def __init__(self, t: TicketContext, outbox: Outbox) -> None:
        self.t = t
        self.outbox = outbox

    async def call_back(self) -> Outcome | None:
        """The outcome to close with, or None when the citizen was not satisfied (rehandle)."""
        t = self.t
        s = t.state
        citizen = s.request.citizen
        s.stage = Stage.callback
        if citizen.callback_opt_out or not citizen.phone:
            why = "citizen opted out of callback" if citizen.callback_opt_out else "no phone number to call back"
            t.record("system", "callback_skipped", why)
            t.changed()
            return Outcome.no_callback
        t.changed()

        rule = t.policy.callback
        answered = lambda: callback.answer_of_round(s) is not None  # noqa: E731
        if rule.when == "at_deadline" and s.clocks.get(clocks.ClockName.completion):
            # Beijing: the citizen is asked when the handling period has run out (an online rating
            # meanwhile makes the call unnecessary).
            due = s.clocks[clocks.ClockName.completion].due_at
            if due > t.now():
                t.record("system", "callback_scheduled", f"callback at deadline expiry {due.isoformat()}")
                t.changed()
                await self._wait(answered, due - t.now())
        elif rule.when == "at_completion" and rule.rating_window.amount:
            # The reply goes out by SMS first: a citizen who rates it online is not called.
            window_ends, _ = clocks.add_limit(t.now(), rule.rating_window, t.calendar)
            self.outbox.notify_citizen(
                "reply_ready_rate",
                reply=s.completion.reply if s.completion else "",
                window=rule.rating_window.in_words(),
            )
            t.record("system", "callback_scheduled", f"callback at {window_ends.isoformat()} unless rated online first")
            t.changed()
            await self._wait(answered, window_ends - t.now())

        spacing = timedelta(seconds=rule.spacing.seconds())
        for attempt in range(1, rule.attempts + 1):
            if answered():
                break
            s.callback_attempts = attempt
            await self._request_callback(attempt, spacing)
            if not await self._wait(answered, spacing):
                t.record("system", "callback_no_answer", f"attempt {attempt} of {rule.attempts} got no answer")
                t.changed()
        answer = callback.answer_of_round(s)
        if answer is None:
            s.assessed_satisfaction = {"satisfied": "satisfied", "unsatisfied": "unsatisfied"}.get(
                rule.unreachable_counts_as
            )
            return Outcome.unreachable
        if not answer.confirms:
            return None
        assert answer.satisfaction is not None  # a confirming answer was reached, so it says how satisfied
        s.assessed_satisfaction = answer.satisfaction.value
        return Outcome.rated_online if answer.online else Outcome.confirmed

    async def _wait(self, condition: Callable[[], bool], timeout: timedelta) -> bool:
        try:
            await workflow.wait_condition(condition, timeout=timeout)
            return True
        except TimeoutError:
            return False

    async def acted_on(self) -> None:
        """After a reached answer: until the lifecycle has acted on it (closed, or back to the unit),
        so the update answers with the ticket as it now stands. It acts at once while it waits for
        the answer; while a callback request is still being tried it acts when that attempt ends.

        The decision must not depend on which of the two the lifecycle is in: when the request's
        result and the answer arrive in one workflow task, the worker runs them in one order live
        and the other on replay (a `listening` flag read here recorded the patch marker on one
        side only). Asking `patched` for every reached answer
        is replay-safe: replaying a history without the marker answers False and records nothing.
        Patched: a ticket answered under the older code completed the update first."""
        if self.t.patched("callback-reply-after-acted-on"):
            await workflow.wait_condition(lambda: self.t.state.stage != Stage.callback)

    def resend(self, sequence: int) -> None:
        """The current attempt's request again, under its sequence (the channel does it once)."""
        spacing = timedelta(seconds=self.t.policy.callback.spacing.seconds())
        attempt = max(self.t.state.callback_attempts, 1)
        self.outbox.background(self._request_callback(attempt, spacing, sequence=sequence))

    async def _request_callback(self, attempt: int, spacing: timedelta, sequence: int | None = None) -> None:
        t, s = self.t, self.t.state
        completion = s.completion
        request = CallbackRequest(
            ticket=s.number,
            workflow_id=s.workflow_id,
            sequence=sequence if sequence is not None else s.next_delivery(),
            attempt=attempt,
            phone=s.request.citizen.phone,
            result=completion.result.value if completion else "",
            reply=completion.reply if completion else "",
        )
        if sequence is None:
            t.record("system", "callback_requested", f"attempt {attempt}", attempt=attempt)
            t.changed()
        try:
            # A callback channel that stays down for the whole attempt only costs that attempt:
            # the ticket is still on the manual callback queue.
            await calls.request_callback(request, give_up_after=spacing)
        except ActivityError as e:
            t.record("system", "callback_channel_failed", f"attempt {attempt}: {e.cause or e}", attempt=attempt)
            t.changed()

    def can_rehandle(self) -> bool:
        return self.t.state.rehandle_round < self.t.policy.rehandle.max_rounds

    def rehandle(self) -> None:
        t, s = self.t, self.t.state
        s.rehandle_round += 1
        s.stage = Stage.rehandle
        s.completion = None
        s.acknowledged_at = None
        clocks.restart_for_rehandle(s, t.policy, t.calendar, t.now())
        t.record(
            "system", "rehandle", f"round {s.rehandle_round}: back to {s.name_of(s.lead_unit)}",
            round=s.rehandle_round, deadline=s.deadline.isoformat() if s.deadline else None,
        )  # fmt: skip
        t.changed()
        handler = s.coordinator_unit or s.lead_unit
        assert handler is not None  # a ticket that was handled has a lead
        self.outbox.deliver(handler, DeliveryKind.rehandle, f"第{s.rehandle_round}次重办")
