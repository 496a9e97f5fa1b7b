"""What the simulator received, what it has done once (by Idempotency-Key), and the faults it is
told to inject. In memory: the simulator is a test double, a restart forgets."""

import itertools
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, Field

FaultMode = Literal["error_5xx", "reject_4xx", "timeout", "slow", "down"]


class Fault(BaseModel):
    """An injected failure: for one unit (or all, unit null), for the next `count` requests (or until cleared)."""

    unit: str | None = Field(default=None, description="unit id; null: every unit")
    mode: FaultMode = Field(
        description="error_5xx: answer 500; reject_4xx: answer 422; timeout: accept, then hold the answer until "
        "the caller gives up; slow: answer after simulator_slow_seconds; down: answer 503 like a gateway in "
        "front of a stopped system"
    )
    count: int | None = Field(default=None, ge=1, description="how many requests; null: until DELETE /admin/faults")


class Received(BaseModel):
    at: datetime
    unit: str
    route: str  # work-orders | cancellations | urges | notices | callbacks | sms
    key: str
    ticket: str | None
    kind: str | None
    outcome: str  # accepted | duplicate | fault:<mode> | unauthorized | left_to_operator (a callback nobody simulates)
    reference: str | None = None


class Ledger:
    def __init__(self) -> None:
        self.received: list[Received] = []
        self.done: dict[tuple[str, str], str] = {}  # (unit, Idempotency-Key) -> our reference
        self.faults: list[Fault] = []
        self._numbers = itertools.count(1)

    # -- faults ------------------------------------------------------------------------------

    def add_fault(self, fault: Fault) -> None:
        self.faults.append(fault)

    def clear_faults(self) -> None:
        self.faults.clear()

    def take_fault(self, unit: str) -> Fault | None:
        """The first fault that applies to this unit, one count used up."""
        for fault in self.faults:
            if fault.unit in (None, unit):
                if fault.count is not None:
                    fault.count -= 1
                    if fault.count == 0:
                        self.faults.remove(fault)
                return fault
        return None

    # -- what came in ------------------------------------------------------------------------

    def note(self, unit: str, route: str, key: str, ticket: str | None, kind: str | None, outcome: str,
             reference: str | None = None) -> Received:  # fmt: skip
        entry = Received(
            at=datetime.now(UTC), unit=unit, route=route, key=key, ticket=ticket, kind=kind,
            outcome=outcome, reference=reference,
        )  # fmt: skip
        self.received.append(entry)
        return entry

    def once(self, unit: str, key: str) -> tuple[str, bool]:
        """Our reference for this key, and whether it is new (to be acted on) or a repeat."""
        if (unit, key) in self.done:
            return self.done[(unit, key)], False
        reference = f"SIM-{next(self._numbers):06d}"
        self.done[(unit, key)] = reference
        return reference, True
