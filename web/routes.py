"""What the workbench serves: its pages (static files, signed-in ones behind the session), sign-in
and sign-out, the user administration, and the few read-only lists its pages need that the ticket
API has no single query for (a unit's work by tab ordered by deadline, the center's queues, the
supervisor's overview counts, the open tickets a request would merge with)."""

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from anyio import to_thread
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse
from pydantic import BaseModel, Field
from sqlalchemy import Integer, cast, func, or_
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


def _by_deadline(query):
    return query.order_by(col(TicketRow.deadline).is_(None), col(TicketRow.deadline), col(TicketRow.number))


def _unit_query(unit: str, tab: str):
    def role(*roles: str):
        return col(TicketRow.number).in_(
            select(TicketUnitRow.number).where(TicketUnitRow.unit == unit, col(TicketUnitRow.role).in_(roles))
        )

    q = select(TicketRow)
    if tab == "sign":
        return q.where(TicketRow.lead_unit == unit, TicketRow.stage == Stage.dispatch.value)
    if tab == "hand":
        return q.where(
            TicketRow.lead_unit == unit, col(TicketRow.stage).in_([Stage.handling.value, Stage.rehandle.value])
        )
    if tab == "coop":
        return q.where(role("cooperating"), col(TicketRow.stage).in_(IN_HAND))
    if tab == "returned":
        return q.where(col(TicketRow.number).in_(select(TicketReturnRow.ticket).where(TicketReturnRow.unit == unit)))
    if tab == "watch":  # supervising (行业监管) or coordinating (提级协调)
        return q.where(role("supervisor", "coordinator"), col(TicketRow.stage).in_(OPEN))
    raise ValueError(tab)


def _consultations(session, unit: str) -> list[TicketRow]:
    """Tickets whose open consultation invites the unit: few at a time, read from their state."""
    rows = session.exec(
        select(TicketRow).where(
            or_(col(TicketRow.flags).contains("in_consultation"), col(TicketRow.flags).contains("awaiting_ruling")),
            col(TicketRow.stage).in_(OPEN),
        )
    ).all()
    invited = []
    for r in rows:
        view = TicketState.model_validate_json(r.state_json).open_consultation
        if view is not None and unit in view.candidates:
            invited.append(r)
    return sorted(invited, key=lambda r: (r.deadline is None, db.aware(r.deadline) or datetime.max.replace(tzinfo=UTC)))


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
        rows = (
            invited[:limit]
            if tab == "consult"
            else list(s.exec(_by_deadline(_unit_query(unit, tab)).limit(limit)).all())
        )
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


def _queue_query(name: str):
    q = select(TicketRow)
    open_ = col(TicketRow.stage).in_(OPEN)
    if name == "returns":
        return _by_deadline(q.where(open_, col(TicketRow.flags).contains("return_pending")))
    if name == "extensions":
        # An extension waiting for the center: the only "decision" field of a ticket's state left null.
        return _by_deadline(q.where(open_, col(TicketRow.state_json).contains('"decision":null')))
    if name == "follow_up":
        return q.where(TicketRow.stage == Stage.follow_up.value).order_by(col(TicketRow.received_at))
    if name == "callbacks":
        return q.where(TicketRow.stage == Stage.callback.value).order_by(col(TicketRow.updated_at))
    if name == "warnings":
        return _by_deadline(q.where(open_, or_(col(TicketRow.overdue), col(TicketRow.warned))))
    if name == "consultations":
        return _by_deadline(q.where(open_, col(TicketRow.flags).contains("in_consultation")))
    if name == "rulings":
        return _by_deadline(q.where(open_, col(TicketRow.flags).contains("awaiting_ruling")))
    if name == "hard_cases":
        return q.where(TicketRow.outcome == "hard_case").order_by(col(TicketRow.closed_at).desc())
    raise ValueError(name)


class QueuePage(BaseModel):
    queue: str
    counts: dict[str, int]
    items: list[TicketListItem]
    now: datetime


def queue(url: str, name: str, limit: int) -> QueuePage:
    with db.session(url) as s:
        counts = {q: s.exec(select(func.count()).select_from(_queue_query(q).subquery())).one() for q in QUEUES}
        rows = s.exec(_queue_query(name).limit(limit)).all()
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


def overview(url: str, names: dict[str, str]) -> Overview:
    now = datetime.now(UTC)
    today = _day_start(now)
    week_start = today - timedelta(days=6)
    with db.session(url) as s:
        open_ = col(TicketRow.stage).in_(OPEN)

        def count_by(column, *where) -> dict[str, int]:
            rows = s.exec(select(column, func.count()).where(*where).group_by(column)).all()
            return {str(k): n for k, n in rows if k is not None}

        by_stage = count_by(TicketRow.stage, open_)
        totals = s.exec(select(func.count(), _sum(TicketRow.overdue), _sum(TicketRow.warned)).where(open_)).one()
        area_rows = s.connection().execute(  # five columns: more than sqlmodel's select() types
            sa_select(col(TicketRow.district), col(TicketRow.street), func.count(), _sum(TicketRow.overdue),
                      _sum(TicketRow.warned))
            .where(open_).group_by(col(TicketRow.district), col(TicketRow.street))
        ).all()  # fmt: skip
        received = s.exec(select(TicketRow.received_at).where(col(TicketRow.received_at) >= week_start)).all()
        closed = s.exec(select(TicketRow.closed_at).where(col(TicketRow.closed_at) >= week_start)).all()
        by_tier = count_by(TicketRow.tier, open_)
        by_urgency = count_by(TicketRow.urgency, open_)
    districts: dict[str, Area] = {}
    streets: dict[str, list[Area]] = {}
    for d, st, n, over, warn in area_rows:
        d = d or "unknown"
        a = districts.setdefault(d, Area(id=d, name=names.get(d, "未定位"), open=0, overdue=0, warned=0))
        a.open, a.overdue, a.warned = a.open + n, a.overdue + int(over or 0), a.warned + int(warn or 0)
        sid = st or "unknown"
        streets.setdefault(d, []).append(
            Area(id=sid, name=names.get(sid, "未定位"), open=n, overdue=int(over or 0), warned=int(warn or 0))
        )
    days = [(week_start + timedelta(days=i)).astimezone(CHINA_TZ).date() for i in range(7)]
    week: dict[date, dict[str, Any]] = {day: {"date": day.isoformat(), "received": 0, "closed": 0} for day in days}
    hours: list[dict[str, int]] = [{"hour": h, "received": 0, "closed": 0} for h in range(24)]
    for field, stamps in (("received", received), ("closed", closed)):
        for ts in stamps:
            local = (db.aware(ts) or now).astimezone(CHINA_TZ)
            if local.date() in week:
                week[local.date()][field] += 1
            if local.date() == days[-1]:
                hours[local.hour][field] += 1
    return Overview(
        now=now, open=totals[0] or 0, overdue=int(totals[1] or 0), warned=int(totals[2] or 0), by_stage=by_stage,
        by_tier=by_tier, by_urgency=by_urgency, districts=sorted(districts.values(), key=lambda a: -a.open),
        streets={d: sorted(v, key=lambda a: -a.open) for d, v in streets.items()},
        today={"received": week[days[-1]]["received"], "closed": week[days[-1]]["closed"]},
        today_by_hour=hours, week=list(week.values()),
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
