"""Shared fixtures: a migrated read model, the time-skipping Temporal test server and the real
dev server (both from PyPI packages: nothing is downloaded), and workers on fresh task queues."""

import os
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path

import pytest
import pytest_asyncio
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from core.codec import data_converter
from core.logging import configure_logging
from core.settings import Settings
from core.temporal import DEV_SERVER_FLAGS
from readmodel import db
from workflows import search_attributes
from workflows.search_attributes import register_search_attributes

BIN = Path(sys.executable).parent


def pytest_configure(config):
    # Every worker the tests start in-process (and in subprocesses, but for `hotline up` in
    # tests/stack.py) runs workflow code in the full sandbox, which refuses a non-deterministic call;
    # production workers pass workflows/ through (worker.py).
    os.environ.setdefault("HOTLINE_WORKER_STRICT_SANDBOX", "true")
    configure_logging(json=False, level="INFO", secrets=Settings().secret_values())  # the product's logging


def pytest_addoption(parser):
    parser.addoption("--postgres", action="store_true", help="also run the read-model tests on PostgreSQL")


@pytest.fixture(scope="session")
def postgres(request, tmp_path_factory):
    """A real PostgreSQL server (the pgserver package ships the binaries) when run with --postgres."""
    if not request.config.getoption("--postgres"):
        yield None
        return
    import pgserver

    server = pgserver.get_server(tmp_path_factory.mktemp("pg"), cleanup_mode="stop")
    yield server
    server.cleanup()


def new_database(postgres, folder: Path) -> str:
    """A fresh, empty read model: a SQLite file, or a new database on the PostgreSQL server."""
    if postgres is None:
        return f"sqlite:///{folder / 'readmodel.db'}"
    name = f"t_{uuid.uuid4().hex[:12]}"
    postgres.psql(f"CREATE DATABASE {name};")
    socket_dir = postgres.get_uri().split("host=")[-1]
    return f"postgresql+psycopg://postgres@/{name}?host={socket_dir}"


def drop_database(postgres, url: str) -> None:
    db.dispose(url)
    if postgres is not None:
        name = url.split("/")[-1].split("?")[0]
        postgres.psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE);")


@pytest.fixture
def settings(tmp_path, postgres) -> Iterator[Settings]:
    s = Settings(
        database_url=new_database(postgres, tmp_path), data_dir=tmp_path, policy_pack="qingdao", city="qingdao"
    )
    db.migrate(s.database_url)
    yield s
    # Each test's pool closed and its database dropped: a long PostgreSQL pass must not run the
    # server out of connections.
    drop_database(postgres, s.database_url)


@pytest_asyncio.fixture(scope="module")
async def time_env() -> AsyncIterator[WorkflowEnvironment]:
    """One time-skipping server per test module: its clock (and its lock on skipping) never
    leaks from one module's tickets into another's."""
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=data_converter(Settings()),
        test_server_existing_path=str(BIN / "temporal-test-server"),
    )
    await register_search_attributes(env.client, "default")
    async with env:
        yield env


@asynccontextmanager
async def time_env_at(when: datetime) -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping server whose clock starts at `when` (UTC): libfaketime, preloaded into the
    server process only, so a test can dispatch a ticket on the afternoon before Spring Festival."""
    import libfaketime

    _, preload = libfaketime.get_reload_information()
    saved = dict(os.environ)
    os.environ.update(preload)
    os.environ.update({"FAKETIME": when.strftime("@%Y-%m-%d %H:%M:%S"), "TZ": "UTC"})
    try:
        env = await WorkflowEnvironment.start_time_skipping(
            data_converter=data_converter(Settings()),
            test_server_existing_path=str(BIN / "temporal-test-server"),
        )
    finally:
        os.environ.clear()
        os.environ.update(saved)
    await register_search_attributes(env.client, "default")
    async with env:
        yield env


@pytest_asyncio.fixture(scope="session")
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        data_converter=data_converter(Settings()),
        dev_server_existing_path=str(BIN / "temporal"),
        dev_server_extra_args=DEV_SERVER_FLAGS,
        search_attributes=search_attributes.ALL,
    )
    async with env:
        yield env


def task_queue() -> str:
    return f"tq-{uuid.uuid4().hex[:8]}"


def client_of(env: WorkflowEnvironment) -> Client:
    return env.client


def pytest_runtest_logreport(report):
    """Print a failure the moment it happens: if a teardown then hangs, the reason is not lost."""
    if report.failed and report.when == "call":
        sys.stderr.write(f"\n--- FAILED {report.nodeid}\n{report.longreprtext}\n")
        sys.stderr.flush()
