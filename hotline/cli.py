"""`hotline`: the product's command line.

hotline up                       the embedded stack (Temporal dev server, worker, API, simulator)
hotline worker | api             one part on its own (e.g. against a real cluster)
hotline simulator                the department simulator on its own
hotline token --role unit --unit qd.shinan.badaxia
hotline migrate                  bring the read model to the newest schema
hotline seed                     load the city's units into the read model (idempotent)
hotline department-api           print the department-system API contract (OpenAPI JSON)
hotline setup-temporal           register the search attributes on a real cluster
hotline calendar apply [--file calendar.toml]
                                 re-time open tickets with estimated deadlines on the official calendar
hotline bench                    throughput of this machine, printed
hotline demo [--speed 60]        a working day of citizens' requests played into the running product
hotline schedules                create (or update) the report and early-warning schedules
hotline bench-assessment         the assessment's queries on a synthetic month (450,000 tickets)
hotline setup                    migrate + seed + search attributes: a deployment's one-shot job
hotline bench-triage [FILE]      intake triage accuracy and latency on a held-out set
hotline import-history FILE.csv  load a center's past tickets for the triage model to learn from
hotline train-triage             train a new triage model version now (the schedule does it nightly)
hotline triage-models [--rollback | --activate N]   the versions, with their held-out accuracy
hotline user add --user admin --role center     a workbench account (password prompted or --password-stdin)
hotline bench-web                first render of every workbench page with 10,000 open tickets, printed
hotline chaos [--tickets 200]    SIGKILL the parts at random while tickets run; what survived, printed"""

import argparse
import asyncio
import sys
from datetime import UTC
from pathlib import Path

from core.logging import configure_logging
from core.settings import get_settings
from domain.vocabulary import Role


def _hours(text: str) -> float:
    """--hours: a positive number of hours (fractions allowed), at most a year."""
    from api.auth import MAX_HOURS

    try:
        hours = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a number of hours, e.g. 12 or 0.5, not {text!r}") from None
    if not 0 < hours <= MAX_HOURS:  # also refuses nan and inf
        raise argparse.ArgumentTypeError(f"more than 0 and at most {MAX_HOURS} hours, not {text}: a useless token")
    return hours


def _payload_key(_args) -> int:
    from core.codec import new_key

    print(new_key())  # for HOTLINE_PAYLOAD_KEYS='{"<id>": "<key>"}' with HOTLINE_PAYLOAD_KEY_ID=<id>
    return 0


def _token(args) -> int:
    import difflib

    from api.auth import mint
    from catalog.cities import load_directory

    settings = get_settings()
    role = Role(args.role)
    if role == Role.unit:
        if not args.unit:
            print("hotline token: a unit token needs --unit <unit id>, e.g. --unit qd.shinan.badaxia (see GET /units)",
                  file=sys.stderr)  # fmt: skip
            return 2
        units = load_directory(settings.city).units
        if args.unit not in units:
            by_name = [u.id for u in units.values() if u.name == args.unit]
            close = by_name or difflib.get_close_matches(args.unit, list(units), n=3)
            hint = f"; did you mean {' or '.join(close)}?" if close else " (see GET /units)"
            print(f"hotline token: unknown unit {args.unit!r} in city {settings.city}{hint}", file=sys.stderr)
            return 2
    elif args.unit:
        print(f"hotline token: --unit is only for --role unit (not {role.value})", file=sys.stderr)
        return 2
    hours = args.hours if args.hours is not None else settings.token_ttl_hours
    print(mint(settings.token_secret.get_secret_value(), role, args.user or role.value, args.unit, hours=hours))
    return 0


def _up(args) -> int:
    from hotline.embedded import up

    return up(get_settings(), with_simulator=not args.no_simulator)


def _worker(_args) -> int:
    import worker

    worker.main()
    return 0


def _api(_args) -> int:
    import uvicorn

    settings = get_settings()
    # log_config=None: uvicorn's records go through our structlog set-up like everything else.
    uvicorn.run(
        "api.main:build", factory=True, host=settings.api_host, port=settings.api_port,
        log_config=None, access_log=False,
    )  # fmt: skip
    return 0


def _migrate(_args) -> int:
    from readmodel import db

    db.migrate(get_settings().database_url)
    print("read model is at the newest schema")
    return 0


def _seed(args) -> int:
    from catalog.cities import load_directory
    from readmodel import db, knowledge
    from readmodel.units import seed

    settings = get_settings()
    db.migrate(settings.database_url)
    result = seed(
        settings.database_url, load_directory(settings.city), origin=args.origin or settings.department_origin
    )
    articles = knowledge.seed(settings.database_url, settings.city)
    print(
        f"units of {settings.city}: {result.added} added, {result.updated} updated, "
        f"{result.deactivated} deactivated, {result.unchanged} unchanged; "
        f"knowledge base: {articles} starter article(s) added"
    )
    if not args.no_train:
        from readmodel import triage_models

        # At first start the triage model trains on the city's data and the seed corpus.
        row, trained = triage_models.train_version(settings, by="seed")
        print(f"triage model: version {row.version} {'trained' if trained else 'unchanged'}")
    return 0


def _simulator(_args) -> int:
    from simulator.app import main as simulator

    simulator()
    return 0


def _department_api(_args) -> int:
    from simulator.contract import main as contract

    contract()
    return 0


def _setup_temporal(_args) -> int:
    from core.temporal import connect
    from workflows.search_attributes import register_search_attributes

    settings = get_settings()

    async def run():
        from workflows.triage_training import ensure_training_schedule

        client = await connect(settings)
        added = await register_search_attributes(client, settings.temporal_namespace)
        return added, await ensure_training_schedule(client, settings)

    added, scheduled = asyncio.run(run())
    print(f"search attributes added: {', '.join(added) or 'none (all present)'}")
    print(
        f"triage training schedule: {'created' if scheduled else 'present'} ({settings.triage_training_cron}, Beijing time)"
    )
    return 0


def _calendar_apply(args) -> int:
    """Load the center's calendar file (next year's official schedule) and send it to every open
    ticket whose deadline was estimated; print what moved. Safe to run again."""
    from datetime import datetime
    from pathlib import Path

    from api.calendar import apply_to_open_tickets
    from catalog.calendar import calendar_to_apply
    from core.temporal import connect
    from domain.deadlines.calendar import CHINA_TZ
    from domain.ticket import Actor

    settings = get_settings()
    center_file = Path(args.file) if args.file else settings.calendar_file
    today = datetime.now(UTC).astimezone(CHINA_TZ).date()
    try:
        calendar = calendar_to_apply(today, center_file)
    except ValueError as e:
        print(e, file=sys.stderr)
        return 2
    actor = Actor(role=Role.center, user=args.user)

    async def run():
        client = await connect(settings)
        return await apply_to_open_tickets(client, settings.database_url, calendar, actor, args.note)

    result = asyncio.run(run())
    print(render_calendar_applied(result))
    return 1 if result.failed else 0


def render_calendar_applied(result) -> str:
    lines = [f"{y.year}: {y.source}{'' if y.official else ' (estimate)'}" for y in result.years]
    for t in result.retimed:
        before = t.before.isoformat() if t.before else "—"
        after = t.after.isoformat() if t.after else "—"
        moved = "unchanged" if t.before == t.after else f"{before} -> {after}"
        lines.append(f"{t.number}: {moved}{' (still estimated)' if t.still_estimated else ''}")
    lines += [f"{t.number}: not re-timed: {t.reason}" for t in result.failed]
    lines.append(f"{len(result.retimed)} ticket(s) re-timed, {len(result.failed)} failed")
    return "\n".join(lines)


def _setup(args) -> int:
    import time

    from core.temporal import connect
    from workflows.search_attributes import register_search_attributes

    _seed(args)
    settings = get_settings()

    async def run() -> list[str]:
        deadline = time.monotonic() + args.wait
        while True:
            try:
                client = await connect(settings)
                return await register_search_attributes(client, settings.temporal_namespace)
            except Exception as e:  # Temporal still starting: try again until --wait runs out
                if time.monotonic() > deadline:
                    raise SystemExit(f"Temporal at {settings.temporal_address} did not answer: {e}") from e
                print(f"waiting for Temporal at {settings.temporal_address}: {e}", file=sys.stderr)
                await asyncio.sleep(3)

    added = asyncio.run(run())
    print(f"search attributes added: {', '.join(added) or 'none (all present)'}")
    return 0


def _bench(args) -> int:
    from hotline.bench import main as bench

    bench(tickets=args.tickets, concurrency=args.concurrency, workers=args.workers, open_tickets=args.open,
          bare=not args.no_baseline, warn_after=args.warn_after, cache=args.cache)  # fmt: skip
    return 0


def _chaos(args) -> int:
    from hotline.chaos import main as chaos

    return chaos(
        tickets=args.tickets, duration=args.duration, concurrency=args.concurrency, seed=args.seed, keep=args.keep,
        sticky_timeout=args.sticky_timeout,
    )  # fmt: skip


def _speed(text: str) -> float:
    try:
        speed = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a number, e.g. 60 (an hour of the day a minute), not {text!r}") from None
    if not 0 < speed < float("inf"):
        raise argparse.ArgumentTypeError(f"more than 0, e.g. 60 (an hour of the day per real minute), not {text}")
    return speed


def _count(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a whole number, not {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"at least 1, not {n}")
    return n


def _demo(args) -> int:
    from hotline.demo import main as demo

    settings = get_settings()
    simulator = None if args.no_simulator else (args.simulator_url or settings.simulator_url)
    return demo(args.url or settings.api_url, simulator, settings.token_secret.get_secret_value(), args.speed, args.tickets,
                args.settle, args.seed)  # fmt: skip


def _schedules(_args) -> int:
    from core.temporal import connect
    from workflows.assessment import ensure_schedules

    settings = get_settings()

    async def run():
        return await ensure_schedules(await connect(settings), settings)

    created = asyncio.run(run())
    print(f"schedules created: {', '.join(created) or 'none (all present; specs brought up to date)'}")
    return 0


def _bench_assessment(args) -> int:
    from hotline.bench_assessment import main as bench

    bench(tickets=args.tickets, runs=args.runs, previous=args.with_previous_month)
    return 0


class _Help(argparse.ArgumentDefaultsHelpFormatter):
    """Defaults shown after every option's help."""


def _command(sub, name: str, help: str, description: str, func) -> argparse.ArgumentParser:
    p = sub.add_parser(name, help=help, description=description, formatter_class=_Help)
    p.set_defaults(func=func)
    return p


def _user_add(args) -> int:
    import getpass

    from readmodel import db
    from web import accounts

    settings = get_settings()
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass(f"password for {args.user}: ")
        if getpass.getpass("again: ") != password:
            print("the passwords differ; nothing changed", file=sys.stderr)
            return 2
    db.migrate(settings.database_url)
    try:
        accounts.create_user(settings.database_url, args.user, password, args.role, args.unit, args.name or "")
    except accounts.AccountError as e:
        print(f"not added: {e}", file=sys.stderr)
        return 2
    print(f"added {args.user} ({args.role}{' ' + args.unit if args.unit else ''}): sign in at {settings.api_url}/")
    return 0


def _bench_web(args) -> int:
    from hotline.bench_web import main as bench_web

    return bench_web(tickets=args.tickets, rounds=args.rounds)


def _bench_triage(args) -> int:
    from hotline.bench_triage import main as bench_triage

    return bench_triage(args.file, live=args.live, show_misses=not args.quiet)


def _import_history(args) -> int:
    from hotline.history import import_csv
    from readmodel import db

    settings = get_settings()
    db.migrate(settings.database_url)
    try:
        result = import_csv(settings, args.file)
    except (OSError, ValueError) as e:
        print(f"cannot import {args.file}: {e}", file=sys.stderr)
        return 2
    print(
        f"{args.file}: {result.added} ticket(s) added, {result.updated} updated, {result.skipped} skipped"
        + "".join(f"\n  line {line}: {why}" for line, why in result.problems[:20])
    )
    if args.train:
        return _train_triage(args)
    return 0


def _train_triage(args) -> int:
    from readmodel import db, knowledge, triage_models

    settings = get_settings()
    db.migrate(settings.database_url)
    knowledge.seed(settings.database_url, settings.city)
    row, trained = triage_models.train_version(settings, by="cli", force=getattr(args, "force", False))
    d = triage_models.describe(row)
    what = "trained and activated" if trained else "unchanged (no new training data; --force to train anyway)"
    print(f"triage model version {row.version} {what}: samples {d['samples']}, held-out {d['held_out']}")
    return 0


def _triage_models(args) -> int:
    from readmodel import db, triage_models

    settings = get_settings()
    db.migrate(settings.database_url)
    try:
        if args.rollback:
            row = triage_models.rollback(settings.database_url)
            print(f"rolled back: version {row.version} is active")
        elif args.activate is not None:
            row = triage_models.activate(settings.database_url, args.activate)
            print(f"version {row.version} is active")
    except LookupError as e:
        print(str(e), file=sys.stderr)
        return 2
    for row in triage_models.versions(settings.database_url):
        d = triage_models.describe(row)
        print(
            f"{'*' if row.active else ' '} v{row.version:<4} {d['trained_at'][:19]}  by {row.trained_by:<10} held-out {d['held_out']}"
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="hotline",
        description="12345 hotline ticket orchestration: one durable Temporal workflow per ticket. "
        "Settings come from HOTLINE_* environment variables (core/settings.py).",
        formatter_class=_Help,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p = _command(
        sub, "up", "run the embedded stack",
        "Run everything on this machine: a Temporal dev server, the read model (SQLite), the worker, "
        "the API and the department simulator. Stops with Ctrl-C.", _up,
    )  # fmt: skip
    p.add_argument("--no-simulator", action="store_true", help="do not start the department simulator")
    _command(
        sub, "worker", "run the Temporal worker",
        "Run the worker: every workflow and activity of the product on HOTLINE_TASK_QUEUE. Serves the "
        "Temporal SDK's Prometheus metrics when HOTLINE_WORKER_METRICS_PORT is set.", _worker,
    )  # fmt: skip
    _command(
        sub, "api", "run the API",
        "Serve the HTTP API (OpenAPI at /docs, Open311 at /open311/v2/, metrics at /metrics, health at "
        "/health/live and /health/ready) on HOTLINE_API_HOST:HOTLINE_API_PORT.", _api,
    )  # fmt: skip
    _command(
        sub, "migrate", "migrate the read model",
        "Bring the read model (HOTLINE_DATABASE_URL) to the newest schema. Idempotent.", _migrate,
    )  # fmt: skip
    p = _command(
        sub, "seed", "load the city's units (units.toml) into the read model",
        "Load the units of HOTLINE_CITY and the starter knowledge base into the read model (migrating "
        "it first). Idempotent: units dropped from the file are deactivated, not deleted.", _seed,
    )  # fmt: skip
    p.add_argument(
        "--origin",
        help="replace scheme://host:port of every unit endpoint, e.g. a staging department gateway "
        "(default: HOTLINE_DEPARTMENT_ORIGIN; unset: the endpoints of units.toml)",
    )
    p.add_argument("--no-train", action="store_true", help="do not train the intake triage model")
    p = _command(
        sub, "setup", "one-shot setup of a deployment: migrate, seed, search attributes",
        "What a new deployment needs once (and harmlessly again): migrate the read model, seed the "
        "city's units, and register the search attributes on the Temporal namespace, waiting for "
        "Temporal to come up.", _setup,
    )  # fmt: skip
    p.add_argument("--origin", help="as for `seed`: the scheme://host:port of every unit endpoint")
    p.add_argument("--wait", type=float, default=120.0, help="seconds to wait for Temporal to answer")
    _command(
        sub, "simulator", "run the department simulator",
        "Serve the department simulator (HOTLINE_SIMULATOR_HOST:PORT): it plays every department "
        "system and answers through the API, for demos and staging.", _simulator,
    )  # fmt: skip
    _command(
        sub, "department-api", "print the department-system API (OpenAPI JSON)",
        "Print the contract a department's system implements to receive work orders (OpenAPI JSON).",
        _department_api,
    )  # fmt: skip
    _command(
        sub, "setup-temporal", "register search attributes on a cluster",
        "Register the ticket's search attributes on HOTLINE_TEMPORAL_NAMESPACE (idempotent).", _setup_temporal,
    )  # fmt: skip
    p = _command(
        sub, "bench", "measure intake and lifecycle throughput on this machine",
        "Start an embedded stack, take in tickets concurrently and drive them through their lifecycle; "
        "print intake and end-to-end throughput and latency beside a bare-workflow baseline (the ratio), or with "
        "--open N the memory, list and visibility latency and deadline lag of a city's open tickets.", _bench,
    )  # fmt: skip
    p.add_argument("--tickets", type=int, default=200, help="how many tickets to take in")
    p.add_argument("--concurrency", type=int, default=20, help="how many intakes are in flight at once")
    p.add_argument("--workers", type=_count, default=1, help="worker processes on the one task queue")
    p.add_argument("--no-baseline", action="store_true", help="skip the bare-workflow baseline")
    p.add_argument("--open", type=int, default=0, metavar="N",
                   help="instead: open N tickets and print memory, list and visibility latency and the deadline "
                   "lag of up to 10,000 warnings that fire together")  # fmt: skip
    p.add_argument("--warn-after", type=float, help="with --open: seconds from dispatch to the urgent warnings")
    p.add_argument("--cache", type=int, help="workflows each worker keeps in memory (default 1000)")
    p = _command(
        sub, "chaos", "SIGKILL the parts at random while tickets run; print what survived",
        "Start the parts as separate processes under the supervising launcher, drive N tickets through the "
        "lifecycle with retrying clients, kill the worker, the API, the Temporal dev server and the simulator "
        "with SIGKILL at random moments, and print kills by part, retries, 5xx, the longest wait, duplicates, "
        "lost, stuck and read-model mismatches.", _chaos,
    )  # fmt: skip
    p.add_argument("--tickets", type=int, default=200, help="tickets to drive through the lifecycle")
    p.add_argument("--duration", type=float, default=900, help="seconds at most (kills in the first 60%%)")
    p.add_argument("--concurrency", type=int, default=10, help="clients at once")
    p.add_argument("--seed", type=int, default=None, help="repeatable kills")
    p.add_argument(
        "--sticky-timeout", type=float, default=None,
        help="the worker's sticky-queue timeout in seconds (default 10); 0.2 provokes the SDK fault the replay "
        "repair mends (README, Faults and recovery)",
    )  # fmt: skip
    p.add_argument(
        "--keep", type=Path, default=None,
        help="folder for the histories of tickets that went wrong (default /tmp/hotline-chaos-kept-<time>)",
    )  # fmt: skip
    p = _command(
        sub, "demo", "play a working day of citizens' requests into the running product (`make up` first)",
        "Plays hotline/demo_day.toml into the running product over HTTP: the desk takes each request "
        "in at its time of day, the demo acts as the street offices, the center and some citizens, and the "
        "department simulator answers for its departments. Prints a summary.", _demo,
    )  # fmt: skip
    p.add_argument("--speed", type=_speed, default=120.0,
                   help="how much faster than real time the day runs (120: a 10-hour day in about 5 minutes; "
                   "60: an hour of the day per real minute)")  # fmt: skip
    p.add_argument("--tickets", type=_count, help="how many requests (default: the whole day; more repeats the day)")
    p.add_argument("--url", help="the product's API (default: HOTLINE_API_HOST / HOTLINE_API_PORT)")
    p.add_argument("--simulator-url", help="the department simulator (default: HOTLINE_SIMULATOR_HOST / _PORT)")
    p.add_argument("--no-simulator", action="store_true", help="no simulator runs: the demo handles every ticket")
    p.add_argument("--settle", type=float, default=60.0,
                   help="seconds to wait at the end for the simulated departments to finish")  # fmt: skip
    p.add_argument("--seed", type=int, help="repeatable choices (delays, satisfaction)")
    p = _command(
        sub, "calendar", "the center's holiday calendar",
        "Work with the center's holiday calendar (catalog/calendar_data.toml or HOTLINE_CALENDAR_FILE).", None,
    )  # fmt: skip
    cal = p.add_subparsers(dest="calendar_command", required=True, metavar="ACTION", help="what to do")
    p = _command(
        cal, "apply", "apply the calendar file to open tickets whose deadlines were estimated",
        "Load the official schedule (next year's, once the State Council publishes it) and re-time every "
        "open ticket whose deadline was an estimate, through a workflow update; a timeline line per moved "
        "deadline. Safe to run again.", _calendar_apply,
    )  # fmt: skip
    p.add_argument("--file", help="the center's calendar file (default: HOTLINE_CALENDAR_FILE or the shipped one)")
    p.add_argument("--note", default="", help="e.g. the State Council notice the schedule comes from")
    p.add_argument("--user", default="center", help="who applies it (for the timeline)")
    _command(
        sub, "schedules", "create the report and early-warning schedules",
        "Create (or update) the Temporal Schedules of the daily, weekly and monthly assessment reports and "
        "of the early-warning scan (idempotent; the worker also does it at start).", _schedules,
    )  # fmt: skip
    p = _command(
        sub, "bench-assessment", "time the assessment's queries on a synthetic month in PostgreSQL",
        "Load a synthetic month of a Qingdao-sized center into a throw-away PostgreSQL and print how long "
        "the monthly ranking, drill-downs and the hot-spot scan take.", _bench_assessment,
    )  # fmt: skip
    p.add_argument("--tickets", type=int, default=450_000, help="synthetic tickets in the month")
    p.add_argument("--runs", type=_count, default=15, help="timed runs of each drill-down (p50 and p99 of them)")
    p.add_argument("--with-previous-month", action="store_true",
                   help="load the month before too, as busy (the ranking's change and decline then read it)")  # fmt: skip
    p = _command(
        sub, "bench-triage", "intake triage accuracy and latency on a held-out set",
        "Train on the project's data in a scratch read model and print path accuracy with its confusion "
        "matrix, emergency recall and false alarms, category top-1/top-3, street and unit accuracy, latency.",
        _bench_triage,
    )  # fmt: skip
    p.add_argument("file", nargs="?", help="the set (default: tests/data/triage_eval.toml)")
    p.add_argument("--live", action="store_true", help="the configured read model and its active model")
    p.add_argument("--quiet", action="store_true", help="do not list the requests whose path was wrong")
    p = _command(
        sub, "import-history", "load a center's past tickets (CSV) for the triage model",
        "Load a CSV of the center's closed tickets (description, address, final category and lead unit) "
        "for the triage model to learn from; see README (Intake that understands the citizen).", _import_history,
    )  # fmt: skip
    p.add_argument("file", help="CSV with a header")
    p.add_argument("--train", action="store_true", help="train a new model version afterwards")
    p = _command(
        sub, "train-triage", "train a new triage model version now",
        "Train a new version of the intake triage model (the Temporal Schedule does it nightly); it is "
        "activated, the previous one kept for rollback.", _train_triage,
    )  # fmt: skip
    p.add_argument("--force", action="store_true", help="train even when the training data has not changed")
    p = _command(
        sub, "triage-models", "list the triage model versions; roll back or activate one",
        "The triage model's versions with their held-out accuracy; roll back to the previous one or "
        "activate a given version.", _triage_models,
    )  # fmt: skip
    p.add_argument("--rollback", action="store_true", help="activate the version before the active one")
    p.add_argument("--activate", type=int, metavar="N", help="activate version N")
    _command(
        sub, "payload-key", "print a new key for encrypting Temporal payloads",
        "Print a fresh AES-256 key (base64) for HOTLINE_PAYLOAD_KEYS; add it under a new key id and set "
        "HOTLINE_PAYLOAD_KEY_ID to rotate: older payloads stay readable with their own key.", _payload_key,
    )  # fmt: skip
    p = _command(
        sub, "token", "mint a bearer token for local use",
        "Print a JWT signed with HOTLINE_TOKEN_SECRET, for `Authorization: Bearer <token>`.", _token,
    )  # fmt: skip
    p.add_argument("--role", required=True, choices=[r.value for r in Role if r != Role.citizen], help="the role")
    p.add_argument("--unit", help="unit id, for --role unit (see GET /units)")
    p.add_argument("--user", help="who the token is for (default: the role)")
    p.add_argument(
        "--hours", type=_hours, help="lifetime in hours, fractions allowed (default: HOTLINE_TOKEN_TTL_HOURS, 12)"
    )
    p = _command(
        sub, "user", "workbench accounts",
        "Manage the accounts of the web workbench (the JWT API for machine clients is separate).", None,
    )  # fmt: skip
    user_sub = p.add_subparsers(dest="user_command", required=True, metavar="ACTION", help="what to do")
    p = _command(
        user_sub, "add", "add a workbench account (the first administrator: --role center)",
        "Create a sign-in account with a role (and a unit for --role unit); the password is prompted twice "
        "or read from the first line of stdin; stored as an argon2 hash.", _user_add,
    )  # fmt: skip
    p.add_argument("--user", required=True, help="the sign-in name")
    p.add_argument("--role", required=True, choices=[r.value for r in Role if r != Role.citizen], help="the role")
    p.add_argument("--unit", help="unit id, for --role unit")
    p.add_argument("--name", help="the name shown in the pages")
    p.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    p = _command(
        sub, "bench-web", "time the workbench pages with 10,000 open tickets in a scratch read model",
        "Fill a scratch read model with open tickets and time the first render of every workbench page and "
        "the unit list; print p50 and p99 against the targets, and the load average.", _bench_web,
    )  # fmt: skip
    p.add_argument("--tickets", type=_count, default=10_000, help="open tickets in the scratch read model")
    p.add_argument("--rounds", type=_count, default=10, help="timings per page (twice as many for the unit list)")
    args = parser.parse_args(argv)
    settings = get_settings()
    configure_logging(json=settings.log_json, level=settings.log_level, secrets=settings.secret_values())
    return args.func(args) or 0


if __name__ == "__main__":
    sys.exit(main())
