"""Every refusal becomes a 4xx that says why; nothing a caller sends produces a 500, and an outage
of Temporal or the database is a 503 with Retry-After. What still fails unexpectedly answers a
short 500 naming the request id, and is logged once under that id (traceback, no locals)."""

import re
import uuid

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from temporalio.client import WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.service import RPCError, RPCStatusCode

from core.logging import get_logger
from domain.errors import Refusal, RefusalKind

log = get_logger("api")

# The one map from a refusal to its HTTP status: for refusals raised in the API and for those a
# workflow's update validator sends back (as an ApplicationError typed with the kind).
REFUSAL_STATUS = {RefusalKind.forbidden: 403, RefusalKind.conflict: 409, RefusalKind.invalid: 422}


class ApiError(Exception):
    def __init__(self, status: int, reason: str, headers: dict[str, str] | None = None):
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.headers = headers


class TicketCallError(ApiError):
    """A call to one ticket's workflow that found no workflow (404) or no Temporal (503): the
    handler asks the intake ledger whether the ticket is only being started."""

    def __init__(self, number: str, status: int, reason: str, headers: dict[str, str] | None = None):
        super().__init__(status, reason, headers)
        self.number = number


def not_found(reason: str) -> ApiError:
    return ApiError(404, reason)


def unavailable(reason: str) -> ApiError:
    return ApiError(503, reason, {"Retry-After": "5"})


RETRY_AFTER = {"Retry-After": "5"}
REQUEST_ID = "X-Request-ID"
_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class ErrorBody(BaseModel):
    """The body of every 4xx and 5xx answer."""

    detail: str = Field(description="why, in words")
    kind: str | None = Field(default=None, description="a domain refusal's kind: forbidden, conflict, invalid")
    request_id: str | None = Field(default=None, description="quote it to the operators (500)")


class ValidationProblem(BaseModel):
    loc: list[str]
    msg: str
    type: str


class ValidationErrorBody(BaseModel):
    """A 422: every problem in one sentence (`detail`) and one by one (`errors`)."""

    detail: str
    errors: list[ValidationProblem] = []


class RequestIds:
    """Pure ASGI middleware: every request gets an id (the caller's X-Request-ID if it is a sane
    one), bound to every log line of the request and sent back in X-Request-ID. An exception no
    handler took is logged once here and answered with a short 500, without stopping the server
    or holding up other requests."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if _SANE_REQUEST_ID.match(given) else uuid.uuid4().hex
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                await self.app(scope, receive, send_with_id)
            except Exception:
                log.exception("unexpected error", method=scope.get("method"), path=scope.get("path"))
                if started:
                    raise
                body = ErrorBody(detail="internal error; quote the request id to the operators", request_id=request_id)
                response = JSONResponse(body.model_dump(exclude_none=True), status_code=500)
                await response(scope, receive, send_with_id)


def install(app: FastAPI) -> None:
    app.add_middleware(RequestIds)

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError):
        number = exc.number if isinstance(exc, TicketCallError) else request.path_params.get("number")
        if number and exc.status in (404, 503):
            exc = await _being_started(request, exc, number)
        return JSONResponse({"detail": exc.reason}, status_code=exc.status, headers=exc.headers)

    @app.exception_handler(Refusal)
    async def _refusal(_: Request, exc: Refusal):
        return JSONResponse({"detail": exc.reason, "kind": exc.kind.value}, status_code=REFUSAL_STATUS[exc.kind])

    @app.exception_handler(PoolTimeout)
    @app.exception_handler(OperationalError)
    async def _database_busy(_: Request, exc: Exception):
        # The read model is locked or unreachable: nothing was taken, the caller may retry (an
        # intake with the same Idempotency-Key stays exactly once).
        return JSONResponse(
            {"detail": f"the database is busy or unreachable, retry shortly ({type(exc).__name__})"},
            status_code=503, headers=RETRY_AFTER,
        )  # fmt: skip

    @app.exception_handler(WorkflowUpdateRPCTimeoutOrCancelledError)
    async def _update_timed_out(_: Request, exc: Exception):
        # Temporal took the update but no answer came back in time (server or worker slow or down).
        return JSONResponse(
            {"detail": "Temporal did not answer in time; the action may or may not have been taken, retry shortly"},
            status_code=503, headers=RETRY_AFTER,
        )  # fmt: skip

    @app.exception_handler(RPCError)
    async def _temporal_error(_: Request, exc: RPCError):
        log.warning("temporal call failed", status=exc.status.name if exc.status else None)
        if exc.status == RPCStatusCode.INVALID_ARGUMENT:
            return JSONResponse({"detail": "Temporal refused the request as invalid"}, status_code=422)
        return JSONResponse(
            {"detail": "Temporal is unavailable or busy, retry shortly"}, status_code=503, headers=RETRY_AFTER
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, exc: StarletteHTTPException):
        if exc.status_code == 400:  # a body that is not UTF-8 JSON at all: invalid input like any other
            return JSONResponse({"detail": f"the body could not be read: {exc.detail}", "errors": []}, status_code=422)
        return JSONResponse({"detail": str(exc.detail)}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError):
        problems = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
            problems.append(f"{where}: {err.get('msg')}" if where else err.get("msg"))
        errors = [
            {"loc": [str(p) for p in e.get("loc", ())], "msg": e.get("msg"), "type": e.get("type")}
            for e in exc.errors()
        ]
        return JSONResponse({"detail": "; ".join(problems), "errors": errors}, status_code=422)


async def _being_started(request: Request, exc: ApiError, number: str) -> ApiError:
    """An action on a ticket taken in while Temporal was down (202) and not started yet: 503
    "being started" with Retry-After, not "no ticket"."""
    from anyio import to_thread

    from api.intake import being_started, being_started_error
    from readmodel import db

    def look() -> bool:
        with db.session(request.app.state.settings.database_url) as session:
            return being_started(session, number) is not None

    try:
        pending = await to_thread.run_sync(look)
    except Exception:  # noqa: BLE001 — the database is away too: the original answer stands
        return exc
    return being_started_error(number) if pending else exc
