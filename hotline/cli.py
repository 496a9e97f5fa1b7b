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
    hotline bench-triage [FILE]      intake triage accuracy and latency on a held-out set
    hotline import-history FILE.csv  load a center's past tickets for the triage model to learn from
    hotline train-triage             train a new triage model version now (the schedule does it nightly)
    hotline triage-models [--rollback | --activate N]   the versions, with their held-out accuracy"""

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
    print(f"triage training schedule: {'created' if scheduled else 'present'} ({settings.triage_training_cron}, Beijing time)")
    return 0


def _bench(args) -> int:
    from hotline.bench import main as bench

    bench(tickets=args.tickets, concurrency=args.concurrency)
    return 0


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
        print(f"{'*' if row.active else ' '} v{row.version:<4} {d['trained_at'][:19]}  by {row.trained_by:<10} held-out {d['held_out']}")
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
    p.add_argument("--no-train", action="store_true", help="do not train the intake triage model")
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
    p = sub.add_parser("bench-triage", help="intake triage accuracy and latency on a held-out set")
    p.add_argument("file", nargs="?", help="the set (default: tests/data/triage_eval.toml)")
    p.add_argument("--live", action="store_true", help="the configured read model and its active model")
    p.add_argument("--quiet", action="store_true", help="do not list the requests whose path was wrong")
    p.set_defaults(func=_bench_triage)
    p = sub.add_parser("import-history", help="load a center's past tickets (CSV) for the triage model")
    p.add_argument("file", help="CSV with a header; see README (Intake that understands the citizen)")
    p.add_argument("--train", action="store_true", help="train a new model version afterwards")
    p.set_defaults(func=_import_history)
    p = sub.add_parser("train-triage", help="train a new triage model version now")
    p.add_argument("--force", action="store_true", help="train even when the training data has not changed")
    p.set_defaults(func=_train_triage)
    p = sub.add_parser("triage-models", help="list the triage model versions; roll back or activate one")
    p.add_argument("--rollback", action="store_true", help="activate the version before the active one")
    p.add_argument("--activate", type=int, metavar="N", help="activate version N")
    p.set_defaults(func=_triage_models)
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
