"""The FastAPI application.

    uvicorn --factory api.main:build        (or `hotline api`)"""

import asyncio
from contextlib import asynccontextmanager

from fastapi import FastAPI
from temporalio.client import Client

from api import errors, intake
from api.deps import TemporalConnection
from api.routes import (
    callback,
    deadlines,
    delivery,
    emergency,
    handling,
    knowledge,
    ownership,
    public,
    reference,
    reports,
    tickets,
)  # fmt: skip
from api.routes import (
    intake as intake_routes,
)
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


def create_app(settings: Settings | None = None, client: Client | None = None, reconcile: bool = True) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        db.migrate(settings.database_url)
        task = asyncio.create_task(intake.reconcile_forever(app.state.temporal, settings)) if reconcile else None
        yield
        if task:
            task.cancel()

    # /docs is served by web/ from the product's own Swagger UI files (no CDN: it works offline).
    app = FastAPI(title="12345 Hotline", version="0.1.0", description=DESCRIPTION, lifespan=lifespan, docs_url=None)
    app.state.settings = settings
    app.state.temporal = TemporalConnection(settings, client)
    errors.install(app)
    for module in (
        intake_routes, tickets, emergency, handling, deadlines, ownership, callback, reports, knowledge, public, delivery, reference,
    ):  # fmt: skip
        app.include_router(module.router)
    app.include_router(ownership.rules_router)
    install_workbench(app)  # the workbench pages at / (web/)
    return app


def build() -> FastAPI:
    """The app with settings from the environment and logging configured: uvicorn's factory."""
    settings = get_settings()
    configure_logging(json=settings.log_json, level=settings.log_level)
    return create_app(settings)
