import asyncio
import socket
from dataclasses import dataclass

import httpx
import pytest
import pytest_asyncio
import uvicorn
from temporalio.client import Client

from api.auth import mint
from api.main import create_app
from core.settings import Settings
from domain.vocabulary import Role
from readmodel import db
from tests.conftest import new_database, task_queue
from worker import build_worker


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Api:
    http: httpx.AsyncClient
    settings: Settings
    client: Client

    def auth(self, role: str, unit: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {mint(self.settings.token_secret, Role(role), 'tester', unit)}"}


@pytest.fixture(scope="session")
def api_database(tmp_path_factory, postgres) -> str:
    """One read model for the session, like the one dev server: ticket numbers never repeat."""
    url = new_database(postgres, tmp_path_factory.mktemp("api"))
    db.migrate(url)
    return url


@pytest_asyncio.fixture
async def api(dev_env, settings, api_database):
    """The API served over real HTTP on a free port, a worker, and the real dev server."""
    q = task_queue()
    settings = settings.model_copy(update={"task_queue": q, "database_url": api_database})
    async with build_worker(dev_env.client, settings, q):
        app = create_app(settings, client=dev_env.client, reconcile=False)
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_config=None, access_log=False)
        )
        serving = asyncio.create_task(server.serve())
        while not server.started:
            await asyncio.sleep(0.02)
        port = server.servers[0].sockets[0].getsockname()[1]
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            yield Api(http, settings, dev_env.client)
        server.should_exit = True
        await serving
