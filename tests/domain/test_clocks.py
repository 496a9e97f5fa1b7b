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


# -- a pause gives back the working time that was left -------------------------------------------


def local(y, m, d, hh=10, mm=0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=CHINA_TZ)


def end_of(y, m, d) -> datetime:
    return datetime(y, m, d, 23, 59, 59, tzinfo=CHINA_TZ)


def test_a_paused_working_day_clock_resumes_with_the_working_time_it_had_left(cal):
    # Yantai, 5 working days from Mon 28 Sep 2026: Sep 29, 30, (Oct 1-7 off), Oct 8, 9 and the make-up
    # Saturday Oct 10.
    pack = load_pack("yantai")
    c = clocks.start_clock(ClockName.completion, Limit.model_validate("5wd"), local(2026, 9, 28), pack, cal)
    assert c.due_at == end_of(2026, 10, 10)
    # Paused for a consultation on Wed 30 Sep 10:00, resumed Thu 8 Oct 10:00. Working time lost to the
    # pause: the rest of 30 Sep and the morning of 8 Oct, one working day; the holiday in between cost
    # nothing. Due one working day later: Sun 11 Oct is a day off, so Mon 12 Oct 24:00.
    paused = clocks.pause_clock(c, local(2026, 9, 30))
    resumed = clocks.resume_clock(paused, local(2026, 10, 8), cal)
    assert resumed.due_at == end_of(2026, 10, 12)
    assert cal.is_working_day(resumed.due_at.date())
    assert resumed.paused_at is None and resumed.warn_at < resumed.due_at
    # In wall time it would have been Sun 18 Oct, a day off.
    assert clocks.resume_clock(paused, local(2026, 10, 8)).due_at == end_of(2026, 10, 18)


def test_a_pause_entirely_inside_a_holiday_costs_no_working_time(cal):
    pack = load_pack("yantai")
    c = clocks.start_clock(ClockName.completion, Limit.model_validate("5wd"), local(2026, 9, 28), pack, cal)
    paused = clocks.pause_clock(c, local(2026, 10, 2))
    assert clocks.resume_clock(paused, local(2026, 10, 6), cal).due_at == c.due_at


def test_an_hour_clock_resumes_in_wall_time(cal):
    pack = load_pack("yantai")
    c = clocks.start_clock(ClockName.acknowledge, Limit.model_validate("24h"), local(2026, 9, 30), pack, cal)
    paused = clocks.pause_clock(c, local(2026, 9, 30, 12))
    assert clocks.resume_clock(paused, local(2026, 10, 8), cal).due_at == c.due_at + (local(2026, 10, 8) - local(2026, 9, 30, 12))


# -- day limits as the Civil Code counts them -----------------------------------------------------


def test_days_exact_by_default_and_as_the_civil_code_counts_them_in_the_beijing_pack(cal):
    start = local(2026, 9, 28)  # Monday 10:00
    exact = clocks.start_clock(ClockName.completion, Limit.model_validate("7d"), start, load_pack("qingdao"), cal)
    assert exact.due_at == local(2026, 10, 5)  # 7 × 24 h: inside National Day
    # Beijing: from Sep 29, the 7th day is Oct 5, a holiday: the period ends with the first working
    # day after it, Thu Oct 8, at 24:00 (arts. 201, 203).
    civil = clocks.start_clock(ClockName.completion, Limit.model_validate("7d"), start, load_pack("beijing"), cal)
    assert civil.due_at == end_of(2026, 10, 8)
    assert civil.nominal_due == end_of(2026, 10, 5)
    # A period whose last day is a working day ends at 24:00 of that day.
    nov = clocks.start_clock(ClockName.completion, Limit.model_validate("15d"), T0, load_pack("beijing"), cal)
    assert nov.due_at == end_of(2026, 11, 17)
    # Ending on a Saturday moves to Monday.
    sat = clocks.start_clock(ClockName.completion, Limit.model_validate("5d"), local(2026, 11, 2), load_pack("beijing"), cal)
    assert sat.due_at == end_of(2026, 11, 9)
    # Hours stay hours.
    hours = clocks.start_clock(ClockName.completion, Limit.model_validate("24h"), start, load_pack("beijing"), cal)
    assert hours.due_at == start + timedelta(hours=24)


def test_a_civil_code_extension_and_pause(cal):
    pack = load_pack("beijing")
    c = clocks.start_clock(ClockName.completion, Limit.model_validate("7d"), local(2026, 9, 21), pack, cal)
    assert c.due_at == end_of(2026, 9, 28)  # Monday
    # Three more days from Sep 29: Oct 1, a holiday: moved to Oct 8.
    extended = clocks.extend_clock(c, Limit.model_validate("3d"), pack, cal)
    assert extended.due_at == end_of(2026, 10, 8)
    # Paused two days: nominal end Sep 30, a working day.
    paused = clocks.pause_clock(c, local(2026, 9, 22))
    assert clocks.resume_clock(paused, local(2026, 9, 24), cal).due_at == end_of(2026, 9, 30)


# -- next year's calendar applied to an open ticket ------------------------------------------------


def official_2027():
    from domain.deadlines.calendar import WorkCalendar, YearCalendar
    from datetime import date

    holidays = [date(2027, 2, d) for d in range(5, 14)]  # a 9-day Spring Festival, Feb 5-13
    return WorkCalendar(years={2027: YearCalendar(year=2027, holidays=holidays, workdays=[date(2027, 2, 20)],
                                                  source="center_file")})  # fmt: skip


def test_retime_moves_estimated_deadlines_to_the_official_calendar_and_leaves_the_others(cal):
    from tests.factories import ticket_input
    from domain.ticket import TicketState

    pack = load_pack("jinan")
    start = local(2027, 2, 2)  # Tuesday
    s = TicketState(number="T1", workflow_id="w", request=ticket_input().request, received_at=start)
    s.clocks["completion"] = clocks.start_clock(ClockName.completion, Limit.model_validate("5wd"), start, pack, cal)
    s.clocks["acknowledge"] = clocks.start_clock(ClockName.acknowledge, Limit.model_validate("2h"), start, pack, cal)
    # Rule-based 2027: Feb 5-10 off, so Feb 3, 4, 11, 12, 15.
    assert s.clocks["completion"].due_at == end_of(2027, 2, 15) and s.clocks["completion"].estimated
    ack = s.clocks["acknowledge"]

    new = cal.updated_with(official_2027())
    moved = clocks.retime(s, pack, cal, new, local(2027, 2, 3), actor="center")
    # Official: Feb 3, 4, (5-13 off, 14 Sunday), 15, 16, 17.
    assert [(m.key, m.before, m.after, m.estimated) for m in moved] == [
        ("completion", end_of(2027, 2, 15), end_of(2027, 2, 17), False)
    ]
    c = s.clocks["completion"]
    assert c.due_at == new.add_working_days(start, 5)[0] and not c.estimated
    assert c.warn_at == start + (c.due_at - start) * pack.warning_share
    assert s.clocks["acknowledge"] == ack  # hours, never estimated: untouched
    line = s.timeline[-1]
    assert (line.event, line.data["clock"], line.data["was"]) == ("deadline_moved", "completion", end_of(2027, 2, 15).isoformat())
    # Applying the same calendar again changes nothing.
    assert clocks.retime(s, pack, new, new, local(2027, 2, 3)) == []
    assert len(s.timeline) == 1


def test_retime_keeps_the_working_time_of_a_pause_and_clears_a_breach_that_no_longer_is(cal):
    from tests.factories import ticket_input
    from domain.ticket import TicketState

    pack = load_pack("jinan")
    start = local(2027, 2, 2)
    s = TicketState(number="T2", workflow_id="w", request=ticket_input().request, received_at=start)
    c = clocks.start_clock(ClockName.completion, Limit.model_validate("5wd"), start, pack, cal)
    c = clocks.resume_clock(clocks.pause_clock(c, local(2027, 2, 3)), local(2027, 2, 4), cal)  # one working day paused
    assert c.due_at == end_of(2027, 2, 16)
    c.breached_at, c.warned_at, c.steps_done = c.due_at, c.warn_at, 1
    s.clocks["completion"] = c
    moved = clocks.retime(s, pack, cal, cal.updated_with(official_2027()), local(2027, 2, 17, 8))
    assert moved[0].after == end_of(2027, 2, 18)  # six working days under the official schedule
    assert s.clocks["completion"].breached_at is None and s.clocks["completion"].steps_done == 0
