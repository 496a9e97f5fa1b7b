"""A ticket's contracts: what intake records, what the workflow starts with, and its live state."""

import re
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, computed_field, field_validator, model_validator

from domain.assessment import community_of, kept
from domain.deadlines.calendar import WorkCalendar
from domain.intake.triage import EmergencyService, IntakeRecord, TriageDecision, TriageOverride
from domain.policy import ClockName, PolicyPack, PolicyRef
from domain.privacy import mask_name, mask_phone, scrub_phones
from domain.vocabulary import (
    Channel,
    HandlingResult,
    Kind,
    Outcome,
    Role,
    Satisfaction,
    Stage,
    Tier,
    Urgency,
)

_PHONE = re.compile(r"^\+?[0-9][0-9 -]{4,19}$")
_MASKED_PHONE = re.compile(r"^[0-9]{0,3}\*+[0-9]{0,4}$")  # what mask_phone() makes of one


def not_blank(description: str) -> str:
    """A description with words in it, stripped: the same rule for /triage and /tickets."""
    if len(description.strip()) < 2:
        raise ValueError("description is blank")
    return description.strip()


class Citizen(BaseModel):
    name: str = Field(default="", max_length=50, description="May be empty: anonymous requests are allowed.")
    phone: str | None = Field(default=None, max_length=24, examples=["13800138000"])
    callback_opt_out: bool = False

    @field_validator("phone")
    @classmethod
    def _phone(cls, v: str | None) -> str | None:
        if v is None or v == "":
            return None
        if not (_PHONE.match(v) or _MASKED_PHONE.match(v)):
            raise ValueError("phone must be digits, optionally with a leading + and spaces or dashes")
        return v

    def masked(self) -> "Citizen":
        return Citizen(name=mask_name(self.name), phone=mask_phone(self.phone), callback_opt_out=self.callback_opt_out)


class Address(BaseModel):
    district: str = Field(min_length=1, max_length=50, description="District id or name, e.g. 市南区")
    street: str = Field(min_length=1, max_length=50, description="Street office id or name, e.g. 八大峡街道")
    text: str = Field(default="", max_length=300, description="Free-text location")


class TicketRequest(BaseModel):
    """The intake form, as a call-center desk, the web or WeChat fills it in."""

    channel: Channel
    kind: Kind
    citizen: Citizen
    description: str = Field(min_length=2, max_length=4000)
    category: str = Field(min_length=1, max_length=80)
    address: Address
    enterprise: bool = False
    urgency: Urgency = Urgency.normal
    emergency_service: EmergencyService | None = Field(
        default=None, description="flagged by the operator: transfer at once to 110 / 119 / 120 / 122"
    )

    @field_validator("description")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        return not_blank(v)


class TicketInput(BaseModel):
    """The one input of TicketWorkflow."""

    number: str
    request: TicketRequest
    received_at: datetime
    received_by: str = "intake"
    policy_pack: str | None = None  # None: the pack the worker is configured with
    triage_override: TriageOverride | None = None  # the operator's path instead of the suggestion
    # A long-lived ticket continues as a new run before its history grows past Temporal's limits:
    # it carries its state, rules and calendar, and carries on handling.
    carried: "TicketCarry | None" = None
    history_limit: int = Field(default=10_000, ge=100, description="events before the ticket continues as new")
    intake: IntakeRecord | None = None  # category and street: suggested, chosen, by whom


class Actor(BaseModel):
    """Who performs an action: taken from the caller's token, never from the request body."""

    role: Role
    unit: str | None = None
    user: str = ""

    @property
    def label(self) -> str:
        return self.unit or (f"{self.role.value}:{self.user}" if self.user else self.role.value)


class TimelineEvent(BaseModel):
    at: datetime
    actor: str
    event: str
    detail: str = ""
    data: dict[str, Any] = {}


class Clock(BaseModel):
    """One running deadline. Moving it (extension, rehandle, escalation) replaces its times;
    there is never a second clock of the same name."""

    name: ClockName
    unit: str | None = None  # for per-unit clocks (a summoned department's report)
    limit: str
    started_at: datetime
    due_at: datetime
    warn_at: datetime
    estimated: bool = False  # the deadline falls in a year without official calendar data
    # A day limit counted as the Civil Code does: the end before it was moved past days off (the
    # due time follows it when a pause or a new calendar moves the clock). None otherwise.
    nominal_due: datetime | None = None
    met_at: datetime | None = None
    warned_at: datetime | None = None
    breached_at: datetime | None = None
    steps_done: int = 0  # how many steps of the pack's breach ladder have run
    paused_at: datetime | None = None

    @property
    def running(self) -> bool:
        return self.met_at is None and self.paused_at is None


def clock_key(name: ClockName, unit: str | None = None) -> str:
    """Where a clock lives in TicketState.clocks: one per name, one per unit for report clocks."""
    return f"{name.value}:{unit}" if unit else name.value


class Cooperation(BaseModel):
    """A cooperating unit (协办): summoned by the street's whistle, named by a ruling or a
    consultation. It signs for its part and reports it to the lead."""

    unit: str
    via: str  # whistle | consultation | ruling | center
    since: datetime
    acknowledged_at: datetime | None = None
    report: str | None = None
    reported_at: datetime | None = None


class ExtensionRequest(BaseModel):
    unit: str
    by: str  # a policy Limit, e.g. "3d"
    reason: str
    at: datetime
    decision: str | None = None  # approved | rejected
    decided_by: str | None = None
    decided_at: datetime | None = None
    note: str = ""


class ReturnRequest(BaseModel):
    """退单: the lead says the ticket is not its own."""

    unit: str
    reason: str
    suggested_unit: str | None = None
    at: datetime
    status: str = "pending"  # pending | approved | rejected | disputed | to_consultation
    decided_by: str | None = None
    decided_at: datetime | None = None
    reassigned_to: str | None = None
    note: str = ""


class ConsultationAnswer(BaseModel):
    answer: str  # lead | cooperating | decline | silent
    reason: str = ""
    at: datetime | None = None


class ConsultationRound(BaseModel):
    number: int
    deadline: datetime
    answers: dict[str, ConsultationAnswer] = {}


class ConsultationView(BaseModel):
    """会商: the parent ticket's mirror of its consultation (the child workflow owns the truth)."""

    number: int
    workflow_id: str
    reason: str
    opened_by: str
    opened_at: datetime
    candidates: dict[str, str]  # unit id -> name
    status: str = "open"  # open | consensus | needs_ruling | ruled | cancelled
    rounds: list[ConsultationRound] = []
    lead: str | None = None
    cooperating: list[str] = []
    seq: int = 0  # the child's message number: the ticket ignores a mirror older than the one it has


class Ruling(BaseModel):
    """领导坐诊 / 终诊: binding; no ruled unit may return the ticket afterwards."""

    by: str
    at: datetime
    lead: str
    cooperating: list[str]
    reason: str
    saved_as_rule: bool = False


class Appeal(BaseModel):
    """A repeat of an open ticket that joined it (并单) instead of starting a new lifecycle."""

    key: str  # the intake's idempotency key: a retried merge counts once
    at: datetime
    channel: Channel
    citizen: Citizen
    description: str
    by: str


class Urge(BaseModel):
    by: str
    note: str
    at: datetime


class FollowUp(BaseModel):
    """What the center learned from the emergency service a ticket was transferred to."""

    handled: bool  # False: the service sent it back as a hotline matter (非警务, 非急救)
    note: str
    by: str
    at: datetime


class UnitInfo(BaseModel):
    """What a ticket needs to know of a unit to hand it the ticket."""

    id: str
    name: str
    tier: Tier
    escalation_chain: list[str]  # the unit, then each tier above it up to the city
    escalation_tiers: list[Tier]
    unit_names: dict[str, str]  # names of everyone in the chain


class Routing(BaseModel):
    """Who owns the ticket, from the responsibility list (or a saved ruling) and the address."""

    lead_unit: str
    supervisor_unit: str
    street_unit: str
    district_unit: str
    escalation_chain: list[str]  # lead, then each tier above it up to the city
    escalation_tiers: list[Tier]  # the tier of each unit of the chain
    unit_names: dict[str, str]
    reason: str
    cooperating: list[str] = []  # named by a saved ruling (Longkou: settle it once for the kind)
    candidates: list[str] = []  # who else could own it, in order: for "the next candidate"


class Completion(BaseModel):
    unit: str
    result: HandlingResult
    reply: str
    at: datetime
    parts_done: list[str] = []  # cooperating units whose part the lead confirms done


class CallbackAnswer(BaseModel):
    """The citizen's answer to a callback (回访)."""

    reached: bool
    resolved: bool | None = None
    satisfaction: Satisfaction | None = None
    comment: str = Field(default="", max_length=1000)

    @model_validator(mode="after")
    def _complete_when_reached(self) -> "CallbackAnswer":
        if self.reached and (self.resolved is None or self.satisfaction is None):
            raise ValueError("a reached citizen's answer needs both `resolved` and `satisfaction`")
        if not self.reached and (self.resolved is not None or self.satisfaction is not None):
            raise ValueError("`resolved` and `satisfaction` can only be recorded when the citizen was reached")
        return self

    @property
    def confirms(self) -> bool:
        """Resolved and at least basically satisfied: the ticket may close."""
        return bool(self.reached and self.resolved and self.satisfaction != Satisfaction.unsatisfied)


class CallbackRecord(CallbackAnswer):
    attempt: int
    round: int = 0  # the rehandle round it answers for
    online: bool = False  # the citizen's own rating in self-service
    at: datetime
    by: str


class TicketState(BaseModel):
    """The live state of one ticket: what the `state` query returns."""

    number: str
    workflow_id: str
    request: TicketRequest
    received_at: datetime
    stage: Stage = Stage.intake
    policy: PolicyRef | None = None
    tier: Tier = Tier.street
    lead_unit: str | None = None
    supervisor_unit: str | None = None
    coordinator_unit: str | None = None
    street_unit: str | None = None
    district_unit: str | None = None
    escalation_chain: list[str] = []
    escalation_tiers: list[Tier] = []
    escalation_level: int = 0  # 0: the lead handles alone; 1: district coordinates; 2: city
    unit_names: dict[str, str] = {}
    first_responsible_unit: str | None = None  # 首派: the first unit dispatched to
    previous_leads: list[str] = []
    candidates: list[str] = []
    dispatched_at: datetime | None = None  # to the current lead
    returns: list[ReturnRequest] = []
    consultations: list[ConsultationView] = []
    ruling: Ruling | None = None
    triage: TriageDecision | None = None
    appeals: list[Appeal] = []
    transfer_reference: str | None = None  # the emergency service's reference for a transfer
    follow_up_due: datetime | None = None  # by when the center confirms the transfer was handled
    follow_up: FollowUp | None = None
    acknowledged_at: datetime | None = None
    completion: Completion | None = None
    rehandle_round: int = 0
    callbacks: list[CallbackRecord] = []
    callback_attempts: int = 0
    assessed_satisfaction: str | None = None  # what the assessment counts (unreachable: as the pack says)
    clocks: dict[str, Clock] = {}  # by clock_key(): at most one clock per deadline
    cooperating: dict[str, Cooperation] = {}
    extensions: list[ExtensionRequest] = []
    urges: list[Urge] = []
    flags: list[str] = []
    deliveries: int = 0  # sequence of outbound deliveries: the idempotency key of each
    outcome: Outcome | None = None
    closed_at: datetime | None = None
    timeline: list[TimelineEvent] = []
    version: int = 0

    # -- small helpers used by the rules -------------------------------------------------------

    def record(self, at: datetime, actor: str, event: str, detail: str = "", **data: Any) -> None:
        self.timeline.append(TimelineEvent(at=at, actor=actor, event=event, detail=detail, data=data))

    def flag(self, name: str) -> None:
        if name not in self.flags:
            self.flags = sorted({*self.flags, name})

    def unflag(self, name: str) -> None:
        self.flags = [f for f in self.flags if f != name]

    def name_of(self, unit: str | None) -> str:
        return self.unit_names.get(unit or "", unit or "")

    def next_delivery(self) -> int:
        self.deliveries += 1
        return self.deliveries

    @computed_field  # type: ignore[prop-decorator]  # pydantic's documented pattern; mypy does not model it
    @property
    def deadline(self) -> datetime | None:
        """When the result is due: the running completion clock."""
        clock = self.clocks.get(ClockName.completion)
        return clock.due_at if clock and clock.met_at is None else None

    @computed_field  # type: ignore[prop-decorator]  # pydantic's documented pattern; mypy does not model it
    @property
    def deadline_estimated(self) -> bool:
        """The deadline touches a year without an official holiday schedule: an estimate, shown as one."""
        clock = self.clocks.get(ClockName.completion)
        return bool(clock and clock.met_at is None and clock.estimated)

    @computed_field  # type: ignore[prop-decorator]  # pydantic's documented pattern; mypy does not model it
    @property
    def overdue(self) -> bool:
        """A running clock is past its deadline, or an emergency transfer awaits its overdue follow-up."""
        return any(c.breached_at and c.running for c in self.clocks.values()) or "follow_up_overdue" in self.flags

    @computed_field  # type: ignore[prop-decorator]  # pydantic's documented pattern; mypy does not model it
    @property
    def warned(self) -> bool:
        """A running clock is past its warning share and not yet overdue."""
        return any(c.warned_at and not c.breached_at and c.running for c in self.clocks.values())

    @property
    def pending_return(self) -> ReturnRequest | None:
        return next((r for r in self.returns if r.status == "pending"), None)

    @property
    def open_consultation(self) -> ConsultationView | None:
        return next((c for c in self.consultations if c.status in ("open", "needs_ruling")), None)

    @property
    def pending_extension(self) -> ExtensionRequest | None:
        return next((e for e in self.extensions if e.decision is None), None)

    def flat(self) -> "TicketFacts":
        """The ticket flattened, for search attributes, the read model, lists and work orders."""
        req = self.request
        completion = self.clocks.get(ClockName.completion)
        last = next((c for c in reversed(self.callbacks) if c.reached), None)
        return TicketFacts(
            number=self.number,
            stage=self.stage,
            tier=self.tier,
            category=req.category,
            district=self.district_unit,
            street=self.street_unit,
            urgency=req.urgency,
            kind=req.kind,
            channel=req.channel,
            enterprise=req.enterprise,
            lead_unit=self.lead_unit,
            supervisor_unit=self.supervisor_unit,
            coordinator_unit=self.coordinator_unit,
            units=sorted(
                {u for u in (self.lead_unit, self.supervisor_unit, self.coordinator_unit, *self.cooperating) if u}
            ),
            deadline=self.deadline,
            deadline_estimated=bool(completion and completion.estimated),  # kept once met, for the record
            overdue=self.overdue,
            warned=self.warned,
            supervised="supervised" in self.flags,
            urge_count=len(self.urges),
            extension_count=sum(1 for e in self.extensions if e.decision == "approved"),
            extension_pending=self.pending_extension is not None,
            flags=list(self.flags),
            policy_pack=self.policy.name if self.policy else None,
            policy_version=self.policy.version if self.policy else None,
            outcome=self.outcome,
            intake_path=self.triage.path.value if self.triage else None,
            repeat_count=len(self.appeals),
            rehandle_round=self.rehandle_round,
            callback_attempt=self.callback_attempts,
            resolved=last.resolved if last else None,
            satisfaction=self.assessed_satisfaction
            or (last.satisfaction.value if last and last.satisfaction else None),
            received_at=self.received_at,
            closed_at=self.closed_at,
            first_responsible_unit=self.first_responsible_unit,
            community=community_of(req.address.text),
            acknowledged_at=self.acknowledged_at,
            completed_at=self.completion.at if self.completion else None,
            acknowledged_on_time=self._kept(ClockName.acknowledge),
            contacted_on_time=self._kept(ClockName.contact),
            completed_on_time=self._kept(ClockName.completion),
        )

    def _kept(self, name: ClockName) -> bool | None:
        c = self.clocks.get(name)
        return kept(c.met_at, c.due_at, c.breached_at) if c else None

    def masked(self) -> "TicketState":
        """The state without the citizen's identity: for the read model and for views that
        do not need to contact the citizen. New objects only where a citizen's words are; every
        other part is shared with this state, so a caller serializes the copy and never changes it
        (a deep copy was 10 % of the worker's CPU under intake load: the projector masks every change)."""
        request = self.request.model_copy(
            update={"citizen": self.request.citizen.masked(), "description": scrub_phones(self.request.description)}
        )
        appeals = [  # merged repeat callers (并单) are citizens too
            a.model_copy(update={"citizen": a.citizen.masked(), "description": scrub_phones(a.description)})
            for a in self.appeals
        ]
        timeline = [e.model_copy(update={"detail": scrub_phones(e.detail)}) for e in self.timeline]
        return self.model_copy(update={"request": request, "appeals": appeals, "timeline": timeline})


class TicketFacts(BaseModel):
    """One flat view of a ticket: the fields that the search attributes, the read-model row, the
    supervisors' list and the work order take, declared once."""

    number: str
    stage: Stage
    tier: Tier
    category: str
    district: str | None
    street: str | None
    urgency: Urgency
    kind: Kind
    channel: Channel
    enterprise: bool
    lead_unit: str | None
    supervisor_unit: str | None
    coordinator_unit: str | None
    units: list[str]  # every unit the ticket concerns: lead, supervisor, coordinator, cooperating
    deadline: datetime | None
    deadline_estimated: bool
    overdue: bool
    warned: bool
    supervised: bool
    urge_count: int
    extension_count: int
    extension_pending: bool = False  # an extension request waits for the center's decision
    flags: list[str]
    policy_pack: str | None
    policy_version: str | None
    outcome: Outcome | None
    intake_path: str | None
    repeat_count: int
    rehandle_round: int
    callback_attempt: int
    resolved: bool | None
    satisfaction: str | None
    received_at: datetime | None
    closed_at: datetime | None
    first_responsible_unit: str | None = None  # 首派: for the first-dispatch accuracy
    community: str | None = None  # 社区 of the address: the early warning's smallest area
    acknowledged_at: datetime | None = None
    completed_at: datetime | None = None
    acknowledged_on_time: bool | None = None  # each clock the rates count: kept / missed / undecided
    contacted_on_time: bool | None = None
    completed_on_time: bool | None = None


class TicketSummary(BaseModel):
    """What an action returns: enough to show the caller where the ticket now stands."""

    number: str
    stage: Stage
    tier: Tier
    lead_unit: str | None
    coordinator_unit: str | None
    deadline: datetime | None
    flags: list[str]
    outcome: Outcome | None

    @classmethod
    def of(cls, s: TicketState) -> "TicketSummary":
        return cls(
            number=s.number,
            stage=s.stage,
            tier=s.tier,
            lead_unit=s.lead_unit,
            coordinator_unit=s.coordinator_unit,
            deadline=s.deadline,
            flags=s.flags,
            outcome=s.outcome,
        )


class TicketCarry(BaseModel):
    """What a ticket takes into its next run (continue-as-new): everything it holds for life."""

    state: TicketState
    policy: PolicyPack
    calendar: WorkCalendar
    citizen_key: str | None = None


TicketInput.model_rebuild()
