"""Typed search attributes of a ticket, so `temporal workflow list --query` and the Web UI answer
supervisors' questions ("overdue tickets of 市南区", "everything led by 八大峡街道")."""

from temporalio.common import SearchAttributeKey, SearchAttributeUpdate

STATUS = SearchAttributeKey.for_keyword("TicketStatus")
TIER = SearchAttributeKey.for_keyword("TicketTier")
LEAD_UNIT = SearchAttributeKey.for_keyword("TicketLeadUnit")
CATEGORY = SearchAttributeKey.for_keyword("TicketCategory")
DISTRICT = SearchAttributeKey.for_keyword("TicketDistrict")
URGENCY = SearchAttributeKey.for_keyword("TicketUrgency")
CHANNEL = SearchAttributeKey.for_keyword("TicketChannel")
POLICY = SearchAttributeKey.for_keyword("TicketPolicyPack")
DEADLINE = SearchAttributeKey.for_datetime("TicketDeadline")
OVERDUE = SearchAttributeKey.for_bool("TicketOverdue")
WARNED = SearchAttributeKey.for_bool("TicketWarned")
SUPERVISED = SearchAttributeKey.for_bool("TicketSupervised")
FLAGS = SearchAttributeKey.for_keyword_list("TicketFlags")
UNITS = SearchAttributeKey.for_keyword_list("TicketUnits")

ALL: list[SearchAttributeKey] = [
    STATUS, TIER, LEAD_UNIT, CATEGORY, DISTRICT, URGENCY, CHANNEL, POLICY,
    DEADLINE, OVERDUE, WARNED, SUPERVISED, FLAGS, UNITS,
]  # fmt: skip


def _set(key: SearchAttributeKey, value) -> SearchAttributeUpdate:
    return key.value_unset() if value is None or value == [] else key.value_set(value)


def updates_for(values: dict[str, object], last: dict[str, object]) -> list[SearchAttributeUpdate]:
    """Only what changed since the last upsert: every upsert is a history event."""
    keys = {k.name: k for k in ALL}
    return [_set(keys[name], v) for name, v in values.items() if last.get(name) != v]

