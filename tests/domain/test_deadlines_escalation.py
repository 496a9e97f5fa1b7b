"""Rules of the actions around deadlines (domain/deadlines/escalation.py): the street's whistle
(吹哨), a request to escalate (提级), and urging (督办)."""

import pytest

from domain.deadlines.escalation import (
    EscalationRequest,
    UrgeAction,
    Whistle,
    check_escalation_request,
    check_urge,
    check_whistle,
    urge,
    whistle,
)
from domain.errors import RefusalKind
from domain.ticket import Actor, Cooperation
from domain.vocabulary import Role, Stage, Tier
from tests.factories import CENTER, DISTRICT, NOW, STREET, URBAN, refused, ticket_state, unit

ENVIRONMENT = {"qd.dept.environment": "青岛市生态环境局"}
URBAN_NAMED = {URBAN: "青岛市城市管理局"}


def summon(units: dict[str, str], by: str = STREET) -> Whistle:
    return Whistle(actor=unit(by), units=units, reason="需要相关部门联合执法")


# -- the whistle (吹哨报到) ---------------------------------------------------------------------


def test_the_street_summons_departments_who_then_cooperate():
    s = ticket_state()
    w = summon(URBAN_NAMED | ENVIRONMENT)
    check_whistle(s, w)
    whistle(s, w, NOW)
    assert set(s.cooperating) == {URBAN, "qd.dept.environment"}
    assert all(c.via == "whistle" and c.since == NOW and c.acknowledged_at is None for c in s.cooperating.values())
    assert s.name_of("qd.dept.environment") == "青岛市生态环境局"
    assert s.timeline[-1].event == "whistled" and s.timeline[-1].data["units"] == sorted(w.units)


def test_only_a_street_office_leading_the_ticket_whistles():
    utility = ticket_state(lead_unit="qd.util.water", escalation_chain=["qd.util.water", CENTER],
                           escalation_tiers=[Tier.city, Tier.city])  # fmt: skip
    with refused(RefusalKind.forbidden, "only a street office"):
        check_whistle(utility, summon(URBAN_NAMED, by="qd.util.water"))
    with refused(RefusalKind.forbidden, "does not handle"):
        check_whistle(ticket_state(), summon(URBAN_NAMED, by="qd.shinan.yunnanlu"))


@pytest.mark.parametrize(
    ("s", "units", "kind", "reason"),
    [
        (ticket_state(Stage.dispatch), URBAN_NAMED, RefusalKind.conflict, "acknowledge ticket"),
        (ticket_state(), {}, RefusalKind.invalid, "at least one department"),
        (ticket_state(), {STREET: "八大峡街道"}, RefusalKind.invalid, "cannot summon itself"),
        (ticket_state(cooperating={URBAN: Cooperation(unit=URBAN, via="whistle", since=NOW)}),
         URBAN_NAMED | ENVIRONMENT,
         RefusalKind.conflict, "already cooperating on ticket 20261102000001: qd.dept.urban"),
    ],
)  # fmt: skip
def test_a_whistle_needs_the_acknowledgement_and_someone_new_to_summon(s, units, kind, reason):
    with refused(kind, reason):
        check_whistle(s, summon(units))


# -- asking to escalate (提级) ----------------------------------------------------------------


def ask(actor: Actor) -> EscalationRequest:
    return EscalationRequest(actor=actor, reason="涉及多个部门，街道无法协调")


def test_the_street_asks_to_escalate_where_the_city_allows_it():
    check_escalation_request(ticket_state(), ask(unit(STREET)), street_may_request=True, can_escalate=True)
    with refused(RefusalKind.forbidden, "only the center escalates"):
        check_escalation_request(ticket_state(), ask(unit(STREET)), street_may_request=False, can_escalate=True)


def test_the_street_asks_once_then_the_center_takes_it_further():
    coordinated = ticket_state(escalation_level=1, coordinator_unit=DISTRICT, tier=Tier.district)
    with refused(RefusalKind.conflict, "already coordinated by 市南区"):
        check_escalation_request(coordinated, ask(unit(STREET)), street_may_request=True, can_escalate=True)
    check_escalation_request(coordinated, ask(Actor(role=Role.center)), street_may_request=True, can_escalate=True)
    with refused(RefusalKind.conflict, "already coordinated at the city tier"):
        check_escalation_request(coordinated, ask(Actor(role=Role.supervisor)), True, can_escalate=False)


@pytest.mark.parametrize(
    ("actor", "kind", "reason"),
    [(unit("qd.shinan.yunnanlu"), RefusalKind.forbidden, "does not handle"),
     (Actor(role=Role.intake, user="desk"), RefusalKind.forbidden, "role intake may not escalate")],
)  # fmt: skip
def test_nobody_else_escalates(actor, kind, reason):
    with refused(kind, reason):
        check_escalation_request(ticket_state(), ask(actor), street_may_request=True, can_escalate=True)


def test_a_completed_ticket_has_nothing_to_escalate():
    with refused(RefusalKind.conflict, "nothing to escalate"):
        check_escalation_request(ticket_state(Stage.callback), ask(Actor(role=Role.center)), True, True)


# -- urging (督办) ---------------------------------------------------------------------------


@pytest.mark.parametrize("actor", [unit(URBAN), Actor(role=Role.supervisor, user="督办科"), Actor(role=Role.center)])
def test_the_sector_supervisor_and_the_center_urge_and_each_urge_counts(actor):
    s = ticket_state(Stage.dispatch)
    u = UrgeAction(actor=actor, note="请尽快办理并反馈")
    check_urge(s, u)
    urge(s, u, NOW)
    urge(s, u, NOW)
    assert len(s.urges) == 2 and s.urges[0].by == actor.label and "urged" in s.flags
    assert s.timeline[-1].event == "urged" and s.timeline[-1].data["count"] == 2


def test_another_unit_may_not_urge_and_a_completed_ticket_is_not_urged():
    with refused(RefusalKind.forbidden, "only the sector supervisor"):
        check_urge(ticket_state(), UrgeAction(actor=unit("qd.dept.housing"), note="请尽快办理"))
    with refused(RefusalKind.forbidden, "only the sector supervisor"):
        check_urge(ticket_state(), UrgeAction(actor=unit(STREET), note="请尽快办理"))  # the lead urges nobody
    with refused(RefusalKind.conflict, "nothing to urge"):
        check_urge(ticket_state(Stage.callback), UrgeAction(actor=Actor(role=Role.center), note="请尽快办理"))
