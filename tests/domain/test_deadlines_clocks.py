from datetime import datetime, timedelta, timezone

import pytest

from domain.deadlines import clocks
from domain.deadlines.calendar import CHINA_TZ
from catalog.calendar import build_calendar
from domain.policy import ClockName, Limit
from catalog.policies import load_pack

T0 = datetime(2026, 11, 2, 1, 0, tzinfo=timezone.utc)  # Monday 09:00 in Beijing


@pytest.fixture(scope="module")
def cal():
    return build_calendar([2026, 2027])


def test_calendar_hours_and_working_days(cal):
    pack = load_pack("jinan")
    c = clocks.start_clock(ClockName.completion, Limit.model_validate("5wd"), T0, pack, cal)
    assert c.due_at == datetime(2026, 11, 9, 23, 59, 59, tzinfo=CHINA_TZ)  # Mon + 5 working days = next Mon
    assert c.warn_at == T0 + (c.due_at - T0) * 0.8
    h = clocks.start_clock(ClockName.completion, Limit.model_validate("2h"), T0, pack, cal)
    assert h.due_at == T0 + timedelta(hours=2)


def test_events_fire_once_in_order_even_after_a_long_outage(cal):
    pack = load_pack("qingdao")
    c = clocks.start_clock(ClockName.completion, Limit.model_validate("7d"), T0, pack, cal)
    ticket = {ClockName.completion: c}
    assert clocks.next_wake(ticket, pack, cal) == c.warn_at
    assert clocks.fire_due(ticket, pack, cal, c.warn_at - timedelta(seconds=1)) == []

    # The worker was down for ten days: everything due fires at once, in order, exactly once.
    fired = clocks.fire_due(ticket, pack, cal, T0 + timedelta(days=10))
    assert [(e.kind, e.step.action.value if e.step else None) for e in fired] == [
        ("warning", None), ("breach", None), ("step", "reminder"), ("step", "supervision"), ("step", "escalation"),
    ]  # fmt: skip
    assert [e.at for e in fired] == [c.warn_at, c.due_at, c.due_at, c.due_at + timedelta(minutes=30), c.due_at + timedelta(hours=1)]
    assert clocks.fire_due(ticket, pack, cal, T0 + timedelta(days=11)) == []
    assert clocks.next_wake(ticket, pack, cal) is None


def test_a_met_or_paused_clock_is_silent(cal):
    pack = load_pack("qingdao")
    c = clocks.start_clock(ClockName.completion, Limit.model_validate("7d"), T0, pack, cal)
    paused = clocks.pause_clock(c, T0 + timedelta(days=1))
    assert clocks.fire_due({ClockName.completion: paused}, pack, cal, T0 + timedelta(days=30)) == []
    resumed = clocks.resume_clock(paused, T0 + timedelta(days=3))
    assert resumed.due_at == c.due_at + timedelta(days=2)


def test_an_extension_moves_the_same_clock(cal):
    pack = load_pack("qingdao")
    c = clocks.start_clock(ClockName.completion, Limit.model_validate("7d"), T0, pack, cal)
    c.warned_at = c.warn_at
    moved = clocks.extend_clock(c, Limit.model_validate("3d"), pack, cal)
    assert moved.due_at == c.due_at + timedelta(days=3)
    assert moved.warned_at is None and moved.started_at == c.started_at
