"""Rules of returns and reassignment (domain/ownership/returns.py): the lead says "not ours" in
the pack's window; the center approves (reassign to the next candidate) or rejects; a second
return or a disputed rejection goes to consultation; a ruled unit never returns it."""

from datetime import timedelta

import pytest

from domain.errors import RefusalKind
from domain.ownership.returns import (
    AskReturn,
    DecideReturn,
    DisputeReturn,
    approve,
    ask,
    check_ask,
    check_decide,
    check_dispute,
    dispute,
    next_candidate,
    reassign,
    reject,
    ruled_units,
)
from domain.ticket import Actor, ConsultationView, Cooperation, ReturnRequest, Ruling, UnitInfo
from domain.vocabulary import Role, Stage, Tier
from tests.factories import CENTER, DISTRICT, NOW, STREET, URBAN, refused, ticket_state, unit

REVIEWER = Actor(role=Role.center, user="派单员")
WINDOW = NOW + timedelta(hours=2)
MARKET = "qd.dept.market"


def returning(who: str = STREET, suggested: str | None = None) -> AskReturn:
    return AskReturn(actor=unit(who), reason="占道经营属城管执法职责，非街道职责", suggested_unit=suggested)


def check(s, a=None, window=WINDOW, may_return=True, now=NOW):
    check_ask(s, a or returning(), window, may_return, now)


def asked(s=None, suggested=None):
    s = s or ticket_state(Stage.dispatch, acknowledged_at=None)
    ask(s, returning(suggested=suggested), NOW)
    return s


# -- asking (退单) ----------------------------------------------------------------------------


def test_the_first_return_waits_for_the_centers_review():
    s = ticket_state(Stage.dispatch, acknowledged_at=None)
    check(s, returning(suggested=URBAN))
    req = ask(s, returning(suggested=URBAN), NOW)
    assert (req.status, req.unit, req.suggested_unit) == ("pending", STREET, URBAN)
    assert s.pending_return is req and "return_pending" in s.flags
    assert s.timeline[-1].event == "return_requested" and s.timeline[-1].data["second"] is False


def test_a_second_return_goes_to_consultation_not_to_review():
    s = ticket_state(returns=[ReturnRequest(unit="qd.shinan.yunnanlu", reason="非本街道", at=NOW, status="approved")])
    req = ask(s, returning(), NOW)
    assert req.status == "to_consultation" and s.pending_return is None and "return_pending" not in s.flags
    assert s.timeline[-1].data["second"] is True


@pytest.mark.parametrize(
    ("s", "kwargs", "kind", "reason"),
    [
        (ticket_state(Stage.callback), {}, RefusalKind.conflict, "can no longer be returned"),
        (ticket_state(returns=[ReturnRequest(unit=STREET, reason="x", at=NOW)]), {}, RefusalKind.conflict,
         "already waiting for the center's review"),
        (ticket_state(consultations=[ConsultationView(number=1, workflow_id="c", reason="x", opened_by="center",
                                                      opened_at=NOW, candidates={})]), {},
         RefusalKind.conflict, "being settled in a consultation"),
        (ticket_state(), dict(may_return=False), RefusalKind.forbidden, "首接负责，不予回退"),
        (ticket_state(), dict(now=WINDOW + timedelta(seconds=1)), RefusalKind.conflict, "must be asked for by"),
        (ticket_state(), dict(a=returning(suggested=STREET)), RefusalKind.invalid, "cannot suggest itself"),
        (ticket_state(), dict(a=returning("qd.shinan.yunnanlu")), RefusalKind.forbidden, "does not handle"),
    ],
)  # fmt: skip
def test_a_return_is_refused_with_the_reason(s, kwargs, kind, reason):
    with refused(kind, reason):
        check(s, **kwargs)


def test_without_a_window_a_return_may_come_any_time_and_a_later_lead_may_return_under_longkous_rule():
    check(ticket_state(), window=None, now=NOW + timedelta(days=5))
    reassigned = ticket_state(lead_unit=URBAN, previous_leads=[STREET])  # first-responsible was the street
    check(reassigned, returning(URBAN), may_return=False)


def test_a_ruled_unit_never_returns_the_ticket():
    ruling = Ruling(by="leader:分管副主任", at=NOW, lead=STREET, cooperating=[URBAN], reason="属地负责")
    s = ticket_state(ruling=ruling)
    assert ruled_units(s) == {STREET, URBAN} and ruled_units(ticket_state()) == set()
    with refused(
        RefusalKind.conflict, "ruled: leader:分管副主任 ruled on 2026-11-02 that 八大峡街道 leads this ticket"
    ):
        check(s)


# -- the center's review -----------------------------------------------------------------------


def test_only_the_center_reviews_a_waiting_return_and_an_approval_moves_the_ticket():
    s = asked()
    with refused(RefusalKind.forbidden, "only the 12345 center reviews"):
        check_decide(s, DecideReturn(actor=unit(URBAN), approve=True))
    with refused(RefusalKind.invalid, "must go to another unit"):
        check_decide(s, DecideReturn(actor=REVIEWER, approve=True, reassign_to=STREET))
    check_decide(s, DecideReturn(actor=REVIEWER, approve=False))
    with refused(RefusalKind.conflict, "no return request is waiting"):
        check_decide(ticket_state(), DecideReturn(actor=REVIEWER, approve=False))


def test_the_next_candidate_is_the_suggestion_else_the_first_untried_on_the_list():
    assert next_candidate(asked(suggested=MARKET)) == MARKET
    assert next_candidate(asked()) == URBAN  # the list: 城管局, then 市南区
    tried = asked(ticket_state(Stage.dispatch, previous_leads=[URBAN], acknowledged_at=None), suggested=URBAN)
    assert next_candidate(tried) == DISTRICT  # a suggestion that already had it is passed over
    exhausted = asked(ticket_state(Stage.dispatch, previous_leads=[URBAN, DISTRICT], acknowledged_at=None))
    assert next_candidate(exhausted) is None


def test_an_approval_and_a_rejection_are_recorded_and_the_flag_comes_off():
    s = asked()
    approve(s, DecideReturn(actor=REVIEWER, approve=True), URBAN, NOW)
    r = s.returns[-1]
    assert (r.status, r.reassigned_to, r.decided_by) == ("approved", URBAN, "center:派单员")
    assert "return_pending" not in s.flags and s.timeline[-1].event == "return_approved"
    assert "青岛市城市管理局" in s.timeline[-1].detail
    s = asked()
    reject(s, DecideReturn(actor=REVIEWER, approve=False), NOW)
    assert s.returns[-1].status == "rejected" and "return_pending" not in s.flags
    assert s.timeline[-1].event == "return_rejected" and "八大峡街道 keeps the ticket" in s.timeline[-1].detail


# -- disputing a rejection ---------------------------------------------------------------------


def rejected(**kw):
    s = asked(ticket_state(**kw))
    reject(s, DecideReturn(actor=REVIEWER, approve=False), NOW)
    return s


def test_the_lead_disputes_its_own_rejected_return():
    s = rejected()
    d = DisputeReturn(actor=unit(STREET), reason="确非我单位职责，申请会商")
    check_dispute(s, d)
    dispute(s, d, NOW)
    assert s.returns[-1].status == "disputed" and s.timeline[-1].event == "return_disputed"


def test_only_a_rejected_return_is_disputed_and_not_against_a_ruling():
    d = DisputeReturn(actor=unit(STREET), reason="确非我单位职责")
    with refused(RefusalKind.conflict, "only a rejected return of your own"):
        check_dispute(asked(ticket_state()), d)  # still pending
    with refused(RefusalKind.conflict, "only a rejected return of your own"):
        check_dispute(ticket_state(), d)
    ruling = Ruling(by="leader", at=NOW, lead=STREET, cooperating=[], reason="属地负责")
    with refused(RefusalKind.conflict, "the ruling is binding"):
        check_dispute(rejected(ruling=ruling), d)


# -- reassignment (改派) -----------------------------------------------------------------------


URBAN_INFO = UnitInfo(
    id=URBAN, name="青岛市城市管理局", tier=Tier.city, escalation_chain=[URBAN, CENTER],
    escalation_tiers=[Tier.city, Tier.city], unit_names={URBAN: "青岛市城市管理局", CENTER: "中心"},
)  # fmt: skip


def test_a_reassigned_ticket_is_dispatched_afresh_to_its_new_lead():
    s = ticket_state(escalation_level=1, coordinator_unit=DISTRICT, tier=Tier.district,
                     cooperating={URBAN: Cooperation(unit=URBAN, via="whistle", since=NOW)})  # fmt: skip
    later = NOW + timedelta(hours=1)
    assert reassign(s, URBAN_INFO, "return", later) == STREET
    assert (s.lead_unit, s.previous_leads, s.stage) == (URBAN, [STREET], Stage.dispatch)
    assert (s.escalation_chain, s.escalation_level, s.coordinator_unit, s.tier) == ([URBAN, CENTER], 0, None, Tier.city)
    assert s.acknowledged_at is None and s.dispatched_at == later  # the new lead must sign for it
    assert URBAN not in s.cooperating  # it no longer cooperates on what it now leads
    e = s.timeline[-1]
    assert (e.event, e.data["unit"], e.data["previous"], e.data["via"]) == ("reassigned", URBAN, STREET, "return")


def test_a_rehandle_stays_a_rehandle_when_it_changes_hands():
    s = ticket_state(Stage.rehandle)
    reassign(s, URBAN_INFO, "ruling", NOW)
    assert s.stage == Stage.rehandle and s.lead_unit == URBAN
