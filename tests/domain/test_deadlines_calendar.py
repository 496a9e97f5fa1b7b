"""Working-day deadlines on the Chinese statutory calendar, as a hotline user sees them.

2026 dates are the State Council's schedule as shipped in chinese_calendar 1.11.0:
Spring Festival off Feb 15-23, make-up Saturdays Feb 14 and Feb 28; National Day off Oct 1-7,
make-up Sunday Sep 20 and Saturday Oct 10 (Mid-Autumn off Sep 25-27)."""

from datetime import UTC, date, datetime, timedelta

import pytest

from catalog.calendar import build_calendar
from domain.deadlines.calendar import CHINA_TZ, WorkCalendar

UTC = UTC


def local(y, m, d, hh=10, mm=0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=CHINA_TZ)


def end_of(y, m, d) -> datetime:
    return datetime(y, m, d, 23, 59, 59, tzinfo=CHINA_TZ)


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return build_calendar([2026, 2027])


def test_sources_default_center_file_ships_empty(cal):
    # The shipped data file only has a commented-out example: 2026 comes from the package.
    assert cal.years[2026].source == "chinese_calendar" and cal.years[2026].official
    assert cal.years[2027].source == "rule_based" and not cal.years[2027].official


# -- Spring Festival 2026 -----------------------------------------------------------------------


def test_spring_festival_counts_make_up_saturdays(cal):
    # Saturday Feb 14 15:00 (itself a make-up workday, not counted as the start day):
    # Feb 24, 25, 26, 27 and make-up Saturday Feb 28.
    start = local(2026, 2, 14, 15).astimezone(UTC)
    assert cal.add_working_days(start, 5) == (end_of(2026, 2, 28), False)


def test_one_day_from_last_working_day_before_spring_festival(cal):
    assert cal.is_working_day(date(2026, 2, 14))  # Saturday, but 调休上班
    assert not any(cal.is_working_day(date(2026, 2, d)) for d in range(15, 24))
    deadline, estimated = cal.add_working_days(local(2026, 2, 14, 17), 1)
    assert deadline == end_of(2026, 2, 24) and not estimated
    # ... and from Friday Feb 13, the next working day is the make-up Saturday.
    assert cal.add_working_days(local(2026, 2, 13), 1)[0] == end_of(2026, 2, 14)


def test_start_day_is_the_china_local_date_not_utc(cal):
    # 2026-02-13 17:00 UTC is already Saturday Feb 14 01:00 in China.
    start = datetime(2026, 2, 13, 17, 0, tzinfo=UTC)
    deadline, _ = cal.add_working_days(start, 1)
    assert deadline == end_of(2026, 2, 24)
    assert deadline.utcoffset() == timedelta(hours=8)


# -- National Day 2026 --------------------------------------------------------------------------


def test_national_day_deadline_spans_holiday_and_ends_on_make_up_saturday(cal):
    # Monday Sep 28: Sep 29, Sep 30, Oct 8, Oct 9, make-up Saturday Oct 10.
    assert cal.add_working_days(local(2026, 9, 28), 5) == (end_of(2026, 10, 10), False)
    # Wednesday Sep 30: Oct 8, 9, 10 (Sat), 12, 13.
    assert cal.add_working_days(local(2026, 9, 30), 5)[0] == end_of(2026, 10, 13)


def test_national_day_make_up_sunday_before(cal):
    # Friday Sep 18: the next working day is make-up Sunday Sep 20.
    assert cal.add_working_days(local(2026, 9, 18), 1)[0] == end_of(2026, 9, 20)
    # Mid-Autumn Fri Sep 25 is off: Thursday Sep 24 + 1 -> Monday Sep 28.
    assert cal.add_working_days(local(2026, 9, 24), 1)[0] == end_of(2026, 9, 28)


# -- ordinary weeks -----------------------------------------------------------------------------


def test_friday_plus_one_is_monday(cal):
    assert cal.add_working_days(local(2026, 3, 6, 16), 1) == (end_of(2026, 3, 9), False)


def test_working_days_between_and_add_hours(cal):
    # Elapsed working days since a ticket was dispatched on Friday Feb 13.
    assert cal.working_days_between(local(2026, 2, 13), local(2026, 2, 24, 9)) == 2  # Feb 14, Feb 24
    assert cal.working_days_between(local(2026, 3, 9), local(2026, 3, 9, 23)) == 0
    assert cal.working_days_between(local(2026, 3, 9), local(2026, 3, 6)) == 0
    start = local(2026, 9, 30, 20)
    deadline, _ = cal.add_working_days(start, 5)
    assert cal.working_days_between(start, deadline) == 5
    # Hour limits run on the clock, straight through the holiday.
    assert cal.add_hours(start.astimezone(UTC), 24) == local(2026, 10, 1, 20)
    assert cal.add_hours(start.astimezone(UTC), 24).utcoffset() == timedelta(hours=8)


# -- years without official data ----------------------------------------------------------------


def test_december_deadline_running_into_2027_is_estimated(cal):
    # chinese_calendar 1.11.0 stops at 2026; 2027 is rule-based and has New Year's Day.
    assert date(2027, 1, 1) in cal.years[2027].holidays
    deadline, estimated = cal.add_working_days(local(2026, 12, 15), 15)
    # Dec 16-18, 21-25, 28-31 = 12; Fri Jan 1 skipped; Jan 4, 5, 6.
    assert deadline == end_of(2027, 1, 6)
    assert estimated
    # The same calendar inside 2026 alone is official.
    assert cal.add_working_days(local(2026, 12, 1), 5)[1] is False


def test_center_file_makes_2027_official_and_wins(tmp_path):
    f = tmp_path / "calendar_data.toml"
    # Made-up 2027 schedule, only for the test: Jan 1 and Mon Jan 4 off, Sat Jan 9 worked.
    f.write_text(
        '[years.2027]\npublished = "test"\n'
        'holidays = ["2027-01-01", 2027-01-04]\nworkdays = ["2027-01-09"]\n'
        # ... and it also overrides the package's 2026: Thu Dec 31 off.
        '[years.2026]\nholidays = ["2026-12-31"]\nworkdays = []\n',
        encoding="utf-8",
    )
    cal = build_calendar([2026, 2027], center_file=f)
    assert cal.years[2027].source == "center_file" and cal.years[2027].official
    assert cal.years[2026].source == "center_file"
    # Dec 16-18, 21-25, 28-30 = 11; Jan 5, 6, 7, 8, Sat Jan 9.
    assert cal.add_working_days(local(2026, 12, 15), 16) == (end_of(2027, 1, 9), False)


@pytest.mark.parametrize(
    "text, problem",
    [
        ("[years.2027\nholidays = []", "not valid TOML"),
        ('[years.2027]\nholidays = ["2026-01-01"]\nworkdays = []', "not in 2027"),
        ('[years.2027]\nholidays = ["2027-13-01"]\nworkdays = []', "not a YYYY-MM-DD date"),
        ('[years.2027]\nholidays = ["2027-01-01"]', "missing `workdays`"),
        ('[years.2027]\nholidays = []\nworkdays = ["2027-01-05"]', "is a weekday"),
        ("[years.2027]\nholiday = []\nworkdays = []", "unknown keys"),
        ("[years.next]\nholidays = []\nworkdays = []", "4-digit year"),
    ],
)
def test_malformed_center_file_names_the_file(tmp_path, text, problem):
    f = tmp_path / "broken_calendar.toml"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError) as e:
        build_calendar([2027], center_file=f)
    assert str(f) in str(e.value) and problem in str(e.value)


def test_year_missing_from_snapshot_falls_back_to_weekdays(cal):
    assert 2030 not in cal.years
    assert cal.is_estimated(date(2030, 1, 1)) and not cal.is_estimated(date(2026, 1, 1))
    assert cal.is_working_day(date(2030, 1, 1))  # a Tuesday; its New Year is unknown here
    assert not cal.is_working_day(date(2030, 1, 5))  # Saturday
    assert cal.add_working_days(local(2030, 1, 4), 1) == (end_of(2030, 1, 7), True)


def test_rejects_naive_datetimes_and_non_positive_n(cal):
    with pytest.raises(ValueError):
        cal.add_working_days(datetime(2026, 3, 6, 10), 1)
    with pytest.raises(ValueError):
        cal.add_working_days(local(2026, 3, 6), 0)
    with pytest.raises(ValueError):
        cal.add_hours(datetime(2026, 3, 6, 10), 2)
    with pytest.raises(ValueError):
        cal.working_days_between(local(2026, 3, 6), datetime(2026, 3, 9))


def test_snapshot_survives_json_round_trip(cal):
    # The snapshot travels through Temporal history as JSON.
    back = WorkCalendar.model_validate_json(cal.model_dump_json())
    assert back == cal
    for start, n in [(local(2026, 2, 14, 15), 5), (local(2026, 9, 28), 5), (local(2026, 12, 15), 15)]:
        assert back.add_working_days(start, n) == cal.add_working_days(start, n)


# -- an estimate says so where people read the deadline ------------------------------------------


def test_deadline_words_say_when_the_deadline_is_an_estimate():
    from domain.deadlines.calendar import deadline_words

    due = datetime(2027, 1, 11, 15, 59, 59, tzinfo=UTC)
    assert deadline_words(due, False) == "2027-01-11 23:59"
    assert deadline_words(due, True) == "2027-01-11 23:59（预计，以国务院公布的节假日安排为准）"


def test_the_ticket_work_order_and_self_service_carry_the_estimate(cal):
    from api.routes.public import public_view
    from catalog.policies import load_pack
    from domain.contracts import WorkOrder
    from domain.deadlines import clocks
    from domain.policy import ClockName, Limit
    from domain.ticket import TicketState
    from tests.factories import ticket_input

    start = local(2026, 12, 21, 9)
    s = TicketState(
        number="T1", workflow_id="w", request=ticket_input().request, received_at=start, dispatched_at=start
    )
    s.clocks["completion"] = clocks.start_clock(
        ClockName.completion, Limit.model_validate("15wd"), start, load_pack("sichuan"), cal
    )
    assert s.deadline.year == 2027
    assert s.deadline_estimated and s.model_dump()["deadline_estimated"]
    assert WorkOrder.of(s).deadline_estimated
    assert public_view(s, filer=True).deadline_estimated


def test_a_calendar_built_again_is_its_own_copy(cal):
    """The packages' years are worked out once per process; each ticket still gets its own copy."""
    again = build_calendar([2026, 2027])
    assert again == cal
    again.years[2026].holidays.clear()
    assert build_calendar([2026]).years[2026].holidays == cal.years[2026].holidays != []
