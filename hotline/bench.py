"""`hotline bench`: how many tickets this machine takes in and carries to close.

Self-contained: starts the embedded stack exactly as `hotline up` does (Temporal dev server on a
SQLite file with WAL, worker and API as their own processes) in a temporary folder, then drives
N tickets over HTTP through intake, acknowledge, complete and callback with C concurrent clients.
Prints figures; asserts nothing."""

import asyncio
import os
import socket
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from api.auth import mint
from core.settings import Settings
from domain.vocabulary import Role
from hotline.embedded import Stack

REQUEST: dict[str, Any] = {
    "channel": "phone",
    "kind": "complaint",
    "citizen": {"name": "测试", "phone": "13800000000"},
    "description": "楼下夜间施工噪音扰民",
    "category": "environment.noise",
    "address": {"district": "qd.shinan", "street": "qd.shinan.badaxia"},
}
LEAD = "qd.shinan.badaxia"


def _request(i: int, run: str) -> dict:
    """A citizen and a place of its own: the same phone or address again would be merged (并单)."""
    return {
        **REQUEST, "citizen": {**REQUEST["citizen"], "phone": f"138{abs(hash((run, i))) % 10**8:08d}"},
        "address": {**REQUEST["address"], "text": f"bench {run} {i}"},
    }  # fmt: skip


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(p * len(values)))] * 1000


async def _drive(url: str, secret: str, tickets: int, concurrency: int) -> tuple[float, float, dict[str, list[float]]]:
    h_in = {"Authorization": f"Bearer {mint(secret, Role.intake, 'bench')}"}
    h_unit = {"Authorization": f"Bearer {mint(secret, Role.unit, 'bench', LEAD)}"}
    h_center = {"Authorization": f"Bearer {mint(secret, Role.center, 'bench')}"}
    latency: dict[str, list[float]] = {k: [] for k in ("create", "acknowledge", "complete", "callback")}
    sem = asyncio.Semaphore(concurrency)
    run = uuid.uuid4().hex[:6]

    async with httpx.AsyncClient(base_url=url, timeout=60) as http:

        async def timed(name, send):
            """Time the accepted call; a 403/409 means the ticket is not there yet (routing, or the
            move to callback): try again shortly, as a unit's client would."""
            while True:
                t = time.perf_counter()
                r = await send()
                if r.status_code not in (403, 409):
                    break
                await asyncio.sleep(0.1)
            latency[name].append(time.perf_counter() - t)
            r.raise_for_status()
            return r

        async def lifecycle(i: int) -> None:
            async with sem:
                key = {"Idempotency-Key": f"{run}-l{i}"}
                n = (
                    await timed("create", lambda: http.post("/tickets", json=_request(i, run), headers=h_in | key))
                ).json()["number"]
                await timed("acknowledge", lambda: http.post(f"/tickets/{n}/acknowledge", headers=h_unit))
                done = {"result": "resolved", "reply": "已处理"}
                await timed("complete", lambda: http.post(f"/tickets/{n}/complete", headers=h_unit, json=done))
                answer = {"reached": True, "resolved": True, "satisfaction": "satisfied"}
                await timed("callback", lambda: http.post(f"/tickets/{n}/callback", headers=h_center, json=answer))

        async def intake(i: int) -> None:
            async with sem:
                body = _request(i + tickets, run)
                (
                    await http.post("/tickets", json=body, headers=h_in | {"Idempotency-Key": f"{run}-i{i}"})
                ).raise_for_status()

        t0 = time.perf_counter()
        await asyncio.gather(*(lifecycle(i) for i in range(tickets)))
        lifecycle_s = time.perf_counter() - t0
        t1 = time.perf_counter()
        await asyncio.gather(*(intake(i) for i in range(tickets)))
        intake_s = time.perf_counter() - t1
    return lifecycle_s, intake_s, latency


def _run(tickets: int, concurrency: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            data_dir=Path(tmp),
            database_url=f"sqlite:///{tmp}/hotline.db",
            temporal_address=f"127.0.0.1:{_port()}",
            temporal_ui_port=_port(),
            api_port=_port(),
            simulator_port=_port(),
            simulator_act=False,
            log_level="WARNING",
        )
        # The simulator receives what departments, SMS and the emergency platform are sent, and
        # acts on nothing: the bench's clients do the handling and the callbacks.
        env = {"HOTLINE_DATABASE_URL": settings.database_url, "HOTLINE_TEMPORAL_ADDRESS": settings.temporal_address,
               "HOTLINE_API_PORT": str(settings.api_port), "HOTLINE_SIMULATOR_PORT": str(settings.simulator_port),
               "HOTLINE_SIMULATOR_ACT": "false", "HOTLINE_LOG_LEVEL": "WARNING"}  # fmt: skip
        os.environ.update(env)
        stack = Stack(settings, with_simulator=True)
        try:
            stack.start()
            url = f"http://{settings.api_host}:{settings.api_port}"
            secret = settings.token_secret.get_secret_value()
            elapsed, intake_elapsed, latency = asyncio.run(_drive(url, secret, tickets, concurrency))
        finally:
            stack.stop()

    print(
        f"\n12345 hotline benchmark — {tickets} tickets, {concurrency} concurrent clients, dev server on SQLite (WAL)"
    )
    print(
        "  full lifecycle (intake → acknowledge → complete → callback → closed): "
        f"{tickets / elapsed:6.1f} tickets/s  ({elapsed:.1f} s)"
    )
    print(
        "  intake only (POST /tickets, workflow started):                       "
        f"{tickets / intake_elapsed:6.1f} tickets/s  ({intake_elapsed:.1f} s)"
    )
    print("  API latency, ms            p50      p95      max")
    for name, values in latency.items():
        if values:
            print(f"    {name:<22}{_pct(values, 0.5):8.1f} {_pct(values, 0.95):8.1f} {max(values) * 1000:8.1f}")
    print(f"  for scale: Qingdao takes 15,000 requests a day = {15000 / 86400:.2f} tickets/s on average\n")


def main(tickets: int = 200, concurrency: int = 20) -> None:
    _run(tickets, concurrency)
