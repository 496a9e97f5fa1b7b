"""What the workbench serves: its pages (static files, signed-in ones behind the session), sign-in
and sign-out, the user administration, and the few read-only lists its pages need that the ticket
API has no single query for (a unit's work by tab ordered by deadline, the center's queues, the
supervisor's overview counts, the open tickets a request would merge with)."""

import functools
import itertools
from collections import Counter
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Literal

from anyio import to_thread
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse
from pydantic import BaseModel, Field
from sqlalchemy import DateTime, Integer, bindparam, cast, func, or_
from sqlalchemy import select as sa_select
from sqlmodel import col, select

from api.deps import ActorDep, DirectoryDep, SettingsDep, require
from api.errors import ApiError
from api.views import TicketListItem
from catalog.policies import load_pack
from domain.deadlines.calendar import CHINA_TZ
from domain.intake.merge import address_key
from domain.privacy import phone_hash
from domain.ticket import Actor, TicketState
from domain.vocabulary import Role, Stage
from readmodel import db
from readmodel.tables import TicketReturnRow, TicketRow, TicketUnitRow, UserRow
from web import accounts, session

STATIC = Path(__file__).parent / "static"
OPEN = [Stage.intake.value, Stage.follow_up.value, Stage.dispatch.value, Stage.handling.value,
        Stage.rehandle.value, Stage.callback.value]  # fmt: skip
IN_HAND = [Stage.dispatch.value, Stage.handling.value, Stage.rehandle.value]

HOME = {
    Role.intake.value: "/desk",
    Role.unit.value: "/unit",
    Role.center.value: "/center",
    Role.supervisor.value: "/dashboard",
    Role.leader.value: "/center#rulings",
}
# Which signed-in pages each role opens (the API checks every action again).
PAGES: dict[str, set[str]] = {
    "desk": {Role.intake.value, Role.center.value, Role.supervisor.value},
    "unit": {Role.unit.value},
    "ticket": {r.value for r in accounts.ROLES},
    "center": {Role.center.value, Role.supervisor.value, Role.leader.value},
    "dashboard": {r.value for r in accounts.ROLES if r != Role.unit},
    "users": {Role.center.value},
    "kb": {Role.center.value, Role.supervisor.value, Role.intake.value, Role.leader.value},
}

router = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/workbench/api", tags=["workbench"])

CenterAdmin = Annotated[Actor, Depends(require(Role.center, what="administer users"))]
CenterSide = Annotated[
    Actor, Depends(require(Role.center, Role.supervisor, Role.leader, Role.intake, what="see the center's queues"))
]


def _page(name: str) -> FileResponse:
    return FileResponse(STATIC / f"{name}.html", headers={"Cache-Control": "no-store"})


# -- pages ------------------------------------------------------------------------------------


@router.get("/")
def home(request: Request, settings: SettingsDep):
    current = session.signed_in(request, settings)
    if current is None:
        return RedirectResponse("/login", status_code=303)
    return RedirectResponse(HOME.get(current.user.role, "/dashboard"), status_code=303)


@router.get("/login")
def login_page(request: Request) -> Response:
    response = _page("login")
    session.pre_session_csrf(request, response)
    return response


@router.get("/citizen")
def citizen_page() -> Response:
    return _page("citizen")


def _signed_in_page(name: str):
    def serve(request: Request, settings: SettingsDep) -> Response:
        current = session.signed_in(request, settings)
        if current is None:
            return RedirectResponse(f"/login?next=/{name}", status_code=303)
        if current.user.role not in PAGES[name]:
            return RedirectResponse(HOME.get(current.user.role, "/"), status_code=303)
        return _page(name)

    serve.__name__ = f"page_{name}"
    return serve


for _name in PAGES:
    router.add_api_route(f"/{_name}", _signed_in_page(_name), methods=["GET"])


@router.get("/docs")
def docs() -> HTMLResponse:
    """Swagger UI from the product's own files: it works on a closed intranet."""
    return get_swagger_ui_html(
        openapi_url="/openapi.json", title="12345 Hotline — API",
        swagger_js_url="/static/vendor/swagger-ui/swagger-ui-bundle.js",
        swagger_css_url="/static/vendor/swagger-ui/swagger-ui.css",
        swagger_favicon_url="/static/favicon.svg",
    )  # fmt: skip


# -- sign-in ----------------------------------------------------------------------------------


class Credentials(BaseModel):
    username: str = Field(min_length=1, max_length=60)
    password: str = Field(min_length=1, max_length=200)


class Me(BaseModel):
    username: str
    display_name: str
    role: str
    unit: str | None
    unit_name: str | None
    home: str
    csrf: str
    expires_at: datetime


@api.post("/login", response_model=Me)
async def login(
    body: Credentials, request: Request, response: Response, settings: SettingsDep, directory: DirectoryDep
):
    session.check_pre_session_csrf(request, request.headers.get(session.CSRF_HEADER))
    try:
        user = await to_thread.run_sync(accounts.authenticate, settings.database_url, body.username, body.password)
    except accounts.LoginRefused as e:
        raise ApiError(401, e.reason) from e
    token, row = await to_thread.run_sync(accounts.open_session, settings.database_url, user)
    session.set_cookies(request, response, token, row.csrf)
    return _me(user, row.csrf, row.expires_at, directory)


def _me(user: UserRow, csrf: str, expires: datetime, directory) -> Me:
    unit = directory.units.get(user.unit) if user.unit else None
    return Me(
        username=user.username, display_name=user.display_name, role=user.role, unit=user.unit,
        unit_name=unit.name if unit else None, home=HOME.get(user.role, "/"), csrf=csrf,
        expires_at=db.aware(expires) or expires,
    )  # fmt: skip


@api.get("/me", response_model=Me)
async def me(request: Request, settings: SettingsDep, directory: DirectoryDep) -> Me:
    current = await to_thread.run_sync(session.signed_in, request, settings)
    if current is None:
        raise ApiError(401, "未登录")
    return _me(current.user, current.session.csrf, current.session.expires_at, directory)


@api.post("/logout", status_code=204)
async def logout(request: Request, settings: SettingsDep) -> Response:
    token = request.cookies.get(session.COOKIE)
    if token:
        await to_thread.run_sync(session.actor_from_cookie, request, settings)  # CSRF-checked like any change
        await to_thread.run_sync(accounts.close_session, settings.database_url, token)
    response = Response(status_code=204)
    session.clear_cookies(response)
    return response


# -- users ------------------------------------------------------------------------------------


class UserView(BaseModel):
    username: str
    display_name: str
    role: str
    unit: str | None
    active: bool
    locked: bool
    last_login_at: datetime | None

    @classmethod
    def of(cls, row: UserRow) -> "UserView":
        locked = db.aware(row.locked_until)
        return cls(
            username=row.username, display_name=row.display_name, role=row.role, unit=row.unit, active=row.active,
            locked=bool(locked and locked > datetime.now(UTC)), last_login_at=db.aware(row.last_login_at),
        )  # fmt: skip


class NewUser(BaseModel):
    username: str = Field(min_length=2, max_length=60)
    password: str = Field(min_length=1, max_length=200)
    role: str
    unit: str | None = None
    display_name: str = Field(default="", max_length=60)


class UserChange(BaseModel):
    password: str | None = Field(default=None, max_length=200)
    active: bool | None = None
    unlock: bool = False
    display_name: str | None = Field(default=None, max_length=60)


def _account(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except accounts.AccountError as e:
        raise ApiError(422, str(e)) from e


@api.get("/users", response_model=list[UserView])
async def users(_: CenterAdmin, settings: SettingsDep) -> list[UserView]:
    rows = await to_thread.run_sync(accounts.list_users, settings.database_url)
    return [UserView.of(r) for r in rows]


@api.post("/users", response_model=UserView, status_code=201)
async def add_user(body: NewUser, _: CenterAdmin, settings: SettingsDep, directory: DirectoryDep) -> UserView:
    if body.unit and body.unit not in directory.units:
        found = directory.find(body.unit)
        if found is None:
            raise ApiError(422, f"未知单位 {body.unit!r}")
        body = body.model_copy(update={"unit": found.id})
    row = await to_thread.run_sync(
        lambda: _account(
            accounts.create_user,
            settings.database_url,
            body.username,
            body.password,
            body.role,
            body.unit,
            body.display_name,
        )  # fmt: skip
    )
    return UserView.of(row)


@api.patch("/users/{username}", response_model=UserView)
async def change_user(username: str, body: UserChange, actor: CenterAdmin, settings: SettingsDep) -> UserView:
    if username == actor.user and body.active is False:
        raise ApiError(422, "不能停用自己的账号")
    row = await to_thread.run_sync(
        lambda: _account(
            accounts.update_user,
            settings.database_url,
            username,
            password=body.password,
            active=body.active,
            unlock=body.unlock,
            display_name=body.display_name,
        )  # fmt: skip
    )
    return UserView.of(row)


# -- a unit's work ----------------------------------------------------------------------------

Tab = Literal["sign", "hand", "coop", "consult", "returned", "watch"]
TABS: tuple[str, ...] = ("sign", "hand", "coop", "consult", "returned", "watch")


class Worklist(BaseModel):
    unit: str
    tab: str
    counts: dict[str, int]
    items: list[TicketListItem]
    total: int
    now: datetime


DEADLINE_ORDER = (col(TicketRow.deadline).is_(None), col(TicketRow.deadline), col(TicketRow.number))


def _rows(s, numbers_query, limit: int | None = None) -> list[TicketRow]:
    """The tickets a query of numbers finds, in its order: the numbers are sorted and cut on
    narrow columns (an index, or the first part of each row), then only the rows shown are read
    by key, instead of sorting whole rows, each with its state."""
    numbers = list(s.exec(numbers_query.limit(limit) if limit else numbers_query).all())
    if not numbers:
        return []
    rows = {r.number: r for r in s.exec(select(TicketRow).where(col(TicketRow.number).in_(numbers)))}
    return [rows[n] for n in numbers if n in rows]


def _open_numbers(*where):
    """Open tickets' numbers matching `where` (board columns only: the board index alone)."""
    return select(TicketRow.number).where(col(TicketRow.stage).in_(OPEN), *where)


def _unit_numbers(unit: str, tab: str):
    """The numbers of a unit's tab, nearest deadline first, from the unit's own rows of ticket_unit."""
    stages = {"sign": [Stage.dispatch.value], "hand": [Stage.handling.value, Stage.rehandle.value], "coop": IN_HAND,
              "watch": OPEN}  # fmt: skip
    roles = {"sign": ["lead"], "hand": ["lead"], "coop": ["cooperating"], "watch": ["supervisor", "coordinator"]}
    q = select(TicketRow.number)
    if tab == "returned":
        q = q.where(col(TicketRow.number).in_(select(TicketReturnRow.ticket).where(TicketReturnRow.unit == unit)))
    elif tab in stages:  # watch: supervising (行业监管) or coordinating (提级协调)
        q = q.join(TicketUnitRow, col(TicketUnitRow.number) == col(TicketRow.number)).where(
            TicketUnitRow.unit == unit, col(TicketUnitRow.role).in_(roles[tab]), col(TicketRow.stage).in_(stages[tab])
        )
    else:
        raise ValueError(tab)
    return q.order_by(*DEADLINE_ORDER)


def _consultations(session, unit: str) -> list[TicketRow]:
    """Tickets whose open consultation invites the unit: few at a time, read from their state."""
    flag = col(TicketRow.flags).contains
    rows = _rows(
        session, _open_numbers(or_(flag("in_consultation"), flag("awaiting_ruling"))).order_by(*DEADLINE_ORDER)
    )
    invited = []
    for r in rows:
        view = TicketState.model_validate_json(r.state_json).open_consultation
        if view is not None and unit in view.candidates:
            invited.append(r)
    return invited  # nearest deadline first


def _tab_counts(s, unit: str) -> dict[str, int]:
    """Every tab's count in two grouped queries (by the unit's role and the ticket's stage)."""
    rows = s.exec(
        select(TicketUnitRow.role, TicketRow.stage, func.count())
        .join(TicketRow, col(TicketRow.number) == col(TicketUnitRow.number))
        .where(TicketUnitRow.unit == unit).group_by(TicketUnitRow.role, TicketRow.stage)
    ).all()  # fmt: skip
    counts = dict.fromkeys(TABS, 0)
    for role, stage, n in rows:
        if role == "lead" and stage == Stage.dispatch.value:
            counts["sign"] += n
        elif role == "lead" and stage in (Stage.handling.value, Stage.rehandle.value):
            counts["hand"] += n
        elif role == "cooperating" and stage in IN_HAND:
            counts["coop"] += n
        elif role in ("supervisor", "coordinator") and stage in OPEN:
            counts["watch"] += n
    counts["returned"] = s.exec(
        select(func.count(func.distinct(TicketReturnRow.ticket))).where(TicketReturnRow.unit == unit)
    ).one()
    return counts


def worklist(url: str, unit: str, tab: str, limit: int) -> Worklist:
    with db.session(url) as s:
        counts = _tab_counts(s, unit)
        invited = _consultations(s, unit)
        counts["consult"] = len(invited)
        rows = invited[:limit] if tab == "consult" else _rows(s, _unit_numbers(unit, tab), limit)
    items = [TicketListItem.of(r) for r in rows]
    return Worklist(unit=unit, tab=tab, counts=counts, items=items, total=counts[tab], now=datetime.now(UTC))


@api.get("/worklist", response_model=Worklist)
async def unit_worklist(
    actor: ActorDep,
    settings: SettingsDep,
    tab: Tab = "sign",
    unit: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> Worklist:
    if actor.role == Role.unit:
        if unit and unit != actor.unit:
            raise ApiError(403, f"your unit {actor.unit} may only list its own tickets")
        unit = actor.unit
    if not unit:
        raise ApiError(422, "name the unit (?unit=...)")
    return await to_thread.run_sync(worklist, settings.database_url, unit, tab, limit)


# -- the center's queues ------------------------------------------------------------------------

Queue = Literal["returns", "extensions", "follow_up", "callbacks", "warnings", "consultations", "rulings", "hard_cases"]
QUEUES: tuple[str, ...] = ("returns", "extensions", "follow_up", "callbacks", "warnings", "consultations", "rulings",
                           "hard_cases")  # fmt: skip


def _queue_where(name: str) -> list:
    """What puts an open ticket in one of the center's queues: columns of the board index only."""
    flag = col(TicketRow.flags).contains
    where: dict[str, list] = {
        "returns": [flag("return_pending")],
        "extensions": [col(TicketRow.extension_pending)],
        "follow_up": [TicketRow.stage == Stage.follow_up.value],
        "callbacks": [TicketRow.stage == Stage.callback.value],
        "warnings": [or_(col(TicketRow.overdue), col(TicketRow.warned))],
        "consultations": [flag("in_consultation")],
        "rulings": [flag("awaiting_ruling")],
    }
    return where[name]


def _queue_rows(s, name: str, limit: int) -> list[TicketRow]:
    if name == "hard_cases":
        q = select(TicketRow).where(TicketRow.outcome == "hard_case").order_by(col(TicketRow.closed_at).desc())
        return list(s.exec(q.limit(limit)).all())
    if name in ("follow_up", "callbacks"):  # one stage each, in the order they came, on the stage index
        order = col(TicketRow.received_at) if name == "follow_up" else col(TicketRow.updated_at)
        return _rows(s, _open_numbers(*_queue_where(name)).order_by(order), limit)
    return _rows(s, _open_numbers(*_queue_where(name)).order_by(*DEADLINE_ORDER), limit)


@functools.cache
def _queue_counts_query():
    names = [q for q in QUEUES if q != "hard_cases"]
    return sa_select(*(func.count().filter(*_queue_where(q)) for q in names)).where(col(TicketRow.stage).in_(OPEN))


def _queue_counts(s) -> dict[str, int]:
    """Every queue's count in one pass over the open tickets' board index (no rows read, no sort),
    and the hard cases on their own index."""
    names = [q for q in QUEUES if q != "hard_cases"]
    row = s.connection().execute(_queue_counts_query()).one()
    counts = {q: int(n or 0) for q, n in zip(names, row, strict=True)}
    counts["hard_cases"] = s.exec(select(func.count()).where(TicketRow.outcome == "hard_case")).one()
    return counts


class QueuePage(BaseModel):
    queue: str
    counts: dict[str, int]
    items: list[TicketListItem]
    now: datetime


def queue(url: str, name: str, limit: int) -> QueuePage:
    with db.session(url) as s:
        counts = _queue_counts(s)
        rows = _queue_rows(s, name, limit)
    return QueuePage(queue=name, counts=counts, items=[TicketListItem.of(r) for r in rows], now=datetime.now(UTC))


@api.get("/queues/{name}", response_model=QueuePage)
async def center_queue(
    name: Queue, _: CenterSide, settings: SettingsDep, limit: Annotated[int, Query(ge=1, le=500)] = 200
) -> QueuePage:
    return await to_thread.run_sync(queue, settings.database_url, name, limit)


# -- the supervisor's overview -------------------------------------------------------------------


class Area(BaseModel):
    id: str
    name: str
    open: int
    overdue: int
    warned: int


class Overview(BaseModel):
    now: datetime
    open: int
    overdue: int
    warned: int
    by_stage: dict[str, int]
    by_tier: dict[str, int]
    by_urgency: dict[str, int]
    districts: list[Area]
    streets: dict[str, list[Area]]  # district id -> its streets
    today: dict[str, int]  # received, closed
    today_by_hour: list[dict]  # hour, received, closed
    week: list[dict]  # date, received, closed


def _day_start(d: datetime) -> datetime:
    local = d.astimezone(CHINA_TZ)
    return datetime.combine(local.date(), time(), CHINA_TZ).astimezone(UTC)


def _sum(flag):
    return func.sum(cast(col(flag), Integer))


# The week's local days and today's hours, as bounds bound at each call: the statement is built
# once (building its thirty-odd filtered counts costs more than running them).
DAY_EDGES = [bindparam(f"day{i}", type_=DateTime(timezone=True)) for i in range(8)]
HOUR_EDGES = [bindparam(f"hour{i}", type_=DateTime(timezone=True)) for i in range(25)]


@functools.cache
def _trend_query(name: str):
    c = col(getattr(TicketRow, name))
    cells = [
        func.count().filter(c >= a, c < b) for edges in (DAY_EDGES, HOUR_EDGES) for a, b in itertools.pairwise(edges)
    ]
    return sa_select(*cells).where(c >= DAY_EDGES[0], c < DAY_EDGES[-1])


def _trend(s, name: str, days: list[datetime]) -> tuple[list[int], list[int]]:
    """How many tickets fall into each of the week's local days and today's hours, counted in one
    pass in SQL (a filtered count per bucket, on the column's index): no timestamps come into Python."""
    bounds = {**{f"day{i}": days[0] + timedelta(days=i) for i in range(8)},
              **{f"hour{i}": days[-1] + timedelta(hours=i) for i in range(25)}}  # fmt: skip
    counts = [int(v or 0) for v in s.connection().execute(_trend_query(name), bounds).one()]
    return counts[:7], counts[7:]


def overview(url: str, names: dict[str, str]) -> Overview:
    now = datetime.now(UTC)
    today = _day_start(now)
    days = [today - timedelta(days=6 - i) for i in range(7)]  # the starts of the week's local days
    with db.session(url) as s:
        # The open tickets in one grouped pass (on the covering index ix_ticket_open_overview):
        # stage, tier, urgency and place with the overdue and warned sums; totals added up here.
        groups = s.connection().execute(
            sa_select(col(TicketRow.stage), col(TicketRow.tier), col(TicketRow.urgency), col(TicketRow.district),
                      col(TicketRow.street), func.count(), _sum(TicketRow.overdue), _sum(TicketRow.warned))
            .where(col(TicketRow.stage).in_(OPEN))
            .group_by(col(TicketRow.stage), col(TicketRow.tier), col(TicketRow.urgency), col(TicketRow.district),
                      col(TicketRow.street))
        ).all()  # fmt: skip
        received, received_hours = _trend(s, "received_at", days)
        closed, closed_hours = _trend(s, "closed_at", days)
    by_stage: Counter[str] = Counter()
    by_tier: Counter[str] = Counter()
    by_urgency: Counter[str] = Counter()
    districts: dict[str, Area] = {}
    streets: dict[tuple[str, str], Area] = {}
    total = overdue = warned = 0
    for stage, tier, urgency, d, st, n, over, warn in groups:
        over, warn = int(over or 0), int(warn or 0)
        total, overdue, warned = total + n, overdue + over, warned + warn
        by_stage[stage] += n
        by_tier[tier] += n
        by_urgency[urgency] += n
        d, st = d or "unknown", st or "unknown"
        for area in (
            districts.setdefault(d, Area(id=d, name=names.get(d, "未定位"), open=0, overdue=0, warned=0)),
            streets.setdefault((d, st), Area(id=st, name=names.get(st, "未定位"), open=0, overdue=0, warned=0)),
        ):
            area.open, area.overdue, area.warned = area.open + n, area.overdue + over, area.warned + warn
    by_district: dict[str, list[Area]] = {}
    for (d, _), area in streets.items():
        by_district.setdefault(d, []).append(area)
    local = [day.astimezone(CHINA_TZ).date().isoformat() for day in days]
    return Overview(
        now=now, open=total, overdue=overdue, warned=warned, by_stage=dict(by_stage), by_tier=dict(by_tier),
        by_urgency=dict(by_urgency), districts=sorted(districts.values(), key=lambda a: -a.open),
        streets={d: sorted(v, key=lambda a: -a.open) for d, v in by_district.items()},
        today={"received": received[-1], "closed": closed[-1]},
        today_by_hour=[{"hour": h, "received": received_hours[h], "closed": closed_hours[h]} for h in range(24)],
        week=[{"date": day, "received": r, "closed": c} for day, r, c in zip(local, received, closed, strict=True)],
    )  # fmt: skip


@api.get("/overview", response_model=Overview, summary="Live counts for the supervisors' screen (态势感知)")
async def stats_overview(_: CenterSide, settings: SettingsDep, directory: DirectoryDep) -> Overview:
    names = {u.id: u.name for u in directory.units.values()}
    return await to_thread.run_sync(overview, settings.database_url, names)


# -- the desk ---------------------------------------------------------------------------------


@api.get("/merge-candidates", response_model=list[TicketListItem])
async def merge_candidates(
    _: CenterSide,
    settings: SettingsDep,
    directory: DirectoryDep,
    category: str | None = None,
    phone: str | None = None,
    street: str | None = None,
    text: str = "",
) -> list[TicketListItem]:
    """Open tickets, within the merge window, of the same caller or the same place: what the desk's
    request would join (并单) if taken in with that category."""
    found = directory.find(street) if street else None
    key_phone = phone_hash(phone, settings.phone_hash_salt.get_secret_value()) if phone else None
    key_place = address_key(found.id if found else street, text)

    def run() -> list[TicketListItem]:
        window = load_pack(settings.policy_pack, settings.policy_dir).merge.window
        since = datetime.now(UTC) - timedelta(seconds=window.seconds())
        same = []
        if key_phone:
            same.append(col(TicketRow.citizen_key) == key_phone)
        if key_place:
            same.append(col(TicketRow.address_key) == key_place)
        if not same:
            return []
        q = select(TicketRow).where(col(TicketRow.stage).in_(OPEN), col(TicketRow.received_at) >= since)
        q = q.where(or_(*same))
        if category:
            q = q.where(TicketRow.category == category)
        with db.session(settings.database_url) as s:
            rows = s.exec(q.order_by(col(TicketRow.received_at).desc()).limit(10)).all()
        return [TicketListItem.of(r) for r in rows]

    return await to_thread.run_sync(run)
