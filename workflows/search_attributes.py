"""Typed search attributes of a ticket, so `temporal workflow list --query` and the Web UI answer
supervisors' questions ("overdue tickets of 市南区", "everything led by 八大峡街道")."""

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.client import Client
from temporalio.common import (
    SearchAttributeIndexedValueType,
    SearchAttributeKey,
    SearchAttributeUpdate,
)
from temporalio.service import RPCError, RPCStatusCode

from domain.ticket import TicketState

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


def values_of(s: TicketState) -> dict[str, object]:
    """The ticket's search attributes, by name, from its flat view."""
    flat = s.flat()
    return {
        STATUS.name: flat.stage.value,
        TIER.name: flat.tier.value,
        LEAD_UNIT.name: flat.lead_unit,
        CATEGORY.name: flat.category,
        DISTRICT.name: flat.district or s.request.address.district,
        URGENCY.name: flat.urgency.value,
        CHANNEL.name: flat.channel.value,
        POLICY.name: flat.policy_pack,
        DEADLINE.name: flat.deadline,
        OVERDUE.name: flat.overdue,
        WARNED.name: flat.warned,
        SUPERVISED.name: flat.supervised,
        FLAGS.name: list(flat.flags),
        UNITS.name: list(flat.units),
    }


def _set(key: SearchAttributeKey, value) -> SearchAttributeUpdate:
    return key.value_unset() if value is None or value == [] else key.value_set(value)


def updates_for(values: dict[str, object], last: dict[str, object]) -> list[SearchAttributeUpdate]:
    """Only what changed since the last upsert: every upsert is a history event."""
    keys = {k.name: k for k in ALL}
    return [_set(keys[name], v) for name, v in values.items() if last.get(name) != v]


def search_attribute_flags() -> list[str]:
    """`--search-attribute Name=Type` arguments for `temporal server start-dev`."""
    names = {
        SearchAttributeIndexedValueType.KEYWORD: "Keyword",
        SearchAttributeIndexedValueType.DATETIME: "Datetime",
        SearchAttributeIndexedValueType.BOOL: "Bool",
        SearchAttributeIndexedValueType.KEYWORD_LIST: "KeywordList",
        SearchAttributeIndexedValueType.INT: "Int",
        SearchAttributeIndexedValueType.TEXT: "Text",
    }
    flags: list[str] = []
    for key in ALL:
        flags += ["--search-attribute", f"{key.name}={names[key.indexed_value_type]}"]
    return flags


async def register_search_attributes(client: Client, namespace: str) -> list[str]:
    """Register the ticket's search attributes on a cluster that lacks them (idempotent).
    Returns the names it added."""
    try:
        existing = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=namespace)
        )
        known = set(existing.custom_attributes) | set(existing.system_attributes)
    except RPCError as e:
        if e.status != RPCStatusCode.UNIMPLEMENTED:  # the time-skipping test server only adds
            raise
        known = set()
    missing = {
        key.name: IndexedValueType.ValueType(int(key.indexed_value_type)) for key in ALL if key.name not in known
    }
    if missing:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=namespace, search_attributes=missing)
        )
    return sorted(missing)
