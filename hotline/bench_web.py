"""`hotline bench-web`: how fast the workbench is with a city's worth of open tickets.

In a scratch folder: a read model with N open tickets written directly (spread over the city's
streets, stages and deadlines; a tenth at the demo street office), the API served on a free port
(no Temporal: the ticket page answers from the read model, as it does when Temporal is away), and
headless Chromium signed in as each role. For every page it prints the time from navigation to
the page's content drawn (its lists, counts and charts filled in), and for the unit's list API the
response time: the median (p50) and the 99th percentile (p99) over several runs, and the load
average before and after (the machine may be shared: figures under load are worse). Targets: every
page ≤ 1 s, the unit list ≤ 300 ms, judged on p50. Asserts nothing."""

import os
import random
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import uvicorn

from api.main import create_app
from catalog.cities import load_directory
from core.ports import free_ports
from core.settings import Settings
from domain.ticket import Address, Citizen, TicketRequest, TicketState
from domain.vocabulary import Channel, Kind, Stage, Tier
from readmodel import db, knowledge
from readmodel.tables import TicketRow, TicketUnitRow
from readmodel.units import seed
from web import accounts

UNIT = "qd.shinan.badaxia"
STAGES = [(Stage.dispatch, 20), (Stage.handling, 50), (Stage.rehandle, 5), (Stage.callback, 20), (Stage.follow_up, 5)]
# page, the role that opens it, a script that is true once its content is drawn
PAGES = [
    ("/login", None, "document.querySelector('#username') !== null"),
    ("/desk", "desk", "document.querySelectorAll('#category option').length > 1 && !!document.querySelector('#who')"),
    ("/unit", "badaxia", "document.querySelectorAll('#list tr[data-number]').length > 0"),
    ("/center#warnings", "center", "document.querySelectorAll('#list tr[data-number]').length > 0"),
    (
        "/dashboard",
        "supervisor",
        "!!document.querySelector('[data-kpi]') && !!document.querySelector('#geo [data-area]')"
        " && ['c_stage', 'c_tier', 'c_today', 'c_district', 'c_week'].every((c) => document.querySelector('#' + c + ' canvas'))",
    ),
    ("/ticket?n={number}", "center", "!!document.querySelector('#stage') && !!document.querySelector('#actions form')"),
    ("/users", "center", "document.querySelectorAll('tr[data-user]').length > 0"),
    ("/kb", "center", "document.querySelectorAll('tr.article').length > 0"),
    ("/citizen", None, "document.querySelector('#lookup') !== null"),
]


def _fill(settings: Settings, tickets: int) -> str:
    directory = load_directory(settings.city)
    streets = [u for u in directory.units.values() if u.tier == Tier.street and u.parent]
    cats = list(directory.categories)
    rng = random.Random(12345)
    now = datetime.now(UTC)
    template = TicketState(
        number="0", workflow_id="ticket-0", received_at=now,
        request=TicketRequest(channel=Channel.phone, kind=Kind.complaint, citizen=Citizen(name="测试"),
                              description="基准测试工单", category=cats[0],
                              address=Address(district="qd.shinan", street=UNIT)),
    ).model_dump_json()  # fmt: skip
    stages = [s for s, w in STAGES for _ in range(w)]
    first = None
    with db.session(settings.database_url) as session:
        for i in range(tickets):
            street = directory.units[UNIT] if i % 10 == 0 else rng.choice(streets)
            stage = rng.choice(stages)
            deadline = now + timedelta(hours=rng.uniform(-48, 24 * 7))
            number = f"{now:%Y%m%d}{i + 1:06d}"
            first = first or number
            row = TicketRow(
                number=number, workflow_id=f"ticket-{number}", stage=stage.value, tier="street",
                lead_unit=street.id, supervisor_unit=directory.categories[cats[i % len(cats)]].supervisor,
                category=cats[i % len(cats)], district=street.parent, street=street.id, urgency="normal",
                kind="complaint", channel="phone", deadline=deadline, overdue=deadline < now,
                warned=now <= deadline < now + timedelta(hours=12), flags="return_pending" if i % 97 == 0 else "",
                received_at=now - timedelta(hours=rng.uniform(0, 24 * 6)), updated_at=now,
                state_json=template.replace('"number":"0"', f'"number":"{number}"'),
            )  # fmt: skip
            session.add(row)
            session.add(TicketUnitRow(number=number, unit=street.id, role="lead"))
            if i % 500 == 0:
                session.flush()
        session.commit()
    assert first is not None
    return first


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} (1, 5, 15 min) on {os.cpu_count()} cores"


def _figures(times: list[float], target_ms: int) -> str:
    """p50 and p99 in ms (p99 of a few runs is about their slowest), and whether p50 meets the target."""
    ms = sorted(t * 1000 for t in times)
    p50 = statistics.median(ms)
    p99 = statistics.quantiles(ms, n=100, method="inclusive")[98] if len(ms) > 1 else ms[0]
    verdict = "ok" if p50 <= target_ms else f"OVER {target_ms} ms"
    if p50 <= target_ms < p99:
        verdict += f" (p99 over {target_ms} ms)"
    return f"p50 {p50:6.0f} ms  p99 {p99:6.0f} ms  {verdict}"


def main(tickets: int = 10_000, rounds: int = 10) -> int:
    folder = Path(tempfile.mkdtemp(prefix="hotline-bench-web-"))
    port, nowhere = free_ports(2)
    settings = Settings(
        data_dir=folder, database_url=f"sqlite:///{folder / 'hotline.db'}", api_port=port,
        temporal_address=f"127.0.0.1:{nowhere}",  # nothing there: the pages read the read model
    )  # fmt: skip
    db.migrate(settings.database_url)
    seed(settings.database_url, load_directory(settings.city), None)
    knowledge.seed(settings.database_url, settings.city)
    passwords = {u: p for u, p, _, _ in accounts.demo_accounts(settings.database_url, folder, settings.city)}
    t0 = time.perf_counter()
    number = _fill(settings, tickets)
    print(f"{tickets} open tickets written to the read model in {time.perf_counter() - t0:.1f}s")

    server = uvicorn.Server(uvicorn.Config(create_app(settings), port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    base = f"http://127.0.0.1:{port}"
    while not server.started:
        time.sleep(0.05)
    print(_load())
    try:
        _api_timings(base, passwords, rounds * 2)
        _page_timings(base, passwords, rounds, number)
    finally:
        server.should_exit = True
    print(_load())
    return 0


def _login(http: httpx.Client, user: str, password: str) -> None:
    http.get("/login")
    r = http.post("/workbench/api/login", json={"username": user, "password": password},
                  headers={"X-CSRF-Token": http.cookies.get("hotline_csrf") or ""})  # fmt: skip
    r.raise_for_status()


def _api_timings(base: str, passwords: dict[str, str], rounds: int) -> None:
    with httpx.Client(base_url=base, timeout=30) as http:
        _login(http, "badaxia", passwords["badaxia"])
        print(f"\nunit list API (GET /workbench/api/worklist, the demo street office), {rounds} runs each")
        for tab in ("sign", "hand", "watch"):
            times, total = [], 0
            for _ in range(rounds):
                t = time.perf_counter()
                r = http.get(f"/workbench/api/worklist?tab={tab}")
                times.append(time.perf_counter() - t)
                total = r.json()["total"]
            print(f"  tab={tab:<6} {total:>5} tickets  {_figures(times, 300)}")


def _settle(driver) -> None:
    """Until the page has no call on its way (twice in a row): a run's late calls (the dashboard's
    assessment sections, asked for after its first screen) must not be timed in the next run."""
    quiet, t = 0, time.perf_counter()
    while quiet < 2 and time.perf_counter() - t < 15:
        busy = driver.execute_script("return typeof callsInFlight === 'function' ? callsInFlight() : 0")
        quiet = 0 if busy else quiet + 1
        time.sleep(0.05)


def _page_timings(base: str, passwords: dict[str, str], rounds: int, number: str) -> None:
    try:
        from web.browser import available, chromium  # selenium: installed with the dev extras
    except ImportError:
        print("\nSelenium is not installed (pip install -e '.[dev]'): page timings skipped")
        return
    if not available():
        print("\nChromium is not installed (make browser): page timings skipped")
        return
    print(f"\nfirst render in headless Chromium (navigation to content drawn), {rounds} runs each")
    with chromium() as driver:
        for path, user, ready in PAGES:
            driver.delete_all_cookies()
            if user:
                with httpx.Client(base_url=base) as http:
                    _login(http, user, passwords[user])
                    cookies = dict(http.cookies)
                driver.get(f"{base}/static/favicon.svg")
                for name, value in cookies.items():
                    driver.add_cookie({"name": name, "value": value, "path": "/"})
            times = []
            for _ in range(rounds):
                driver.get("about:blank")  # a hash-only change would not load the page again
                t = time.perf_counter()
                driver.get(base + path.format(number=number))
                while not driver.execute_script(f"return {ready}"):
                    if time.perf_counter() - t > 15:
                        raise RuntimeError(f"{path} did not draw within 15 s")
                    time.sleep(0.01)
                times.append(time.perf_counter() - t)
                _settle(driver)
            print(f"  {path.split('?')[0].split('#')[0]:<11} {user or '-':<11} {_figures(times, 1000)}")
