"""`hotline`: the product's command line.

    hotline up                       the embedded stack (Temporal dev server, worker, API, simulator)
    hotline worker | api             one part on its own (e.g. against a real cluster)
    hotline simulator                the department simulator on its own
    hotline token --role unit --unit qd.shinan.badaxia
    hotline migrate                  bring the read model to the newest schema
    hotline seed                     load the city's units into the read model (idempotent)
    hotline department-api           print the department-system API contract (OpenAPI JSON)
    hotline setup-temporal           register the search attributes on a real cluster
    hotline bench                    throughput of this machine, printed
    hotline schedules                create (or update) the report and early-warning schedules
    hotline bench-assessment         the assessment's queries on a synthetic month (450,000 tickets)"""

import argparse
import asyncio
import sys

from core.logging import configure_logging
from core.settings import get_settings
from domain.vocabulary import Role


def _token(args) -> int:
    from api.auth import mint
    from catalog.cities import load_directory

    settings = get_settings()
    role = Role(args.role)
    if role == Role.unit:
        if not args.unit:
            print("a unit token needs --unit <unit id> (see GET /units)", file=sys.stderr)
            return 2
        if args.unit not in load_directory(settings.city).units:
            print(f"unknown unit {args.unit!r} in city {settings.city}", file=sys.stderr)
            return 2
    print(mint(settings.token_secret, role, args.user or role.value, args.unit, hours=args.hours))
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
    result = seed(settings.database_url, load_directory(settings.city), origin=args.origin or settings.department_origin)
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


def _bench(args) -> int:
    from hotline.bench import main as bench

    bench(tickets=args.tickets, concurrency=args.concurrency)
    return 0


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

    bench(tickets=args.tickets)
    return 0


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
    p.add_argument("--origin", help="replace scheme://host:port of every unit endpoint (default: HOTLINE_DEPARTMENT_ORIGIN)")
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
    sub.add_parser("schedules", help="create the report and early-warning schedules").set_defaults(func=_schedules)
    p = sub.add_parser("bench-assessment", help="time the assessment's queries on a synthetic month in PostgreSQL")
    p.add_argument("--tickets", type=int, default=450_000)
    p.set_defaults(func=_bench_assessment)
    p = sub.add_parser("token", help="mint a bearer token for local use")
    p.add_argument("--role", required=True, choices=[r.value for r in Role if r != Role.citizen])
    p.add_argument("--unit", help="unit id, for --role unit")
    p.add_argument("--user", help="who the token is for (default: the role)")
    p.add_argument("--hours", type=int, default=12)
    p.set_defaults(func=_token)
    args = parser.parse_args(argv)
    settings = get_settings()
    configure_logging(json=settings.log_json, level=settings.log_level)
    return args.func(args) or 0


if __name__ == "__main__":
    sys.exit(main())
