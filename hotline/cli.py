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
hotline chaos [--tickets 200]    SIGKILL the parts at random while tickets run; what survived, printed
hotline demo [--speed 60]        a working day of citizens' requests played into the running product"""

import argparse
import asyncio
import sys
from datetime import UTC

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
    print(mint(settings.token_secret, role, args.user or role.value, args.unit, hours=hours))
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
        client = await connect(settings)
        return await register_search_attributes(client, settings.temporal_namespace)

    added = asyncio.run(run())
    print(f"search attributes added: {', '.join(added) or 'none (all present)'}")
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


def _bench(args) -> int:
    from hotline.bench import main as bench

    bench(tickets=args.tickets, concurrency=args.concurrency)
    return 0


def _chaos(args) -> int:
    from hotline.chaos import main as chaos

    return chaos(tickets=args.tickets, duration=args.duration, concurrency=args.concurrency, seed=args.seed)


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
    return demo(args.url or settings.api_url, simulator, settings.token_secret, args.speed, args.tickets,
                args.settle, args.seed)  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hotline", description="12345 hotline ticket orchestration")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("up", help="run the embedded stack")
    p.add_argument("--no-simulator", action="store_true", help="do not start the department simulator")
    p.set_defaults(func=_up)
    sub.add_parser("worker", help="run the Temporal worker").set_defaults(func=_worker)
    sub.add_parser("api", help="run the API").set_defaults(func=_api)
    sub.add_parser("migrate", help="migrate the read model").set_defaults(func=_migrate)
    p = sub.add_parser("seed", help="load the city's units (units.toml) into the read model")
    p.add_argument(
        "--origin", help="replace scheme://host:port of every unit endpoint (default: HOTLINE_DEPARTMENT_ORIGIN)"
    )
    p.set_defaults(func=_seed)
    sub.add_parser("simulator", help="run the department simulator").set_defaults(func=_simulator)
    sub.add_parser("department-api", help="print the department-system API (OpenAPI JSON)").set_defaults(
        func=_department_api
    )
    sub.add_parser("setup-temporal", help="register search attributes on a cluster").set_defaults(func=_setup_temporal)
    p = sub.add_parser("bench", help="measure intake and lifecycle throughput on this machine")
    p.add_argument("--tickets", type=int, default=200)
    p.add_argument("--concurrency", type=int, default=20)
    p.set_defaults(func=_bench)
    p = sub.add_parser("chaos", help="SIGKILL the parts at random while tickets run; print what survived")
    p.add_argument("--tickets", type=int, default=200)
    p.add_argument("--duration", type=float, default=900, help="seconds at most (kills in the first 60%%)")
    p.add_argument("--concurrency", type=int, default=10)
    p.add_argument("--seed", type=int, default=None)
    p.set_defaults(func=_chaos)
    p = sub.add_parser(
        "demo", help="play a working day of citizens' requests into the running product (`make up` first)",
        description="Plays hotline/demo_day.toml into the running product over HTTP: the desk takes each request "
        "in at its time of day, the demo acts as the street offices, the center and some citizens, and the "
        "department simulator answers for its departments. Prints a summary.",
    )  # fmt: skip
    p.add_argument("--speed", type=_speed, default=120.0,
                   help="how much faster than real time the day runs (default 120: a 10-hour day in about 5 minutes; "
                   "60: an hour of the day per real minute)")  # fmt: skip
    p.add_argument("--tickets", type=_count, help="how many requests (default: the whole day; more repeats the day)")
    p.add_argument("--url", help="the product's API (default: HOTLINE_API_HOST / HOTLINE_API_PORT)")
    p.add_argument("--simulator-url", help="the department simulator (default: HOTLINE_SIMULATOR_HOST / _PORT)")
    p.add_argument("--no-simulator", action="store_true", help="no simulator runs: the demo handles every ticket")
    p.add_argument("--settle", type=float, default=60.0,
                   help="seconds to wait at the end for the simulated departments to finish (default 60)")  # fmt: skip
    p.add_argument("--seed", type=int, help="repeatable choices (delays, satisfaction)")
    p.set_defaults(func=_demo)
    p = sub.add_parser("calendar", help="the center's holiday calendar")
    cal = p.add_subparsers(dest="calendar_command", required=True)
    p = cal.add_parser("apply", help="apply the calendar file to open tickets whose deadlines were estimated")
    p.add_argument("--file", help="the center's calendar file (default: HOTLINE_CALENDAR_FILE or the shipped one)")
    p.add_argument("--note", default="", help="e.g. the State Council notice the schedule comes from")
    p.add_argument("--user", default="center", help="who applies it (for the timeline)")
    p.set_defaults(func=_calendar_apply)
    p = sub.add_parser("token", help="mint a bearer token for local use")
    p.add_argument("--role", required=True, choices=[r.value for r in Role if r != Role.citizen])
    p.add_argument("--unit", help="unit id, for --role unit")
    p.add_argument("--user", help="who the token is for (default: the role)")
    p.add_argument(
        "--hours", type=_hours, help="lifetime in hours, fractions allowed (default: HOTLINE_TOKEN_TTL_HOURS, 12)"
    )
    p.set_defaults(func=_token)
    args = parser.parse_args(argv)
    settings = get_settings()
    configure_logging(json=settings.log_json, level=settings.log_level)
    return args.func(args) or 0


if __name__ == "__main__":
    sys.exit(main())
