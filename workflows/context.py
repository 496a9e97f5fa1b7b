"""What every part of a ticket's workflow shares: its state and the rules it keeps for life, the
timeline, the patches it runs under, and the one way a change is announced (a new version, which
the projector follows with a snapshot for the read model and the search attributes that changed).
Helpers receive it; nothing inherits from it."""

from collections.abc import Callable
from datetime import datetime
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain.deadlines.calendar import WorkCalendar
    from domain.errors import Refusal
    from domain.policy import PolicyPack
    from domain.ticket import TicketInput, TicketState, TicketSummary

from workflows import search_attributes as sa
from workflows.patches import Patches

# The signal a consultation child mirrors its rounds to its ticket with. Named here, not in
# consultation.py, so that the ticket's module does not import a workflow definition: that one
# would be re-imported into the sandbox for every new ticket instance.
PROGRESS_SIGNAL = "consultation_progress"

# The search attributes change with the read model's snapshot, in the same workflow task, not at
# each change: the committed full lifecycle's own upserts 18 → 15, the bench lifecycle's 7 → 5.
SEARCH_ATTRIBUTES_WITH_PROJECTION = "search-attributes-with-projection"


# One PolicyPack object per distinct pack for all the tickets a worker holds (this module passes
# through the sandbox, so the dict is the worker's): a pack is ~200 objects that every full garbage
# collection walks, for each of up to 1,000 cached tickets (a quarter of a cached ticket's objects).
# A pack is read, never changed, and equal packs are interchangeable, so the sharing changes
# nothing a workflow does. A worker sees a few packs; past the cap a pack is simply not shared.
_PACKS: dict[str, PolicyPack] = {}
_PACKS_AT_MOST = 64


def shared_pack(pack: PolicyPack) -> PolicyPack:
    """The worker's one copy of a pack equal to `pack` (`pack` itself the first time)."""
    key = pack.model_dump_json()
    if key in _PACKS or len(_PACKS) >= _PACKS_AT_MOST:
        return _PACKS.get(key, pack)
    _PACKS[key] = pack
    return pack


def guard(check: Callable[..., None], *args: Any) -> None:
    """Run a domain check in an update validator: a refusal rejects the update with its reason and
    a type the API maps to 403 / 409 / 422, and leaves nothing in history."""
    try:
        check(*args)
    except Refusal as r:
        raise ApplicationError(r.reason, type=r.kind.value, non_retryable=True) from None


class TicketContext:
    # Fixed at intake and kept for life: they travel in the workflow's history, so a changed pack
    # file or calendar never touches an open ticket.
    policy: PolicyPack
    calendar: WorkCalendar

    def __init__(self, input: TicketInput) -> None:
        self.citizen_key: str | None = None
        # Deliveries whose first attempt (a local activity, inside this workflow task) is under way:
        # its outcome follows within seconds, and the projector waits for it (workflows/projection.py).
        self.first_attempts = 0
        self._last_search_attributes: dict[str, object] = {}
        self.patches = Patches()  # first: before anything a patch decides
        if input.carried:  # the next run of a long-lived ticket: everything as it was
            self.state = input.carried.state
            self.policy = shared_pack(input.carried.policy)
            self.calendar = input.carried.calendar
            self.citizen_key = input.carried.citizen_key
            return
        self.state = TicketState(
            number=input.number,
            workflow_id=workflow.info().workflow_id,
            request=input.request,
            received_at=input.received_at,
        )

    @staticmethod
    def now() -> datetime:
        return workflow.now()

    def record(self, actor: str, event: str, detail: str = "", **data: Any) -> None:
        self.state.record(self.now(), actor, event, detail, **data)
        # One log line per timeline event (replay-safe). The free-text detail stays out: it may
        # quote the citizen.
        workflow.logger.info(
            event,
            extra={"ticket": self.state.number, "unit": data.get("unit") or actor, "stage": self.state.stage.value},
        )

    def note_deadline(self, before: datetime | None, why: str) -> None:
        """A timeline line whenever the completion deadline moves, saying why."""
        after = self.state.deadline
        if after is not None and after != before:
            due = after.isoformat()
            self.record(
                "system", "deadline_moved", f"completion now due {due}: {why}", clock="completion", due_at=due, why=why
            )

    def patched(self, patch_id: str) -> bool:
        """`workflow.patched`, answered by the one marker of a ticket begun since (workflows/patches.py)."""
        return self.patches.patched(patch_id)

    def changed(self) -> None:
        self.state.version += 1
        if not self.patched(SEARCH_ATTRIBUTES_WITH_PROJECTION):
            self.upsert_search_attributes()  # a run begun before the patch: at every change

    def upsert_search_attributes(self) -> None:
        """Temporal's copy of what supervisors filter on, where it changed since the last upsert:
        every upsert is a history event and a visibility write, so the projector makes one for
        each snapshot it takes (workflows/projection.py), not one for each change."""
        values = sa.values_of(self.state)
        updates = sa.updates_for(values, self._last_search_attributes)
        if updates:
            workflow.upsert_search_attributes(updates)
            self._last_search_attributes = values

    def summary(self) -> TicketSummary:
        return TicketSummary.of(self.state)
