"""Following up an emergency transfer (domain/emergency.py): the center records what 110 / 119 /
120 / 122 did, and the follow-up flags come off."""

import pytest

from domain.emergency import RecordFollowUp, check_follow_up, follow_up
from domain.errors import RefusalKind
from domain.ticket import Actor
from domain.vocabulary import Role, Stage
from tests.factories import NOW, STREET, refused, ticket_state, unit

CENTER = Actor(role=Role.center, user="值班长")


def transferred():
    flags = ["follow_up", "follow_up_overdue"]
    return ticket_state(Stage.follow_up, flags=flags, transfer_reference="119-20261102-0042")


@pytest.mark.parametrize("role", [Role.center, Role.supervisor])
def test_the_center_records_the_follow_up_of_a_transfer(role):
    check_follow_up(transferred(), RecordFollowUp(actor=Actor(role=role), handled=True, note="已出警处置完毕"))


def test_only_the_center_records_it_and_only_for_a_transfer_waiting_for_it():
    with refused(RefusalKind.forbidden, "only the 12345 center"):
        check_follow_up(transferred(), RecordFollowUp(actor=unit(STREET), handled=True, note="已处置"))
    with refused(RefusalKind.conflict, "not an emergency transfer waiting for its follow-up"):
        check_follow_up(ticket_state(Stage.handling), RecordFollowUp(actor=CENTER, handled=True, note="已处置"))


def test_a_handled_transfer_is_followed_up_and_no_longer_flagged():
    s = transferred()
    follow_up(s, RecordFollowUp(actor=CENTER, handled=True, note="119已出警，明火已扑灭"), NOW)
    f = s.follow_up
    assert (f.handled, f.note, f.by, f.at) == (True, "119已出警，明火已扑灭", "center:值班长", NOW)
    assert s.flags == [] and not s.overdue
    e = s.timeline[-1]
    assert (e.event, e.data["handled"], e.data["reference"]) == ("followed_up", True, "119-20261102-0042")


def test_a_transfer_sent_back_as_a_hotline_matter_is_recorded_as_such():
    s = transferred()
    follow_up(s, RecordFollowUp(actor=CENTER, handled=False, note="非警务警情，转回12345"), NOW)
    assert s.follow_up.handled is False and s.timeline[-1].event == "sent_back_by_emergency_service"
