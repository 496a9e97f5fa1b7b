"""Dependencies of the API, as `Annotated` aliases in one place."""

import asyncio
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session
from temporalio.client import Client

from api import auth
from api.errors import ApiError, unavailable
from catalog.cities import load_directory
from core.settings import Settings
from core.temporal import connect
from domain.directory import Directory, Unit
from domain.ticket import Actor
from domain.vocabulary import (
    CENTER_ROLES,
    DESK_ROLES,
    INTAKE_ROLES,
    OVERSIGHT_ROLES,
    REVIEWING_ROLES,
    SUPERVISING_ROLES,
    Role,
    Stage,
)
from readmodel import db
from readmodel.tickets import stored_ticket
from web.session import actor_from_cookie


class TemporalConnection:
    """Connects on first use, so the API starts (and answers 503 with a reason) while Temporal
    is still coming up."""

    def __init__(self, settings: Settings, client: Client | None = None, tracer_provider=None):
        self.settings = settings
        self._client = client
        self._tracer_provider = tracer_provider
        self._lock = asyncio.Lock()

    async def get(self) -> Client:
        if self._client is None:
            async with self._lock:
                if self._client is None:
                    try:
                        self._client = await connect(self.settings, tracer_provider=self._tracer_provider)
                    except Exception as e:  # connection refused, DNS, TLS...
                        raise unavailable(f"Temporal at {self.settings.temporal_address} is not reachable: {e}") from e
        return self._client


def _settings(request: Request) -> Settings:
    return request.app.state.settings


async def _client(request: Request) -> Client:
    return await request.app.state.temporal.get()


async def _client_if_reachable(request: Request) -> Client | None:
    """For reads that can fall back to the read model while Temporal is away."""
    try:
        return await request.app.state.temporal.get()
    except ApiError:
        return None


def _session(settings: Annotated[Settings, Depends(_settings)]) -> Iterator[Session]:
    """The request's read-model session, on the app's database. FastAPI runs this (a plain
    generator) on its thread pool and closes the session after the route; routes hand the
    session to blocking work with `db.in_thread`, never query it on the event loop."""
    with db.session(settings.database_url) as session:
        yield session


def _directory(settings: Annotated[Settings, Depends(_settings)]) -> Directory:
    return load_directory(settings.city)


def known_unit(ref: str, directory: Directory) -> Unit:
    """A unit a request body names by id, name or alias; 422 when there is none."""
    unit = directory.find(ref)
    if unit is None:
        raise ApiError(422, f"unknown unit {ref!r}; see GET /units")
    return unit


def unit_id(ref: str, directory: Directory) -> str:
    return known_unit(ref, directory).id


_bearer = HTTPBearer(auto_error=False, description="JWT minted with `hotline token`")


def _actor(
    request: Request,
    settings: Annotated[Settings, Depends(_settings)],
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    challenge = {"WWW-Authenticate": "Bearer"}
    if creds is None:
        # A signed-in workbench page: its session cookie (and CSRF header on a change) instead.
        if (actor := actor_from_cookie(request, settings)) is not None:
            return actor
        raise ApiError(
            401, "missing bearer token (Authorization: Bearer <token>; mint one with `hotline token`)", challenge
        )
    try:
        return auth.verify(settings.token_secret.get_secret_value(), creds.credentials)
    except auth.TokenError as e:
        raise ApiError(401, str(e), challenge) from e


def require(*roles: Role, what: str):
    def dependency(actor: Annotated[Actor, Depends(_actor)]) -> Actor:
        if actor.role not in roles:
            allowed = ", ".join(r.value for r in roles)
            raise ApiError(403, f"role {actor.role.value} may not {what} (allowed: {allowed})")
        return actor

    return dependency


SettingsDep = Annotated[Settings, Depends(_settings)]
SessionDep = Annotated[Session, Depends(_session)]
ClientDep = Annotated[Client, Depends(_client)]
MaybeClientDep = Annotated[Client | None, Depends(_client_if_reachable)]
DirectoryDep = Annotated[Directory, Depends(_directory)]
ActorDep = Annotated[Actor, Depends(_actor)]
IntakeActor = Annotated[Actor, Depends(require(*INTAKE_ROLES, what="take in tickets"))]
UnitActor = Annotated[Actor, Depends(require(Role.unit, what="act as a handling unit"))]


async def _routed_unit(number: str, actor: UnitActor, session: SessionDep) -> Actor:
    """A unit acting on a ticket the read model still shows in intake: 409 "being dispatched" here,
    as the workflow would answer, without sending it an update. An update that reaches the workflow
    while its intake decision is pending is taken in the same workflow task as the decision, the
    pattern the SDK can record unreplayably (api/replay_repair.py), and a unit's client retrying
    on the 409 would keep sending it. Once the row shows the ticket dispatched, the task that took
    the decision has started, and an update waits for the next one.
    The read runs through `db.in_thread`, which closes the session after it: the action then waits
    on the worker holding no pooled connection (holding one, 15 waiting actions starved every other
    request of the database)."""
    row = await db.in_thread(stored_ticket, session, number)
    if row is not None and row.stage == Stage.intake.value:
        raise ApiError(409, f"ticket {number} is being dispatched; retry in a moment", {"Retry-After": "2"})
    return actor


RoutedUnitActor = Annotated[Actor, Depends(_routed_unit)]
CallbackActor = Annotated[Actor, Depends(require(*DESK_ROLES, what="record callback answers"))]
DeskActor = Annotated[Actor, Depends(require(*DESK_ROLES, what="preview triage"))]
SupervisingActor = Annotated[Actor, Depends(require(*SUPERVISING_ROLES, what="follow up emergency transfers"))]
EditorActor = Annotated[Actor, Depends(require(*SUPERVISING_ROLES, what="edit the knowledge base"))]
CenterActor = Annotated[Actor, Depends(require(*CENTER_ROLES, what="see the center's lists"))]
ReviewingActor = Annotated[Actor, Depends(require(*REVIEWING_ROLES, what="decide returns and extensions"))]
OversightActor = Annotated[Actor, Depends(require(*OVERSIGHT_ROLES, what="list responsibility rules"))]
