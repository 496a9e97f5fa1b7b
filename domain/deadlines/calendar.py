"""Working-day (工作日) arithmetic on the Chinese statutory holiday calendar, including make-up
working days on weekends (调休上班).

Deadlines are computed inside Temporal workflows, so `WorkCalendar` is a plain snapshot: an
activity calls `catalog.calendar.build_calendar` once at ticket intake (it reads files and packages), the result
is stored in workflow history, and every method on it is pure and deterministic.
"""

from datetime import date, datetime, time, timedelta, timezone
from typing import Literal

from pydantic import BaseModel

# China has no DST: a fixed offset is exact and needs no tz database inside the workflow sandbox.
CHINA_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")

_END_OF_DAY = time(23, 59, 59)


class YearCalendar(BaseModel):
    year: int
    holidays: list[date]  # every statutory day off of the year (whole periods, weekends inside included)
    workdays: list[date]  # make-up working days falling on a Saturday/Sunday (调休上班)
    source: Literal["center_file", "chinese_calendar", "rule_based"]

    @property
    def official(self) -> bool:
        return self.source != "rule_based"


class WorkCalendar(BaseModel):
    years: dict[int, YearCalendar]

    def is_working_day(self, d: date) -> bool:
        yc = self.years.get(d.year)
        if yc is not None:
            if d in yc.workdays:
                return True
            if d in yc.holidays:
                return False
        return d.weekday() < 5  # a year we know nothing about: plain Monday-Friday, flagged by is_estimated

    def is_estimated(self, d: date) -> bool:
        yc = self.years.get(d.year)
        return yc is None or not yc.official

    def add_working_days(self, start: datetime, n: int) -> tuple[datetime, bool]:
        """End (23:59:59 local) of the n-th working day after start's local date; the start day
        itself is not counted (期间开始之日不计算在内). The bool is True if any day walked over
        comes from a missing or rule-based year, i.e. the deadline is an estimate."""
        if n < 1:
            raise ValueError(f"n must be >= 1, got {n}")
        d = _local(start).date()
        estimated = False
        while n:
            d += timedelta(days=1)
            estimated = estimated or self.is_estimated(d)
            if self.is_working_day(d):
                n -= 1
        return datetime.combine(d, _END_OF_DAY, tzinfo=CHINA_TZ), estimated

    def add_hours(self, start: datetime, hours: float) -> datetime:
        # Hour-based limits (e.g. "2 hours for urgent tickets") run on the clock, holidays included.
        return _local(start) + timedelta(hours=hours)

    def add_calendar_days(self, start: datetime, n: int) -> tuple[datetime, datetime, bool]:
        """A period of n days read as the Civil Code reads it (arts. 201, 203): counted from the day
        after start's local date, ending at 24:00 (23:59:59 here) of the n-th day; when that last day
        is not a working day (a rest day or statutory holiday), the first working day after it is
        the last day. Returns (nominal end, end moved past days off, estimated)."""
        if n < 1:
            raise ValueError(f"n must be >= 1, got {n}")
        nominal = datetime.combine(_local(start).date() + timedelta(days=n), _END_OF_DAY, tzinfo=CHINA_TZ)
        due, estimated = self.roll_to_working_day(nominal)
        return nominal, due, estimated

    def roll_to_working_day(self, end: datetime) -> tuple[datetime, bool]:
        """The end of the first working day on or after end's local date, keeping end's time of
        day; the bool says whether a day looked at is only estimated."""
        local = _local(end)
        d, estimated = local.date(), self.is_estimated(local.date())
        while not self.is_working_day(d):
            d += timedelta(days=1)
            estimated = estimated or self.is_estimated(d)
        return datetime.combine(d, local.timetz()), estimated

    def working_time_between(self, start: datetime, end: datetime) -> timedelta:
        """The part of [start, end] that lies on working days (a working day counts whole, 00:00 to
        24:00); zero if end is not after start."""
        a, b = _local(start), _local(end)
        total = timedelta()
        while a < b:
            midnight = datetime.combine(a.date() + timedelta(days=1), time(0), tzinfo=CHINA_TZ)
            stop = min(midnight, b)
            if self.is_working_day(a.date()):
                total += stop - a
            a = stop
        return total

    def add_working_time(self, start: datetime, amount: timedelta) -> tuple[datetime, bool]:
        """The moment `amount` of working time after start, days off skipped: what a paused
        working-day clock gives back. The bool: a day walked over is only estimated."""
        a, left = _local(start), amount
        estimated = False
        while left > timedelta():
            midnight = datetime.combine(a.date() + timedelta(days=1), time(0), tzinfo=CHINA_TZ)
            if self.is_working_day(a.date()):
                estimated = estimated or self.is_estimated(a.date())
                if a + left <= midnight:
                    return a + left, estimated
                left -= midnight - a
            a = midnight
        return a, estimated

    def updated_with(self, newer: "WorkCalendar") -> "WorkCalendar":
        """This calendar with every year `newer` has replaced by newer's (a center applying next
        year's official schedule); years only this one knows stay."""
        return WorkCalendar(years={**self.years, **newer.years})

    def working_days_between(self, start: datetime, end: datetime) -> int:
        """Working days after start's local date up to and including end's local date (0 if end
        is not after start's date)."""
        d, last = _local(start).date(), _local(end).date()
        count = 0
        while d < last:
            d += timedelta(days=1)
            count += self.is_working_day(d)
        return count


ESTIMATE_NOTE = "（预计，以国务院公布的节假日安排为准）"  # "estimated: the State Council's schedule decides"


def deadline_words(due: datetime, estimated: bool) -> str:
    """A deadline as people read it (SMS, work orders): local time to the minute, and said to be an
    estimate when the calendar behind it is not official yet."""
    return _local(due).strftime("%Y-%m-%d %H:%M") + (ESTIMATE_NOTE if estimated else "")


def _local(ts: datetime) -> datetime:
    if ts.tzinfo is None or ts.utcoffset() is None:
        raise ValueError(f"naive datetime {ts.isoformat()}: timestamps must be timezone-aware")
    return ts.astimezone(CHINA_TZ)


# -- building a snapshot (I/O: call from an activity, never from workflow code) ------------------
