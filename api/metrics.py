"""Prometheus metrics of the API, at GET /metrics: request rates, latency and errors by route,
intakes by channel and result, and business gauges read from the read model on each scrape (open
tickets by stage and tier, overdue, warned, tickets by intake path). The worker's Temporal SDK
metrics are on its own port (core/temporal.py metrics_runtime)."""

import time
from collections.abc import Iterable

from fastapi import FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlmodel import col, func, select

from core.logging import get_logger
from readmodel import db
from readmodel.tables import TicketRow

log = get_logger("metrics")

OPEN = ("intake", "follow_up", "dispatch", "handling", "rehandle", "callback")


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "hotline_http_requests", "HTTP requests answered, by route template, method and status",
            ["method", "route", "status"], registry=self.registry,
        )  # fmt: skip
        self.latency = Histogram(
            "hotline_http_request_duration_seconds", "Time to answer an HTTP request, by route template",
            ["method", "route"], registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
        )  # fmt: skip
        self.errors = Counter(
            "hotline_http_errors", "Answers with a 5xx status or an unhandled exception, by route",
            ["route", "status"], registry=self.registry,
        )  # fmt: skip
        self.intakes = Counter(
            "hotline_intakes", "Requests taken in, by channel and result (created, merged, deferred, replayed)",
            ["channel", "result"], registry=self.registry,
        )  # fmt: skip

    def intake(self, channel: str, created: bool, merged: bool, started: bool) -> None:
        result = "replayed" if not created else "merged" if merged else "created" if started else "deferred"
        self.intakes.labels(channel=channel, result=result).inc()


class ReadModelCollector(Collector):
    """Business gauges, counted from the read model when Prometheus scrapes (grouped COUNTs)."""

    def __init__(self, url: str):
        self.url = url

    def collect(self) -> Iterable[Metric]:
        open_ = GaugeMetricFamily("hotline_open_tickets", "Open tickets, by stage and tier", labels=["stage", "tier"])
        overdue = GaugeMetricFamily("hotline_overdue_tickets", "Open tickets past their deadline (超期)")
        warned = GaugeMetricFamily("hotline_warned_tickets", "Open tickets warned of their deadline (预警)")
        paths = GaugeMetricFamily("hotline_tickets_by_intake_path", "Tickets by intake path taken", labels=["path"])
        try:
            with db.session(self.url) as session:
                is_open = col(TicketRow.stage).in_(OPEN)
                for stage, tier, n in session.exec(
                    select(TicketRow.stage, TicketRow.tier, func.count())
                    .where(is_open)
                    .group_by(TicketRow.stage, TicketRow.tier)
                ):
                    open_.add_metric([stage, tier], n)
                overdue.add_metric([], session.exec(select(func.count()).where(is_open, TicketRow.overdue)).one())
                warned.add_metric([], session.exec(select(func.count()).where(is_open, TicketRow.warned)).one())
                for path, n in session.exec(
                    select(TicketRow.intake_path, func.count()).group_by(TicketRow.intake_path)
                ):
                    paths.add_metric([path or "unknown"], n)
        except Exception as e:  # the database is away: the scrape still answers the API's own metrics
            log.warning("read-model gauges unavailable", error=str(e))
            return
        yield from (open_, overdue, warned, paths)


def install(app: FastAPI, database_url: str) -> Metrics:
    metrics = Metrics()
    metrics.registry.register(ReadModelCollector(database_url))
    app.state.metrics = metrics

    @app.middleware("http")
    async def _measure(request: Request, call_next):
        started = time.perf_counter()
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
            return response
        finally:
            route = getattr(request.scope.get("route"), "path", None) or "unmatched"
            if route != "/metrics":
                metrics.requests.labels(request.method, route, str(status)).inc()
                metrics.latency.labels(request.method, route).observe(time.perf_counter() - started)
                if status >= 500:
                    metrics.errors.labels(route, str(status)).inc()

    @app.get("/metrics", include_in_schema=False)
    async def _metrics() -> Response:
        from anyio import to_thread

        body = await to_thread.run_sync(generate_latest, metrics.registry)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return metrics
