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


class TicketRow(SQLModel, table=True):
    __tablename__ = "ticket"
    __table_args__ = (Index("ix_ticket_stage_deadline", "stage", "deadline"),)

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
    at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False, index=True))
