"""Rules of the ruling (domain/ownership/ruling.py): a center leader names the lead and the
cooperating units, bindingly, once."""

import pytest

from domain.errors import RefusalKind
from domain.ownership.ruling import IssueRuling, check_ruling, record
from domain.ticket import Actor, Ruling
from domain.vocabulary import Role, Stage
from tests.factories import NOW, STREET, URBAN, refused, ticket_state

LEADER = Actor(role=Role.leader, user="分管副主任")


def ruling(lead=STREET, cooperating=(URBAN,), actor=LEADER, **kw) -> IssueRuling:
    return IssueRuling(actor=actor, lead=lead, cooperating=list(cooperating), reason="按属地和行业职责确定", **kw)


def test_a_leader_rules_and_the_ruling_binds_the_ticket():
    s = ticket_state(Stage.dispatch)
    r = ruling(save_as_rule=True)
    check_ruling(s, r)
    saved = record(s, r, NOW)
    assert s.ruling is saved and (saved.by, saved.at) == ("leader:分管副主任", NOW)
    assert (saved.lead, saved.cooperating) == (STREET, [URBAN])
    assert saved.saved_as_rule and "ruled" in s.flags
    e = s.timeline[-1]
    assert e.event == "ruled" and e.detail == "lead 八大峡街道, cooperating 青岛市城市管理局: 按属地和行业职责确定"
    assert (e.data["lead"], e.data["cooperating"]) == (STREET, [URBAN])


def test_a_unit_named_twice_cooperates_once():
    s = ticket_state()
    record(s, ruling(cooperating=[URBAN, "qd.dept.market", URBAN]), NOW)
    assert s.ruling.cooperating == [URBAN, "qd.dept.market"]


def test_a_ruling_without_cooperating_units_says_none():
    s = ticket_state()
    record(s, ruling(cooperating=[]), NOW)
    assert "cooperating none" in s.timeline[-1].detail and s.ruling.cooperating == []


@pytest.mark.parametrize(
    ("s", "r", "kind", "reason"),
    [
        (ticket_state(), ruling(actor=Actor(role=Role.center)), RefusalKind.forbidden, "only a center leader"),
        (ticket_state(Stage.closed), ruling(), RefusalKind.conflict, "is closed"),
        (ticket_state(Stage.callback), ruling(), RefusalKind.conflict, "ownership is no longer open"),
        (ticket_state(ruling=Ruling(by="leader", at=NOW, lead=URBAN, cooperating=[], reason="行业负责")), ruling(),
         RefusalKind.conflict, "already has a binding ruling"),
        (ticket_state(), ruling(cooperating=[STREET]), RefusalKind.invalid, "cannot also be a cooperating unit"),
    ],
)  # fmt: skip
def test_a_ruling_is_refused_with_the_reason(s, r, kind, reason):
    with refused(kind, reason):
        check_ruling(s, r)
