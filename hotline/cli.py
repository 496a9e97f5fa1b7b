"""`hotline`: the product's command line.

    hotline up                       the embedded stack (Temporal dev server, worker, API, simulator)
    hotline worker | api             one part on its own (e.g. against a real cluster)
    hotline simulator                the department simulator on its own
    hotline token --role unit --unit qd.shinan.badaxia
    hotline migrate                  bring the read model to the newest schema
    hotline seed                     load the city's units into the read model (idempotent)
    hotline department-api           print the department-system API contract (OpenAPI JSON)
    hotline setup-temporal           register the search attributes on a real cluster
    hotline setup                    migrate + seed + search attributes: a deployment's one-shot job
    hotline bench                    throughput of this machine, printed"""

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

    bench(tickets=args.tickets, concurrency=args.concurrency)
    return 0


class _Help(argparse.ArgumentDefaultsHelpFormatter):
    """Defaults shown after every option's help."""


def _command(sub, name: str, help: str, description: str, func) -> argparse.ArgumentParser:
    p = sub.add_parser(name, help=help, description=description, formatter_class=_Help)
    p.set_defaults(func=func)
    return p


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
        "print intake and end-to-end throughput and latency.", _bench,
    )  # fmt: skip
    p.add_argument("--tickets", type=int, default=200, help="how many tickets to take in")
    p.add_argument("--concurrency", type=int, default=20, help="how many intakes are in flight at once")
    p = _command(
        sub, "token", "mint a bearer token for local use",
        "Print a JWT signed with HOTLINE_TOKEN_SECRET, for `Authorization: Bearer <token>`.", _token,
    )  # fmt: skip
    p.add_argument("--role", required=True, choices=[r.value for r in Role if r != Role.citizen], help="the role")
    p.add_argument("--unit", help="unit id, for --role unit (see GET /units)")
    p.add_argument("--user", help="who the token is for (default: the role)")
    p.add_argument("--hours", type=int, default=12, help="hours until the token expires")
    args = parser.parse_args(argv)
    settings = get_settings()
    configure_logging(json=settings.log_json, level=settings.log_level)
    return args.func(args) or 0


if __name__ == "__main__":
    sys.exit(main())
