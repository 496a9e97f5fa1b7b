"""Rules of handling (domain/handling.py): who acknowledges, reports progress and completes, in
which stage, and what each action does to the ticket and its clocks."""

from datetime import timedelta

import pytest

from domain.errors import RefusalKind
from domain.handling import (
    Complete,
    ProgressNote,
    ReportPart,
    acknowledge,
    check_acknowledge,
    check_complete,
    check_open,
    check_progress,
    check_report,
    complete,
    meet,
    progress,
    report,
)
from domain.policy import ClockName
from domain.ticket import Actor, Clock, ConsultationView, Cooperation, ReturnRequest, clock_key
from domain.vocabulary import HandlingResult, Role, Stage
from tests.factories import DISTRICT, NOW, STREET, URBAN, refused, ticket_state, unit

LATER = NOW + timedelta(hours=1)
ENVIRONMENT = "qd.dept.environment"


def clock(name: ClockName, unit_id: str | None = None) -> Clock:
    return Clock(name=name, unit=unit_id, limit="1d", started_at=NOW, due_at=NOW + timedelta(days=1), warn_at=NOW)


def clocks(*names: ClockName) -> dict[str, Clock]:
    return {clock_key(n): clock(n) for n in names}


def summoned(s, unit_id=ENVIRONMENT, acknowledged=False, reported=False):
    s.cooperating[unit_id] = Cooperation(
        unit=unit_id, via="whistle", since=NOW, acknowledged_at=NOW if acknowledged else None,
        report="已完成环境监测" if reported else None,
    )  # fmt: skip
    s.clocks[clock_key(ClockName.report, unit_id)] = clock(ClockName.report, unit_id)
    return s


@pytest.mark.parametrize(("stage", "reason"), [(Stage.closed, "is closed"), (Stage.follow_up, "emergency service")])
def test_nothing_is_done_on_a_closed_or_transferred_ticket(stage, reason):
    with refused(RefusalKind.conflict, reason):
        check_open(ticket_state(stage))


# -- acknowledge (签收) ------------------------------------------------------------------------


def test_the_lead_acknowledges_a_dispatched_ticket_and_handling_begins():
    s = ticket_state(Stage.dispatch, clocks=clocks(ClockName.acknowledge, ClockName.completion))
    check_acknowledge(s, unit(STREET))
    acknowledge(s, unit(STREET), LATER)
    assert (s.stage, s.acknowledged_at) == (Stage.handling, LATER)
    assert s.clocks["acknowledge"].met_at == LATER and s.clocks["completion"].met_at is None
    assert s.timeline[-1].event == "acknowledged" and "八大峡街道" in s.timeline[-1].detail


def test_a_rehandle_round_is_acknowledged_and_stays_a_rehandle():
    s = ticket_state(Stage.rehandle)
    check_acknowledge(s, unit(STREET))
    acknowledge(s, unit(STREET), LATER)
    assert (s.stage, s.acknowledged_at) == (Stage.rehandle, LATER)


def test_another_unit_or_role_may_not_acknowledge_and_the_refusal_names_the_lead():
    s = ticket_state(Stage.dispatch)
    with refused(RefusalKind.forbidden, "does not handle ticket 20261102000001; it is led by 八大峡街道"):
        check_acknowledge(s, unit("qd.shinan.yunnanlu"))
    with refused(RefusalKind.forbidden, "only a handling unit"):
        check_acknowledge(s, Actor(role=Role.center, user="x"))


@pytest.mark.parametrize("stage", [Stage.handling, Stage.callback])
def test_a_ticket_is_acknowledged_once(stage):
    with refused(RefusalKind.conflict, "already acknowledged"):
        check_acknowledge(ticket_state(stage), unit(STREET))


def test_there_is_nothing_to_acknowledge_outside_dispatch_and_rehandle():
    with refused(RefusalKind.conflict, "nothing to acknowledge"):
        check_acknowledge(ticket_state(Stage.callback, acknowledged_at=None), unit(STREET))


def test_a_ticket_still_being_routed_asks_the_unit_to_retry():
    with refused(RefusalKind.conflict, "being dispatched"):
        check_acknowledge(ticket_state(Stage.intake), unit(STREET))


def test_a_summoned_department_reports_for_duty_once_and_its_report_clock_is_met():
    s = summoned(ticket_state())
    check_acknowledge(s, unit(ENVIRONMENT))
    acknowledge(s, unit(ENVIRONMENT), LATER)
    assert s.cooperating[ENVIRONMENT].acknowledged_at == LATER
    assert s.clocks[f"report:{ENVIRONMENT}"].met_at == LATER
    assert s.acknowledged_at == NOW and s.timeline[-1].event == "reported"  # the lead's sign-for is untouched
    with refused(RefusalKind.conflict, "already reported"):
        check_acknowledge(s, unit(ENVIRONMENT))


# -- progress ------------------------------------------------------------------------------


def test_progress_meets_the_first_feedback_and_a_contact_meets_the_contact_clock():
    s = ticket_state(clocks=clocks(ClockName.first_feedback, ClockName.contact))
    check_progress(s, unit(STREET))
    progress(s, ProgressNote(actor=unit(STREET), note="已到现场查看"), LATER)
    assert s.clocks["first_feedback"].met_at == LATER and s.clocks["contact"].met_at is None
    progress(
        s, ProgressNote(actor=unit(STREET), note="已电话联系诉求人", contacted_citizen=True), LATER + timedelta(hours=1)
    )
    assert s.clocks["contact"].met_at == LATER + timedelta(hours=1)
    assert s.clocks["first_feedback"].met_at == LATER  # met once, not moved
    assert [e.event for e in s.timeline] == ["progress", "progress"] and s.timeline[-1].data["contacted_citizen"]


def test_progress_needs_the_acknowledgement_and_the_coordinator_may_report_it_too():
    with refused(RefusalKind.conflict, "must be acknowledged before progress"):
        check_progress(ticket_state(Stage.dispatch), unit(STREET))
    check_progress(ticket_state(coordinator_unit=DISTRICT, escalation_level=1), unit(DISTRICT))
    with refused(RefusalKind.forbidden, "does not handle"):
        check_progress(ticket_state(), unit(DISTRICT))  # not escalated: the district is not a handler


# -- complete (办结) -------------------------------------------------------------------------


def completion(unit_id=STREET, parts=None) -> Complete:
    return Complete(actor=unit(unit_id), result=HandlingResult.resolved, reply="已取缔占道烧烤摊", parts_done=parts)


def test_completion_records_the_reply_meets_every_clock_and_counts_the_reported_parts():
    s = summoned(summoned(ticket_state(clocks=clocks(ClockName.completion, ClockName.contact)), reported=True,
                          acknowledged=True), unit_id=URBAN, acknowledged=True)  # fmt: skip
    check_complete(s, unit(STREET))
    complete(s, completion(), LATER)
    assert (s.completion.unit, s.completion.result, s.completion.reply) == (
        STREET,
        HandlingResult.resolved,
        "已取缔占道烧烤摊",
    )
    assert s.completion.parts_done == [ENVIRONMENT]  # 城管局 has not reported its part
    assert all(c.met_at == LATER for c in s.clocks.values())
    assert s.timeline[-1].event == "completed" and s.timeline[-1].data["result"] == "resolved"


def test_the_lead_may_name_the_parts_done_itself_but_only_of_cooperating_units():
    s = summoned(ticket_state(), acknowledged=True)
    complete(s, completion(parts=[ENVIRONMENT]), LATER)
    assert s.completion.parts_done == [ENVIRONMENT]
    with refused(RefusalKind.invalid, "not cooperating units of this ticket: qd.dept.market"):
        check_complete(summoned(ticket_state()), unit(STREET), parts_done=["qd.dept.market", ENVIRONMENT])


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (dict(stage=Stage.dispatch), "must be acknowledged before it is completed"),
        (dict(stage=Stage.callback), "already completed"),
        (dict(returns=[ReturnRequest(unit=STREET, reason="非本单位职责", at=NOW)]), "return request is waiting"),
        (dict(consultations=[ConsultationView(number=1, workflow_id="c", reason="职责不清", opened_by="center",
                                              opened_at=NOW, candidates={})]), "being settled in a consultation"),
    ],
)  # fmt: skip
def test_completion_waits_for_the_acknowledgement_a_return_review_and_a_consultation(change, reason):
    with refused(RefusalKind.conflict, reason):
        check_complete(ticket_state(**change), unit(STREET))


# -- a cooperating unit's part (协办反馈) ----------------------------------------------------


def test_a_cooperating_unit_reports_its_part_once_it_has_reported_for_duty():
    s = summoned(ticket_state())
    r = ReportPart(actor=unit(ENVIRONMENT), report="已完成油烟检测，超标已责令整改")
    with refused(RefusalKind.conflict, "acknowledge (report for duty) before"):
        check_report(s, r)
    s.cooperating[ENVIRONMENT].acknowledged_at = NOW
    check_report(s, r)
    report(s, r, LATER)
    assert (s.cooperating[ENVIRONMENT].report, s.cooperating[ENVIRONMENT].reported_at) == (r.report, LATER)
    assert s.timeline[-1].event == "part_reported" and s.timeline[-1].data["unit"] == ENVIRONMENT


def test_only_a_cooperating_unit_reports_a_part_and_only_while_the_ticket_is_handled():
    with refused(RefusalKind.forbidden, "only cooperating units"):
        check_report(ticket_state(), ReportPart(actor=unit(STREET), report="已处理"))
    s = summoned(ticket_state(Stage.callback), acknowledged=True)
    with refused(RefusalKind.conflict, "the handling is over"):
        check_report(s, ReportPart(actor=unit(ENVIRONMENT), report="已处理"))


def test_a_met_clock_keeps_the_moment_it_was_met():
    s = ticket_state(clocks=clocks(ClockName.completion))
    meet(s, "completion", NOW)
    meet(s, "completion", LATER)
    meet(s, "no-such-clock", LATER)
    assert s.clocks["completion"].met_at == NOW
