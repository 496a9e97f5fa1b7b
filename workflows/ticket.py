"""TicketWorkflow: one durable workflow per ticket, id `ticket-<number>`, from call to close.

`run` reads like the lifecycle of ../shared/domain.md. Every update, validator, query and signal
is declared here, each a few lines over a domain rule; the machinery they share is held as
helpers (composition, not inheritance): the outbox of deliveries, the projector, the deadline
clocks, ownership (returns, consultations, rulings), intake, the emergency follow-up and the
callback. Each helper lives in the module of its capability's name."""

import asyncio

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain import callback, delivery, emergency, handling
    from domain.callback import OnlineRating, RecordCallback
    from domain.contracts import DeliveryKind
    from domain.deadlines import clocks, escalation, extension
    from domain.deadlines.clocks import ApplyCalendar
    from domain.deadlines.escalation import EscalationRequest, UrgeAction, Whistle
    from domain.deadlines.extension import AskExtension, DecideExtension
    from domain.delivery import ResendDelivery
    from domain.emergency import RecordFollowUp
    from domain.handling import Acknowledge, Complete, ProgressNote, ReportPart
    from domain.intake import merge
    from domain.intake.merge import MergeAppeal
    from domain.intake.triage import TriagePath
    from domain.ownership import consultation, returns, ruling
    from domain.ownership.consultation import OpenConsultation
    from domain.ownership.returns import AskReturn, DecideReturn, DisputeReturn
    from domain.ownership.ruling import IssueRuling
    from domain.ticket import ConsultationView, TicketCarry, TicketInput, TicketState, TicketSummary
    from domain.vocabulary import Outcome, Stage

from workflows.callback import Callback
from workflows.context import PROGRESS_SIGNAL, TicketContext, guard
from workflows.deadlines import Deadlines
from workflows.delivery import Outbox
from workflows.dispatch import dispatch
from workflows.emergency import EmergencyFollowUp
from workflows.intake import Intake
from workflows.ownership import Ownership
from workflows.projection import Projector


@workflow.defn
class TicketWorkflow:
    @workflow.init
    def __init__(self, input: TicketInput) -> None:
        self.t = t = TicketContext(input)
        self.outbox = Outbox(t)
        self.projector = Projector(t)
        self.deadlines = Deadlines(t, self.outbox)
        self.ownership = Ownership(t, self.outbox)
        self.emergency = EmergencyFollowUp(t)
        self.intake = Intake(t, self.outbox, self.emergency)
        self.callback = Callback(t, self.outbox)
        self._may_continue_as_new = True

    # -- the lifecycle -------------------------------------------------------------------------

    @workflow.run
    async def run(self, input: TicketInput) -> TicketSummary:
        lifecycle = asyncio.create_task(self._lifecycle(input))
        projector = asyncio.create_task(self.projector.run_forever())
        # The projector only ends by failing: let that fail the workflow task (Temporal retries
        # it once the bug is fixed) instead of leaving the ticket waiting for a dead task.
        await workflow.wait([lifecycle, projector], return_when=asyncio.FIRST_COMPLETED)
        if projector.done():
            projector.result()
        projector.cancel()
        return lifecycle.result()

    async def _lifecycle(self, input: TicketInput) -> TicketSummary:
        outcome = None
        if input.carried:  # a long-lived ticket's next run carries on handling
            outcome = await self._handle_to_the_citizens_word(input)
        else:
            triage = await self.intake.take_in(input)  # 受理: the five paths; owners, rules and calendar for life
            if triage.path != TriagePath.dispatch:
                outcome = await self.intake.close_at_desk(triage)  # 直接答复 / 超范围 / 转紧急 / 涉法涉诉
            if outcome is None:  # dispatch, or an emergency service sent it back (非警务警情)
                dispatch(self.t, self.outbox, self.ownership, self.intake.routed_cooperating)  # 首派 + 双派
                outcome = await self._handle_to_the_citizens_word(input)
        self._close(outcome)
        # Before the workflow ends: deliveries finished (a department that is still down gets a
        # grace period, not a veto over closing), read model up to date, handlers done.
        await self.outbox.settle()
        await self.projector.caught_up()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.t.summary()

    async def _handle_to_the_citizens_word(self, input: TicketInput) -> Outcome:
        while True:
            # 办理 under the clocks; escalation, returns and consultation meanwhile
            await self.deadlines.run_until(lambda: self.t.state.completion is not None or self._too_long(input))
            if self.t.state.completion is None:  # the history grew long: a new run carries on
                if self.t.patched("continue-as-new-when-long"):
                    await self._continue_as_new(input)
                self._may_continue_as_new = False  # a run that began before the patch carries on as it did
                continue
            outcome = await self.callback.call_back()  # 回访
            if outcome is not None:
                return outcome
            if not self.callback.can_rehandle():
                return Outcome.hard_case  # on the monthly clearing list (动态清零)
            self.callback.rehandle()  # 重办

    def _too_long(self, input: TicketInput) -> bool:
        """Time to continue as new: the history has grown long (many repeats, urges, rehandles) and
        nothing is in flight that a new run could not pick up (a consultation child, a delivery)."""
        if not self._may_continue_as_new:
            return False
        info = workflow.info()
        long = info.get_current_history_length() > input.history_limit or info.is_continue_as_new_suggested()
        return long and self.t.state.open_consultation is None and not self.outbox.busy

    async def _continue_as_new(self, input: TicketInput) -> None:
        await workflow.wait_condition(workflow.all_handlers_finished)
        t = self.t
        t.record("system", "continued", f"history of {workflow.info().get_current_history_length()} events: a new run")
        t.changed()
        await self.projector.caught_up()
        carried = TicketCarry(state=t.state, policy=t.policy, calendar=t.calendar, citizen_key=t.citizen_key)
        workflow.continue_as_new(input.model_copy(update={"carried": carried}))

    def _close(self, outcome: Outcome) -> None:
        s = self.t.state
        s.stage = Stage.closed
        s.outcome = outcome
        s.closed_at = self.t.now()
        if outcome == Outcome.hard_case:
            s.flag("hard_case")
        self.t.record("system", "closed", outcome.value, outcome=outcome.value)
        self.t.changed()

    def _changed(self) -> TicketSummary:
        """After an update's change: announce it and answer with where the ticket now stands."""
        self.t.changed()
        return self.t.summary()

    @workflow.query(name="state")
    def live_state(self) -> TicketState:
        return self.t.state

    # -- intake: repeats and the emergency follow-up ---------------------------------------------

    @workflow.update
    def merge_appeal(self, m: MergeAppeal) -> TicketSummary:
        if merge.already_merged(self.t.state, m.key):
            return self.t.summary()  # a retried merge counts once
        self.intake.merge(m)
        return self._changed()

    @merge_appeal.validator
    def _check_merge(self, m: MergeAppeal) -> None:
        guard(merge.check_merge, self.t.state)

    @workflow.update
    def record_follow_up(self, f: RecordFollowUp) -> TicketSummary:
        self.emergency.record(f)
        return self._changed()

    @record_follow_up.validator
    def _check_follow_up(self, f: RecordFollowUp) -> None:
        guard(emergency.check_follow_up, self.t.state, f)

    # -- handling ----------------------------------------------------------------------------------

    @workflow.update
    def acknowledge(self, action: Acknowledge) -> TicketSummary:
        t = self.t
        handling.acknowledge(t.state, action.actor, t.now())
        clocks.on_acknowledged(t.state, t.policy, t.calendar, t.now())
        return self._changed()

    @acknowledge.validator
    def _check_acknowledge(self, action: Acknowledge) -> None:
        guard(handling.check_acknowledge, self.t.state, action.actor)

    @workflow.update
    def progress(self, note: ProgressNote) -> TicketSummary:
        handling.progress(self.t.state, note, self.t.now())
        return self._changed()

    @progress.validator
    def _check_progress(self, note: ProgressNote) -> None:
        guard(handling.check_progress, self.t.state, note.actor)

    @workflow.update
    def complete(self, action: Complete) -> TicketSummary:
        handling.complete(self.t.state, action, self.t.now())
        return self._changed()

    @complete.validator
    def _check_complete(self, action: Complete) -> None:
        guard(handling.check_complete, self.t.state, action.actor, action.parts_done)

    @workflow.update
    def report_part(self, r: ReportPart) -> TicketSummary:
        """A cooperating unit reports its part to the lead (协办反馈)."""
        handling.report(self.t.state, r, self.t.now())
        return self._changed()

    @report_part.validator
    def _check_report_part(self, r: ReportPart) -> None:
        guard(handling.check_report, self.t.state, r)

    # -- deadlines: escalation, the whistle, urging, extensions ----------------------------------

    @workflow.update
    def request_escalation(self, r: EscalationRequest) -> TicketSummary:
        self.deadlines.escalate(r.actor.label, f"escalation requested: {r.reason}")
        return self._changed()

    @request_escalation.validator
    def _check_request_escalation(self, r: EscalationRequest) -> None:
        may_request = self.t.policy.escalation.street_may_request
        guard(escalation.check_escalation_request, self.t.state, r, may_request, self.deadlines.can_escalate())

    @workflow.update
    def whistle(self, w: Whistle) -> TicketSummary:
        self.deadlines.whistle(w)
        return self._changed()

    @whistle.validator
    def _check_whistle(self, w: Whistle) -> None:
        guard(escalation.check_whistle, self.t.state, w)

    @workflow.update
    def urge(self, u: UrgeAction) -> TicketSummary:
        self.deadlines.urge(u)
        return self._changed()

    @urge.validator
    def _check_urge(self, u: UrgeAction) -> None:
        guard(escalation.check_urge, self.t.state, u)

    @workflow.update
    def request_extension(self, a: AskExtension) -> TicketSummary:
        extension.ask(self.t.state, a, self.t.now())
        return self._changed()

    @request_extension.validator
    def _check_request_extension(self, a: AskExtension) -> None:
        guard(extension.check_ask, self.t.state, a, self.t.policy.extension, self.t.now())

    @workflow.update
    def decide_extension(self, d: DecideExtension) -> TicketSummary:
        self.deadlines.decide_extension(d)
        return self._changed()

    @decide_extension.validator
    def _check_decide_extension(self, d: DecideExtension) -> None:
        guard(extension.check_decide, self.t.state, d)

    @workflow.update
    def apply_calendar(self, cmd: ApplyCalendar) -> TicketSummary:
        """The center applies next year's official calendar: estimated deadlines are re-timed."""
        self.deadlines.apply_calendar(cmd)
        return self._changed()

    @apply_calendar.validator
    def _check_apply_calendar(self, cmd: ApplyCalendar) -> None:
        guard(clocks.check_apply_calendar, self.t.state, cmd)

    # -- ownership: returns, consultation, the ruling --------------------------------------------

    @workflow.update
    def request_return(self, a: AskReturn) -> TicketSummary:
        self.ownership.ask_return(a)
        return self._changed()

    @request_return.validator
    def _check_request_return(self, a: AskReturn) -> None:
        may_return = self.t.policy.returns.first_responsible_may_return
        guard(returns.check_ask, self.t.state, a, self.ownership.return_window_ends(), may_return, self.t.now())

    @workflow.update
    async def decide_return(self, d: DecideReturn) -> TicketSummary:
        await self.ownership.decide_return(d)
        return self._changed()

    @decide_return.validator
    def _check_decide_return(self, d: DecideReturn) -> None:
        guard(returns.check_decide, self.t.state, d)
        if d.approve and not d.reassign_to and returns.next_candidate(self.t.state) is None:
            raise ApplicationError(
                "no other candidate unit is left: name one in reassign_to", type="Invalid", non_retryable=True
            )

    @workflow.update
    def dispute_return(self, d: DisputeReturn) -> TicketSummary:
        self.ownership.dispute_return(d)
        return self._changed()

    @dispute_return.validator
    def _check_dispute_return(self, d: DisputeReturn) -> None:
        guard(returns.check_dispute, self.t.state, d)

    @workflow.update
    async def open_consultation_now(self, o: OpenConsultation) -> TicketSummary:
        """一键会商: the center opens a consultation among the units it names."""
        await self.ownership.open_now(o)
        return self._changed()

    @open_consultation_now.validator
    def _check_open_consultation(self, o: OpenConsultation) -> None:
        guard(consultation.check_open_consultation, self.t.state, o)

    @workflow.signal(name=PROGRESS_SIGNAL)
    def consultation_progress(self, view: ConsultationView) -> None:
        """The consultation child mirrors every round and answer here."""
        if self.ownership.on_progress(view):
            self.t.changed()

    @workflow.update
    async def issue_ruling(self, r: IssueRuling) -> TicketSummary:
        await self.ownership.rule(r)
        return self._changed()

    @issue_ruling.validator
    def _check_ruling(self, r: IssueRuling) -> None:
        guard(ruling.check_ruling, self.t.state, r)

    # -- callback ----------------------------------------------------------------------------------

    @workflow.update
    async def record_callback(self, action: RecordCallback) -> TicketSummary:
        s = self.t.state
        callback.record(s, action.actor.label, action.answer, s.callback_attempts, self.t.now())
        self.t.changed()
        if action.answer.reached:
            await self.callback.acted_on()  # the reply shows the ticket closed or back with the unit
        return self.t.summary()

    @record_callback.validator
    def _check_record_callback(self, action: RecordCallback) -> None:
        guard(callback.check_record, self.t.state, action.actor, action.answer)

    @workflow.update
    async def rate_online(self, rating: OnlineRating) -> TicketSummary:
        """The citizen rated the reply in self-service: no callback needed."""
        s = self.t.state
        callback.record(s, "citizen (online)", rating.answer, s.callback_attempts, self.t.now(), online=True)
        self.t.changed()
        await self.callback.acted_on()
        return self.t.summary()

    @rate_online.validator
    def _check_rate_online(self, rating: OnlineRating) -> None:
        guard(callback.check_online, self.t.state)

    # -- deliveries --------------------------------------------------------------------------------

    @workflow.update
    def resend_delivery(self, r: ResendDelivery) -> TicketSummary:
        """The center re-sends a delivery a department system (or the callback channel) lost: same
        sequence, so the same Idempotency-Key; it goes out in the background like the first."""
        t, s = self.t, self.t.state
        if r.kind == DeliveryKind.callback:
            self.callback.resend(r.sequence)
        else:
            self.outbox.resend(r.unit, r.kind, r.sequence, r.reason)
        what = f"{r.kind.value} to {s.name_of(r.unit)}" if r.kind != DeliveryKind.callback else "callback request"
        t.record(
            r.actor.label, "delivery_resent", f"{what} re-sent" + (f": {r.reason}" if r.reason else ""),
            unit=r.unit, kind=r.kind.value, sequence=r.sequence,
        )  # fmt: skip
        return self._changed()

    @resend_delivery.validator
    def _check_resend_delivery(self, r: ResendDelivery) -> None:
        guard(delivery.check_resend, self.t.state, r)
