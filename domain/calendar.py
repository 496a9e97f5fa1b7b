"""Working-day (工作日) arithmetic on the Chinese statutory holiday calendar, including make-up
working days on weekends (调休上班).

Deadlines are computed inside Temporal workflows, so `WorkCalendar` is a plain snapshot: an
activity calls `build_calendar` once at ticket intake (it reads files and packages), the result
is stored in workflow history, and every method on it is pure and deterministic.
"""

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

# China has no DST: a fixed offset is exact and needs no tz database inside the workflow sandbox.
CHINA_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")

DEFAULT_CENTER_FILE = Path(__file__).parent / "calendar_data.toml"

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


def build_calendar(years: Iterable[int], center_file: Path | None = None) -> WorkCalendar:
    """Calendar for `years`, each from the first source that has it: the center's data file,
    then the `chinese_calendar` package (official State Council data), then the rule-based
    `holidays` package (an estimate). `center_file` defaults to calendar_data.toml next to this
    module; the default may be absent, an explicitly given file may not."""
    path = center_file or DEFAULT_CENTER_FILE
    center = _load_center_file(path) if center_file is not None or path.exists() else {}
    result = {}
    for year in sorted(set(years)):
        if year in center:
            result[year] = center[year]
        else:
            result[year] = _from_chinese_calendar(year) or _from_holidays_package(year)
    return WorkCalendar(years=result)


def _load_center_file(path: Path) -> dict[int, YearCalendar]:
    import tomllib

    try:
        return _parse_center_data(tomllib.loads(path.read_text(encoding="utf-8")))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ValueError(f"calendar data file {path}: not valid TOML ({e})") from e
    except _Problem as e:
        raise ValueError(f"calendar data file {path}: {e}") from None


class _Problem(Exception):
    pass


_KEYS = ("published", "holidays", "workdays")


def _parse_center_data(data: dict) -> dict[int, YearCalendar]:
    extra = set(data) - {"years"}
    if extra:
        raise _Problem(f"unexpected top-level keys {sorted(extra)}; only [years.YYYY] tables belong here")
    tables = data.get("years", {})
    if not isinstance(tables, dict):
        raise _Problem("`years` must be a table of [years.YYYY] tables")
    out = {}
    for key, table in tables.items():
        where = f"[years.{key}]"
        if not (key.isdigit() and len(key) == 4) or not isinstance(table, dict):
            raise _Problem(f"{where} must be a table named by a 4-digit year")
        year = int(key)
        unknown = set(table) - set(_KEYS)
        if unknown:
            raise _Problem(f"{where} has unknown keys {sorted(unknown)} (allowed: {', '.join(_KEYS)})")
        lists = {}
        for name in ("holidays", "workdays"):
            # Both required, even if empty, so that a forgotten `workdays` is not read as "none".
            if name not in table:
                raise _Problem(f"{where} is missing `{name}` (write `{name} = []` if there are none)")
            if not isinstance(table[name], list):
                raise _Problem(f"{where} {name} must be a list of dates")
            lists[name] = sorted({_parse_day(v, year, f"{where} {name}") for v in table[name]})
        for d in lists["workdays"]:
            if d.weekday() < 5:
                raise _Problem(f"{where} workdays: {d} is a weekday; list only make-up Saturdays/Sundays")
        both = set(lists["holidays"]) & set(lists["workdays"])
        if both:
            raise _Problem(f"{where}: {', '.join(map(str, sorted(both)))} listed as both holiday and workday")
        out[year] = YearCalendar(year=year, source="center_file", **lists)
    return out


def _parse_day(value, year: int, where: str) -> date:
    # Accept TOML dates (2027-01-01) and strings ("2027-01-01"); a datetime is a mistake.
    d = None
    if isinstance(value, date) and not isinstance(value, datetime):
        d = value
    elif isinstance(value, str):
        try:
            d = date.fromisoformat(value)
        except ValueError:
            pass
    if d is None:
        raise _Problem(f"{where}: {value!r} is not a YYYY-MM-DD date")
    if d.year != year:
        raise _Problem(f"{where}: {d} is not in {year}")
    return d


def _from_chinese_calendar(year: int) -> YearCalendar | None:
    import chinese_calendar

    try:  # the package's own coverage check: it raises for years it has no data for
        chinese_calendar.is_workday(date(year, 1, 1))
    except NotImplementedError:
        return None
    return YearCalendar(
        year=year,
        # `holidays` holds statutory days off only (ordinary weekends are not in it); `workdays`
        # holds only the make-up days.
        holidays=sorted(d for d in chinese_calendar.holidays if d.year == year),
        workdays=sorted(d for d in chinese_calendar.workdays if d.year == year),
        source="chinese_calendar",
    )


def _from_holidays_package(year: int) -> YearCalendar:
    import holidays as holidays_pkg

    cn = holidays_pkg.country_holidays("CN", years=year)
    # Rule-based (lunar computation): for years without official data it lists only the statutory
    # holiday days themselves (and "observed" days), not the whole 7-9 day period the State Council
    # will announce, and no make-up workdays. Good enough for an estimate, which is flagged as such.
    # `weekend_workdays` holds the make-up days the package knows about, across all years.
    workdays = getattr(cn, "weekend_workdays", None) or ()
    return YearCalendar(
        year=year,
        holidays=sorted(d for d in cn if d.year == year),
        workdays=sorted(d for d in workdays if d.year == year and d.weekday() >= 5),
        source="rule_based",
    )
