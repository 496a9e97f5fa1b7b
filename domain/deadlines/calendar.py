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

    def working_days_between(self, start: datetime, end: datetime) -> int:
        """Working days after start's local date up to and including end's local date (0 if end
        is not after start's date)."""
        d, last = _local(start).date(), _local(end).date()
        count = 0
        while d < last:
            d += timedelta(days=1)
            count += self.is_working_day(d)
        return count


def _local(ts: datetime) -> datetime:
    if ts.tzinfo is None or ts.utcoffset() is None:
        raise ValueError(f"naive datetime {ts.isoformat()}: timestamps must be timezone-aware")
    return ts.astimezone(CHINA_TZ)


# -- building a snapshot (I/O: call from an activity, never from workflow code) ------------------
