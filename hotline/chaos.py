"""`hotline chaos` (`make chaos`): the product under SIGKILL, with figures.

Starts the stack as `hotline up` does (Temporal dev server, worker, API, department simulator with
its durable ledger, each its own process, supervised: a killed part is restarted with backoff) in
a temporary folder on free ports of 127.0.0.1. Drives N tickets through the whole lifecycle —
intake by retrying desk clients; acknowledge, complete and the callback by the simulated
departments and citizens — while a killer sends SIGKILL to a random part every few seconds. Then
it stops killing, lets the tickets settle, and prints: tickets, kills by part, retries, 5xx seen,
longest client wait, duplicates, lost, stuck, read-model mismatches and histories that no longer
replay on this code (each ticket's history is replayed before teardown; those of the tickets that
went wrong are kept, --keep DIR). Exit code 0 when all of those are 0; not part of `make test`."""

import asyncio
import json
import os
import random
import signal
import sqlite3
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from api.auth import mint
from core.ports import free_ports
from core.settings import Settings
from domain.vocabulary import Role
from hotline.embedded import Stack, say

PARTS = ("temporal", "worker", "api", "simulator")
# Leads with a department system (played by the simulator), in districts of Qingdao.
CATEGORIES = ["transport.taxi", "water.supply", "gas.supply"]
FAST_SIMULATOR = {
    "HOTLINE_SIMULATOR_ACK_DELAY": "[0.2, 1.5]",
    "HOTLINE_SIMULATOR_COMPLETE_DELAY": "[0.5, 3.0]",
    "HOTLINE_SIMULATOR_CALLBACK_DELAY": "[0.2, 1.5]",
    "HOTLINE_SIMULATOR_UNREACHED_RATE": "0",  # the next attempt would be hours later
    "HOTLINE_SIMULATOR_RETURN_RATE": "0",  # a return waits for a person at the center
    "HOTLINE_SIMULATOR_EXTENSION_RATE": "0",
    "HOTLINE_SIMULATOR_UNSATISFIED_RATE": "0.1",  # some go round again (重办)
    "HOTLINE_SIMULATOR_RESYNC_SECONDS": "10",
}


@dataclass
class Figures:
    tickets: int = 0
    kills: Counter = field(default_factory=Counter)
    retries: int = 0
    unexpected_5xx: Counter = field(default_factory=Counter)  # status -> count (no Retry-After)
    asked_to_wait: int = 0  # 503 with Retry-After: "being started", "retry shortly"
    longest_wait: float = 0.0
    numbers: dict[int, str] = field(default_factory=dict)
    last_events: dict[str, list[str]] = field(default_factory=dict)  # a ticket's last timeline lines seen


class Client:
    """A desk or monitor client that retries, as the center's software would: connection errors
    and 5xx are tried again with backoff (the same Idempotency-Key for an intake)."""

    def __init__(self, http: httpx.AsyncClient, figures: Figures) -> None:
        self.http = http
        self.f = figures

    async def call(self, method: str, path: str, give_up_after: float = 600, **kw: Any) -> httpx.Response:
        began = time.monotonic()
        pause = 0.2
        while True:
            try:
                r = await self.http.request(method, path, **kw)
                if r.status_code < 500:
                    self.f.longest_wait = max(self.f.longest_wait, time.monotonic() - began)
                    return r
                if "Retry-After" in r.headers:
                    self.f.asked_to_wait += 1
                else:
                    self.f.unexpected_5xx[r.status_code] += 1
            except httpx.HTTPError:
                pass
            if time.monotonic() - began > give_up_after:
                raise TimeoutError(f"{method} {path}: no answer for {give_up_after:.0f} s")
            self.f.retries += 1
            await asyncio.sleep(pause)
            pause = min(pause * 2, 3.0)


def _request(i: int, run: str) -> dict:
    """A citizen and a place of their own (the same again would be merged, 并单)."""
    return {
        "channel": "phone", "kind": "complaint", "urgency": "normal",
        "citizen": {"name": "市民", "phone": f"137{abs(hash((run, i))) % 10**8:08d}"},
        "description": f"第{i + 1}件诉求：请相关单位尽快处理", "category": CATEGORIES[i % len(CATEGORIES)],
        "address": {"district": "市南区", "street": "八大峡街道", "text": f"chaos {run} {i}号"},
    }  # fmt: skip


async def _drive(url: str, secret: str, n: int, concurrency: int, f: Figures, deadline: float) -> dict[str, str]:
    """Every ticket in, then until each is closed (or the deadline): its last stage by number."""
    desk = {"Authorization": f"Bearer {mint(secret, Role.intake, 'chaos-desk')}"}
    monitor = {"Authorization": f"Bearer {mint(secret, Role.supervisor, 'chaos-monitor')}"}
    run = uuid.uuid4().hex[:6]
    sem = asyncio.Semaphore(concurrency)
    stages: dict[str, str] = {}
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        client = Client(http, f)

        async def one(i: int) -> None:
            async with sem:
                key = {"Idempotency-Key": f"chaos-{run}-{i}"}
                try:
                    r = await client.call("POST", "/tickets", json=_request(i, run), headers=desk | key)
                except TimeoutError:
                    return  # never taken in, as far as the desk knows: counted lost unless it is in the read model
                r.raise_for_status()
                f.numbers[i] = number = r.json()["number"]
            while time.monotonic() < deadline:
                try:
                    r = await client.call("GET", f"/tickets/{number}", headers=monitor)
                except TimeoutError:
                    stages[number] = "no answer for 10 min"  # a figure of its own (stuck), not the run's end
                    return
                state = r.json() if r.status_code == 200 else {}
                stages[number] = state.get("stage", f"http {r.status_code}")
                f.last_events[number] = [e["event"] for e in state.get("timeline", [])[-3:]]
                if stages[number] == "closed":
                    return
                await asyncio.sleep(1.0)

        await asyncio.gather(*(one(i) for i in range(n)))
    return stages


def _killer(stack: Stack, f: Figures, every: tuple[float, float], stop: threading.Event, rng: random.Random) -> None:
    while not stop.wait(rng.uniform(*every)):
        name = rng.choice(PARTS)
        pid = stack.part(name).pid
        if pid is None:  # restarting: already down
            continue
        try:
            os.kill(pid, signal.SIGKILL)
            f.kills[name] += 1
            say(f"  chaos: SIGKILL {name} (pid {pid})")
        except ProcessLookupError:
            pass


def _supervisor(stack: Stack, stop: threading.Event) -> None:
    while not stop.wait(0.3):
        try:
            stack.supervise()
        except OSError:
            pass


def _ended_closed(settings: Settings, number: str) -> bool:
    """The ticket's workflow completed with the ticket closed (its result, read without a replay)."""
    from core.temporal import connect
    from domain.ticket import TicketSummary

    async def ended() -> bool:
        client = await connect(settings)
        handle = client.get_workflow_handle(f"ticket-{number}", result_type=TicketSummary)
        return (await asyncio.wait_for(handle.result(), timeout=10)).stage.value == "closed"

    try:
        return asyncio.run(ended())
    except Exception:  # noqa: BLE001 — still running, or Temporal away: not shown closed
        return False


def _check(settings: Settings, url: str, secret: str, f: Figures) -> tuple[int, int, dict[str, str]]:
    """Duplicates, lost, read-model mismatches (number -> what differs): the read model and the
    workflows, ticket by ticket."""
    center = {"Authorization": f"Bearer {mint(secret, Role.center, 'chaos-check')}"}
    db_file = settings.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(db_file) as conn:
        numbers = [row[0] for row in conn.execute("SELECT number FROM ticket")]
        rows = {n: (stage, version) for n, stage, version in conn.execute("SELECT number, stage, version FROM ticket")}
    ours = set(f.numbers.values())
    duplicates = len(numbers) - len(set(numbers)) + len(set(numbers) - ours) + (len(f.numbers) - len(ours))
    lost = f.tickets - len(ours & set(numbers))
    mismatches: dict[str, str] = {}
    with httpx.Client(base_url=url, timeout=30) as http:
        for number in ours:
            live = None
            stored = rows.get(number)
            for _ in range(60):  # the workflow's own answer (not the read-model fallback while Temporal restarts)
                try:
                    r = http.get(f"/tickets/{number}", headers=center)
                except httpx.HTTPError:  # the API overloaded or restarting: ask again, as for a 5xx
                    time.sleep(1)
                    continue
                if r.status_code == 200 and r.headers.get("X-Ticket-Source") is None:
                    live = r.json()
                    break
                if r.status_code == 200 and r.json()["stage"] == "closed" and _ended_closed(settings, number):
                    # A closed ticket whose history the worker cannot replay to answer a query (the
                    # SDK fault, below): its workflow's own result says closed, as the row does.
                    live = {"stage": "closed", "version": stored[1] if stored else None}
                    break
                time.sleep(1)
            if live is None or stored is None or (live["stage"], live["version"]) != stored:
                seen = "no live answer" if live is None else f"workflow {live['stage']} v{live['version']}"
                mismatches[number] = f"{seen}, read model {stored}"
    return duplicates, lost, mismatches


async def _reset_by_the_repair(client, run_id: str) -> bool:
    """Whether the replay repair reset this run (api/replay_repair.py)."""
    from temporalio.service import RPCError

    from workflows.replay_repair import ReplayRepairWorkflow

    handle = client.get_workflow_handle_for(ReplayRepairWorkflow.run, f"replay-repair-{run_id}")
    try:
        return (await asyncio.wait_for(handle.result(), timeout=60)).reset
    except (RPCError, TimeoutError):
        return False


def _replay_and_keep(
    settings: Settings, keep: Path, numbers: list[str], wrong: dict[str, str]
) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """Before teardown, every run of every ticket replayed on this code (a workflow task that failed
    after a kill, or a history that no longer replays, shows here even when the ticket closed);
    the histories of the tickets that went wrong (stuck, mismatched, not replaying, or reset by the
    replay repair) kept for the post-mortem (temporalio.worker.Replayer, the Web UI's import).
    Returns number -> replay failure of an open run; number -> that of a run the repair reset (its
    ticket went on in a new run, which is replayed as well); number -> that of a ticket's run that
    completed (closed: its record stands, and reads answer from the read model)."""
    from temporalio.client import WorkflowExecutionStatus

    from core.temporal import connect
    from worker import replayer

    failures: dict[str, str] = {}
    repaired: dict[str, str] = {}
    closed: dict[str, str] = {}

    async def run() -> None:
        client = await connect(settings)
        code = replayer(client.data_converter)
        for number in numbers:
            wid = f"ticket-{number}"
            async for wf in client.list_workflows(f"WorkflowId = '{wid}'"):
                history = await client.get_workflow_handle(wid, run_id=wf.run_id).fetch_history()
                result = await code.replay_workflow(history, raise_on_replay_failure=False)
                if result.replay_failure is not None:
                    why = f"{type(result.replay_failure).__name__}: {result.replay_failure}"
                    if await _reset_by_the_repair(client, wf.run_id):
                        repaired[number] = why
                    elif wf.status == WorkflowExecutionStatus.COMPLETED:
                        closed[number] = why
                    else:
                        failures[number] = why
                if number in wrong or result.replay_failure is not None:
                    (keep / f"{number}-{wf.run_id}.json").write_text(history.to_json())

    keep.mkdir(parents=True, exist_ok=True)
    try:
        asyncio.run(asyncio.wait_for(run(), timeout=600))
    except Exception as e:  # the figures matter more than the post-mortem
        say(f"  chaos: could not replay or keep every history ({type(e).__name__}: {e})")
    if wrong or failures or repaired or closed:
        why = {"wrong": wrong, "replay": failures, "reset by the replay repair": repaired, "closed": closed}
        (keep / "why.json").write_text(json.dumps(why, ensure_ascii=False, indent=1))
        went_wrong = set(wrong) | set(failures) | set(repaired) | set(closed)
        say(f"  chaos: histories of {len(went_wrong)} ticket(s) that went wrong kept in {keep}")
    return failures, repaired, closed


def main(tickets: int = 200, duration: float = 900, kill_every: tuple[float, float] = (4.0, 12.0),
         concurrency: int = 10, seed: int | None = None, keep: Path | None = None,
         sticky_timeout: float | None = None) -> int:  # fmt: skip
    """Returns 0 when nothing was lost, duplicated or stuck and no unexpected 5xx was seen.
    `sticky_timeout`: the worker's sticky schedule-to-start timeout in seconds; short (0.2), it gives
    busy workers' tasks to the normal queue, which provokes the SDK fault the replay repair mends."""
    rng = random.Random(seed)
    keep = keep or Path(tempfile.gettempdir()) / f"hotline-chaos-kept-{time.strftime('%Y%m%dT%H%M%S')}"
    f = Figures(tickets=tickets)
    with tempfile.TemporaryDirectory(prefix="hotline-chaos-") as tmp:
        data = Path(tmp)
        temporal_port, ui_port, api_port, simulator_port = free_ports(4)  # distinct, chosen together
        settings = Settings(
            data_dir=data, temporal_address=f"127.0.0.1:{temporal_port}", temporal_ui_port=ui_port, api_port=api_port,
            simulator_port=simulator_port, log_level="WARNING",
        )  # fmt: skip
        env = {
            "HOTLINE_DATA_DIR": str(data), "HOTLINE_DATABASE_URL": settings.database_url,
            "HOTLINE_TEMPORAL_ADDRESS": settings.temporal_address, "HOTLINE_API_PORT": str(settings.api_port),
            "HOTLINE_SIMULATOR_PORT": str(settings.simulator_port),
            "HOTLINE_LOG_LEVEL": os.environ.get("HOTLINE_LOG_LEVEL", "ERROR"),  # WARNING: the parts' post-mortem
            **({"HOTLINE_WORKER_STICKY_TIMEOUT_SECONDS": str(sticky_timeout)} if sticky_timeout else {}),
            **FAST_SIMULATOR,
        }  # fmt: skip
        os.environ.update(env)
        stack = Stack(settings, with_simulator=True)
        stop_killing, stop_supervising = threading.Event(), threading.Event()
        began = time.monotonic()
        try:
            stack.start()
            say(
                f"\n  chaos: {tickets} tickets, SIGKILL every {kill_every[0]:.0f}-{kill_every[1]:.0f} s, data in {data}"
            )
            supervisor = threading.Thread(target=_supervisor, args=(stack, stop_supervising), daemon=True)
            killer = threading.Thread(target=_killer, args=(stack, f, kill_every, stop_killing, rng), daemon=True)
            supervisor.start()
            killer.start()
            url = f"http://{settings.api_host}:{settings.api_port}"
            loop = asyncio.new_event_loop()
            # Kill for most of the run, then stop and let everything settle (restarts, resyncs).
            kill_window = duration * 0.6
            timer = threading.Timer(kill_window, stop_killing.set)
            timer.daemon = True
            timer.start()
            stages = loop.run_until_complete(
                _drive(url, settings.token_secret.get_secret_value(), tickets, concurrency, f, began + duration)
            )
            stop_killing.set()
            # Everything back up before the check.
            while any(stack.part(p).pid is None for p in PARTS):
                time.sleep(0.5)
            time.sleep(3)
            duplicates, lost, mismatches = _check(settings, url, settings.token_secret.get_secret_value(), f)
            stuck = sum(1 for s in stages.values() if s != "closed") + (tickets - len(f.numbers))
            wrong = {n: f"stuck in {s}" for n, s in stages.items() if s != "closed"} | mismatches
            replay_failures, repaired, closed_unreplayable = _replay_and_keep(
                settings, keep, sorted(set(f.numbers.values())), wrong
            )
        finally:
            stop_killing.set()
            stop_supervising.set()
            stack.stop()
    elapsed = time.monotonic() - began
    kills = ", ".join(f"{p} {f.kills[p]}" for p in PARTS)
    fivexx = sum(f.unexpected_5xx.values())
    say(
        "\n".join([
            "",
            f"  12345 hotline chaos run — {elapsed:.0f} s",
            f"  tickets                 {tickets}",
            f"  kills (SIGKILL)         {sum(f.kills.values())}: {kills}",
            f"  client retries          {f.retries}  (asked to wait, 503 + Retry-After: {f.asked_to_wait})",
            f"  5xx seen                {fivexx}" + (f"  {dict(f.unexpected_5xx)}" if fivexx else ""),
            f"  longest client wait     {f.longest_wait:.1f} s",
            f"  duplicates              {duplicates}",
            f"  lost                    {lost}",
            f"  stuck (not closed)      {stuck}",
            f"  read-model mismatches   {len(mismatches)}",
            f"  histories not replaying {len(replay_failures)} open"
            + (f", {len(closed_unreplayable)} of closed tickets (their record stands)" if closed_unreplayable else ""),
            f"  reset by replay repair  {len(repaired)}  (runs whose history did not replay, brought back)",
            "",
        ])
    )  # fmt: skip
    for number in sorted(n for n, stage in stages.items() if stage != "closed")[:10]:
        say(f"  stuck: {number} in {stages[number]}, last: {' → '.join(f.last_events.get(number, []))}")
    for number, why in sorted(mismatches.items())[:10]:
        say(f"  mismatch: {number}: {why}")
    for number, why in sorted(replay_failures.items())[:10]:
        say(f"  replay: {number}: {why[:300]}")
    for number, why in sorted(repaired.items())[:10]:
        say(f"  repaired: {number}: {why[:300]}")
    return 0 if not (duplicates or lost or stuck or fivexx or mismatches or replay_failures) else 1
