"""The people behind the simulated systems: department staff who handle work orders and citizens
who answer callback surveys, both through the product's own API after random delays."""

import asyncio
import random
from collections.abc import Callable

import httpx
import structlog
from pydantic import BaseModel

from api.auth import mint
from core.settings import Settings
from domain.contracts import CallbackSurvey
from domain.department_api import WorkOrderDelivery
from domain.vocabulary import Role

log = structlog.get_logger("simulator")  # a lazy proxy: configured by build() after this import

REPLIES = [
    "已到现场核实处理，问题已解决，并向诉求人反馈。",
    "已约谈相关经营者，责令限期整改，整改情况已复查。",
    "经核查情况属实，已安排专人处理完毕。",
]
COMMENTS = ["处理及时，态度很好", "问题已经解决了", "还可以", ""]


COMPLETION_TRIES = 5


# How often a call answered 409 with Retry-After (a ticket still being routed) is sent again.
NOT_YET_TRIES = 5
# The longest pause between two tries of a call.
MAX_PAUSE = 5.0


class ProductApi:
    """The product's API as a department system or a callback provider uses it: with tokens
    minted from the shared token secret (a unit token per unit, a center token for answers)."""

    def __init__(self, settings: Settings, transport: httpx.AsyncBaseTransport | None = None):
        self.settings = settings
        # Durable mode (the simulator resynchronises): ride out a restarting API; else answer at once.
        self.retry_for = 120.0 if settings.simulator_ledger else 0.0
        # Connection errors are retried by the transport; an answer is taken as it is.
        self.http = httpx.AsyncClient(
            base_url=settings.simulator_api_url or settings.api_url,
            timeout=30,
            transport=transport or httpx.AsyncHTTPTransport(retries=3),
        )

    async def aclose(self) -> None:
        await self.http.aclose()

    def _auth(self, unit: str | None) -> dict[str, str]:
        role = Role.unit if unit else Role.center
        secret = self.settings.token_secret.get_secret_value()
        token = mint(secret, role, f"simulator:{unit or 'citizen-channel'}", unit, hours=1)
        return {"Authorization": f"Bearer {token}"}

    async def post(self, path: str, body: dict | None, *, unit: str | None = None) -> httpx.Response | None:
        """One call; while the product is away (unreachable, 502/503/504: restarting, Temporal down,
        a ticket still being started) it is tried again with backoff for up to RETRY_FOR seconds,
        as a department system's outbox would. Any other answer is taken as it is."""
        pause, waited, not_yet = 0.5, 0.0, 0
        while True:
            try:
                r = await self.http.post(path, json=body, headers=self._auth(unit))
                if r.status_code == 409 and "Retry-After" in r.headers and not_yet < NOT_YET_TRIES:
                    # "Being dispatched": the work order came before the ticket's row shows it
                    # routed. Sent again after the pause, as the contract says.
                    not_yet += 1
                    await asyncio.sleep(min(float(r.headers["Retry-After"]), MAX_PAUSE))
                    continue
                if r.status_code not in (502, 503, 504):
                    return r
                why = str(r.status_code)
            except httpx.HTTPError as e:
                r, why = None, type(e).__name__
            if waited >= self.retry_for:
                log.warning("product API unavailable; giving up for now", path=path, unit=unit, error=why)
                return r
            await asyncio.sleep(pause)
            waited += pause
            pause = min(pause * 2, MAX_PAUSE)

    async def get(self, path: str, *, unit: str | None = None, **params) -> httpx.Response | None:
        try:
            return await self.http.get(path, params=params, headers=self._auth(unit))
        except httpx.HTTPError as e:
            log.warning("product API unreachable", path=path, unit=unit, error=type(e).__name__)
            return None


def _ok(r: httpx.Response | None) -> bool:
    return r is not None and r.is_success


def _why(r: httpx.Response | None) -> str:
    if r is None:
        return "unreachable"
    try:
        return f"{r.status_code} {r.json().get('detail', '')}"
    except ValueError:
        return str(r.status_code)


class CallbackSurveyRef(BaseModel):
    """The callback attempt a citizen answers (from a survey, or found again after a restart)."""

    ticket: str
    attempt: int


class Actors:
    def __init__(self, settings: Settings, api: ProductApi):
        self.settings = settings
        self.api = api
        self.rng = random.Random(settings.simulator_random_seed)
        self.handling: dict[tuple[str, str], asyncio.Task] = {}  # (unit, ticket) -> its staff at work
        self.answering: dict[str, asyncio.Task] = {}  # ticket -> its citizen about to answer the callback
        self.on_answered: Callable[[str, int], object] | None = None  # the ledger keeps answered attempts
        self.tasks: set[asyncio.Task] = set()

    def _spawn(self, coro) -> asyncio.Task:
        task = asyncio.create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    async def _wait(self, delay: tuple[float, float]) -> None:
        await asyncio.sleep(self.rng.uniform(*delay))

    async def stop(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    # -- department staff --------------------------------------------------------------------

    def work_order(self, unit: str, order: WorkOrderDelivery) -> None:
        if self.settings.simulator_act:
            self.handle(unit, order.ticket)

    def handle(self, unit: str, ticket: str) -> bool:
        """The unit's staff take up the ticket, unless they are at it already; True if they start."""
        key = (unit, ticket)
        if key in self.handling:
            return False
        task = self._spawn(self._handle(unit, ticket))
        self.handling[key] = task
        task.add_done_callback(lambda t: self.handling.pop(key, None) if self.handling.get(key) is t else None)
        return True

    def cancellation(self, unit: str, ticket: str) -> None:
        task = self.handling.pop((unit, ticket), None)
        if task:
            task.cancel()
            log.info("stopped handling: the ticket was taken away", ticket=ticket, unit=unit)

    async def _handle(self, unit: str, number: str) -> None:
        blog = log.bind(ticket=number, unit=unit)
        await self._wait(self.settings.simulator_ack_delay)
        r = await self.api.post(f"/tickets/{number}/acknowledge", None, unit=unit)
        if not _ok(r) and not (r is not None and r.status_code == 409 and "already acknowledged" in _why(r)):
            blog.warning("could not acknowledge; giving up on it", answer=_why(r))
            return
        await self.api.post(
            f"/tickets/{number}/progress",
            {"note": "已电话联系诉求人，正在核实处理", "contacted_citizen": True},
            unit=unit,
        )
        await self._wait(self.settings.simulator_complete_delay)
        if self.rng.random() < self.settings.simulator_extension_rate:
            r = await self.api.post(
                f"/tickets/{number}/extension-request",
                {"by": "3d", "reason": "需协调多个部门现场核查，申请延期"},
                unit=unit,
            )
            blog.info("asked for an extension", answer=_why(r))
            if _ok(r):
                await self._wait(self.settings.simulator_complete_delay)
            # 4xx: not possible (not offered, or refused): finish in time instead.
        if self.rng.random() < self.settings.simulator_return_rate:
            r = await self.api.post(
                f"/tickets/{number}/return-request",
                {"reason": "经核实不属于本单位职责范围", "suggested_unit": None},
                unit=unit,
            )
            blog.info("asked to return the ticket", answer=_why(r))
            if _ok(r):
                # Wait for the center: an approved return arrives as a cancellation and ends this task.
                await self._wait(self.settings.simulator_complete_delay)
        # A return waiting for the center's review (or a consultation) holds completion back: a
        # department keeps checking for a while, as its staff would.
        for _ in range(COMPLETION_TRIES):
            r = await self.api.post(
                f"/tickets/{number}/complete", {"result": "resolved", "reply": self.rng.choice(REPLIES)}, unit=unit
            )
            if _ok(r):
                blog.info("completed")
                return
            if getattr(r, "status_code", None) != 409:
                break
            await self._wait(self.settings.simulator_complete_delay)
        blog.warning("could not complete", answer=_why(r))

    # -- citizens ----------------------------------------------------------------------------

    def callback_survey(self, survey: CallbackSurvey) -> None:
        if self.settings.simulator_act:
            self.answer(survey.ticket, survey.attempt)

    def answer(self, ticket: str, attempt: int) -> bool:
        """The citizen answers this callback attempt, unless already answering it; True if they start."""
        if ticket in self.answering:
            return False
        task = self._spawn(self._answer(CallbackSurveyRef(ticket=ticket, attempt=attempt)))
        self.answering[ticket] = task
        task.add_done_callback(lambda t: self.answering.pop(ticket, None) if self.answering.get(ticket) is t else None)
        return True

    def new_round(self, ticket: str) -> None:
        """A rehandle began: the citizen's earlier answer was taken, whatever its reply is still
        doing (a retried call waiting out a restarting API). Stop it, so it neither blocks the new
        round's answer nor marks the new round's attempt as answered when its reply comes."""
        task = self.answering.pop(ticket, None)
        if task is not None:
            task.cancel()

    async def _answer(self, survey: "CallbackSurveyRef") -> None:
        await self._wait(self.settings.simulator_callback_delay)
        s = self.settings
        draw = self.rng.random()
        answer: dict[str, object]
        if draw < s.simulator_unreached_rate:
            answer = {"reached": False}
        elif draw < s.simulator_unreached_rate + s.simulator_unsatisfied_rate:
            answer = {"reached": True, "resolved": False, "satisfaction": "unsatisfied", "comment": "问题还没有解决"}
        else:
            satisfaction = "satisfied" if self.rng.random() < 0.8 else "basically_satisfied"
            answer = {
                "reached": True,
                "resolved": True,
                "satisfaction": satisfaction,
                "comment": self.rng.choice(COMMENTS),
            }
        r = await self.api.post(f"/tickets/{survey.ticket}/callback", answer)
        if _ok(r) and self.on_answered is not None:
            self.on_answered(survey.ticket, survey.attempt)
        if _ok(r):
            log.info(
                "citizen answered the callback", ticket=survey.ticket, attempt=survey.attempt, reached=answer["reached"]
            )
        else:
            log.warning("the callback answer was not taken", ticket=survey.ticket, answer=_why(r))
