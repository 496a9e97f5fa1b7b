"""Rules of extensions (domain/deadlines/extension.py): asked for by the handler before the
deadline, within the pack's number and length, decided by the center."""

from datetime import timedelta

import pytest

from domain.deadlines.extension import AskExtension, DecideExtension, ask, check_ask, check_decide, decide
from domain.errors import RefusalKind
from domain.policy import ClockName, ExtensionRule
from domain.ticket import Actor, Clock, ExtensionRequest
from domain.vocabulary import Role, Stage
from tests.factories import DISTRICT, NOW, STREET, refused, ticket_state, unit

RULE = ExtensionRule(max_count=1, max_each="7d")
CENTER = Actor(role=Role.center, user="派单员")
DUE = NOW + timedelta(days=7)


def handling(**kw):
    warn = NOW + timedelta(days=5)
    completion = Clock(name=ClockName.completion, limit="7d", started_at=NOW, due_at=DUE, warn_at=warn)
    return ticket_state(clocks={"completion": completion}, **kw)


def asking(by: str, who: str = STREET) -> AskExtension:
    return AskExtension(actor=unit(who), by=by, reason="需协调产权单位，工期较长")


def test_the_handler_asks_in_time_and_the_request_waits_for_the_center():
    s = handling()
    check_ask(s, asking("3d"), RULE, NOW + timedelta(days=1))
    ask(s, asking("3d"), NOW + timedelta(days=1))
    req = s.pending_extension
    assert (req.unit, req.by, req.decision) == (STREET, "3d", None)
    assert s.timeline[-1].event == "extension_requested" and s.timeline[-1].detail.startswith("+3d")


def test_the_coordinator_of_an_escalated_ticket_may_ask_too():
    check_ask(handling(coordinator_unit=DISTRICT, escalation_level=1), asking("3d", DISTRICT), RULE, NOW)


@pytest.mark.parametrize(
    ("s", "at", "reason"),
    [
        (ticket_state(), NOW, "no running deadline"),
        (handling(stage=Stage.callback), NOW, "no running deadline"),
        (handling(), DUE, "has passed"),
        (handling(extensions=[ExtensionRequest(unit=STREET, by="2d", reason="x", at=NOW)]), NOW, "already waiting"),
        (handling(extensions=[ExtensionRequest(unit=STREET, by="2d", reason="x", at=NOW, decision="approved")]), NOW,
         "allows 1 extension(s) per ticket; 1 already granted"),
    ],
)  # fmt: skip
def test_an_extension_is_asked_for_a_running_deadline_before_it_once_at_a_time_within_the_count(s, at, reason):
    with refused(RefusalKind.conflict, reason):
        check_ask(s, asking("3d"), RULE, at)


def test_a_rejected_request_does_not_use_up_the_count():
    s = handling(extensions=[ExtensionRequest(unit=STREET, by="2d", reason="x", at=NOW, decision="rejected")])
    check_ask(s, asking("3d"), RULE, NOW)


@pytest.mark.parametrize(
    ("by", "ok"), [("7d", True), ("168h", True), ("5wd", True), ("8d", False), ("6wd", False), ("0h", False)]
)
def test_the_length_is_compared_with_the_packs_cap_working_days_as_calendar_weeks(by, ok):
    if ok:
        check_ask(handling(), asking(by), RULE, NOW)
        return
    with refused(RefusalKind.invalid, "must add some time" if by == "0h" else f"at most 7d; asked for {by}"):
        check_ask(handling(), asking(by), RULE, NOW)


def test_another_unit_may_not_ask():
    with refused(RefusalKind.forbidden, "does not handle"):
        check_ask(handling(), asking("3d", "qd.shinan.yunnanlu"), RULE, NOW)


def test_the_center_decides_and_the_decision_is_recorded():
    s = handling()
    ask(s, asking("3d"), NOW)
    d = DecideExtension(actor=CENTER, approve=True, note="同意延期3天")
    check_decide(s, d)
    req = decide(s, d, NOW + timedelta(hours=2))
    assert (req.decision, req.decided_by, req.note) == ("approved", "center:派单员", "同意延期3天")
    assert req.decided_at == NOW + timedelta(hours=2)
    assert s.pending_extension is None and s.timeline[-1].event == "extension_approved"
    assert s.flat().extension_count == 1
    ask(s, asking("2d"), NOW)
    decide(s, DecideExtension(actor=CENTER, approve=False), NOW)
    assert s.extensions[-1].decision == "rejected" and s.timeline[-1].event == "extension_rejected"
    assert s.timeline[-1].detail == "+2d"  # without a note the request itself is shown


def test_only_the_center_decides_and_only_a_waiting_request():
    s = handling()
    ask(s, asking("3d"), NOW)
    with refused(RefusalKind.forbidden, "only the 12345 center decides"):
        check_decide(s, DecideExtension(actor=unit(STREET), approve=True))
    with refused(RefusalKind.conflict, "no extension request is waiting"):
        check_decide(handling(), DecideExtension(actor=CENTER, approve=True))
