"""`hotline bench-assessment`: a synthetic month of a Qingdao-sized center (450,000 tickets) in a
throw-away PostgreSQL (pgserver, as the tests use), and how long the assessment's heavy questions
take: the monthly ranking of each tier, a drill-down, one early-warning scan."""

import itertools
import random
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from catalog.cities import load_directory
from catalog.policies import load_pack
from domain.assessment import Group, Period, community_of
from readmodel import assessment, db

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


def synthetic_rows(month: Period, tickets: int, seed: int = 12345):
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
            f"B{i:013d}",
            f"ticket-B{i:013d}",
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


def _timed(fn):
    t = time.perf_counter()
    result = fn()
    return time.perf_counter() - t, result


def main(tickets: int = 450_000) -> None:
    import pgserver
    import psycopg

    folder = Path(tempfile.mkdtemp(prefix="bench-assessment-"))
    server = pgserver.get_server(folder, cleanup_mode="delete")
    try:
        server.psql("CREATE DATABASE bench;")
        socket_dir = server.get_uri().split("host=")[-1]
        url = f"postgresql+psycopg://postgres@/bench?host={socket_dir}"
        db.migrate(url)
        month = Period.parse("2026-10")
        print(f"loading {tickets:,} tickets of {month.label} into PostgreSQL (COPY)...", flush=True)
        t = time.perf_counter()
        with psycopg.connect(f"dbname=bench user=postgres host={socket_dir}") as conn:
            with conn.cursor() as cur:
                with cur.copy(f"COPY ticket ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                    for row in synthetic_rows(month, tickets):
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
        with psycopg.connect(f"dbname=bench user=postgres host={socket_dir}", autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE ticket")  # what autovacuum does to a loaded table
        print(f"  loaded in {time.perf_counter() - t:.1f}s", flush=True)

        rule = load_pack("qingdao").assessment
        directory = load_directory("qingdao")
        results: list[tuple[str, float, float | None]] = []
        with db.session(url) as session:
            assessment.ranking(session, directory, Group.street, month, rule)  # warm the cache once
            total = 0.0
            for group in Group:
                secs, scores = _timed(lambda g=group: assessment.ranking(session, directory, g, month, rule))
                total += secs
                results.append(
                    (f"monthly ranking: {group.value} ({len(scores)} units, with last month's change)", secs, None)
                )
            results.append(("monthly ranking: all four tiers", total, TARGETS["ranking"]))
            busiest = max(
                assessment.ranking(session, directory, Group.street, month, rule, compare=False),
                key=lambda s: s.assessed,
            )
            query = assessment.drill_down(Group.street, busiest.unit, month, "response", "missed", rule)
            secs, (n, _) = _timed(lambda: db.page(session, query, 1, 50))
            results.append(
                (
                    f"drill-down: {busiest.name} ({busiest.assessed:,} tickets), response missed, page 1 of {n:,}",
                    secs,
                    TARGETS["drill_down"],
                )
            )
            query = assessment.drill_down(Group.department, "qd.dept.urban", month, "satisfaction", "missed", rule)
            secs, (n, _) = _timed(lambda: db.page(session, query, 1, 50))
            results.append(
                (f"drill-down: 市城管局 (supervised + led), unsatisfied, page 1 of {n:,}", secs, TARGETS["drill_down"])
            )
            secs, raised = _timed(lambda: assessment.scan_surges(session, scan_at, rule.surge))
            results.append(
                (
                    f"hot-spot scan: 2 h window vs 28-day baseline, {len(raised)} warning(s) raised",
                    secs,
                    TARGETS["scan"],
                )
            )
        print()
        for what, secs, target in results:
            verdict = "" if target is None else (f"  target ≤ {target:g}s: " + ("ok" if secs <= target else "MISSED"))
            print(f"  {secs * 1000:8.0f} ms  {what}{verdict}")
        print()
        db.dispose(url)
    finally:
        server.cleanup()


if __name__ == "__main__":
    main()
