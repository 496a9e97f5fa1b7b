"""`hotline bench-assessment`: a synthetic month of a Qingdao-sized center (450,000 tickets) in a
throw-away PostgreSQL (pgserver, as the tests use), and how long the assessment's heavy questions
take: the monthly ranking of each tier, every drill-down (each metric, the busiest unit of each
tier), the early-warning scan. Each timed several times: p50 and p99, beside the load average."""

import itertools
import math
import os
import random
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TypeVar

from catalog.cities import load_directory
from catalog.policies import load_pack
from domain.assessment import Group, Period, community_of
from readmodel import assessment, db

R = TypeVar("R")
TARGETS = {"ranking": 5.0, "drill_down": 0.2, "scan": 2.0}
COLUMNS = (
    "number",
    "workflow_id",
    "stage",
    "tier",
    "lead_unit",
    "supervisor_unit",
    "category",
    "district",
    "street",
    "urgency",
    "kind",
    "channel",
    "enterprise",
    "deadline",
    "deadline_estimated",
    "overdue",
    "warned",
    "urge_count",
    "extension_count",
    "flags",
    "outcome",
    "rehandle_round",
    "intake_path",
    "repeat_count",
    "callback_attempt",
    "resolved",
    "satisfaction",
    "received_at",
    "closed_at",
    "version",
    "state_json",
    "first_responsible_unit",
    "community",
    "acknowledged_on_time",
    "contacted_on_time",
    "completed_on_time",
)
COMMUNITIES = [f"{a}{b}社区" for a in "东西南北中" for b in ("山", "海", "湖", "港", "城", "园", "台", "桥")]
CHANNELS = (["phone"] * 6) + ["wechat", "web", "app", "mailbox", "grid"]
KINDS = (["complaint"] * 4) + (["help"] * 3) + ["consultation", "report", "suggestion", "praise"]


def synthetic_rows(month: Period, tickets: int, seed: int = 12345, prefix: str = "B"):
    """Tickets spread over the month, the streets and categories skewed as real intake is."""
    rnd = random.Random(seed)
    d = load_directory("qingdao")
    streets = [u for u in d.units.values() if u.tier == "street"]
    street_w = list(itertools.accumulate(rnd.paretovariate(1.5) for _ in streets))
    cats = list(d.categories.values())
    cat_w = list(itertools.accumulate(rnd.paretovariate(1.2) for _ in cats))
    span = (month.end - month.start).total_seconds()
    for i in range(tickets):
        street = rnd.choices(streets, cum_weights=street_w)[0]
        cat = rnd.choices(cats, cum_weights=cat_w)[0]
        lead = street.id if cat.lead == "street" else cat.lead
        received = month.start + timedelta(seconds=rnd.random() * span)
        closed = rnd.random() < 0.9
        contacted = None if rnd.random() < 0.03 else rnd.random() < 0.95
        on_time = (rnd.random() < 0.93) if closed else None
        resolved = (rnd.random() < 0.85) if closed and rnd.random() < 0.9 else None
        sat = (
            rnd.choices(["satisfied", "basically_satisfied", "unsatisfied"], [70, 18, 12])[0]
            if resolved is not None
            else None
        )
        first = lead if rnd.random() < 0.94 else streets[(i * 7) % len(streets)].id
        community = COMMUNITIES[rnd.randrange(len(COMMUNITIES))] if rnd.random() < 0.6 else None
        yield (
            f"{prefix}{i:013d}",
            f"ticket-{prefix}{i:013d}",
            "closed" if closed else "handling",
            "street",
            lead,
            cat.supervisor,
            cat.id,
            street.parent,
            street.id,
            "normal",
            rnd.choice(KINDS),
            rnd.choice(CHANNELS),
            rnd.random() < 0.05,
            None,
            False,
            on_time is False,
            False,
            int(rnd.random() < 0.04),
            0,
            "",
            "confirmed" if closed else None,
            int(rnd.random() < 0.03),
            "dispatch",
            int(rnd.random() < 0.06),
            1 if closed else 0,
            resolved,
            sat,
            received,
            received + timedelta(days=3) if closed else None,
            1,
            "{}",
            first,
            community,
            rnd.random() < 0.97,
            contacted,
            on_time,
        )


# The figures a drill-down opens, and which of their tickets: the ones a rate missed (what a unit
# is asked about), the counted ones of a count.
DRILLS: list[tuple[str, str | None]] = [
    (m, "missed" if m in ("response", "resolution", "satisfaction", "on_time") else None) for m in assessment.METRICS
]


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load {one:.1f} {five:.1f} {fifteen:.1f}"


class Cpu:
    """CPU seconds spent by this process and by the PostgreSQL server (the postmaster, its
    backends, and the parallel workers it has reaped), read from /proc: what a figure costs,
    whatever else the machine runs. now() is None where there is no /proc."""

    def __init__(self, data_dir: Path) -> None:
        self.postmaster = int((data_dir / "postmaster.pid").read_text().split()[0])
        self.tick = os.sysconf("SC_CLK_TCK")

    @staticmethod
    def _stat(pid: int | str) -> list[str]:
        text = Path(f"/proc/{pid}/stat").read_text()
        return text[text.rindex(")") + 2 :].split()  # from the 3rd field (state) on

    def now(self) -> float | None:
        try:
            ticks = sum(int(x) for x in self._stat(self.postmaster)[11:15])  # utime stime cutime cstime
        except (OSError, ValueError):
            return None
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    f = self._stat(entry.name)
                except (OSError, ValueError):
                    continue  # gone meanwhile
                if int(f[1]) == self.postmaster:
                    ticks += int(f[11]) + int(f[12])
        return ticks / self.tick + time.process_time()


@dataclass
class Timing:
    secs: list[float] = field(default_factory=list)
    cpu: list[float | None] = field(default_factory=list)  # CPU seconds per run, per block of runs

    def __add__(self, other: "Timing") -> "Timing":
        return Timing(self.secs + other.secs, self.cpu + other.cpu)

    def cpu_per_run(self) -> float | None:
        return None if not self.cpu or None in self.cpu else sum(c or 0.0 for c in self.cpu) / len(self.cpu)


def _timings(cpu: Cpu | None, fn: Callable[[], R], runs: int) -> tuple[Timing, R]:
    """Each run's seconds, the CPU a run took on average, and the last run's result."""
    secs: list[float] = []
    results: list[R] = []
    before = cpu.now() if cpu else None
    for _ in range(max(1, runs)):
        t = time.perf_counter()
        results.append(fn())
        secs.append(time.perf_counter() - t)
    after = cpu.now() if cpu else None
    per_run = (after - before) / len(secs) if before is not None and after is not None else None
    return Timing(secs, [per_run]), results[-1]


def _pct(secs: list[float], q: float) -> float:
    """Nearest-rank percentile: of fewer than 100 runs, p99 is the slowest."""
    ordered = sorted(secs)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


class Report:
    """Lines of figures: p50 and p99 in ms, CPU per run, the load average then, a verdict (on p99)."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, what: str, t: Timing, target: float | None = None) -> None:
        p50, p99, cpu = _pct(t.secs, 0.5), _pct(t.secs, 0.99), t.cpu_per_run()
        verdict = "" if target is None else f"  target ≤ {target * 1000:g} ms: " + ("ok" if p99 <= target else "MISSED")
        cpu_ms = f"{'-':>8s}" if cpu is None else f"{cpu * 1000:8.1f}"
        self.lines.append(
            f"  {p50 * 1000:8.1f} {p99 * 1000:8.1f} {cpu_ms} {len(t.secs):5d}  {_load():16s}  {what}{verdict}"
        )

    def heading(self, text: str) -> None:
        self.lines.append(f"  {text}")

    def print(self) -> None:
        print()
        print(f"  {'p50 ms':>8s} {'p99 ms':>8s} {'cpu ms':>8s} {'runs':>5s}  {'load 1m 5m 15m':16s}  what")
        for line in self.lines:
            print(line)
        print("  (cpu ms: PostgreSQL's and this process's CPU per run, however busy the machine is)")
        print()


def _load_month(socket_dir: str, month: Period, tickets: int, previous: bool) -> datetime:
    """The synthetic month, a yellow-water cluster for the scan to find, and tickets ruled out of
    the assessment (one in 500); returns the time the scan looks back from."""
    import psycopg

    with psycopg.connect(f"dbname=bench user=postgres host={socket_dir}") as conn:
        with conn.cursor() as cur:
            with cur.copy(f"COPY ticket ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                for row in synthetic_rows(month, tickets):
                    copy.write_row(row)
                if previous:  # the month before, as busy: the ranking's change and decline read it
                    for row in synthetic_rows(month.previous(), tickets, seed=54321, prefix="P"):
                        copy.write_row(row)
            # A yellow-water cluster in one community, for the scan to find.
            scan_at = month.start + timedelta(days=20, hours=3)
            with cur.copy(f"COPY ticket ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                for i in range(12):
                    at = scan_at - timedelta(minutes=9 * i + 1)
                    copy.write_row(
                        (
                            f"W{i:013d}",
                            "",
                            "dispatch",
                            "street",
                            "qd.util.water",
                            "qd.dept.water",
                            "water.supply",
                            "qd.shinan",
                            "qd.shinan.badaxia",
                            "normal",
                            "complaint",
                            "phone",
                            False,
                            None,
                            False,
                            False,
                            False,
                            0,
                            0,
                            "",
                            None,
                            0,
                            "dispatch",
                            0,
                            0,
                            None,
                            None,
                            at,
                            None,
                            1,
                            "{}",
                            "qd.util.water",
                            community_of("团岛社区"),
                            None,
                            None,
                            None,
                        )
                    )
            with cur.copy(
                "COPY assessment_exclusion (number, reason, note, decided_by, decided_at) FROM STDIN"
            ) as copy:
                for i in range(0, tickets, 500):
                    copy.write_row((f"B{i:013d}", "unreasonable", "经核查诉求不合理", "center:bench", scan_at))
    with psycopg.connect(f"dbname=bench user=postgres host={socket_dir}", autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")  # what autovacuum does to a loaded table
    return scan_at


def main(tickets: int = 450_000, runs: int = 15, previous: bool = False) -> None:
    import pgserver

    folder = Path(tempfile.mkdtemp(prefix="bench-assessment-"))
    server = pgserver.get_server(folder, cleanup_mode="delete")
    try:
        server.psql("CREATE DATABASE bench;")
        socket_dir = server.get_uri().split("host=")[-1]
        url = f"postgresql+psycopg://postgres@/bench?host={socket_dir}"
        db.migrate(url)
        month = Period.parse("2026-10")
        print(f"machine: {os.cpu_count()} cores, {_load()} (other work on it slows every figure)")
        months = f"{month.previous().label} and {month.label}" if previous else month.label
        print(f"loading {tickets:,} tickets a month of {months} into PostgreSQL (COPY)...", flush=True)
        t = time.perf_counter()
        scan_at = _load_month(socket_dir, month, tickets, previous)
        print(f"  loaded in {time.perf_counter() - t:.1f}s; timing, {runs} runs of each drill-down...", flush=True)
        try:
            cpu: Cpu | None = Cpu(folder)
        except (OSError, ValueError):
            cpu = None

        rule = load_pack("qingdao").assessment
        directory = load_directory("qingdao")
        report = Report()
        with db.session(url) as session:
            assessment.ranking(session, directory, Group.street, month, rule)  # warm the cache once
            report.heading("monthly ranking (with last month's change), every tier:")
            ranking_runs = max(3, runs // 5)
            tiers: list[Timing] = []
            busiest: dict[Group, tuple[str, str, int]] = {}
            for group in Group:
                timing, scores = _timings(
                    cpu, partial(assessment.ranking, session, directory, group, month, rule), ranking_runs
                )
                tiers.append(timing)
                report.add(f"ranking: {group.value} ({len(scores)} units)", timing)
                top = max(scores, key=lambda s: s.assessed)
                busiest[group] = (top.unit, top.name, top.assessed)
            all_tiers = Timing(
                [sum(run) for run in zip(*(t.secs for t in tiers), strict=True)],
                [None if None in c else sum(x or 0.0 for x in c) for c in zip(*(t.cpu for t in tiers), strict=True)],
            )
            report.add("ranking: all four tiers", all_tiers, TARGETS["ranking"])

            report.heading("drill-down: page 1 (50 tickets) and its total, the busiest unit of each tier:")
            for group in Group:
                unit, name, assessed = busiest[group]
                every = Timing()
                for metric, outcome in DRILLS:
                    drill = partial(
                        assessment.drill_down_page, session, group, unit, month, metric, outcome, rule, 1, 50
                    )
                    drill()  # the first of a kind warms its index pages
                    timing, (n, _) = _timings(cpu, drill, runs)
                    every += timing
                    report.add(f"  {group.value} {name}: {metric}{' ' + outcome if outcome else ''} ({n:,})", timing)
                report.add(
                    f"drill-down: {group.value} {name} ({assessed:,} tickets), every metric",
                    every,
                    TARGETS["drill_down"],
                )
            unit, name, assessed = busiest[Group.department]
            deep = min(100, math.ceil(assessed / 50))  # a page far in: each branch reads up to it
            timing, _ = _timings(
                cpu,
                partial(
                    assessment.drill_down_page, session, Group.department, unit, month, "volume", None, rule, deep, 50
                ),
                runs,
            )
            report.add(
                f"drill-down: department {name}, volume, page {deep} of {math.ceil(assessed / 50):,}",
                timing,
                TARGETS["drill_down"],
            )

            report.heading("early warning:")
            first, raised = _timings(cpu, partial(assessment.scan_surges, session, scan_at, rule.surge), 1)
            again, _ = _timings(cpu, partial(assessment.scan_surges, session, scan_at, rule.surge), max(3, runs // 3))
            report.add(
                f"hot-spot scan: 2 h window vs 28-day baseline, {len(raised)} warning(s) raised (then none again)",
                first + again,
                TARGETS["scan"],
            )
        report.print()
        db.dispose(url)
    finally:
        server.cleanup()


if __name__ == "__main__":
    main()
