"""Rules of the callback (回访): who records the citizen's answer and what it decides."""

from datetime import datetime

from pydantic import BaseModel

from domain.errors import conflict, forbidden
from domain.handling import check_open
from domain.ticket import Actor, CallbackAnswer, CallbackRecord, TicketState
from domain.vocabulary import DESK_ROLES, Stage


class RecordCallback(BaseModel):
    actor: Actor
    answer: CallbackAnswer


class OnlineRating(BaseModel):
    """The citizen's own rating in self-service (checked against the phone by the API)."""

    answer: CallbackAnswer


def check_record(s: TicketState, actor: Actor, answer: CallbackAnswer | None = None) -> None:
    check_open(s)
    if actor.role not in DESK_ROLES:
        raise forbidden("only the 12345 center records callback answers")
    if s.stage != Stage.callback:
        raise conflict(f"ticket {s.number} is not waiting for a callback (stage {s.stage})")
    if answer is not None and answer.reached and answer_of_round(s) is not None:
        # The reply to the first answer can still be on its way (the ticket moves on once a
        # callback request being tried has ended): a retried call must not count twice.
        raise conflict(f"ticket {s.number} already has the citizen's answer; it closes or goes back to the unit next")


def check_online(s: TicketState) -> None:
    check_open(s)
    if s.stage != Stage.callback:
        raise conflict(f"ticket {s.number} can be rated once it has been answered (stage {s.stage})")
    if answer_of_round(s) is not None:
        raise conflict(f"ticket {s.number} has already been rated")


def record(
    s: TicketState, actor: str, answer: CallbackAnswer, attempt: int, now: datetime, online: bool = False
) -> CallbackRecord:
    rec = CallbackRecord(
        **answer.model_dump(), attempt=attempt, round=s.rehandle_round, at=now, by=actor, online=online
    )
    s.callbacks.append(rec)
    if not answer.reached:
        s.record(now, actor, "callback_unreached", f"attempt {attempt}: citizen not reached", attempt=attempt)
    else:
        assert answer.satisfaction is not None, "CallbackAnswer requires a satisfaction when reached"
        detail = f"resolved={'yes' if answer.resolved else 'no'}, {answer.satisfaction.value}"
        if answer.comment:
            detail += f": {answer.comment}"
        s.record(
            now, actor, "rated_online" if online else "callback_answered", detail,
            attempt=attempt, resolved=answer.resolved, satisfaction=answer.satisfaction.value,
        )  # fmt: skip
    return rec


def answer_of_round(s: TicketState) -> CallbackRecord | None:
    """The citizen's answer in the current round (a rehandle starts a new round)."""
    for rec in reversed(s.callbacks):
        if rec.reached and rec.round == s.rehandle_round:
            return rec
    return None
