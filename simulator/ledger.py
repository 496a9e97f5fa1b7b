"""What the simulator received, what it has done once (by Idempotency-Key), and the faults it is
told to inject. In memory, or durable in a SQLite file (`simulator_ledger`, which `hotline up`
sets to data/simulator.db): then a restart after kill -9 still answers a repeated key as a
duplicate with the same reference, and remembers which callback attempts its citizens answered.
Faults are never kept: a restart clears them."""

import itertools
import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

FaultMode = Literal["error_5xx", "reject_4xx", "timeout", "slow", "down", "busy"]


class Fault(BaseModel):
    """An injected failure: for one unit (or all, unit null), for the next `count` requests (or until cleared)."""

    unit: str | None = Field(default=None, description="unit id; null: every unit")
    mode: FaultMode = Field(
        description="error_5xx: answer 500; reject_4xx: answer 422; timeout: accept, then hold the answer until "
        "the caller gives up; slow: answer after simulator_slow_seconds; down: answer 503 like a gateway in "
        "front of a stopped system; busy: answer 429 with Retry-After (retry_after seconds)"
    )
    count: int | None = Field(default=None, ge=1, description="how many requests; null: until DELETE /admin/faults")
    retry_after: int = Field(default=60, ge=1, le=86_400, description="busy: the Retry-After it answers, in seconds")


class Received(BaseModel):
    at: datetime
    unit: str
    route: str  # work-orders | cancellations | urges | notices | callbacks | sms
    key: str
    ticket: str | None
    kind: str | None
    outcome: str  # accepted | duplicate | fault:<mode> | unauthorized | left_to_operator (a callback nobody simulates)
    reference: str | None = None


SCHEMA = """
CREATE TABLE IF NOT EXISTS done (unit TEXT NOT NULL, key TEXT NOT NULL, reference TEXT NOT NULL, PRIMARY KEY (unit, key));
CREATE TABLE IF NOT EXISTS received (id INTEGER PRIMARY KEY, entry TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS answered (ticket TEXT NOT NULL, attempt INTEGER NOT NULL, PRIMARY KEY (ticket, attempt));
"""


class Ledger:
    def __init__(self, path: Path | None = None) -> None:
        self.received: list[Received] = []
        self.done: dict[tuple[str, str], str] = {}  # (unit, Idempotency-Key) -> our reference
        self.answered: set[tuple[str, int]] = set()  # (ticket, callback attempt) its citizen answered
        self.faults: list[Fault] = []
        self._db: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")  # kill -9 loses nothing acknowledged
            self._db.executescript(SCHEMA)
            self.done = {(u, k): r for u, k, r in self._db.execute("SELECT unit, key, reference FROM done")}
            self.received = [Received.model_validate_json(e) for (e,) in self._db.execute("SELECT entry FROM received")]
            self.answered = {(t, a) for t, a in self._db.execute("SELECT ticket, attempt FROM answered")}
        self._numbers = itertools.count(len(self.done) + 1)

    @property
    def durable(self) -> bool:
        return self._db is not None

    def _write(self, sql: str, args: tuple) -> None:
        if self._db is not None:
            with self._lock:
                self._db.execute(sql, args)

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
        self._write("INSERT INTO received (entry) VALUES (?)", (entry.model_dump_json(),))
        return entry

    def once(self, unit: str, key: str) -> tuple[str, bool]:
        """Our reference for this key, and whether it is new (to be acted on) or a repeat."""
        if (unit, key) in self.done:
            return self.done[(unit, key)], False
        reference = f"SIM-{next(self._numbers):06d}"
        self.done[(unit, key)] = reference
        # Written before the answer goes back: a department acknowledges what it has kept.
        self._write("INSERT OR IGNORE INTO done (unit, key, reference) VALUES (?, ?, ?)", (unit, key, reference))
        return reference, True

    def answer_once(self, ticket: str, attempt: int) -> bool:
        """Whether this callback attempt is new to the simulated citizens (and now taken)."""
        if (ticket, attempt) in self.answered:
            return False
        self.answered.add((ticket, attempt))
        self._write("INSERT OR IGNORE INTO answered (ticket, attempt) VALUES (?, ?)", (ticket, attempt))
        return True

    def forget_answers(self, ticket: str) -> None:
        self.answered = {(t, a) for t, a in self.answered if t != ticket}
        self._write("DELETE FROM answered WHERE ticket = ?", (ticket,))

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
