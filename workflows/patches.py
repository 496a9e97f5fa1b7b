"""The ticket's patches, and one marker that stands for all of them.

A change to the ticket's workflow that changes its commands is behind `workflow.patched`, so that
open tickets still replay. Every patch a run passes records a marker, and Core upserts the
`TemporalChangeVersion` search attribute beside each: two history events and a visibility write
per patch, for every new ticket — 12 of the full lifecycle's 197 events, for its six patches.
A ticket begun on this code records one marker, `ALL_OF_2026_12_03`, that stands for every patch
in `FOLDED`; a run begun before (its history has no such marker) asks each patch as it always
did, so its history replays command for command. A patch added later is asked for itself, until
a new marker folds it in too."""

from temporalio import workflow

ALL_OF_2026_12_03 = "ticket-patches-to-2026-12-03"

# Every patch whose new behaviour a ticket begun now takes. ("projection-after-the-task" is not
# among them: it is asked only by a run without "projection-local-again", i.e. an old one.)
FOLDED = frozenset({
    "callback-reply-after-acted-on",
    "continue-as-new-when-long",
    "deadline-timer-kept",
    "delivery-local-first",
    "delivery-local-retry-after",
    "emergency-follow-up",
    "escalation-keeps-extension",
    "projection-local-again",
    "projection-once-per-activation",
    "resume-keeps-working-time",
    "search-attributes-with-projection",
})  # fmt: skip


class Patches:
    """Built at the run's first activation (the workflow's init), where the one marker is asked:
    on replay of a run begun before it, the answer is no, for the whole run."""

    def __init__(self) -> None:
        self.folded = workflow.patched(ALL_OF_2026_12_03)

    def patched(self, patch_id: str) -> bool:
        if self.folded and patch_id in FOLDED:
            return True
        return workflow.patched(patch_id)
