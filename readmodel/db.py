"""Engine, sessions and migrations of the read model."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Concatenate, ParamSpec, TypeVar, overload

from alembic import command
from alembic.config import Config
from anyio import to_thread
from sqlalchemy import event, func
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, create_engine

MIGRATIONS = Path(__file__).parent / "migrations"

P = ParamSpec("P")
T = TypeVar("T")


_engines: dict[str, Engine] = {}
# A request that finds every pooled connection taken waits this long, then answers 503 with
# Retry-After (api/errors.py), well before a client's own timeout.
POOL_TIMEOUT_SECONDS = 10


def get_engine(url: str) -> Engine:
    """One pooled engine per database URL for the life of the process."""
    if url not in _engines:
        _engines[url] = _create_engine(url)
    return _engines[url]


def _sqlite_folder(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)


def _create_engine(url: str) -> Engine:
    if make_url(url).get_backend_name() == "sqlite":
        _sqlite_folder(url)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, pool_timeout=POOL_TIMEOUT_SECONDS
        )

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _):
            # The API and the worker write from two processes: WAL lets readers run beside the writer.
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10, pool_timeout=POOL_TIMEOUT_SECONDS)


def dispose(url: str) -> None:
    """Close the pooled connections of `url` and forget its engine (tests, shutdown)."""
    engine = _engines.pop(url, None)
    if engine is not None:
        engine.dispose()


@contextmanager
def session(url: str) -> Iterator[Session]:
    with Session(get_engine(url), expire_on_commit=False) as s:
        yield s


async def in_thread(work: Callable[Concatenate[Session, P], T], session: Session, *args: P.args, **kw: P.kwargs) -> T:
    """`work(session, ...)` on a worker thread, so the event loop never waits on the database.
    Its transaction ends with it (work that writes commits), the connection goes back to the
    pool and what it loaded stays readable: nothing is held while the caller awaits Temporal."""

    def run() -> T:
        try:
            return work(session, *args, **kw)
        finally:
            session.close()  # in SQLAlchemy 2 the session stays usable for the next piece of work

    return await to_thread.run_sync(run)


def page(session: Session, query, page: int, page_size: int) -> tuple[int, list]:
    """One page of an ordered query, with the total the query matches (for paginated lists). The
    total is the query's own WHERE counted, unordered: counted over the query as a subquery,
    SQLite read every matching row, state and all (52 ms for 10,000 tickets; 0.5 ms from an index)."""
    counting = query.with_only_columns(func.count(), maintain_column_froms=True).order_by(None)
    total = session.scalar(counting) or 0
    rows = session.exec(query.offset((page - 1) * page_size).limit(page_size)).all()
    return total, list(rows)


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def migrate(url: str) -> None:
    """Bring the schema to the newest revision (idempotent); a SQLite file's folder is created."""
    _sqlite_folder(url)
    command.upgrade(alembic_config(url), "head")


@overload
def aware(ts: datetime) -> datetime: ...
@overload
def aware(ts: None) -> None: ...
@overload
def aware(ts: datetime | None) -> datetime | None: ...
def aware(ts: datetime | None) -> datetime | None:
    """SQLite hands datetimes back without a zone; everything we store is UTC."""
    if ts is not None and ts.tzinfo is None:
        return ts.replace(tzinfo=UTC)
    return ts
