"""The FastAPI application.

uvicorn --factory api.main:build        (or `hotline api`)"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from opentelemetry.sdk.trace import TracerProvider
from temporalio.client import Client

from api import errors, metrics, openapi
from api.deps import TemporalConnection
from api.hygiene import clean_input
from api.routes import (
    assessment,
    calendar,
    callback,
    codec,
    deadlines,
    delivery,
    emergency,
    handling,
    knowledge,
    open311,
    ownership,
    public,
    reference,
    reports,
    tickets,
)  # fmt: skip
from api.routes import (
    intake as intake_routes,
)
from core import tracing
from core.logging import configure_logging
from core.settings import Settings, get_settings
from readmodel import db
from web.app import install as install_workbench

DESCRIPTION = """
Ticket orchestration for a 12345 citizen service hotline. Every ticket is one durable Temporal
workflow: intake → first-responsible dispatch + dual dispatch → handling under deadlines →
escalation street → district → city → callback → close.

Authenticate with `Authorization: Bearer <token>`; mint a local token with
`hotline token --role intake` (roles: intake, unit --unit <id>, supervisor, center, leader).
Citizens use `/public/...` without a token: the ticket number and the phone it was filed with.
"""


def create_app(
    settings: Settings | None = None, client: Client | None = None, tracer_provider: TracerProvider | None = None
) -> FastAPI:
    """The API holds no background loop: intakes left unstarted by a crash are finished by the
    reconciler in the worker process (worker.py), once per worker rather than per API replica.
    `tracer_provider`: where traces go (default: the OTLP collector when HOTLINE_OTLP_ENDPOINT is set,
    else no tracing)."""
    settings = settings or get_settings()
    tracer_provider = tracer_provider or tracing.provider(settings, "api")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db.migrate(settings.database_url)
        yield

    # /docs is served by web/ from the product's own Swagger UI files (no CDN: it works offline).
    app = FastAPI(
        title="12345 Hotline", version="0.1.0", description=DESCRIPTION, lifespan=lifespan, docs_url=None,
        dependencies=[Depends(clean_input)],
    )  # fmt: skip
    app.state.settings = settings
    app.state.temporal = TemporalConnection(settings, client, tracer_provider)
    errors.install(app)
    metrics.install(app, settings.database_url)
    tracing.instrument_api(app, tracer_provider)
    open311.install(app)
    openapi.install(app)
    for module in (
        intake_routes, tickets, emergency, handling, deadlines, ownership, callback, reports, knowledge, public,
        delivery, reference, calendar, codec,
    ):  # fmt: skip
        app.include_router(module.router)
    app.include_router(ownership.rules_router)
    app.include_router(assessment.router)
    app.include_router(open311.router)
    install_workbench(app)  # the workbench pages at / (web/)
    return app


def build() -> FastAPI:
    """The app with settings from the environment and logging configured: uvicorn's factory."""
    settings = get_settings()
    configure_logging(json=settings.log_json, level=settings.log_level, secrets=settings.secret_values())
    return create_app(settings)
