"""Rules of merging (domain/intake/merge.py): a repeat of an open ticket joins it, counts once per
intake key, and the pack's n-th repeat puts the ticket under supervision."""

from datetime import timedelta

import pytest

from domain.errors import RefusalKind
from domain.intake.merge import MergeAppeal, address_key, already_merged, check_merge, merge
from domain.ticket import Actor, Citizen
from domain.vocabulary import Channel, Role, Stage
from tests.factories import NOW, refused, ticket_state

DESK = Actor(role=Role.intake, user="desk")


def repeat(n: int, channel: Channel = Channel.phone) -> MergeAppeal:
    return MergeAppeal(actor=DESK, key=f"k{n}", channel=channel, citizen=Citizen(name="李", phone="13900000000"),
                       description="工地夜间施工噪音又来了")  # fmt: skip


def test_the_same_place_written_differently_is_one_address():
    assert address_key("qd.shibei.taidong", "威海路 与延安三路交叉口。") == address_key(
        "qd.shibei.taidong", "威海路与延安三路交叉口"
    )
    assert address_key("qd.shibei.taidong", "") is None
    assert address_key("qd.shibei.taidong", "威海路") != address_key("qd.shibei.dengzhoulu", "威海路")  # another street
    assert address_key(None, "威海路") is None  # a text without its street is too vague


def test_the_third_repeat_puts_the_ticket_under_supervision():
    s = ticket_state(Stage.handling)
    results = [merge(s, repeat(n), NOW + timedelta(hours=n), supervise_at_repeat=3) for n in range(4)]
    assert results == [False, False, True, False]  # the fourth repeat is already supervised
    assert {"supervised", "repeated"} <= set(s.flags) and len(s.appeals) == 4
    assert [e.event for e in s.timeline] == ["merged", "merged", "merged", "supervision", "merged"]
    assert s.timeline[2].data == {"channel": "phone", "repeat": 3}


def test_a_city_may_supervise_at_an_earlier_repeat_and_the_appeal_keeps_who_and_how():
    s = ticket_state(Stage.dispatch)
    assert merge(s, repeat(1, Channel.wechat), NOW, supervise_at_repeat=1) is True
    a = s.appeals[0]
    assert (a.key, a.channel, a.by, a.at, a.citizen.phone) == ("k1", Channel.wechat, "intake:desk", NOW, "13900000000")


def test_a_retried_merge_is_recognised_by_its_key():
    s = ticket_state()
    merge(s, repeat(1), NOW, supervise_at_repeat=3)
    assert already_merged(s, "k1") and not already_merged(s, "k2")


@pytest.mark.parametrize("stage", [Stage.dispatch, Stage.handling, Stage.rehandle, Stage.callback])
def test_a_repeat_joins_a_ticket_that_is_dispatched_and_open(stage):
    check_merge(ticket_state(stage))


@pytest.mark.parametrize(
    ("stage", "reason"),
    [(Stage.closed, "is closed"), (Stage.intake, "not dispatched yet"), (Stage.follow_up, "transferred again")],
)
def test_a_repeat_does_not_join_a_closed_undispatched_or_transferred_ticket(stage, reason):
    with refused(RefusalKind.conflict, reason):
        check_merge(ticket_state(stage))
