"""Realistic tickets for tests."""

import itertools
from datetime import datetime, timezone

from domain.ticket import Address, Citizen, TicketInput, TicketRequest
from domain.vocabulary import Channel, Kind, Urgency

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
        received_at=received_at or datetime.now(timezone.utc),
        policy_pack=policy_pack,
    )
