"""Realistic tickets for tests."""

import contextlib
import itertools
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from domain.errors import Refusal, RefusalKind
from domain.ticket import Actor, Address, Citizen, TicketInput, TicketRequest, TicketState
from domain.vocabulary import Channel, Kind, Role, Stage, Tier, Urgency

_numbers = itertools.count(1)


def request(**overrides) -> TicketRequest:
    base = dict(
        channel=Channel.phone,
        kind=Kind.complaint,
        citizen=Citizen(name="王女士", phone="13800138000"),
        description="小区楼下烧烤摊占道经营，油烟和噪音扰民，晚上十二点还在营业",
        category="urban.street_vendor",
        address=Address(district="市南区", street="八大峡街道", text="团岛二路12号楼下"),
        urgency=Urgency.normal,
    )
    base.update(overrides)
    return TicketRequest(**base)


def ticket_input(received_at: datetime | None = None, policy_pack: str | None = None, **overrides) -> TicketInput:
    n = next(_numbers)
    return TicketInput(
        number=f"T{datetime.now().strftime('%H%M%S')}{n:05d}",
        request=request(**overrides),
        received_at=received_at or datetime.now(UTC),
        policy_pack=policy_pack,
    )


# -- a ticket's live state, for the rules in domain/ -------------------------------------------

# Monday 2 November 2026, 09:00 in Beijing: an ordinary working morning.
NOW = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
STREET = "qd.shinan.badaxia"  # 八大峡街道: the street office of the address leads
DISTRICT = "qd.shinan"  # 市南区
CENTER = "qd.center"
URBAN = "qd.dept.urban"  # 市城管局: the sector supervisor of street vendors, gets the copy
NAMES = {STREET: "八大峡街道", DISTRICT: "市南区", CENTER: "青岛市市民诉求解决推进中心", URBAN: "青岛市城市管理局"}


def ticket_state(stage: Stage = Stage.handling, **overrides) -> TicketState:
    """A street-vendor complaint routed as Qingdao routes it (八大峡街道 leads, 城管局 supervises),
    in `stage`: acknowledged once it is being handled."""
    base = dict(
        number="20261102000001",
        workflow_id="ticket-20261102000001",
        request=request(),
        received_at=NOW,
        stage=stage,
        tier=Tier.street,
        lead_unit=STREET,
        supervisor_unit=URBAN,
        street_unit=STREET,
        district_unit=DISTRICT,
        escalation_chain=[STREET, DISTRICT, CENTER],
        escalation_tiers=[Tier.street, Tier.district, Tier.city],
        unit_names=dict(NAMES),
        first_responsible_unit=STREET,
        candidates=[URBAN, DISTRICT],
        dispatched_at=NOW,
        acknowledged_at=NOW if stage in (Stage.handling, Stage.callback) else None,
    )
    base.update(overrides)
    return TicketState(**base)


def unit(unit_id: str) -> Actor:
    return Actor(role=Role.unit, unit=unit_id, user="办理人")


@contextlib.contextmanager
def refused(kind: RefusalKind, reason: str) -> Iterator[pytest.ExceptionInfo[Refusal]]:
    """The rule in the block refuses, with this kind and a reason that says `reason`."""
    with pytest.raises(Refusal) as err:
        yield err
    assert err.value.kind == kind, err.value.reason
    assert reason in err.value.reason, err.value.reason
