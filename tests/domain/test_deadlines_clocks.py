from datetime import UTC, datetime, timedelta

import pytest

from catalog.calendar import build_calendar
from catalog.policies import load_pack
from domain.deadlines import clocks
from domain.deadlines.calendar import CHINA_TZ, WorkCalendar
from domain.policy import ClockName, ClockRule, Limit, PolicyPack, RehandleRule, ReturnRule, WhistleRule
from domain.vocabulary import Stage, Urgency
from tests.factories import request, ticket_state

T0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)  # Monday 09:00 in Beijing


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
    assert [e.at for e in fired] == [
        c.warn_at,
        c.due_at,
        c.due_at,
        c.due_at + timedelta(minutes=30),
        c.due_at + timedelta(hours=1),
    ]
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


# -- the clocks of a ticket, under a pack written for the test ---------------------------------

PACK = PolicyPack(
    name="town", version="1", title="a town's pack",
    clocks={
        ClockName.completion: ClockRule(by_urgency={u: "7d" for u in Urgency} | {Urgency.emergency: "2h"}),
        ClockName.acknowledge: ClockRule(by_urgency={Urgency.normal: "2h"}),  # none for an emergency
        ClockName.first_feedback: ClockRule(starts="acknowledge", by_urgency={Urgency.normal: "1d"}),
        ClockName.contact: ClockRule(starts="next_day", by_urgency={Urgency.normal: "1d"}),
    },
    rehandle=RehandleRule(limit="3d"),
    whistle=WhistleRule(acknowledge_within="30m"),
)  # fmt: skip
NO_CALENDAR = WorkCalendar(years={})  # every limit here is calendar time
H = timedelta(hours=1)


def test_at_dispatch_the_packs_clocks_start_or_wait_for_the_acknowledgement():
    s = ticket_state(Stage.dispatch)
    clocks.open_clocks(s, PACK, NO_CALENDAR, T0)
    assert set(s.clocks) == {"completion", "acknowledge", "contact"}  # first feedback waits for the sign-for
    assert (s.clocks["completion"].due_at, s.clocks["acknowledge"].due_at) == (T0 + timedelta(days=7), T0 + 2 * H)
    midnight = datetime(2026, 11, 3, 0, 0, tzinfo=CHINA_TZ)  # "next day": from the local midnight after dispatch
    assert (s.clocks["contact"].started_at, s.clocks["contact"].due_at) == (midnight, midnight + timedelta(days=1))
    clocks.on_acknowledged(s, PACK, NO_CALENDAR, T0 + H)
    assert s.clocks["first_feedback"].started_at == T0 + H and s.clocks["first_feedback"].due_at == T0 + 25 * H


def test_a_clock_the_pack_gives_no_limit_for_this_ticket_does_not_run():
    s = ticket_state(Stage.dispatch, request=request(urgency=Urgency.emergency))
    clocks.open_clocks(s, PACK, NO_CALENDAR, T0)
    assert set(s.clocks) == {"completion"} and s.clocks["completion"].due_at == T0 + 2 * H


def test_a_rehandle_round_restarts_sign_for_and_completion_on_the_rehandle_limit():
    s = ticket_state(Stage.rehandle)
    clocks.open_clocks(s, PACK, NO_CALENDAR, T0)
    s.clocks["completion"].met_at = T0 + timedelta(days=2)
    later = T0 + timedelta(days=3)
    clocks.restart_for_rehandle(s, PACK, NO_CALENDAR, later)
    assert s.clocks["completion"].due_at == later + timedelta(days=3) and s.clocks["completion"].met_at is None
    assert s.clocks["acknowledge"].started_at == later
    by_sign_for = PACK.model_copy(deep=True)
    by_sign_for.clocks[ClockName.acknowledge].starts = "acknowledge"
    clocks.restart_for_rehandle(s, by_sign_for, NO_CALENDAR, later)
    assert "acknowledge" not in s.clocks  # it starts again only when the unit signs


@pytest.mark.parametrize(("on_reassign", "completion_moves"), [("restart", True), ("keep", False)])
def test_a_new_lead_signs_afresh_and_the_completion_restarts_or_keeps_as_the_pack_says(on_reassign, completion_moves):
    pack = PACK.model_copy(update={"returns": ReturnRule(clocks_on_reassign=on_reassign)})
    s = ticket_state(Stage.dispatch)
    clocks.open_clocks(s, pack, NO_CALENDAR, T0)
    clocks.on_reassigned(s, pack, NO_CALENDAR, T0 + 3 * H)
    assert s.clocks["acknowledge"].due_at == T0 + 5 * H
    due = s.clocks["completion"].due_at
    assert due == (T0 + 3 * H + timedelta(days=7) if completion_moves else T0 + timedelta(days=7))


def test_a_summoned_unit_has_its_own_report_clock():
    s = ticket_state()
    clocks.start_report_clock(s, "qd.dept.environment", PACK, NO_CALENDAR, T0)
    c = s.clocks["report:qd.dept.environment"]
    assert (c.name, c.unit, c.due_at) == (ClockName.report, "qd.dept.environment", T0 + timedelta(minutes=30))
    fired = clocks.fire_due(s.clocks, PACK, NO_CALENDAR, T0 + timedelta(minutes=25))
    [event] = [e for e in fired if e.kind == "warning"]
    assert event.key == "report:qd.dept.environment"


def test_a_consultation_pauses_every_clock_and_the_pause_is_added_back():
    s = ticket_state(Stage.dispatch)
    clocks.open_clocks(s, PACK, NO_CALENDAR, T0)
    s.clocks["acknowledge"].met_at = T0 + H
    before = {k: c.due_at for k, c in s.clocks.items()}
    clocks.pause_all(s, T0 + 2 * H)
    assert all(not c.running for c in s.clocks.values())
    assert clocks.next_wake(s.clocks, PACK, NO_CALENDAR) is None
    clocks.resume_all(s, T0 + 6 * H)
    assert s.clocks["completion"].due_at == before["completion"] + 4 * H and s.clocks["completion"].running
    assert s.clocks["acknowledge"].due_at == before["acknowledge"]  # a met clock is not paused


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
    assert clocks.resume_clock(paused, local(2026, 10, 8), cal).due_at == c.due_at + (
        local(2026, 10, 8) - local(2026, 9, 30, 12)
    )


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
    sat = clocks.start_clock(
        ClockName.completion, Limit.model_validate("5d"), local(2026, 11, 2), load_pack("beijing"), cal
    )
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
    from datetime import date

    from domain.deadlines.calendar import WorkCalendar, YearCalendar

    holidays = [date(2027, 2, d) for d in range(5, 14)]  # a 9-day Spring Festival, Feb 5-13
    return WorkCalendar(years={2027: YearCalendar(year=2027, holidays=holidays, workdays=[date(2027, 2, 20)],
                                                  source="center_file")})  # fmt: skip


def test_retime_moves_estimated_deadlines_to_the_official_calendar_and_leaves_the_others(cal):
    from domain.ticket import TicketState
    from tests.factories import ticket_input

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
    assert (line.event, line.data["clock"], line.data["was"]) == (
        "deadline_moved",
        "completion",
        end_of(2027, 2, 15).isoformat(),
    )
    # Applying the same calendar again changes nothing.
    assert clocks.retime(s, pack, new, new, local(2027, 2, 3)) == []
    assert len(s.timeline) == 1


def test_retime_keeps_the_working_time_of_a_pause_and_clears_a_breach_that_no_longer_is(cal):
    from domain.ticket import TicketState
    from tests.factories import ticket_input

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
