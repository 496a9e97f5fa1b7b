"""A ticket begun on today's code records one patch marker, not one per patch (each of which Core
pairs with a TemporalChangeVersion upsert); tickets begun before replay their per-patch markers
(test_replay.py, the committed histories). The set of patches the marker stands for is closed."""

import asyncio
import json
import re
from pathlib import Path

from temporalio.api.enums.v1 import EventType

from core.codec import data_converter
from domain.vocabulary import Stage
from tests.conftest import task_queue
from tests.factories import ticket_input
from tests.workflows import drive
from worker import build_worker, replayer
from workflows import patches
from workflows import search_attributes as sa

LEAD = "qd.shinan.badaxia"
WORKFLOWS = Path(patches.__file__).parent


def _patch_ids(history) -> list[str]:
    ids = []
    for e in history.events:
        if e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED:
            a = e.marker_recorded_event_attributes
            if a.marker_name == "core_patch":
                ids.append(json.loads(a.details["patch-data"].payloads[0].data)["id"])
    return ids


def _change_version_upserts(history) -> int:
    return sum(
        1
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES
        and "TemporalChangeVersion"
        in e.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields
    )


async def test_a_new_ticket_records_one_patch_marker_for_all_patches(time_env, queue):
    h = await drive.start(time_env, queue, ticket_input())
    await drive.acknowledge(h, LEAD)
    await drive.urge(h, drive.unit("qd.dept.urban"))
    await drive.complete(h, LEAD)
    await drive.answer(h)
    await h.result()

    history = await h.fetch_history()
    [marker] = _patch_ids(history)
    assert marker == patches.ALL_OF_2026_12_03
    assert _change_version_upserts(history) == 1
    # The ticket's own search attributes still follow it to the close.
    assert await drive.search_attribute(h, sa.STATUS.name) == Stage.closed.value
    assert await drive.search_attribute(h, sa.LEAD_UNIT.name) == LEAD


async def test_a_ticket_begun_before_the_marker_carries_on_under_each_patch(time_env, settings, monkeypatch):
    """The upgrade itself: a ticket taken in and signed for by code without the marker, finished by
    today's worker (nothing cached: it replays the beginning first). It keeps asking each patch,
    never records the marker, closes, and its mixed history replays in the full sandbox."""
    running = settings.model_copy(update={"worker_strict_sandbox": False})  # patches.py passes through
    q = task_queue()
    with monkeypatch.context() as before_the_marker:
        before_the_marker.setattr(patches.Patches, "__init__", lambda self: setattr(self, "folded", False))
        # Nothing cached (no sticky queue the next worker would wait out): the next task replays.
        async with build_worker(time_env.client, running, q, max_cached_workflows=0):
            h = await drive.start(time_env, q, ticket_input())
            await drive.acknowledge(h, LEAD)
    # A replay that disagrees with the beginning fails the workflow task over and over: give up.
    async with build_worker(time_env.client, running, q), asyncio.timeout(60):
        await drive.complete(h, LEAD)
        await drive.answer(h)
        assert (await h.result()).stage == Stage.closed

    history = await h.fetch_history()
    ids = _patch_ids(history)
    assert patches.ALL_OF_2026_12_03 not in ids
    assert {"projection-local-again", "delivery-local-first", "callback-reply-after-acted-on"} <= set(ids)
    await replayer(data_converter(settings), strict=True).replay_workflow(history)


def test_every_patch_the_code_asks_is_folded_or_asked_only_by_old_runs():
    asked = set()
    for source in WORKFLOWS.glob("*.py"):
        asked |= set(re.findall(r'patched\(\s*"([a-z0-9-]+)"', source.read_text()))
    asked.add("search-attributes-with-projection")  # asked through its constant
    assert asked - patches.FOLDED == {"projection-after-the-task"}  # superseded by projection-local-again


def test_the_folded_patches_are_closed():
    """A ticket begun since the marker took every patch in FOLDED; a patch added to FOLDED now would
    be taken as applied by those tickets, whose histories never ran it. A new patch is asked for
    itself, and folded only under a new marker."""
    assert patches.FOLDED == {
        "callback-reply-after-acted-on", "continue-as-new-when-long", "deadline-timer-kept",
        "delivery-local-first", "delivery-local-retry-after", "emergency-follow-up",
        "escalation-keeps-extension", "projection-local-again", "projection-once-per-activation",
        "resume-keeps-working-time", "search-attributes-with-projection",
    }  # fmt: skip
