"""Query parameters with bounds, declared once: a number or a date out of range is a 422 that says
so, never a database overflow (a 500)."""

import re
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Query
from pydantic import AfterValidator

MAX_PAGE = 100_000  # x 200 rows a page: far past any list, far below the database's integers
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


def _in_range(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("needs a time zone, e.g. 2026-11-22T00:00:00+08:00")
    if not EARLIEST <= value < LATEST:
        raise ValueError(f"must lie between {EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d}")
    return value


_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def _month(value: str) -> str:
    found = _MONTH.match(value)
    if found is None or not 2000 <= int(found.group(1)) < 2100:
        raise ValueError(f"must be YYYY-MM between 2000-01 and 2099-12, got {value[:20]!r}")
    return value


PageNumber = Annotated[int, Query(ge=1, le=MAX_PAGE, description=f"1 to {MAX_PAGE}")]
PageSize = Annotated[int, Query(ge=1, le=200)]
MaybeTime = Annotated[
    datetime | None,
    AfterValidator(_in_range),
    Query(description="with a time zone, between 2000-01-01 and 2100-01-01"),
]
Month = Annotated[
    str, AfterValidator(_month), Query(description="YYYY-MM, 2000-01 to 2099-12", max_length=7, examples=["2026-11"])
]
