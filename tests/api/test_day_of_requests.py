"""A day at the Qingdao desk (tests/data/day_of_requests.toml) fed through the API, in arrival
order: consultations the knowledge base answers, matters out of scope, emergencies, matters for
the courts and the police, repeats, and ordinary complaints. Each must take its path; every
dispatched ticket must end closed through the callback loop or be visibly waiting in it."""

import tomllib
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest_asyncio

from api.main import create_app
from readmodel import knowledge
from tests.api.conftest import Api
from tests.conftest import task_queue
from tests.eventually import assert_eventually
from tests.simulated import running_simulator, serve, simulator_settings
from worker import build_worker

DAY = tomllib.loads((Path(__file__).parents[1] / "data" / "day_of_requests.toml").read_text())["request"]
AT_THE_DESK = {"direct_answer", "out_of_scope", "emergency_transfer", "legal_channel"}


@pytest_asyncio.fixture
async def desk(dev_env, settings, api_database):
    """API and worker; the simulator plays the SMS provider and the 110/119/120/122 linkage
    platform. Callbacks go to the manual queue: operators and citizens answer them."""
    settings = settings.model_copy(update={"task_queue": task_queue(), "database_url": api_database})
    knowledge.seed(api_database, settings.city)
    async with running_simulator(simulator_settings(settings, simulator_act=False)) as sim:
        worker_settings = settings.model_copy(update={
            "sms_endpoint": f"{sim.url}/sms/messages", "emergency_endpoint": f"{sim.url}/emergency/transfers",
        })  # fmt: skip
        async with build_worker(dev_env.client, worker_settings, settings.task_queue):
            async with serve(create_app(settings, client=dev_env.client)) as url:
                async with httpx.AsyncClient(base_url=url, timeout=30) as http:
                    yield Api(http, settings, dev_env.client), sim


def body_of(r: dict) -> dict:
    body = {
        "channel": r["channel"], "kind": r["kind"], "urgency": r["urgency"], "category": r["category"],
        "description": r["description"], "enterprise": r.get("enterprise", False),
        "citizen": {"name": r["citizen_name"], "phone": r["phone"]},
        "address": {"district": r["district"], "street": r["street"], "text": r["address_text"]},
    }  # fmt: skip
    if r.get("emergency_service"):
        body["emergency_service"] = r["emergency_service"]
    return body


async def test_a_day_of_mixed_requests_each_takes_its_path_and_dispatched_ones_reach_the_callback(desk):
    api, sim = desk
    intake, center, supervisor = api.auth("intake"), api.auth("center"), api.auth("supervisor")
    began = datetime.now(UTC)

    async def live(number):
        return (await api.http.get(f"/tickets/{number}", headers=center)).json()

    numbers: list[str] = []
    for i, r in enumerate(DAY, 1):
        resp = await api.http.post("/tickets", json=body_of(r), headers=intake | {"Idempotency-Key": str(uuid.uuid4())})
        if r["expected"] == "merge":
            assert resp.status_code == 200 and resp.json()["merged"], (i, resp.text)
            assert resp.json()["number"] == numbers[r["repeats"] - 1], (i, r["description"])
        else:
            assert resp.status_code == 201, (i, resp.text)
        number = resp.json()["number"]
        numbers.append(number)
        if r["expected"] == "dispatch":
            # Calls come minutes apart: the ticket is on the open list before the next one.
            async def listed(number=number):
                page = (await api.http.get("/tickets", params={"status": "dispatch"}, headers=supervisor)).json()
                assert number in {t["number"] for t in page["items"]}, page

            await assert_eventually(listed)

    # Emergency transfers wait on the center's follow-up list until it has checked back with the
    # service; then they close like the other paths that end at the desk.
    transfers = {n for r, n in zip(DAY, numbers, strict=False) if r["expected"] == "emergency_transfer"}
    assert transfers

    async def on_the_follow_up_list():
        page = (await api.http.get("/tickets", params={"status": "follow_up"}, headers=supervisor)).json()
        assert transfers <= {t["number"] for t in page["items"]}, page

    await assert_eventually(on_the_follow_up_list)
    phone_of = {n: r["phone"] for r, n in zip(DAY, numbers, strict=False)}
    for number in transfers:
        mine = await api.http.post(f"/public/tickets/{number}/lookup", json={"phone": phone_of[number]})
        assert mine.status_code == 200 and "紧急" in mine.json()["status"] and mine.json()["handling_unit"] is None
        s = await live(number)
        assert s["stage"] == "follow_up" and "follow_up" in s["flags"], s["stage"]
        done = {"handled": True, "note": "已出警处置完毕"}
        r = await api.http.post(f"/tickets/{number}/emergency-follow-up", headers=center, json=done)
        assert r.status_code == 200, r.text
        again = await api.http.post(f"/tickets/{number}/emergency-follow-up", headers=center, json=done)
        assert again.status_code == 409, again.text

    # The four paths that end at the desk: closed with their answer, nobody dispatched.
    for r, number in zip(DAY, numbers, strict=False):
        if r["expected"] not in AT_THE_DESK:
            continue

        async def closed(number=number):
            s = await live(number)
            assert s["stage"] == "closed", (number, s["stage"])
            return s

        s = await assert_eventually(closed)
        events = [e["event"] for e in s["timeline"]]
        assert (s["outcome"], s["triage"]["path"]) == (r["expected"], r["expected"]), (r["description"], s["triage"])
        assert "dispatched" not in events
        if r["expected"] == "emergency_transfer":
            assert "follow_up" not in s["flags"] and s["transfer_reference"].startswith(r["emergency_service"])
            assert s["follow_up"]["handled"] and events[-2:] == ["followed_up", "closed"]
            got = await sim.received(unit=f"emergency-{r['emergency_service']}")
            assert number in {x["ticket"] for x in got}

    # Repeats: the timeline of the ticket they repeat; request 3's third repeat puts it under supervision.
    repeated = {numbers[r["repeats"] - 1] for r in DAY if r["expected"] == "merge"}
    for number in repeated:
        s = await live(number)
        merges = sum(1 for r in DAY if r["expected"] == "merge" and numbers[r["repeats"] - 1] == number)
        assert len(s["appeals"]) == merges
        assert ("supervised" in s["flags"]) == (merges >= 3)
    assert any(sum(1 for r in DAY if r.get("repeats") == k) >= 3 for k in range(1, len(DAY)))

    # Every dispatched ticket is handled by its unit; the callback loop then takes it.
    dispatched = [n for r, n in zip(DAY, numbers, strict=False) if r["expected"] == "dispatch"]
    for number in dispatched:
        s = await live(number)
        unit = api.auth("unit", s["lead_unit"])
        assert (await api.http.post(f"/tickets/{number}/acknowledge", headers=unit)).status_code == 200
        r = await api.http.post(
            f"/tickets/{number}/complete", headers=unit, json={"result": "resolved", "reply": "已到现场核实处理"}
        )
        assert r.status_code == 200, r.text

    async def all_waiting():
        queue = (await api.http.get("/callbacks", params={"limit": 500}, headers=center)).json()
        missing = set(dispatched) - {t["number"] for t in queue}
        assert not missing, missing

    await assert_eventually(all_waiting, timeout=30)

    # The operators reach some citizens, some rate online, the rest wait in the queue.
    by_phone = {n: r["phone"] for r, n in zip(DAY, numbers, strict=False) if r["expected"] == "dispatch"}
    answered, rated = dispatched[:8], dispatched[8:12]
    for number in answered:
        answer = {"reached": True, "resolved": True, "satisfaction": "satisfied"}
        assert (await api.http.post(f"/tickets/{number}/callback", headers=center, json=answer)).status_code == 200
    for number in rated:
        rating = {"phone": by_phone[number], "resolved": True, "satisfaction": "basically_satisfied"}
        assert (await api.http.post(f"/public/tickets/{number}/rating", json=rating)).status_code == 200

    async def settled():
        states = {n: await live(n) for n in dispatched}
        stages = {n: states[n]["stage"] for n in answered + rated}
        assert set(stages.values()) == {"closed"}, stages
        return states

    states = await assert_eventually(settled, timeout=30)
    for number in answered:
        assert states[number]["outcome"] == "confirmed"
    for number in rated:
        assert states[number]["outcome"] == "rated_online"
    waiting = [n for n in dispatched if n not in answered + rated]
    assert all(states[n]["stage"] == "callback" for n in waiting)

    async def queue_is_the_waiting_ones():
        queue = {t["number"] for t in (await api.http.get("/callbacks", params={"limit": 500}, headers=center)).json()}
        assert set(waiting) <= queue and not (set(answered + rated) & queue), queue

    await assert_eventually(queue_is_the_waiting_ones)

    # The day's figures, as the center's report shows them.
    async def counted():
        stats = (await api.http.get("/stats/intake", params={"since": began.isoformat()}, headers=supervisor)).json()
        assert stats["by_stage"].get("callback") == len(waiting), stats["by_stage"]
        return stats

    stats = await assert_eventually(counted)
    expected_paths: dict[str, int] = {}
    for r in DAY:
        if r["expected"] != "merge":
            expected_paths[r["expected"]] = expected_paths.get(r["expected"], 0) + 1
    assert stats["by_path"] == expected_paths
    assert stats["tickets"] == len(DAY) - sum(1 for r in DAY if r["expected"] == "merge")
    assert stats["merged_repeats"] == sum(1 for r in DAY if r["expected"] == "merge")
    assert stats["by_outcome"]["confirmed"] == len(answered) and stats["by_outcome"]["rated_online"] == len(rated)
    channels = {}
    for r in DAY:
        if r["expected"] != "merge":
            channels[r["channel"]] = channels.get(r["channel"], 0) + 1
    assert stats["by_channel"] == channels
