"""Returns (退单) and reassignment (改派): the lead says "not ours" with a reason; the center reviews.
A second return, or a rejected one the unit disputes, goes to consultation."""

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain.deadlines import clocks
    from domain.ownership import returns
    from domain.contracts import DeliveryKind
    from domain.ownership.returns import AskReturn, DecideReturn, DisputeReturn
    from domain.ticket import TicketSummary

from workflows.consultation import ConsultationStage


class ReturnStage(ConsultationStage):
    # -- returns -----------------------------------------------------------------------------

    def _return_window_ends(self):
        s = self.state
        if s.dispatched_at is None:
            return None
        return clocks.add_limit(s.dispatched_at, self.policy.returns.window, self.calendar)[0]

    @workflow.update
    def request_return(self, a: AskReturn) -> TicketSummary:
        req = returns.ask(self.state, a, self.now())
        if req.status == "to_consultation":
            # A second return on the same ticket: ownership is settled among the units, not by review.
            self.open_consultation(self.dispute_candidates(), f"第二次退单: {a.reason}", "system")
        self._changed()
        return self.summary()

    @request_return.validator
    def _check_request_return(self, a: AskReturn) -> None:
        self.guard(
            returns.check_ask, self.state, a, self._return_window_ends(),
            self.policy.returns.first_responsible_may_return, self.now(),
        )  # fmt: skip

    @workflow.update
    async def decide_return(self, d: DecideReturn) -> TicketSummary:
        async with self._ownership:
            self.guard(returns.check_decide, self.state, d)  # again: the state may have moved meanwhile
            if not d.approve:
                returns.reject(self.state, d, self.now())
                self.deliver(self.state.lead_unit, DeliveryKind.notice, "退单申请未获批准，请继续办理")
            else:
                target = d.reassign_to or returns.next_candidate(self.state)
                info = (await self.resolve_units([target]))[target]
                returns.approve(self.state, d, target, self.now())
                self.reassign(info, via="return approved")
            self._changed()
            return self.summary()

    @decide_return.validator
    def _check_decide_return(self, d: DecideReturn) -> None:
        self.guard(returns.check_decide, self.state, d)
        if d.approve and not d.reassign_to and returns.next_candidate(self.state) is None:
            raise ApplicationError("no other candidate unit is left: name one in reassign_to", type="Invalid", non_retryable=True)

    @workflow.update
    def dispute_return(self, d: DisputeReturn) -> TicketSummary:
        returns.dispute(self.state, d, self.now())
        self.open_consultation(self.dispute_candidates(), f"退单争议: {d.reason}", d.actor.label)
        self._changed()
        return self.summary()

    @dispute_return.validator
    def _check_dispute_return(self, d: DisputeReturn) -> None:
        self.guard(returns.check_dispute, self.state, d)

    def dispute_candidates(self) -> list[str]:
        """Who is invited when units dispute a ticket: everyone who has led it, whoever a return
        named, and the sector supervisor; the responsibility list fills up to two."""
        s = self.state
        named = [r.suggested_unit for r in s.returns if r.suggested_unit]
        units = list(dict.fromkeys([s.lead_unit, *s.previous_leads, *named, s.supervisor_unit]))
        units = [u for u in units if u]
        for extra in s.candidates:
            if len(units) >= 2:
                break
            if extra not in units:
                units.append(extra)
        return units

