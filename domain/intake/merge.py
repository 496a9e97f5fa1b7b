"""Rules of merging (并单): a request that repeats an open ticket joins it. The open ticket's
timeline gets the new appeal, the repeat count rises, and the pack's n-th repeat (Qingdao: the
third) puts the ticket under supervision (督办)."""

from datetime import datetime

from pydantic import BaseModel, Field

from domain.errors import conflict
from domain.ticket import Actor, Appeal, Citizen, TicketState
from domain.vocabulary import Channel, Stage


class MergeAppeal(BaseModel):
    actor: Actor
    key: str = Field(description="the repeat's Idempotency-Key: a retried merge counts once")
    channel: Channel
    citizen: Citizen
    description: str = Field(min_length=2, max_length=4000)


def address_key(street: str | None, text: str) -> str | None:
    """Two requests about the same place: the same street office and the same address text,
    ignoring spaces and punctuation. None without an address text (a street alone is too wide)."""
    norm = "".join(ch for ch in text.lower() if ch.isalnum())
    return f"{street}|{norm}" if street and norm else None


def check_merge(s: TicketState) -> None:
    if s.stage == Stage.follow_up:
        raise conflict(f"ticket {s.number} was transferred to an emergency service: a new call is transferred again")
    if s.stage in (Stage.closed, Stage.intake):
        where = "closed" if s.stage == Stage.closed else "not dispatched yet"
        raise conflict(f"ticket {s.number} is {where}: a repeat cannot join it")


def already_merged(s: TicketState, key: str) -> bool:
    return any(a.key == key for a in s.appeals)


def merge(s: TicketState, m: MergeAppeal, now: datetime, supervise_at_repeat: int) -> bool:
    """Adds the appeal; True when this repeat is the one that puts the ticket under supervision."""
    s.appeals.append(
        Appeal(key=m.key, at=now, channel=m.channel, citizen=m.citizen, description=m.description, by=m.actor.label)
    )
    repeats = len(s.appeals)
    s.record(now, m.actor.label, "merged", m.description, channel=m.channel.value, repeat=repeats)
    if repeats >= supervise_at_repeat and "supervised" not in s.flags:
        s.flag("supervised")
        s.flag("repeated")
        s.record(now, "system", "supervision", f"repeated {repeats} times: under supervision", repeat=repeats)
        return True
    return False
