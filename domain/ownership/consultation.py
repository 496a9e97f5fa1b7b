"""Rules of consultation (会商 / 一键会商): candidate units answer in rounds — accept as lead, accept
as cooperating, or decline with a reason; silence is recorded. The pack's consensus rule names
the lead and cooperating units; without consensus after the pack's rounds, a ruling is needed."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from domain.deadlines.calendar import WorkCalendar
from domain.deadlines.escalation import ACTIVE_STAGES
from domain.errors import conflict, forbidden, invalid
from domain.handling import check_open
from domain.policy import ConsultationRule
from domain.ticket import Actor, ConsultationAnswer, ConsultationView, TicketState
from domain.vocabulary import DECIDING_ROLES, Role


class OpenConsultationFields(BaseModel):
    reason: str = Field(min_length=2, max_length=1000)


class OpenConsultation(OpenConsultationFields):
    actor: Actor
    candidates: list[str] = Field(min_length=2, max_length=20, description="unit ids invited to settle ownership")


class AnswerFields(BaseModel):
    answer: Literal["lead", "cooperating", "decline"]
    reason: str = Field(default="", max_length=1000)
    round: int | None = Field(
        default=None, ge=1,
        description="the round answered: an answer to a closed round is refused, the same answer sent again "
        "returns the consultation as it stands (without it, the answer counts for the current round)",
    )  # fmt: skip


class Answer(AnswerFields):
    actor: Actor


class ConsultationInput(BaseModel):
    """The one input of ConsultationWorkflow (a child of the ticket)."""

    ticket: str
    parent_workflow_id: str
    number: int
    candidates: dict[str, str]
    reason: str
    opened_by: str
    opened_at: datetime
    rule: ConsultationRule
    calendar: WorkCalendar


class ConsultationOutcome(BaseModel):
    status: Literal["consensus", "needs_ruling", "cancelled"]
    lead: str | None = None
    cooperating: list[str] = []
    view: ConsultationView


def check_open_consultation(s: TicketState, o: OpenConsultation) -> None:
    check_open(s)
    if o.actor.role not in DECIDING_ROLES:
        raise forbidden("only the 12345 center opens a consultation")
    if s.stage not in ACTIVE_STAGES:
        raise conflict(f"ticket {s.number} is in stage {s.stage}: ownership is no longer open")
    if s.open_consultation is not None:
        raise conflict("a consultation is already open on this ticket")
    if s.ruling is not None:
        raise conflict("ruled: ownership of this ticket is already settled")
    if len(set(o.candidates)) < 2:
        raise invalid("a consultation needs at least two different candidate units")


def check_answer(view: ConsultationView, a: Answer) -> None:
    if view.status != "open" or not view.rounds:
        raise conflict(f"consultation {view.number} is not taking answers ({view.status})")
    if a.actor.role != Role.unit or a.actor.unit not in view.candidates:
        raise forbidden("only units invited to the consultation answer it")
    if is_repeat(view, a):
        return  # the same answer sent again: the update answers with the consultation unchanged
    current = view.rounds[-1]
    if a.round is not None and a.round != current.number:
        raise conflict(f"round {a.round} is closed: the consultation is in round {current.number}")
    if a.actor.unit in current.answers:
        raise conflict(f"your unit already answered round {current.number}")
    if a.answer == "decline" and len(a.reason.strip()) < 2:
        raise invalid("a unit that declines must say why")


def is_repeat(view: ConsultationView, a: Answer) -> bool:
    """An answer naming its round that the unit already gave, word for word, in that round."""
    if a.round is None or not 0 < a.round <= len(view.rounds):
        return False
    given = view.rounds[a.round - 1].answers.get(a.actor.unit or "")
    return given is not None and given.answer == a.answer and given.reason == a.reason


def record_answer(view: ConsultationView, a: Answer, now: datetime) -> None:
    assert a.actor.unit is not None, "check_answer admits only invited units"
    view.rounds[-1].answers[a.actor.unit] = ConsultationAnswer(answer=a.answer, reason=a.reason, at=now)


def close_round(view: ConsultationView) -> None:
    """Whoever did not answer by the round's deadline is recorded as silent."""
    current = view.rounds[-1]
    for unit in view.candidates:
        current.answers.setdefault(unit, ConsultationAnswer(answer="silent"))


def settle(view: ConsultationView, rule: ConsultationRule) -> tuple[str | None, list[str]]:
    """The pack's consensus rule over the last round: exactly one unit takes the lead, and
    unanimous — nobody stayed silent; majority — more than half of the candidates answered.
    Returns (lead, cooperating) or (None, []) without consensus."""
    answers = view.rounds[-1].answers
    leads = [u for u, a in answers.items() if a.answer == "lead"]
    cooperating = [u for u, a in answers.items() if a.answer == "cooperating"]
    answered = [u for u, a in answers.items() if a.answer != "silent"]
    if len(leads) != 1:
        return None, []
    if rule.consensus == "unanimous" and len(answered) < len(view.candidates):
        return None, []
    if rule.consensus == "majority" and len(answered) * 2 <= len(view.candidates):
        return None, []
    return leads[0], cooperating
