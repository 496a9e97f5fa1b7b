"""Building a ticket's working-day calendar (called once, at intake, by an activity): the center's
own calendar file first, then the `chinesecalendar` package's official schedules, then a
rule-based estimate from `holidays` for years without one (flagged as estimated)."""

from collections.abc import Iterable
from datetime import date, datetime
from functools import cache
from pathlib import Path

from domain.deadlines.calendar import WorkCalendar, YearCalendar

DEFAULT_CENTER_FILE = Path(__file__).parent / "calendar_data.toml"


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
            result[year] = _from_packages(year).model_copy(deep=True)
    return WorkCalendar(years=result)


@cache
def _from_packages(year: int) -> YearCalendar:
    """A year from the installed packages, worked out once per process (their data change only
    with an upgrade): `holidays` computing China's year was 3 % of the worker's CPU when every
    intake asked it again. The center's file is read at every call, so an edit counts at once."""
    return _from_chinese_calendar(year) or _from_holidays_package(year)


def calendar_to_apply(today: date, center_file: Path | None = None, years_ahead: int = 3) -> WorkCalendar:
    """What a center applies to its open tickets (`hotline calendar apply`): this year and the next
    ones, plus every year its calendar file names, each from the best source there is now."""
    path = center_file or DEFAULT_CENTER_FILE
    center = _load_center_file(path) if center_file is not None or path.exists() else {}
    return build_calendar({*range(today.year, today.year + years_ahead), *center}, center_file)


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
