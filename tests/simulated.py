"""Serving an app in-process over real HTTP, and the department simulator as tests use it."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import uvicorn
from fastapi import FastAPI

from core.ports import free_port as free_port  # re-exported: the tests take their ports from here
from core.ports import free_ports as free_ports
from core.settings import Settings
from simulator.app import Simulator, create_app
from tests.eventually import assert_eventually


@contextlib.asynccontextmanager
async def serve(app: FastAPI, port: int = 0) -> AsyncIterator[str]:
    """The app on 127.0.0.1 (a free port unless given) until the block ends; yields its base URL."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False))
    serving = asyncio.create_task(server.serve())

    def started():
        if serving.done():
            serving.result()  # could not bind: raise why
        assert server.started, "the server has not started listening"

    await assert_eventually(started, interval=0.02)
    bound = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{bound}"
    finally:
        server.should_exit = True
        await serving


@dataclass
class Sim:
    url: str
    app: FastAPI
    http: httpx.AsyncClient

    @property
    def state(self) -> Simulator:
        return self.app.state.sim

    async def fault(self, mode: str, unit: str | None = None, count: int | None = None, **extra) -> None:
        r = await self.http.post("/admin/faults", json={"unit": unit, "mode": mode, "count": count, **extra})
        assert r.status_code == 200, r.text

    async def received(self, **filters) -> list[dict]:
        r = await self.http.get("/admin/received", params=filters)
        assert r.status_code == 200, r.text
        return r.json()


def simulator_settings(settings: Settings, **overrides) -> Settings:
    """Tiny delays: a simulated department acts within a fraction of a second."""
    quick = dict(
        simulator_ack_delay=(0.05, 0.2),
        simulator_complete_delay=(0.1, 0.3),
        simulator_callback_delay=(0.05, 0.2),
        simulator_unreached_rate=0.0,
        simulator_unsatisfied_rate=0.0,
        simulator_extension_rate=0.0,
        simulator_return_rate=0.0,
        simulator_slow_seconds=0.2,
        simulator_random_seed=12345,
    )
    return settings.model_copy(update=quick | overrides)


@contextlib.asynccontextmanager
async def running_simulator(settings: Settings, port: int = 0, **kw) -> AsyncIterator[Sim]:
    app = create_app(settings, **kw)  # uvicorn runs its lifespan: pending actions end with it
    async with serve(app, port) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            yield Sim(url, app, http)
