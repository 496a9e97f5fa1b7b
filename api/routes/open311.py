"""Open311 GeoReport v2 under /open311/v2/ (api/open311.py has the rules): services and their
definitions, posting and reading requests, tokens; `.json` or `.xml` as the spec says, errors in
its format ([{"code", "description"}] / <errors><error>)."""

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

from anyio import to_thread
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from sqlmodel import col, select

from api import intake
from api import open311 as o3
from api.deps import DirectoryDep, SessionDep, SettingsDep
from api.errors import ApiError
from domain.deadlines.calendar import CHINA_TZ
from domain.dispatch import resolve_address
from domain.errors import Refusal
from domain.ticket import Actor, Address, Citizen, TicketState
from domain.vocabulary import Channel, Role, Stage
from readmodel import db
from readmodel.tables import IntakeRequestRow, TicketRow, utcnow

PREFIX = "/open311/v2"
router = APIRouter(prefix=PREFIX, tags=["open311"])

_ROOTS = {"services": ("services", "service"), "requests": ("service_requests", "request")}


def _answer(docs: Any, fmt: str, kind: str, status: int = 200) -> Response:
    if fmt == "json":
        return JSONResponse(docs, status_code=status)
    if kind == "definition":
        body = o3.to_xml("service_definition", None, docs)
    else:
        root, item = _ROOTS[kind]
        body = o3.to_xml(root, item, docs)
    return Response(body, status_code=status, media_type="text/xml; charset=utf-8")


def install(app: FastAPI) -> None:
    @app.exception_handler(o3.Open311Error)
    async def _open311_error(request: Request, exc: o3.Open311Error):
        errors = [{"code": exc.code, "description": exc.description}]
        if request.url.path.endswith(".xml"):
            return Response(o3.errors_xml(errors), status_code=exc.code, media_type="text/xml; charset=utf-8")
        return JSONResponse(errors, status_code=exc.code)


@router.get("/services.{fmt}", summary="Open311: the services (categories of the responsibility list)")
async def services(fmt: str, directory: DirectoryDep) -> Response:
    _, fmt = o3.split_format(f"services.{fmt}")
    return _answer(o3.services(directory), fmt, "services")


@router.get("/services/{name}", summary="Open311: one service's definition (its attributes)")
async def service_definition(name: str, directory: DirectoryDep) -> Response:
    code, fmt = o3.split_format(name)
    return _answer(o3.definition(code, directory), fmt, "definition")


def _client_of(api_key: str, keys: dict[str, str]) -> str:
    if not api_key:
        raise o3.Open311Error(403, "api_key is required to post a service request")
    if api_key not in keys:
        raise o3.Open311Error(403, "api_key is not valid")
    return keys[api_key]


@router.post("/requests.{fmt}", summary="Open311: post a service request (taken in as a ticket)")
async def post_request(
    fmt: str, request: Request, settings: SettingsDep, directory: DirectoryDep, session: SessionDep
) -> Response:
    _, fmt = o3.split_format(f"requests.{fmt}")
    form = parse_qs((await request.body()).decode("utf-8", "replace"), keep_blank_values=True)
    for k, v in request.query_params.multi_items():
        form.setdefault(k, [v])
    client = _client_of(o3._one(form, "api_key"), settings.open311_keys)
    posted = o3.parse_post(form)
    if posted.service_code not in directory.categories:
        raise o3.Open311Error(400, f"service_code {posted.service_code!r} is not a service; see services.json")
    district, street = o3.locate(posted, directory)
    try:
        body = intake.IntakeBody(
            channel=Channel.open311, kind=posted.kind,
            citizen=Citizen(name=posted.name, phone=posted.phone, callback_opt_out=posted.phone is None),
            description=posted.description, category=posted.service_code,
            address=intake.IntakeAddress.model_validate(
                resolve_address(Address(district=district, street=street, text=posted.address_text), directory).model_dump()
            ),
        )  # fmt: skip
    except ValidationError as e:
        problems = "; ".join(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in e.errors())
        raise o3.Open311Error(400, problems) from None
    key = o3.intake_key(client, posted, request.headers.get("idempotency-key"), f"{utcnow().astimezone(CHINA_TZ):%F}")
    actor = Actor(role=Role.intake, user=f"open311:{client}")

    async def temporal():
        try:
            return await request.app.state.temporal.get()
        except ApiError as e:  # not reachable: recorded, and answered with a token (deferred intake)
            raise ConnectionError(e.reason) from e

    try:
        created, new = await intake.take_in(temporal, settings, session, body, key, actor.label)
    except Refusal as e:
        raise o3.Open311Error(400, e.reason) from None
    except ApiError as e:
        raise o3.Open311Error(e.status, e.reason) from None
    request.app.state.metrics.intake(Channel.open311.value, new, created.merged, created.started)
    if created.started:
        notice = "joined to an open report of the same problem" if created.merged else "received"
        return _answer([{"service_request_id": created.number, "service_notice": notice, "account_id": None}],
                       fmt, "requests", 200 if created.merged else 201)  # fmt: skip
    notice = "recorded; the request number follows shortly: ask tokens/{token}"
    return _answer([{"token": key, "service_notice": notice}], fmt, "requests", 202)


def _rows(url: str, ids: list[str] | None, codes: list[str] | None, start: datetime, end: datetime,
          statuses: set[str] | None, limit: int) -> list[TicketRow]:  # fmt: skip
    query = select(TicketRow).where(TicketRow.channel == Channel.open311.value)
    if ids is not None:
        query = query.where(col(TicketRow.number).in_(ids))
    else:
        query = query.where(col(TicketRow.received_at) >= start, col(TicketRow.received_at) <= end)
        if codes:
            query = query.where(col(TicketRow.category).in_(codes))
        if statuses == {"open"}:
            query = query.where(TicketRow.stage != Stage.closed.value)
        elif statuses == {"closed"}:
            query = query.where(TicketRow.stage == Stage.closed.value)
    query = query.order_by(col(TicketRow.received_at).desc(), col(TicketRow.number).desc()).limit(limit)
    with db.session(url) as session:
        return list(session.exec(query).all())


def _views(rows: list[TicketRow], directory) -> list[dict[str, Any]]:
    return [
        o3.request_view(
            TicketState.model_validate_json(r.state_json), db.aware(r.updated_at), db.aware(r.deadline), directory
        )
        for r in rows
    ]


def _split(value: str | None) -> list[str] | None:
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


@router.get("/requests.{fmt}", summary="Open311: service requests (those posted through Open311)")
async def list_requests(
    fmt: str,
    settings: SettingsDep,
    directory: DirectoryDep,
    service_request_id: str | None = None,
    service_code: str | None = None,
    start_date: str | None = None,
    end_date: str | None = None,
    status: str | None = None,
    page_size: str | None = None,
) -> Response:
    _, fmt = o3.split_format(f"requests.{fmt}")
    end = o3.parse_date(end_date, "end_date") if end_date else utcnow()
    start = o3.parse_date(start_date, "start_date") if start_date else end - o3.MAX_SPAN
    if not end_date and start_date:
        end = start + o3.MAX_SPAN
    if end - start > o3.MAX_SPAN:
        raise o3.Open311Error(400, "start_date and end_date may not span more than 90 days")
    statuses = set(_split(status) or [])
    if statuses - {"open", "closed"}:
        raise o3.Open311Error(400, f"status {status!r}: open, closed, or both comma-separated")
    try:
        limit = min(int(page_size or 200), 1000)
    except ValueError:
        raise o3.Open311Error(400, f"page_size {page_size!r} is not a number") from None
    rows = await to_thread.run_sync(
        _rows, settings.database_url, _split(service_request_id), _split(service_code),
        start, end + timedelta(seconds=1), statuses or None, limit,
    )  # fmt: skip
    return _answer(_views(rows, directory), fmt, "requests")


@router.get("/requests/{name}", summary="Open311: one service request")
async def get_request(name: str, settings: SettingsDep, directory: DirectoryDep) -> Response:
    number, fmt = o3.split_format(name)
    rows = await to_thread.run_sync(_rows, settings.database_url, [number], None, utcnow(), utcnow(), None, 1)
    if not rows:
        raise o3.Open311Error(404, f"no service request {number!r} (only requests posted through Open311 are here)")
    return _answer(_views(rows, directory), fmt, "requests")


def _token(url: str, token: str) -> IntakeRequestRow | None:
    with db.session(url) as session:
        return session.exec(select(IntakeRequestRow).where(IntakeRequestRow.idempotency_key == token)).first()


@router.get("/tokens/{name}", summary="Open311: the service request id of a token")
async def token(name: str, settings: SettingsDep) -> Response:
    tok, fmt = o3.split_format(name)
    row = await to_thread.run_sync(_token, settings.database_url, tok) if tok.startswith("open311-") else None
    if row is None:
        raise o3.Open311Error(404, f"no token {tok!r}")
    number = (row.merged_into or row.number) if row.started_at else None
    return _answer([{"service_request_id": number, "token": tok}], fmt, "requests")
