"""Who owns a ticket: returns (退单) and reassignment (改派), consultation among the candidate units
(会商, a child workflow per consultation: consultation.py) and a leader's binding ruling (领导坐诊),
and cooperating units (协办) joining. Changes of ownership wait on activities (unit names, saving
a rule): one at a time, under a lock.

The update handlers are in ticket.py; what they do is here."""

import asyncio
from datetime import datetime

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ChildWorkflowError

with workflow.unsafe.imports_passed_through():
    from domain.contracts import DeliveryKind
    from domain.deadlines import clocks
    from domain.deadlines.calendar import WorkCalendar
    from domain.ownership import consultation, returns, ruling
    from domain.ownership.consultation import (
        ConsultationInput,
        ConsultationOutcome,
        OpenConsultation,
    )
    from domain.ownership.returns import AskReturn, DecideReturn, DisputeReturn
    from domain.ownership.ruling import IssueRuling, ResponsibilityRule
    from domain.ticket import ConsultationView, Cooperation, UnitInfo

from workflows import calls
from workflows.consultation import ConsultationWorkflow
from workflows.context import TicketContext, guard
from workflows.delivery import Outbox


class Ownership:
    def __init__(self, t: TicketContext, outbox: Outbox) -> None:
        self.t = t
        self.outbox = outbox
        self.lock = asyncio.Lock()
        self._consultations: dict[int, workflow.ChildWorkflowHandle] = {}

    # -- changes of ownership, whoever decides them -------------------------------------------

    async def resolve_units(self, ids: list[str]) -> dict[str, UnitInfo]:
        return await calls.resolve_units(ids)

    def reassign(self, to: UnitInfo, via: str) -> None:
        t, s = self.t, self.t.state
        before = s.deadline
        old = returns.reassign(s, to, via, t.now())
        clocks.on_reassigned(s, t.policy, t.calendar, t.now())
        t.note_deadline(before, f"reassigned to {to.name} ({via})")
        if old and old != to.id:
            self.outbox.deliver(old, DeliveryKind.cancellation, f"工单已改派至{to.name}")
        self.outbox.deliver(to.id, DeliveryKind.work_order)

    def add_cooperating(self, units: dict[str, str], via: str) -> None:
        """Each cooperating unit gets its own dispatch and must report (sign for its part)."""
        t, s = self.t, self.t.state
        for unit, name in units.items():
            if unit == s.lead_unit or unit in s.cooperating:
                continue
            s.cooperating[unit] = Cooperation(unit=unit, via=via, since=t.now())
            s.unit_names[unit] = name
            clocks.start_report_clock(s, unit, t.policy, t.calendar, t.now())
            self.outbox.deliver(unit, DeliveryKind.cooperation, f"协同办理，主办单位：{s.name_of(s.lead_unit)}")

    def _resume_calendar(self) -> WorkCalendar | None:
        """A resumed working-day clock gets back the working time it had left (over the calendar);
        tickets paused before that rule resume in wall time, as they did."""
        return self.t.calendar if self.t.patched("resume-keeps-working-time") else None

    # -- returns -------------------------------------------------------------------------------

    def return_window_ends(self) -> datetime | None:
        s = self.t.state
        if s.dispatched_at is None:
            return None
        return clocks.add_limit(s.dispatched_at, self.t.policy.returns.window, self.t.calendar)[0]

    def ask_return(self, a: AskReturn) -> None:
        req = returns.ask(self.t.state, a, self.t.now())
        if req.status == "to_consultation":
            # A second return on the same ticket: ownership is settled among the units, not by review.
            self.open_consultation(self.dispute_candidates(), f"第二次退单: {a.reason}", "system")

    async def decide_return(self, d: DecideReturn) -> None:
        s = self.t.state
        async with self.lock:
            guard(returns.check_decide, s, d)  # again: the state may have moved meanwhile
            if not d.approve:
                returns.reject(s, d, self.t.now())
                assert s.lead_unit is not None
                self.outbox.deliver(s.lead_unit, DeliveryKind.notice, "退单申请未获批准，请继续办理")
            else:
                target = d.reassign_to or returns.next_candidate(s)
                assert target is not None  # the validator made sure there is one
                info = (await self.resolve_units([target]))[target]
                returns.approve(s, d, target, self.t.now())
                self.reassign(info, via="return approved")

    def dispute_return(self, d: DisputeReturn) -> None:
        returns.dispute(self.t.state, d, self.t.now())
        self.open_consultation(self.dispute_candidates(), f"退单争议: {d.reason}", d.actor.label)

    def dispute_candidates(self) -> list[str]:
        """Who is invited when units dispute a ticket: everyone who has led it, whoever a return
        named, and the sector supervisor; the responsibility list fills up to two."""
        s = self.t.state
        named = [r.suggested_unit for r in s.returns if r.suggested_unit]
        units = [u for u in dict.fromkeys([s.lead_unit, *s.previous_leads, *named, s.supervisor_unit]) if u]
        for extra in s.candidates:
            if len(units) >= 2:
                break
            if extra not in units:
                units.append(extra)
        return units

    # -- consultation --------------------------------------------------------------------------

    def open_consultation(self, candidates: list[str], reason: str, opened_by: str) -> None:
        t, s = self.t, self.t.state
        number = len(s.consultations) + 1
        view = ConsultationView(
            number=number,
            workflow_id=f"{s.workflow_id}-consultation-{number}",
            reason=reason,
            opened_by=opened_by,
            opened_at=t.now(),
            candidates={u: s.name_of(u) for u in candidates},
        )
        s.consultations.append(view)
        s.flag("in_consultation")
        t.record(opened_by, "consultation_opened", reason, number=number, candidates=candidates)
        if t.policy.consultation.clocks == "pause":
            clocks.pause_all(s, t.now())
        self.outbox.background(self._consult(view))

    async def open_now(self, o: OpenConsultation) -> None:
        """一键会商: the center opens a consultation among the units it names."""
        infos = await self.resolve_units(o.candidates)
        self.t.state.unit_names.update({u: i.name for u, i in infos.items()})
        guard(consultation.check_open_consultation, self.t.state, o)
        self.open_consultation(list(infos), o.reason, o.actor.label)

    async def _consult(self, view: ConsultationView) -> None:
        t, s = self.t, self.t.state
        missing = [u for u in view.candidates if view.candidates[u] == u]
        if missing:  # names for candidates the ticket has not met yet
            infos = await self.resolve_units(missing)
            view.candidates.update({u: infos[u].name for u in missing})
            s.unit_names.update({u: infos[u].name for u in missing})
        child = ConsultationInput(
            ticket=s.number,
            parent_workflow_id=s.workflow_id,
            number=view.number,
            candidates=dict(view.candidates),
            reason=view.reason,
            opened_by=view.opened_by,
            opened_at=view.opened_at,
            rule=t.policy.consultation,
            calendar=t.calendar,
        )
        handle = await workflow.start_child_workflow(
            ConsultationWorkflow.run, child, id=view.workflow_id, retry_policy=RetryPolicy(maximum_attempts=1)
        )
        self._consultations[view.number] = handle
        try:
            outcome = await handle
        except (ChildWorkflowError, asyncio.CancelledError):
            return  # cancelled by a ruling, which has settled everything already
        async with self.lock:
            if s.consultations[view.number - 1].status in ("ruled", "cancelled"):
                return
            s.consultations[view.number - 1] = outcome.view
            if outcome.status == "consensus":
                await self._settle_by_consensus(outcome)
            else:
                s.unflag("in_consultation")
                s.flag("awaiting_ruling")
                t.record("system", "ruling_needed", f"no consensus after {len(outcome.view.rounds)} round(s)")
                center = s.escalation_chain[-1] if s.escalation_chain else None
                if center:
                    self.outbox.deliver(center, DeliveryKind.notice, "会商未达成一致，请领导坐诊")
            t.changed()

    async def _settle_by_consensus(self, outcome: ConsultationOutcome) -> None:
        t, s = self.t, self.t.state
        lead = outcome.lead
        assert lead is not None  # consensus names a lead
        if lead != s.lead_unit:
            info = (await self.resolve_units([lead]))[lead]
            self.reassign(info, via="consultation")
        self.add_cooperating({u: s.name_of(u) for u in outcome.cooperating}, via="consultation")
        s.unflag("in_consultation")
        before = s.deadline
        clocks.resume_all(s, t.now(), self._resume_calendar())
        t.note_deadline(before, "clocks resumed after the consultation")
        names = "、".join(s.name_of(u) for u in outcome.cooperating) or "none"
        t.record("system", "consultation_settled", f"lead {s.name_of(lead)}, cooperating {names}", lead=lead)

    def on_progress(self, view: ConsultationView) -> bool:
        """The child's mirror of a consultation: every answer and new round lands in the timeline
        once. False when it no longer concerns the ticket."""
        t, s = self.t, self.t.state
        if not 0 < view.number <= len(s.consultations):
            return False
        mine = s.consultations[view.number - 1]
        if mine.status in ("ruled", "cancelled"):
            return False
        if view.seq and view.seq <= mine.seq:
            return False  # overtaken by a newer mirror already applied
        known = {(r.number, u) for r in mine.rounds for u, a in r.answers.items() if a.answer != "silent"}
        for rnd in view.rounds:
            if rnd.number > len(mine.rounds):
                t.record("system", "consultation_round", f"round {rnd.number} until {rnd.deadline.isoformat()}",
                         number=view.number, round=rnd.number)  # fmt: skip
            for unit, a in rnd.answers.items():
                if (rnd.number, unit) not in known:
                    t.record(unit, f"consultation_{a.answer}", a.reason, unit=unit, round=rnd.number)
        s.consultations[view.number - 1] = view
        return True

    # -- the ruling ------------------------------------------------------------------------------

    async def rule(self, r: IssueRuling) -> None:
        t, s = self.t, self.t.state
        async with self.lock:
            guard(ruling.check_ruling, s, r)
            infos = await self.resolve_units([r.lead, *r.cooperating])
            s.unit_names.update({u: i.name for u, i in infos.items()})
            ruling.record(s, r, t.now())
            view = s.open_consultation
            if view is not None:
                view.status = "ruled"
                handle = self._consultations.get(view.number)
                if handle is not None:
                    handle.cancel()
            s.unflag("in_consultation")
            s.unflag("awaiting_ruling")
            before = s.deadline
            clocks.resume_all(s, t.now(), self._resume_calendar())
            t.note_deadline(before, "clocks resumed after the ruling")
            if r.lead != s.lead_unit:
                self.reassign(infos[r.lead], via="ruling")
            self.add_cooperating({u: infos[u].name for u in r.cooperating}, via="ruling")
            if r.save_as_rule:
                area = s.street_unit if r.area == "street" else s.district_unit
                assert area is not None  # a routed ticket has its street and district
                rule = ResponsibilityRule(
                    category=s.request.category, area=area, lead=r.lead, cooperating=r.cooperating,
                    ticket=s.number, ruled_by=r.actor.label, reason=r.reason,
                )  # fmt: skip
                await calls.save_responsibility_rule(rule)
                t.record("system", "rule_saved", f"{s.request.category} in {s.name_of(area)} → {s.name_of(r.lead)}",
                         area=area, lead=r.lead)  # fmt: skip
