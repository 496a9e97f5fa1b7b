from datetime import datetime, timedelta, timezone

import pytest

from domain.deadlines import clocks
from domain.deadlines.calendar import CHINA_TZ, WorkCalendar
from catalog.calendar import build_calendar
from domain.policy import ClockName, ClockRule, Limit, PolicyPack, RehandleRule, ReturnRule, WhistleRule
from catalog.policies import load_pack
from domain.vocabulary import Stage, Urgency
from tests.factories import request, ticket_state

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
