"""City policy packs: every rule on which cities disagree, as data.

A pack is a TOML file in catalog/policies/ (read by catalog.policies). It is validated when loaded;
a ticket keeps the whole pack it started under (it travels in the workflow's history), so editing a
pack changes new tickets only."""

import re
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, Field, PlainSerializer, model_validator

from domain.vocabulary import Kind, Tier, Urgency

_LIMIT = re.compile(r"^\s*(\d+)\s*(s|m|h|d|wd)\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "wd": "working_days"}


class Limit(BaseModel):
    """A time limit: "30m", "2h", "7d" (calendar time) or "5wd" (working days, statutory calendar).
    Seconds ("90s") exist for drills and tests of a pack."""

    amount: int = Field(ge=0)
    unit: Literal["seconds", "minutes", "hours", "days", "working_days"]

    @model_validator(mode="before")
    @classmethod
    def parse(cls, value: object) -> object:
        if isinstance(value, str):
            m = _LIMIT.match(value)
            if not m:
                raise ValueError(f"{value!r} is not a time limit; write e.g. '30m', '2h', '7d' or '5wd'")
            return {"amount": int(m.group(1)), "unit": _UNITS[m.group(2)]}
        return value

    def __str__(self) -> str:
        short = {v: k for k, v in _UNITS.items()}[self.unit]
        return f"{self.amount}{short}"

    @property
    def working_days(self) -> bool:
        return self.unit == "working_days"

    def in_words(self) -> str:
        """For a message to a citizen: "2小时", "3个工作日"."""
        words = {"seconds": "秒", "minutes": "分钟", "hours": "小时", "days": "天", "working_days": "个工作日"}
        return f"{self.amount}{words[self.unit]}"

    def seconds(self) -> float:
        """Calendar length; for working days an approximation (one day each), never used for deadlines."""
        return (
            self.amount * {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400, "working_days": 86400}[self.unit]
        )


LimitField = Annotated[Limit, PlainSerializer(str, return_type=str)]


class ClockName(StrEnum):
    acknowledge = "acknowledge"  # 签收
    contact = "contact"  # 联系诉求人 (response)
    first_feedback = "first_feedback"  # 首次反馈
    completion = "completion"  # 办结
    report = "report"  # 报到: a summoned or cooperating unit signs for its part (one clock per unit)


class BreachAction(StrEnum):
    reminder = "reminder"  # 催办: the unit is reminded
    supervision = "supervision"  # 督办: a flag over the ticket, the supervisor is told
    escalation = "escalation"  # 提级: coordination one tier up


class BreachStep(BaseModel):
    action: BreachAction
    after: LimitField = Limit(amount=0, unit="minutes")  # counted from the breach


class ClockRule(BaseModel):
    """One clock of a ticket: when it starts, how long it runs, what happens when it is missed."""

    starts: Literal["dispatch", "acknowledge", "next_day"] = "dispatch"
    by_urgency: dict[Urgency, LimitField] = {}
    by_kind: dict[Kind, LimitField] = {}
    enterprise: LimitField | None = None  # enterprise requests (Qingdao "2115")
    enterprise_only: bool = False  # the clock runs for enterprise requests only
    on_breach: list[BreachStep] = [BreachStep(action=BreachAction.reminder)]

    def limit_for(self, urgency: Urgency, kind: Kind, enterprise: bool) -> Limit | None:
        """Most specific rule wins: the time-critical urgencies (an emergency stays an emergency
        for a company too), then the enterprise standard, then the kind, then the urgency."""
        if self.enterprise_only and not enterprise:
            return None
        if urgency in (Urgency.emergency, Urgency.urgent) and urgency in self.by_urgency:
            return self.by_urgency[urgency]
        if enterprise and self.enterprise is not None:
            return self.enterprise
        if kind in self.by_kind:
            return self.by_kind[kind]
        return self.by_urgency.get(urgency)


class EscalationRule(BaseModel):
    # The coordinator one tier up gets a fresh completion deadline: this length where the pack
    # names one for the tier, else the ticket's own completion limit again.
    deadline_by_tier: dict[Tier, LimitField] = {}
    # The handling street may ask to escalate at once (吹哨 / 提级).
    street_may_request: bool = True


class WhistleRule(BaseModel):
    acknowledge_within: LimitField = Limit(amount=30, unit="minutes")  # 吹哨报到: summoned units must report
    on_breach: list[BreachStep] = [
        BreachStep(action=BreachAction.reminder),
        BreachStep(action=BreachAction.supervision, after=Limit(amount=30, unit="minutes")),
    ]


class ExtensionRule(BaseModel):
    max_count: int = Field(default=1, ge=0)
    max_each: LimitField = Limit(amount=7, unit="days")


class ReturnRule(BaseModel):
    window: LimitField = Limit(amount=2, unit="hours")  # after dispatch
    first_responsible_may_return: bool = True  # Longkou: 首接负责，不予回退 -> false
    clocks_on_reassign: Literal["restart", "keep"] = "restart"


class ConsultationRule(BaseModel):
    round_deadline: LimitField = Limit(amount=4, unit="hours")
    max_rounds: int = Field(default=2, ge=1)
    consensus: Literal["unanimous", "majority"] = "unanimous"
    clocks: Literal["pause", "run"] = "pause"


class CallbackRule(BaseModel):
    when: Literal["at_completion", "at_deadline"] = "at_completion"
    attempts: int = Field(default=3, ge=1)
    spacing: LimitField = Limit(amount=8, unit="hours")  # between attempts; also how long an attempt waits
    # at_completion: the reply goes to the citizen by SMS first, and the first call waits this long;
    # a citizen who rates online meanwhile is not called. 0: call at once.
    rating_window: LimitField = Limit(amount=0, unit="hours")
    unreachable_counts_as: Literal["satisfied", "unsatisfied", "excluded"] = "excluded"


class RehandleRule(BaseModel):
    max_rounds: int = Field(default=2, ge=0)
    limit: LimitField | None = None  # None: the completion limit of the ticket again


class MergeRule(BaseModel):
    window: LimitField = Limit(amount=7, unit="days")
    supervise_at_repeat: int = 3


class EmergencyRule(BaseModel):
    """After a transfer to 110 / 119 / 120 / 122 the center checks back with the service (跟踪);
    past this window the ticket is flagged overdue on the center's list."""

    follow_up_within: LimitField = Limit(amount=24, unit="hours")


class DeliveryRule(BaseModel):
    """How long the center keeps retrying a department system that is down before the delivery is
    shown as failed (Temporal's retry policy does the retrying)."""

    give_up_after: LimitField = Limit(amount=7, unit="days")


Rate = Literal["response", "resolution", "satisfaction", "on_time", "decline"]
Fact = Literal["overdue", "urged", "repeat", "rehandled", "returned", "praise", "similar_growth"]


class AssessmentItem(BaseModel):
    """A plus or minus item (加分 / 减分项): `points` for each assessed ticket with the fact, capped
    per unit and period; `similar_growth` counts once per 10 % growth of the unit's requests over
    the last period (Weifang: 同类诉求增长率)."""

    name: str
    fact: Fact
    points: float  # > 0 a plus item, < 0 a minus item
    cap: float = Field(default=10.0, ge=0)  # at most this many points either way per unit and period
    applies_to: Literal["locality", "supervisor", "both"] = "both"  # 双加双减: both, by default


class SurgeRule(BaseModel):
    """未诉先办: a surge is `min_count` or more requests of one category in one street or community
    within `window`, and at least `ratio` times that place's own baseline for such a window
    (its average over the `baseline` before). The scan runs every `scan_every`."""

    window: LimitField = Limit(amount=2, unit="hours")
    baseline: LimitField = Limit(amount=28, unit="days")
    min_count: int = Field(default=8, ge=2)
    ratio: float = Field(default=4.0, ge=1)
    scan_every: LimitField = Limit(amount=10, unit="minutes")


class FocusRule(BaseModel):
    """每月一题: how the month's candidates are ranked (per category and district)."""

    volume: float = 1.0
    repeat: float = 2.0  # each merged repeat
    unsatisfied: float = 3.0  # each unsatisfied answer
    candidates: int = Field(default=10, ge=1)


class AssessmentRule(BaseModel):
    """三率 and the rest of the monthly exam: what each rate counts, the weights of the composite
    score, plus and minus items, the minimum sample for a rank, surge thresholds, focus ranking."""

    weights: dict[Rate, float] = {
        "response": 0.30,
        "resolution": 0.35,
        "satisfaction": 0.35,
    }
    # response rate (响应率): which clock kept in time counts: contact (先行联系) or acknowledge (签收)
    response_clock: Literal["contact", "acknowledge"] = "contact"
    # satisfaction rate (满意率): the answers that count as satisfied
    satisfied: list[Literal["satisfied", "basically_satisfied"]] = ["satisfied", "basically_satisfied"]
    min_sample: int = Field(default=10, ge=1)  # fewer assessed tickets: listed, not ranked
    items: list[AssessmentItem] = []
    surge: SurgeRule = SurgeRule()
    focus: FocusRule = FocusRule()

    @model_validator(mode="after")
    def _weights(self) -> "AssessmentRule":
        if not self.weights or any(w < 0 for w in self.weights.values()) or sum(self.weights.values()) <= 0:
            raise ValueError("assessment.weights must be non-negative and not all zero")
        return self


class PolicyRef(BaseModel):
    name: str
    version: str
    digest: str  # of the file's bytes: an edit without a version bump is still told apart


class PolicyPack(BaseModel):
    name: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
    version: str
    title: str
    digest: str = ""
    warning_share: float = Field(default=0.8, gt=0, lt=1)
    # How a deadline given in days ("7d") counts. "exact": 7 × 24 hours from the start.
    # "civil_code": as the Civil Code counts a period of days (arts. 200-203): from the next day,
    # ending at 24:00 of the last day, moved to the next working day when that day is a rest day
    # or a statutory holiday. Hours and working days ("5wd") are not affected.
    day_limits: Literal["exact", "civil_code"] = "exact"
    clocks: dict[ClockName, ClockRule]
    escalation: EscalationRule = EscalationRule()
    whistle: WhistleRule = WhistleRule()
    extension: ExtensionRule = ExtensionRule()
    returns: ReturnRule = ReturnRule()
    consultation: ConsultationRule = ConsultationRule()
    callback: CallbackRule = CallbackRule()
    rehandle: RehandleRule = RehandleRule()
    merge: MergeRule = MergeRule()
    emergency: EmergencyRule = EmergencyRule()
    delivery: DeliveryRule = DeliveryRule()
    assessment: AssessmentRule = AssessmentRule()

    @model_validator(mode="after")
    def _completion_covers_every_urgency(self) -> "PolicyPack":
        rule = self.clocks.get(ClockName.completion)
        if rule is None:
            raise ValueError("a pack must define clocks.completion")
        if ClockName.report in self.clocks:
            raise ValueError("the report clock is set under [whistle], not [clocks]")
        missing = [u.value for u in Urgency if u not in rule.by_urgency and not rule.by_kind]
        if missing:
            raise ValueError(f"clocks.completion.by_urgency has no limit for: {', '.join(missing)}")
        return self

    def rule_for(self, clock: ClockName) -> ClockRule:
        """The rule a clock runs under; a unit's report clock follows the whistle rule."""
        if clock == ClockName.report:
            return ClockRule(on_breach=self.whistle.on_breach)
        return self.clocks[clock]

    @property
    def civil_days(self) -> bool:
        return self.day_limits == "civil_code"

    @property
    def ref(self) -> PolicyRef:
        return PolicyRef(name=self.name, version=self.version, digest=self.digest)

    def completion_limit(self, urgency: Urgency, kind: Kind, enterprise: bool) -> Limit:
        rule = self.clocks[ClockName.completion]
        limit = rule.limit_for(urgency, kind, enterprise) or rule.by_urgency.get(Urgency.normal)
        if limit is None:  # a kind-only pack and an urgency it does not name
            limit = max(rule.by_kind.values(), key=Limit.seconds)
        return limit
