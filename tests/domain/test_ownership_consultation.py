"""Rules of consultation (domain/ownership/consultation.py): the center opens it on an open
ticket, invited units answer once a round, and the pack's consensus rule names the owners."""

from datetime import timedelta

import pytest
from pydantic import ValidationError

from domain.errors import RefusalKind
from domain.ownership.consultation import (
    Answer,
    OpenConsultation,
    check_answer,
    check_open_consultation,
    close_round,
    record_answer,
    settle,
)
from domain.policy import ConsultationRule
from domain.ticket import Actor, ConsultationAnswer, ConsultationRound, ConsultationView, Ruling
from domain.vocabulary import Role, Stage
from tests.factories import NOW, STREET, URBAN, refused, ticket_state, unit

CENTER = Actor(role=Role.center, user="派单员")
MARKET, HOUSING = "qd.dept.market", "qd.dept.housing"


def opening(candidates=(STREET, URBAN), actor=CENTER) -> OpenConsultation:
    return OpenConsultation(actor=actor, candidates=list(candidates), reason="职责不清，一键会商")


def view(*units: str, status="open", rounds=1) -> ConsultationView:
    return ConsultationView(
        number=1, workflow_id="ticket-1-consultation-1", reason="职责不清", opened_by="center", opened_at=NOW,
        candidates={u: u for u in units}, status=status,
        rounds=[ConsultationRound(number=n + 1, deadline=NOW + timedelta(hours=4)) for n in range(rounds)],
    )  # fmt: skip


def answer(v: ConsultationView, who: str, what: str, reason: str = "") -> None:
    a = Answer(actor=unit(who), answer=what, reason=reason)
    check_answer(v, a)
    record_answer(v, a, NOW)


# -- opening -----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.center, Role.leader])
def test_the_center_opens_a_consultation_on_an_open_ticket(role):
    check_open_consultation(ticket_state(Stage.dispatch), opening(actor=Actor(role=role)))


@pytest.mark.parametrize(
    ("s", "o", "kind", "reason"),
    [
        (ticket_state(), opening(actor=unit(STREET)), RefusalKind.forbidden, "only the 12345 center opens"),
        (ticket_state(Stage.callback), opening(), RefusalKind.conflict, "ownership is no longer open"),
        (ticket_state(consultations=[view(STREET, URBAN)]), opening(), RefusalKind.conflict, "already open"),
        (ticket_state(ruling=Ruling(by="leader", at=NOW, lead=STREET, cooperating=[], reason="属地")), opening(),
         RefusalKind.conflict, "already settled"),
        (ticket_state(), opening([STREET, STREET]), RefusalKind.invalid, "at least two different candidate units"),
    ],
)  # fmt: skip
def test_a_consultation_is_refused_with_the_reason(s, o, kind, reason):
    with refused(kind, reason):
        check_open_consultation(s, o)


def test_a_consultation_invites_at_least_two_units():
    with pytest.raises(ValidationError):
        opening([STREET])


# -- answering ---------------------------------------------------------------------------------


def test_each_invited_unit_answers_once_a_round():
    v = view(STREET, URBAN)
    answer(v, URBAN, "lead")
    assert v.rounds[-1].answers[URBAN] == ConsultationAnswer(answer="lead", reason="", at=NOW)
    with refused(RefusalKind.conflict, "already answered round 1"):
        answer(v, URBAN, "cooperating")
    with refused(RefusalKind.forbidden, "only units invited"):
        answer(v, MARKET, "lead")


def test_a_unit_that_declines_says_why():
    v = view(STREET, URBAN)
    with refused(RefusalKind.invalid, "must say why"):
        answer(v, STREET, "decline", reason=" ")
    answer(v, STREET, "decline", reason="不属于街道职责")
    assert v.rounds[-1].answers[STREET].reason == "不属于街道职责"


@pytest.mark.parametrize(("v", "reason"), [(view(STREET, URBAN, status="needs_ruling"), "needs_ruling"),
                                           (view(STREET, URBAN, rounds=0), "not taking answers")])  # fmt: skip
def test_a_settled_or_not_yet_started_consultation_takes_no_answers(v, reason):
    with refused(RefusalKind.conflict, reason):
        answer(v, URBAN, "lead")


def test_who_did_not_answer_by_the_rounds_deadline_is_silent():
    v = view(STREET, URBAN, MARKET)
    answer(v, URBAN, "lead")
    close_round(v)
    assert {u: a.answer for u, a in v.rounds[-1].answers.items()} == {URBAN: "lead", STREET: "silent", MARKET: "silent"}


# -- settling ----------------------------------------------------------------------------------


UNANIMOUS, MAJORITY = ConsultationRule(consensus="unanimous"), ConsultationRule(consensus="majority")


def settled(rule, answers: dict[str, str]):
    v = view(*answers)
    for who, what in answers.items():
        if what != "silent":
            answer(v, who, what, reason="不属于本单位职责" if what == "decline" else "")
    close_round(v)
    return settle(v, rule)


@pytest.mark.parametrize(
    ("rule", "answers", "outcome"),
    [
        (UNANIMOUS, {STREET: "cooperating", URBAN: "lead", MARKET: "decline"}, (URBAN, [STREET])),
        (UNANIMOUS, {STREET: "cooperating", URBAN: "lead", MARKET: "silent"}, (None, [])),  # someone stayed silent
        (UNANIMOUS, {STREET: "lead", URBAN: "lead"}, (None, [])),  # two leads
        (UNANIMOUS, {STREET: "decline", URBAN: "cooperating"}, (None, [])),  # nobody leads
        (MAJORITY, {STREET: "silent", URBAN: "lead", MARKET: "cooperating"}, (URBAN, [MARKET])),  # 2 of 3 answered
        (MAJORITY, {STREET: "silent", URBAN: "lead", MARKET: "cooperating", HOUSING: "silent"}, (None, [])),  # 2 of 4
    ],
)
def test_the_packs_consensus_rule_names_the_lead_and_the_cooperating_units(rule, answers, outcome):
    assert settled(rule, answers) == outcome
