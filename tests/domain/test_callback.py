"""Rules of the callback (domain/callback.py): who records the citizen's answer, when a citizen
may rate online, and what the record says."""

from datetime import timedelta

import pytest

from domain.callback import answer_of_round, check_online, check_record, record
from domain.errors import RefusalKind
from domain.ticket import Actor, CallbackAnswer
from domain.vocabulary import Role, Satisfaction, Stage
from tests.factories import NOW, STREET, refused, ticket_state, unit

OPERATOR = Actor(role=Role.center, user="回访员")
SATISFIED = CallbackAnswer(reached=True, resolved=True, satisfaction=Satisfaction.satisfied, comment="处理及时")


@pytest.mark.parametrize("role", [Role.center, Role.intake, Role.supervisor])
def test_the_center_records_a_callback_on_a_ticket_waiting_for_one(role):
    check_record(ticket_state(Stage.callback), Actor(role=role, user="x"))


def test_a_unit_never_records_its_own_callback():
    with refused(RefusalKind.forbidden, "only the 12345 center"):
        check_record(ticket_state(Stage.callback), unit(STREET))


@pytest.mark.parametrize(
    ("stage", "reason"), [(Stage.handling, "not waiting for a callback"), (Stage.closed, "is closed")]
)
def test_no_callback_before_completion_or_after_the_close(stage, reason):
    with refused(RefusalKind.conflict, reason):
        check_record(ticket_state(stage), OPERATOR)


def test_a_second_answer_in_the_round_is_refused_while_the_first_is_acted_on():
    """A retried call (its reply waited for a callback request still being tried) counts once;
    a "not reached" attempt can still be noted beside it."""
    s = ticket_state(Stage.callback)
    check_record(s, OPERATOR, SATISFIED)
    record(s, OPERATOR.label, SATISFIED, attempt=1, now=NOW)
    with refused(RefusalKind.conflict, "already has the citizen's answer"):
        check_record(s, OPERATOR, SATISFIED)
    check_record(s, OPERATOR, CallbackAnswer(reached=False))


def test_the_answer_is_recorded_for_the_current_round_with_what_the_citizen_said():
    s = ticket_state(Stage.callback, rehandle_round=1)
    rec = record(s, OPERATOR.label, SATISFIED, attempt=2, now=NOW)
    assert s.callbacks == [rec] and (rec.round, rec.attempt, rec.by, rec.online) == (1, 2, "center:回访员", False)
    e = s.timeline[-1]
    assert e.event == "callback_answered" and e.detail == "resolved=yes, satisfied: 处理及时"
    assert (e.data["resolved"], e.data["satisfaction"]) == (True, "satisfied")


def test_an_unreached_citizen_and_an_online_rating_have_their_own_events():
    s = ticket_state(Stage.callback)
    record(s, OPERATOR.label, CallbackAnswer(reached=False), attempt=1, now=NOW)
    assert s.timeline[-1].event == "callback_unreached" and "attempt 1" in s.timeline[-1].detail
    unsatisfied = CallbackAnswer(reached=True, resolved=False, satisfaction=Satisfaction.unsatisfied)
    rec = record(s, "citizen", unsatisfied, attempt=1, now=NOW, online=True)
    assert rec.online and s.timeline[-1].event == "rated_online" and s.timeline[-1].detail == "resolved=no, unsatisfied"


def test_the_citizen_rates_online_once_per_round_and_only_once_answered():
    with refused(RefusalKind.conflict, "once it has been answered"):
        check_online(ticket_state(Stage.handling))
    s = ticket_state(Stage.callback)
    record(s, OPERATOR.label, CallbackAnswer(reached=False), attempt=1, now=NOW)
    check_online(s)  # not reached is no answer
    record(s, "citizen", SATISFIED, attempt=1, now=NOW, online=True)
    with refused(RefusalKind.conflict, "already been rated"):
        check_online(s)
    s.rehandle_round = 1  # sent back and answered again: a new round, a new rating
    check_online(s)


def test_the_answer_of_the_round_is_the_last_reached_one_of_this_round():
    s = ticket_state(Stage.callback)
    assert answer_of_round(s) is None
    first = record(s, OPERATOR.label, SATISFIED, attempt=1, now=NOW)
    record(s, OPERATOR.label, CallbackAnswer(reached=False), attempt=2, now=NOW + timedelta(hours=8))
    assert answer_of_round(s) is first
    s.rehandle_round = 1
    assert answer_of_round(s) is None
