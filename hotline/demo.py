"""`hotline demo`: a working day of citizens' requests played into the running product.

The day is `hotline/demo_day.toml`: requests as citizens phrase them, across channels, kinds,
categories and districts, with repeats, emergencies, legal matters and questions the knowledge base
answers. The demo plays the desk (it takes each request in at its time of day), the street offices
(they acknowledge, report progress, complete, sometimes return a ticket or ask for more time), the
center (callbacks, urging and escalating a ticket nobody signed for, a consultation, emergency
follow-ups) and a citizen or two rating online. Tickets led by a department the simulator plays are
left to the simulator, whose citizens also answer those callbacks.

Everything goes over HTTP with tokens minted from the local token secret, and every intake carries
an Idempotency-Key, so a retried call never makes a second ticket. Time is compressed by `speed`
(60: one hour of the day per real minute); the product's own deadlines run in real time, so a
ticket left unacknowledged breaches its clock later, while the product keeps running."""

import asyncio
import hashlib
import random
import sys
import time
import tomllib
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from api.auth import mint
from domain.vocabulary import Role

DAY_FILE = Path(__file__).with_name("demo_day.toml")
PLOTS = {
    "handle", "unsatisfied", "rate_online", "late", "return", "consult", "extension", "follow_up", "sent_back",
    "desk",
}  # fmt: skip
REQUIRED = ("at", "channel", "kind", "category", "district", "street", "name", "phone", "text")
AT_THE_DESK = {"direct_answer", "out_of_scope", "legal_channel"}
WAIT = 30.0  # real seconds to wait for the product to move a ticket on (routing, a stage change)
REPLIES = {
    "resolved": "已到现场核实，问题已处理完毕，并已电话告知诉求人。",
    "again": "已再次到现场处理，安排专人每日巡查，确保不再反复。",
}


class DemoError(Exception):
    """The demo cannot run: the product is not there, or the day file is broken."""


def load_day(path: Path = DAY_FILE) -> list[dict[str, Any]]:
    """The day's requests in arrival order, checked enough to fail with a clear message."""
    try:
        day = tomllib.loads(path.read_text(encoding="utf-8"))["request"]
    except (OSError, KeyError, tomllib.TOMLDecodeError) as e:
        raise DemoError(f"cannot read the demo day {path}: {e}") from e
    for i, r in enumerate(day, 1):
        missing = [k for k in REQUIRED if k not in r]
        if missing:
            raise DemoError(f"{path.name}: request {i} lacks {', '.join(missing)}")
        if r.get("plot", "handle") not in PLOTS:
            raise DemoError(f"{path.name}: request {i} has an unknown plot {r['plot']!r} (one of {sorted(PLOTS)})")
        if "repeats" in r and not 1 <= r["repeats"] < i:
            raise DemoError(f"{path.name}: request {i} repeats {r['repeats']}, which is not an earlier request")
    return sorted(day, key=lambda r: r["at"])  # stable: the file's order within a minute


def _minutes(hhmm: str) -> float:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


def schedule(day: list[dict[str, Any]], tickets: int | None, run: str) -> list[dict[str, Any]]:
    """`tickets` requests from the day (all of it by default; more: the day again with other citizens).
    Phone numbers get this run's last four digits, so a second run makes new tickets, not repeats."""
    n = len(day) if tickets is None else tickets
    out: list[dict[str, Any]] = []
    for i in range(n):
        cycle, r = divmod(i, len(day))
        base = day[r]
        digest = int(hashlib.sha256(f"{run}:{cycle}:{base['phone']}".encode()).hexdigest(), 16)
        item = {**base, "phone": f"{base['phone'][:-4]}{digest % 10000:04d}", "index": i,
                "minute": _minutes(base["at"]) + cycle * 3}  # fmt: skip
        if "repeats" in base:
            item["repeats"] = cycle * len(day) + base["repeats"] - 1  # 0-based index in this schedule
            if item["repeats"] >= n:
                del item["repeats"]
        if cycle:
            item["place"] = f"{base.get('place', '')}（{cycle + 1}）"
        out.append(item)
    return sorted(out, key=lambda r: (r["minute"], r["index"]))


def body_of(r: dict[str, Any]) -> dict[str, Any]:
    body = {
        "channel": r["channel"], "kind": r["kind"], "urgency": r.get("urgency", "normal"), "category": r["category"],
        "description": r["text"], "enterprise": r.get("enterprise", False),
        "citizen": {"name": r["name"], "phone": r["phone"]},
        "address": {"district": r["district"], "street": r["street"], "text": r.get("place", "")},
    }  # fmt: skip
    if r.get("emergency"):
        body["emergency_service"] = r["emergency"]
    return body


@dataclass
class Tally:
    channels: Counter = field(default_factory=Counter)
    paths: Counter = field(default_factory=Counter)
    actions: Counter = field(default_factory=Counter)
    merged: int = 0
    refused: list[str] = field(default_factory=list)
    numbers: dict[int, str] = field(default_factory=dict)  # schedule index -> ticket number
    by_simulator: set[str] = field(default_factory=set)


class Demo:
    def __init__(self, url: str, simulator_url: str | None, secret: str, speed: float, seed: int | None,
                 out=sys.stdout):  # fmt: skip
        self.url = url.rstrip("/")
        self.simulator_url = simulator_url.rstrip("/") if simulator_url else None
        self.secret = secret
        self.speed = speed
        self.rng = random.Random(seed)
        self.out = out
        self.run = uuid.uuid4().hex[:8]
        self.tally = Tally()
        self.simulated: set[str] = set()
        self.started = 0.0
        self.day_start = 0.0
        self._tokens: dict[tuple[Role, str | None], str] = {}
        self.http: httpx.AsyncClient

    # -- plumbing ------------------------------------------------------------------------------

    def token(self, role: Role, unit: str | None = None) -> dict[str, str]:
        key = (role, unit)
        if key not in self._tokens:
            self._tokens[key] = mint(self.secret, role, f"demo:{unit or role.value}", unit, hours=24)
        return {"Authorization": f"Bearer {self._tokens[key]}"}

    def say(self, text: str) -> None:
        day = self.day_start + (time.monotonic() - self.started) * self.speed / 60
        print(f"  {int(day // 60) % 24:02d}:{int(day % 60):02d}  {text}", file=self.out, flush=True)

    async def until_minute(self, minute: float) -> None:
        real = self.started + (minute - self.day_start) * 60 / self.speed
        await asyncio.sleep(max(0.0, real - time.monotonic()))

    async def pause(self, low: float, high: float) -> None:
        """Some minutes of the day pass (a person takes a while)."""
        await asyncio.sleep(self.rng.uniform(low, high) * 60 / self.speed)

    async def post(self, path: str, headers: dict[str, str], body: dict | None = None, what: str = "") -> bool:
        """One action; a refusal is noted (with the product's reason) and ends that ticket's story."""
        for attempt in range(3):
            try:
                r = await self.http.post(path, json=body, headers=headers)
                break
            except httpx.TransportError as e:
                if attempt == 2:
                    self.tally.refused.append(f"{what or path}: {type(e).__name__}")
                    return False
                await asyncio.sleep(1)
        if r.is_success:
            self.tally.actions[what or path.rsplit("/", 1)[-1]] += 1
            return True
        try:
            detail = r.json().get("detail", r.text)
        except ValueError:
            detail = r.text
        self.tally.refused.append(f"{path} {r.status_code}: {detail}")
        return False

    async def state(self, number: str) -> dict[str, Any] | None:
        r = await self.http.get(f"/tickets/{number}", headers=self.token(Role.center))
        return r.json() if r.is_success else None

    async def reach(self, number: str, *stages: str, check=None) -> dict[str, Any] | None:
        """The ticket's state once it is in one of `stages` (and `check` holds), or None after a while."""
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            s = await self.state(number)
            if s and s["stage"] in stages and (check is None or check(s)):
                return s
            await asyncio.sleep(0.3)
        s = await self.state(number)
        self.tally.refused.append(f"ticket {number} did not reach {'/'.join(stages)} (stage {s and s['stage']})")
        return None

    # -- the day ---------------------------------------------------------------------------------

    async def play(self, day: list[dict[str, Any]], settle: float) -> Tally:
        async with httpx.AsyncClient(base_url=self.url, timeout=30) as self.http:
            try:
                (await self.http.get("/health")).raise_for_status()
            except httpx.HTTPError as e:
                why = type(e).__name__
                raise DemoError(f"the product does not answer at {self.url} ({why}): is `make up` running?") from e
            self.simulated = await self._simulated_units()
            if not self.simulated:
                print("  (no department simulator answers: the demo handles departments' tickets too)", file=self.out)
            self.day_start = day[0]["minute"] - 1 if day else 0
            self.started = time.monotonic()
            numbers: dict[int, asyncio.Future] = {r["index"]: asyncio.get_running_loop().create_future() for r in day}
            await asyncio.gather(*(self._request(r, numbers) for r in day))
            await self._settle(settle)
        return self.tally

    async def _simulated_units(self) -> set[str]:
        if not self.simulator_url:
            return set()
        try:
            async with httpx.AsyncClient(timeout=5) as http:
                r = await http.get(f"{self.simulator_url}/admin/units")
                return {u["id"] for u in r.json()} if r.is_success else set()
        except (httpx.HTTPError, ValueError):
            return set()

    async def _request(self, r: dict[str, Any], numbers: dict[int, asyncio.Future]) -> None:
        try:
            await self._story(r, numbers)
        except Exception as e:  # noqa: BLE001 — one ticket's trouble must not stop the day
            self.tally.refused.append(f"request {r['index'] + 1}: {type(e).__name__}: {e}")
        finally:
            if not numbers[r["index"]].done():
                numbers[r["index"]].set_result(None)

    async def _story(self, r: dict[str, Any], numbers: dict[int, asyncio.Future]) -> None:
        await self.until_minute(r["minute"])
        if "repeats" in r:
            await numbers[r["repeats"]]  # the first call was taken in before its repeat
        key = {"Idempotency-Key": f"demo-{self.run}-{r['index']}"}
        created = None
        for _ in range(3):
            try:
                resp = await self.http.post("/tickets", json=body_of(r), headers=self.token(Role.intake) | key)
            except httpx.TransportError:
                await asyncio.sleep(1)  # the same key again: never a second ticket
                continue
            if resp.status_code in (200, 201, 202):
                created = resp.json()
            else:
                self.tally.refused.append(f"intake of request {r['index'] + 1} {resp.status_code}: {resp.text[:200]}")
            break
        if created is None:
            return
        number = created["number"]
        self.tally.channels[r["channel"]] += 1
        if created.get("merged"):
            self.tally.merged += 1
            self.say(f"{r['name']}（{r['channel']}）又来电：并入工单 {number}")
            return
        self.tally.numbers[r["index"]] = number
        s = await self.reach(number, "dispatch", "follow_up", "closed", "handling", "callback")
        if s is None:
            return
        if s["stage"] == "dispatch":
            await self._listed(number, r["category"])  # where a repeat looks for it
        numbers[r["index"]].set_result(number)
        path = self._path_of(s)
        self.tally.paths[path] += 1
        self.say(f"{number} {r['text'][:24]}… — {path}" + (f" → {s['lead_unit']}" if path == "dispatch" else ""))
        plot = r.get("plot", "handle")
        if path == "emergency_transfer":
            await self._emergency(number, r, plot)
        elif path == "dispatch":
            await self._dispatched(number, r, plot, s)

    async def _listed(self, number: str, category: str) -> None:
        """Until the read model lists the ticket as open: a repeat is matched against that list."""
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            params: dict[str, str | int] = {"category": category, "status": "dispatch", "page_size": 200}
            r = await self.http.get("/tickets", params=params, headers=self.token(Role.center))
            if r.is_success and number in {t["number"] for t in r.json()["items"]}:
                return
            await asyncio.sleep(0.3)

    @staticmethod
    def _path_of(s: dict[str, Any]) -> str:
        if s.get("triage"):
            return s["triage"]["path"]
        if s["stage"] == "follow_up":
            return "emergency_transfer"
        if s["stage"] == "closed" and s.get("outcome") in AT_THE_DESK:
            return s["outcome"]
        return "dispatch"

    async def _dispatched(self, number: str, r: dict[str, Any], plot: str, s: dict[str, Any]) -> None:
        lead = s["lead_unit"]
        if lead in self.simulated:
            self.tally.by_simulator.add(number)
            return  # the simulated department handles it; its citizen answers the callback
        if plot in ("desk", "follow_up", "sent_back"):
            plot = "handle"  # the desk's guess was wrong: it is a ticket like any other
        if plot == "late":
            await self._late(number, lead)
        elif plot == "return":
            await self._return(number, lead, r["to"])
        elif plot == "consult":
            if await self._consult(number, lead, r["with"]):
                await self._handle(number, lead, r, plot)
        else:
            await self._handle(number, lead, r, plot)

    async def _handle(self, number: str, lead: str, r: dict[str, Any], plot: str) -> None:
        unit = self.token(Role.unit, lead)
        s = await self.reach(number, "dispatch", "handling", "rehandle")
        if s is None:
            return
        if not s.get("acknowledged_at"):
            await self.pause(10, 45)
            if not await self.post(f"/tickets/{number}/acknowledge", unit, what="acknowledge"):
                return
        await self.pause(15, 60)
        note = {"note": "已电话联系诉求人，约定现场核实时间", "contacted_citizen": True}
        if not await self.post(f"/tickets/{number}/progress", unit, note, what="progress"):
            return
        if plot == "extension":
            await self.pause(20, 40)
            ask = {"by": "7d", "reason": "加装电梯需征求全体住户意见并报区住建部门审批，申请延期"}
            if await self.post(f"/tickets/{number}/extension-request", unit, ask, what="extension-request"):
                await self.pause(20, 60)
                decision = {"approve": True, "note": "同意延期，请按期办结"}
                await self.post(f"/tickets/{number}/extension-decision", self.token(Role.center), decision,
                                what="extension-decision")  # fmt: skip
        await self.pause(60, 180)
        done = {"result": "resolved", "reply": REPLIES["resolved"]}
        if not await self.post(f"/tickets/{number}/complete", unit, done, what="complete"):
            return
        self.say(f"{number} 已办结（{s['lead_unit']}），等待回访")
        if await self.reach(number, "callback") is None:
            return
        await self.pause(10, 40)
        if plot == "rate_online":
            rating = {"phone": r["phone"], "resolved": True, "satisfaction": "satisfied", "comment": "谢谢，灯修好了"}
            await self.post(f"/public/tickets/{number}/rating", {}, rating, what="rating (online)")
            return
        if plot == "unsatisfied":
            answer = {"reached": True, "resolved": False, "satisfaction": "unsatisfied", "comment": "晚上还是很吵"}
            if not await self.post(f"/tickets/{number}/callback", self.token(Role.center), answer, what="callback"):
                return
            self.say(f"{number} 回访不满意：重办")
            if await self.reach(number, "rehandle") is None:
                return
            await self.pause(20, 60)
            if not await self.post(f"/tickets/{number}/acknowledge", unit, what="acknowledge"):
                return
            await self.pause(60, 120)
            again = {"result": "resolved", "reply": REPLIES["again"]}
            if not await self.post(f"/tickets/{number}/complete", unit, again, what="complete"):
                return
            if await self.reach(number, "callback") is None:
                return
            await self.pause(10, 30)
        satisfaction = "satisfied" if self.rng.random() < 0.8 else "basically_satisfied"
        answer = {"reached": True, "resolved": True, "satisfaction": satisfaction}
        await self.post(f"/tickets/{number}/callback", self.token(Role.center), answer, what="callback")

    async def _late(self, number: str, lead: str) -> None:
        """Nobody signs for it: the center urges, then escalates it one tier up."""
        await self.pause(90, 150)
        self.say(f"{number} 无人签收：中心督办")
        if not await self.post(f"/tickets/{number}/urge", self.token(Role.center), {"note": "逾期未签收，请立即处理"},
                               what="urge"):  # fmt: skip
            return
        await self.pause(90, 150)
        self.say(f"{number} 仍未签收：提级协调")
        await self.post(f"/tickets/{number}/escalate", self.token(Role.center), {"reason": "街道逾期未签收，提级至区级协调"},
                        what="escalate")  # fmt: skip

    async def _return(self, number: str, lead: str, to: str) -> None:
        await self.pause(20, 60)
        ask = {"reason": "经核实属商品房延期交付，不属于街道职责", "suggested_unit": to}
        if not await self.post(f"/tickets/{number}/return-request", self.token(Role.unit, lead), ask,
                               what="return-request"):  # fmt: skip
            return
        self.say(f"{number} 街道申请退单 → {to}")
        await self.pause(20, 60)
        decision = {"approve": True, "reassign_to": to, "note": "同意改派"}
        await self.post(f"/tickets/{number}/return-decision", self.token(Role.center), decision, what="return-decision")
        if to in self.simulated:
            self.tally.by_simulator.add(number)
        else:
            await self._handle(number, to, {}, "handle")

    async def _consult(self, number: str, lead: str, other: str) -> bool:
        await self.pause(20, 60)
        body = {"candidates": [lead, other], "reason": "管网与小区内排水设施权属不清，需明确责任单位"}
        if not await self.post(f"/tickets/{number}/consultation", self.token(Role.center), body, what="consultation"):
            return False
        self.say(f"{number} 一键会商：{lead}、{other}")
        if await self.reach(number, "dispatch", "handling", check=_consulting) is None:
            return False
        await self.pause(20, 60)
        answers = [(lead, {"answer": "lead", "reason": "属地牵头，组织疏通"}),
                   (other, {"answer": "cooperating", "reason": "配合排查市政管网"})]  # fmt: skip
        for unit, answer in answers:
            if not await self.post(f"/tickets/{number}/consultation/answer", self.token(Role.unit, unit), answer,
                                   what="consultation-answer"):  # fmt: skip
                return False
        return await self.reach(number, "dispatch", "handling", check=lambda s: not _consulting(s)) is not None

    async def _emergency(self, number: str, r: dict[str, Any], plot: str) -> None:
        await self.pause(20, 60)
        center = self.token(Role.center)
        if plot == "sent_back":
            note = {"handled": False, "note": "110回复：属噪声扰民，非警务警情，转回热线办理"}
            if not await self.post(f"/tickets/{number}/emergency-follow-up", center, note, what="emergency-follow-up"):
                return
            self.say(f"{number} 110 退回：按热线工单派发")
            s = await self.reach(number, "dispatch")
            if s is not None:
                await self._dispatched(number, r, "handle", s)
            return
        note = {"handled": True, "note": f"已与{r['emergency']}核实：已到场处置完毕"}
        await self.post(f"/tickets/{number}/emergency-follow-up", center, note, what="emergency-follow-up")

    async def _settle(self, settle: float) -> None:
        """Give the simulated departments and citizens a little while to finish what they started."""
        deadline = time.monotonic() + settle
        waiting = set(self.tally.by_simulator)
        while waiting and time.monotonic() < deadline:
            for number in list(waiting):
                s = await self.state(number)
                if s is None or s["stage"] == "closed":
                    waiting.discard(number)
            await asyncio.sleep(1)

    async def stages(self) -> dict[str, int]:
        """How many tickets the product now has in each stage (its read model: everything, not only the demo's)."""
        counts = {}
        async with httpx.AsyncClient(base_url=self.url, timeout=30) as http:
            for stage in ("dispatch", "handling", "rehandle", "callback", "follow_up", "closed"):
                params = {"status": stage, "page_size": 1}
                r = await http.get("/tickets", params=params, headers=self.token(Role.center))
                if r.is_success:
                    counts[stage] = r.json()["total"]
        return counts


def _consulting(s: dict[str, Any]) -> bool:
    return any(c["status"] == "open" for c in s.get("consultations", []))


def _line(counter: Counter) -> str:
    return ", ".join(f"{k} {v}" for k, v in counter.most_common()) or "none"


def main(url: str, simulator_url: str | None, secret: str, speed: float, tickets: int | None, settle: float,
         seed: int | None = None, out=sys.stdout) -> int:  # fmt: skip
    if not speed > 0:
        print("hotline demo: --speed must be more than 0 (60: an hour of the day per real minute)", file=sys.stderr)
        return 2
    if tickets is not None and tickets < 1:
        print("hotline demo: --tickets must be at least 1", file=sys.stderr)
        return 2
    try:
        demo = Demo(url, simulator_url, secret, speed, seed, out)
        day = schedule(load_day(), tickets, demo.run)
        span = day[-1]["minute"] - day[0]["minute"] + 240 if day else 0  # the last arrival and its story
        print(f"\n  A day at the 12345 desk: {len(day)} requests at {speed:g}x "
              f"(about {span * 60 / speed / 60:.1f} minutes of real time at most) into {url}\n", file=out)  # fmt: skip
        began = time.monotonic()
        tally = asyncio.run(demo.play(day, settle))
        stages = asyncio.run(demo.stages())
    except DemoError as e:
        print(f"hotline demo: {e}", file=sys.stderr)
        return 1
    print(f"\n  Played in {time.monotonic() - began:.0f} s.", file=out)
    print(f"  taken in        {sum(tally.channels.values())} ({_line(tally.channels)}); joined to an open ticket: "
          f"{tally.merged}", file=out)  # fmt: skip
    print(f"  intake paths    {_line(tally.paths)}", file=out)
    print(f"  demo's actions  {_line(tally.actions)}", file=out)
    print(f"  by the simulator {len(tally.by_simulator)} tickets handled by simulated departments", file=out)
    print(f"  now open/closed {', '.join(f'{k} {v}' for k, v in stages.items())}  (GET /tickets?status=…)", file=out)
    if tally.refused:
        print(f"  refused or stuck ({len(tally.refused)}):", file=out)
        for line in tally.refused[:20]:
            print(f"    {line}", file=out)
    print("  Look at: GET /tickets, GET /stats/intake, GET /callbacks, GET /deliveries, the Temporal UI.\n", file=out)
    return 0
