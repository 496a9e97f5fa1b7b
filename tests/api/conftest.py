from collections.abc import Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
import pytest
import pytest_asyncio
from sqlmodel import select
from temporalio.client import Client

from api.auth import mint
from api.main import create_app
from core.settings import Settings
from domain.vocabulary import Role
from readmodel import db
from readmodel.tables import IntakeRequestRow
from tests.conftest import drop_database, new_database, task_queue
from tests.finish import finish
from tests.simulated import serve as serve_app
from worker import build_worker


@dataclass
class Api:
    http: httpx.AsyncClient
    settings: Settings
    client: Client

    def auth(self, role: str, unit: str | None = None) -> dict[str, str]:
        token = mint(self.settings.token_secret.get_secret_value(), Role(role), "tester", unit)
        return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="session")
def api_database(tmp_path_factory, postgres) -> Iterator[str]:
    """One read model for the session, like the one dev server: ticket numbers never repeat."""
    yield from _migrated_database(tmp_path_factory, postgres, "api")


def _migrated_database(tmp_path_factory, postgres, name: str) -> Iterator[str]:
    url = new_database(postgres, tmp_path_factory.mktemp(name))
    db.migrate(url)
    yield url
    drop_database(postgres, url)


@asynccontextmanager
async def serve(env, settings: Settings):
    """A worker on a fresh task queue and the API over real HTTP, on the given Temporal."""
    q = task_queue()
    settings = settings.model_copy(update={"task_queue": q})
    async with build_worker(env.client, settings, q):
        async with serve_app(create_app(settings, client=env.client)) as url:
            async with httpx.AsyncClient(base_url=url, timeout=30) as http:
                yield Api(http, settings, env.client)


@pytest_asyncio.fixture
async def api(dev_env, settings, api_database):
    """The API served over real HTTP on a free port, a worker, and the real dev server."""
    async with serve(dev_env, settings.model_copy(update={"database_url": api_database})) as running:
        yield running


@pytest.fixture(scope="module")
def skipped_time_database(tmp_path_factory, postgres) -> Iterator[str]:
    yield from _migrated_database(tmp_path_factory, postgres, "api-time")


@pytest_asyncio.fixture
async def api_in_skipped_time(time_env, settings, skipped_time_database):
    """The same over the time-skipping server, for what deadlines do as seen through the API."""
    async with serve(time_env, settings.model_copy(update={"database_url": skipped_time_database})) as running:
        yield running
        # Open tickets whose worker is gone would hold the time-skipping clock for later tests.
        with db.session(skipped_time_database) as session:
            numbers = session.exec(select(IntakeRequestRow.number)).all()
        for number in numbers:
            await finish(time_env.client, f"ticket-{number}")
