"""Read-model tables. Citizen identity is never stored in the clear: a salted phone hash is the
key for merging repeats and for self-service look-up."""

from datetime import UTC, datetime

from sqlalchemy import JSON, Column, DateTime, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


def _ts(nullable: bool = True, index: bool = False):
    return Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=nullable, index=index))


class IntakeRequestRow(SQLModel, table=True):
    """One POST /tickets, keyed by its Idempotency-Key. Written before the workflow starts, so a
    crash between the two is finished by the next retry or by the reconciler in the worker."""

    __tablename__ = "intake_request"

    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(max_length=200, unique=True)
    number: str | None = Field(default=None, max_length=32, unique=True)
    merged_into: str | None = Field(default=None, max_length=32)  # a repeat that joined this open ticket
    request_hash: str = Field(max_length=64)
    payload_json: str | None = Field(default=None, sa_column=Column(Text))  # cleared once started (PII)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False))
    started_at: datetime | None = _ts(index=True)  # null: deferred, the reconciler looks every 2 s


class MergeKeyRow(SQLModel, table=True):
    """The ticket a merge key (category + the citizen's phone hash, or category + the place) was
    last claimed by, written with the intake row. The key is unique: two simultaneous requests
    cannot both claim it, so the second one sees the first and joins it (并单) even before the
    first ticket's workflow has started or been projected."""

    __tablename__ = "merge_key"

    key: str = Field(primary_key=True, max_length=320)
    number: str = Field(max_length=32)
    claimed_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


# The columns a drill-down of the assessment filters on (readmodel/assessment.py), every metric's.
ASSESSED = ["contacted_on_time", "acknowledged_on_time", "resolved", "satisfaction", "completed_on_time", "overdue",
            "urge_count", "repeat_count", "rehandle_round", "kind"]  # fmt: skip
UNIT_INCLUDE = ["lead_unit", *ASSESSED]  # a department's supervised tickets: dispatched (led) ones only
LEAD_INCLUDE = [*ASSESSED, "supervisor_unit"]  # a department's led tickets: those it does not supervise


# What the supervisors' overview groups by and the center's queues count (web/routes.py).
BOARD = [
    "stage",
    "tier",
    "urgency",
    "district",
    "street",
    "overdue",
    "warned",
    "extension_pending",
    "flags",
    "deadline",
    "number",
]


class TicketRow(SQLModel, table=True):
    __tablename__ = "ticket"
    __table_args__ = (
        Index("ix_ticket_stage_deadline", "stage", "deadline"),
        # The workbench's boards (the overview's groups, the center's queue counts) from the index alone.
        Index("ix_ticket_board", *BOARD),
        Index("ix_ticket_closed_at", "closed_at"),
        Index("ix_ticket_outcome_closed", "outcome", "closed_at"),
        # The assessment aggregates one period per unit column, and scans a category in a place. A
        # drill-down pages in (received_at, number) order: the unit indexes return that order, and on
        # PostgreSQL carry what a drill-down filters on (an index-only scan finds and counts the page).
        Index("ix_ticket_street_received", "street", "received_at", "number", postgresql_include=UNIT_INCLUDE),
        Index("ix_ticket_district_received", "district", "received_at", "number", postgresql_include=UNIT_INCLUDE),
        Index("ix_ticket_lead_received", "lead_unit", "received_at", "number", postgresql_include=LEAD_INCLUDE),
        Index(
            "ix_ticket_supervisor_received", "supervisor_unit", "received_at", "number", postgresql_include=UNIT_INCLUDE
        ),
        Index("ix_ticket_category_street_received", "category", "street", "received_at"),
        # A supervisor's list by category and urgency (GET /tickets): its page and its total from
        # the index, not from every matching row (130 ms at 10,000 matching, SQLite).
        Index("ix_ticket_category_urgency_received", "category", "urgency", "received_at", "number"),
        # The projection check reads the rows written in the last seconds.
        Index("ix_ticket_updated_at", "updated_at"),
    )

    number: str = Field(primary_key=True, max_length=32)
    workflow_id: str = Field(max_length=64)
    stage: str = Field(max_length=16, index=True)
    tier: str = Field(max_length=16)
    lead_unit: str | None = Field(default=None, max_length=80, index=True)
    supervisor_unit: str | None = Field(default=None, max_length=80)
    coordinator_unit: str | None = Field(default=None, max_length=80)
    category: str = Field(max_length=80, index=True)
    district: str | None = Field(default=None, max_length=80, index=True)
    street: str | None = Field(default=None, max_length=80)
    urgency: str = Field(max_length=16)
    kind: str = Field(max_length=16)
    channel: str = Field(max_length=16)
    enterprise: bool = False
    deadline: datetime | None = _ts()
    deadline_estimated: bool = False
    overdue: bool = Field(default=False, index=True)
    warned: bool = False
    urge_count: int = 0  # 督办: counted for the assessment of the units
    extension_count: int = 0
    extension_pending: bool = False  # an extension request waits for the center's decision
    flags: str = Field(default="", max_length=400)  # space-separated
    policy_pack: str | None = Field(default=None, max_length=40)
    policy_version: str | None = Field(default=None, max_length=60)
    citizen_key: str | None = Field(default=None, max_length=64, index=True)
    address_key: str | None = Field(default=None, max_length=200, index=True)  # street + normalized address text
    outcome: str | None = Field(default=None, max_length=32)
    rehandle_round: int = 0
    intake_path: str | None = Field(default=None, max_length=24, index=True)  # the triage path taken
    repeat_count: int = 0  # merged repeats (并单)
    callback_attempt: int = 0
    resolved: bool | None = None  # the citizen's word at the callback
    satisfaction: str | None = Field(default=None, max_length=24)
    received_at: datetime | None = _ts(index=True)
    closed_at: datetime | None = _ts()
    # For the assessment (考核): who was dispatched first, the community of the address, and whether
    # each clock the rates count was kept (None: not decided yet, or the clock does not run).
    first_responsible_unit: str | None = Field(default=None, max_length=80)
    community: str | None = Field(default=None, max_length=80)
    acknowledged_at: datetime | None = _ts()
    completed_at: datetime | None = _ts()
    acknowledged_on_time: bool | None = None
    contacted_on_time: bool | None = None
    completed_on_time: bool | None = None
    updated_at: datetime | None = _ts()
    version: int = 0
    state_json: str = Field(sa_column=Column(Text, nullable=False))  # the masked live state


class TicketUnitRow(SQLModel, table=True):
    """Every unit involved in a ticket and in what role: lists filter on it."""

    __tablename__ = "ticket_unit"

    number: str = Field(primary_key=True, max_length=32)
    unit: str = Field(primary_key=True, max_length=80, index=True)
    role: str = Field(primary_key=True, max_length=20)


class UnitRow(SQLModel, table=True):
    """A handling unit, seeded from the city's units.toml (`hotline seed`): where deliveries find
    how to reach it. Units dropped from the file stay, inactive, for the tickets that name them."""

    __tablename__ = "unit"

    id: str = Field(primary_key=True, max_length=80)
    name: str = Field(max_length=120)
    tier: str = Field(max_length=16)
    kind: str = Field(max_length=16)
    parent: str | None = Field(default=None, max_length=80, index=True)
    aliases: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    supervises: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))  # category ids
    endpoint: str | None = Field(default=None, max_length=300)  # department-system API; none: our own client
    credential_ref: str | None = Field(default=None, max_length=80)  # names a secret in settings, not the secret
    notify_phone: str | None = Field(default=None, max_length=24)  # duty phone for SMS when no endpoint
    active: bool = True
    updated_at: datetime | None = _ts()


class DeliveryRow(SQLModel, table=True):
    """One outbound delivery (work order, copy, reminder, escalation, callback request...)."""

    __tablename__ = "delivery"
    __table_args__ = (UniqueConstraint("idempotency_key"),)

    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(max_length=80)
    ticket: str = Field(max_length=32, index=True)
    sequence: int
    unit: str = Field(max_length=80, index=True)
    kind: str = Field(max_length=24)
    channel: str = Field(max_length=16)  # department_api | sms | queue
    status: str = Field(max_length=16, index=True)  # delivered | queued | retrying | failed
    attempts: int = 0
    detail: str = Field(default="", max_length=500)
    last_error: str | None = Field(default=None, max_length=500)  # why the last attempt did not go through
    reference: str | None = Field(default=None, max_length=120)  # the department's own id for it
    delivered_at: datetime | None = _ts()
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False))
    updated_at: datetime | None = _ts()


class ResponsibilityRuleRow(SQLModel, table=True):
    """A saved ruling (终诊): tickets of `category` in `area` go to `lead` with `cooperating`.
    One rule per category and area; a newer ruling replaces it."""

    __tablename__ = "responsibility_rule"
    __table_args__ = (UniqueConstraint("category", "area"),)

    id: int | None = Field(default=None, primary_key=True)
    category: str = Field(max_length=80, index=True)
    area: str = Field(max_length=80)
    lead: str = Field(max_length=80)
    cooperating: str = Field(default="", max_length=800)  # space-separated unit ids
    ticket: str = Field(max_length=32)
    ruled_by: str = Field(max_length=120)
    reason: str = Field(default="", max_length=2000)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False))


class TicketReturnRow(SQLModel, table=True):
    """Every return (退单) a unit asked for: counted per unit for assessment."""

    __tablename__ = "ticket_return"

    ticket: str = Field(primary_key=True, max_length=32)
    seq: int = Field(primary_key=True)
    unit: str = Field(max_length=80, index=True)
    status: str = Field(max_length=20)
    reason: str = Field(default="", max_length=1000)
    at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class KnowledgeArticleRow(SQLModel, table=True):
    """A knowledge-base article (知识库): what the desk answers consultations with."""

    __tablename__ = "knowledge_article"

    id: str = Field(primary_key=True, max_length=80)
    title: str = Field(max_length=200)
    question: str = Field(default="", max_length=500)
    keywords: str = Field(default="", max_length=500)  # space-separated
    answer: str = Field(sa_column=Column(Text, nullable=False))
    category: str | None = Field(default=None, max_length=80)
    active: bool = True
    version: int = 1
    updated_by: str = Field(default="seed", max_length=120)
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False))


class LookupFailureRow(SQLModel, table=True):
    """A self-service lookup with a wrong phone (查询失败): counted per ticket number in the
    database, so the limit holds across API replicas and restarts."""

    __tablename__ = "lookup_failure"

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(max_length=32, index=True)
    client: str | None = Field(default=None, max_length=64, index=True)  # salted hash of the address
    at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False, index=True))


class AssessmentExclusionRow(SQLModel, table=True):
    """A ticket ruled out of the assessment after review (核减): an unreasonable or malicious
    request, or an enterprise cleared of an unfounded complaint (为企正名); who decided and why."""

    __tablename__ = "assessment_exclusion"

    number: str = Field(primary_key=True, max_length=32)
    reason: str = Field(max_length=24)  # unreasonable | malicious | enterprise_clearing | other
    note: str = Field(default="", max_length=1000)
    decided_by: str = Field(max_length=120)
    decided_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class AssessmentReportRow(SQLModel, table=True):
    """A daily, weekly or monthly report as produced (one per kind and period; a rerun replaces it)."""

    __tablename__ = "assessment_report"
    __table_args__ = (UniqueConstraint("kind", "period"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)  # daily | weekly | monthly
    period: str = Field(max_length=16)  # 2026-11-22 | 2026-W47 | 2026-11
    period_start: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    period_end: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    produced_by: str = Field(default="schedule", max_length=120)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False, index=True)
    )
    content_json: str = Field(sa_column=Column(Text, nullable=False))


class EarlyWarningRow(SQLModel, table=True):
    """未诉先办: a surge of one category in one street or community, raised by the scan and
    delivered to the district and the sector supervisor."""

    __tablename__ = "early_warning"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200, index=True)  # category|street|community: one warning per window
    category: str = Field(max_length=80)
    district: str | None = Field(default=None, max_length=80, index=True)
    street: str | None = Field(default=None, max_length=80)
    community: str | None = Field(default=None, max_length=80)
    count: int
    baseline: float  # the place's own average for such a window
    window_start: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    window_end: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    raised_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False, index=True))
    numbers: str = Field(default="", sa_column=Column(Text, nullable=False))  # space-separated tickets
    recipients: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    delivered_to: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class MonthlyFocusRow(SQLModel, table=True):
    """每月一题: the month's topic a leader picked from the candidates, tracked afterwards."""

    __tablename__ = "monthly_focus"

    month: str = Field(primary_key=True, max_length=7)  # YYYY-MM
    category: str = Field(max_length=80)
    district: str | None = Field(default=None, max_length=80)  # None: the whole city
    title: str = Field(max_length=200)
    note: str = Field(default="", max_length=2000)
    picked_by: str = Field(max_length=120)
    picked_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class UserRow(SQLModel, table=True):
    """A person who signs in to the workbench (工作台): a role and, for a handling unit, its unit.
    The password is kept only as an argon2 hash; repeated failures lock the account for a while."""

    __tablename__ = "app_user"

    username: str = Field(primary_key=True, max_length=60)
    display_name: str = Field(default="", max_length=60)
    role: str = Field(max_length=16)
    unit: str | None = Field(default=None, max_length=80)
    password_hash: str = Field(max_length=300)
    active: bool = True
    failed_logins: int = 0
    locked_until: datetime | None = _ts()
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False))
    last_login_at: datetime | None = _ts()


class WebSessionRow(SQLModel, table=True):
    """A signed-in browser: the cookie carries a random token, only its SHA-256 is kept here, with
    the session's CSRF token and when it ends (idle or absolute, whichever comes first)."""

    __tablename__ = "web_session"

    token_hash: str = Field(primary_key=True, max_length=64)
    username: str = Field(max_length=60, index=True)
    csrf: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False))
    last_seen_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False))
    expires_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False, index=True))


class TriageModelRow(SQLModel, table=True):
    """One trained version of the intake triage model. The artefact is a file in the data folder;
    exactly one version is active, and the previous ones stay for rollback."""

    __tablename__ = "triage_model"

    version: int = Field(primary_key=True)
    trained_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    trained_by: str = Field(default="system", max_length=120)  # schedule | cli | bootstrap | a user
    fingerprint: str = Field(max_length=32)  # of the training data
    artefact: str = Field(max_length=300)  # file name in <data folder>/triage-models/
    samples_json: str = Field(default="{}", sa_column=Column(Text, nullable=False))  # counts by source
    metrics_json: str = Field(default="{}", sa_column=Column(Text, nullable=False))  # held-out accuracy
    active: bool = Field(default=False, index=True)
    activated_at: datetime | None = _ts()


class TriageHistoryRow(SQLModel, table=True):
    """A center's past ticket, imported to train on (`hotline import-history FILE.csv`): the final
    category and lead unit after returns and rulings, and the path the desk finally took."""

    __tablename__ = "triage_history"
    __table_args__ = (UniqueConstraint("source", "external_id"),)

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=120)  # the file it came from
    external_id: str = Field(max_length=80)  # the center's own ticket number
    received_at: datetime | None = _ts()
    description: str = Field(sa_column=Column(Text, nullable=False))
    address: str = Field(default="", max_length=300)
    path: str = Field(default="dispatch", max_length=24)
    path_detail: str | None = Field(default=None, max_length=80)  # emergency number / channel / list id / article
    category: str | None = Field(default=None, max_length=80)
    district: str | None = Field(default=None, max_length=80)
    street: str | None = Field(default=None, max_length=80)
    first_unit: str | None = Field(default=None, max_length=80)  # dispatched to first
    lead_unit: str | None = Field(default=None, max_length=80)  # closed by
    imported_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False))
