"""The glossary of ../shared/domain.md as enumerations: these names are used everywhere in code."""

from enum import StrEnum


class Channel(StrEnum):
    phone = "phone"
    web = "web"
    wechat = "wechat"
    app = "app"
    sms = "sms"
    mailbox = "mailbox"  # 市长信箱
    weibo = "weibo"
    grid = "grid"  # 网格员上报
    transfer = "transfer"  # from 110 and other hotlines
    open311 = "open311"  # a civic reporting app (FixMyStreet and others) through Open311 GeoReport v2


class Kind(StrEnum):
    consultation = "consultation"  # 咨询
    help = "help"  # 求助
    complaint = "complaint"  # 投诉
    report = "report"  # 举报
    suggestion = "suggestion"  # 建议
    praise = "praise"  # 表扬


class Urgency(StrEnum):
    emergency = "emergency"
    urgent = "urgent"
    normal = "normal"
    complex = "complex"


class Tier(StrEnum):
    street = "street"  # 街道/乡镇
    district = "district"  # 区/县/市辖市
    city = "city"  # 市


class Stage(StrEnum):
    """Where a ticket is in its lifecycle; also the `TicketStatus` search attribute."""

    intake = "intake"
    follow_up = "follow_up"  # transferred to 110/119/120/122: the center confirms it was handled (跟踪)
    dispatch = "dispatch"  # dispatched, waiting for the lead unit to acknowledge (签收)
    handling = "handling"  # acknowledged, being handled
    rehandle = "rehandle"  # sent back after an unresolved / unsatisfied callback (重办)
    callback = "callback"  # completed, waiting for the citizen's answer (回访)
    closed = "closed"


class HandlingResult(StrEnum):
    resolved = "resolved"  # 已解决
    explained = "explained"  # 已解释说明
    unresolvable = "unresolvable"  # 无法解决


class Satisfaction(StrEnum):
    satisfied = "satisfied"
    basically_satisfied = "basically_satisfied"
    unsatisfied = "unsatisfied"


class Outcome(StrEnum):
    """How a closed ticket ended."""

    confirmed = "confirmed"  # callback: resolved and satisfied
    no_callback = "no_callback"  # citizen opted out or left no phone
    rated_online = "rated_online"
    unreachable = "unreachable"
    hard_case = "hard_case"  # rehandle limit reached, on the monthly clearing list
    direct_answer = "direct_answer"
    out_of_scope = "out_of_scope"
    emergency_transfer = "emergency_transfer"
    legal_channel = "legal_channel"


class Role(StrEnum):
    intake = "intake"  # call-center desk, web/WeChat intake
    unit = "unit"  # a handling unit: street office, department, utility
    supervisor = "supervisor"  # center supervisor: sees everything, urges
    center = "center"  # type: ignore[assignment]  # shadows str.center; the 12345 center: reviews, callbacks, decisions
    leader = "leader"  # center leader: binding rulings
    citizen = "citizen"  # self-service: no token, checked by number and phone


# Who may do what at the center: the domain's checks and the API's guards name these sets.
INTAKE_ROLES = (Role.intake, Role.center)  # take tickets in
DESK_ROLES = (Role.center, Role.intake, Role.supervisor)  # preview triage, record callback answers
SUPERVISING_ROLES = (Role.center, Role.supervisor)  # escalate, urge, follow up emergencies, keep the knowledge base
DECIDING_ROLES = (Role.center, Role.leader)  # open consultations
REVIEWING_ROLES = (Role.center,)  # decide returns and extensions: the center alone (README)
OVERSIGHT_ROLES = (Role.center, Role.leader, Role.supervisor)  # read the responsibility rules
CENTER_ROLES = (Role.center, Role.intake, Role.supervisor, Role.leader)  # every role at the center: its lists


class UnitKind(StrEnum):
    locality = "locality"  # street office, district government (属地)
    sector = "sector"  # city department supervising a sector (行业主管部门)
    utility = "utility"  # water, power, gas, heating companies
    center = "center"  # type: ignore[assignment]  # shadows str.center; the city's 12345 center / coordinator
