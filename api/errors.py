"""Every refusal becomes a 4xx that says why; nothing a caller sends produces a 500."""

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from domain.errors import Refusal, RefusalKind

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


def install(app: FastAPI) -> None:
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
            status_code=503, headers={"Retry-After": "5"},
        )  # fmt: skip

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
