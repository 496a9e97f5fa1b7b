"""The worker's collector: start-up's objects are frozen out of collections, and a slow collection
is reported in the log."""

import asyncio
import gc
import json
import sys

from core.collector import freeze_startup_objects, watching_collections
from core.logging import configure_logging


def test_startup_objects_are_frozen_out_of_collections():
    try:
        frozen = freeze_startup_objects()
        assert frozen > 10_000 and frozen == gc.get_freeze_count()  # the modules imported so far, at least
        assert len(gc.get_objects()) < frozen  # what collections still walk
    finally:
        gc.unfreeze()  # the rest of the suite collects as usual


async def test_a_collection_slower_than_the_threshold_is_logged(capsys):
    configure_logging(json=True, level="INFO")
    try:
        with watching_collections(asyncio.get_running_loop(), slower_than=0.0):
            gc.collect()
            await asyncio.sleep(0)  # the line is written from the loop, after the collection
            await asyncio.sleep(0)
    finally:
        configure_logging(json=False)
    lines = [json.loads(line) for line in capsys.readouterr().err.strip().splitlines() if line.startswith("{")]
    slow = [line for line in lines if line["event"] == "slow garbage collection"]
    assert slow and slow[-1]["generation"] == 2 and slow[-1]["seconds"] >= 0 and slow[-1]["tracked"] > 0


def test_a_slow_collection_after_the_loop_closed_is_not_an_error(monkeypatch):
    raised: list = []  # an exception in a collector callback is reported here, not raised
    monkeypatch.setattr(sys, "unraisablehook", raised.append)
    loop = asyncio.new_event_loop()
    loop.close()  # a worker shutting down
    before = list(gc.callbacks)
    with watching_collections(loop, slower_than=0.0):
        gc.collect()
    assert raised == []
    assert gc.callbacks == before  # removed on the way out
