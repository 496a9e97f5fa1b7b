"""Dependencies of the API, as `Annotated` aliases in one place."""

import asyncio
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from temporalio.client import Client

from api import auth
from api.errors import ApiError, unavailable
from core.settings import Settings
from core.temporal import connect
from domain.directory import Directory
from catalog.cities import load_directory
from domain.ticket import Actor
from domain.vocabulary import Role
from web.session import actor_from_cookie


class TemporalConnection:
    """Connects on first use, so the API starts (and answers 503 with a reason) while Temporal
    is still coming up."""

    def __init__(self, settings: Settings, client: Client | None = None):
        self.settings = settings
        self._client = client
        self._lock = asyncio.Lock()

    async def get(self) -> Client:
        if self._client is None:
            async with self._lock:
                if self._client is None:
                    try:
                        self._client = await connect(self.settings)
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


def _directory(settings: Annotated[Settings, Depends(_settings)]) -> Directory:
    return load_directory(settings.city)


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
        raise ApiError(401, "missing bearer token (Authorization: Bearer <token>; mint one with `hotline token`)", challenge)
    try:
        return auth.verify(settings.token_secret, creds.credentials)
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
ClientDep = Annotated[Client, Depends(_client)]
MaybeClientDep = Annotated[Client | None, Depends(_client_if_reachable)]
DirectoryDep = Annotated[Directory, Depends(_directory)]
ActorDep = Annotated[Actor, Depends(_actor)]
IntakeActor = Annotated[Actor, Depends(require(Role.intake, Role.center, what="take in tickets"))]
UnitActor = Annotated[Actor, Depends(require(Role.unit, what="act as a handling unit"))]
CallbackActor = Annotated[
    Actor, Depends(require(Role.center, Role.intake, Role.supervisor, what="record callback answers"))
]
