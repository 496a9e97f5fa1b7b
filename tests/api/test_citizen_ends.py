"""The citizen's two ends over HTTP: the desk's triage and knowledge base, repeats joining open
tickets, the callback queue, and the citizen's own look-up and online rating."""

import uuid

from readmodel import knowledge
from tests.api.test_end_to_end import LEAD, fresh
from tests.eventually import assert_eventually


async def _ticket(api, body=None):
    r = await api.http.post(
        "/tickets", json=body or fresh(), headers=api.auth("intake") | {"Idempotency-Key": str(uuid.uuid4())}
    )
    assert r.status_code in (200, 201), r.text
    return r


async def _state(api, number):
    return (await api.http.get(f"/tickets/{number}", headers=api.auth("center"))).json()


async def _projected(api, number, stage=None):
    """Until the read model lists the ticket (in `stage`, if given)."""

    async def check():
        r = await api.http.get("/tickets", params={"status": stage} if stage else {}, headers=api.auth("supervisor"))
        assert number in {i["number"] for i in r.json()["items"]}, (number, stage)

    await assert_eventually(check)


async def test_the_center_keeps_the_knowledge_base_and_a_new_article_answers_at_once(api):
    knowledge.seed(api.settings.database_url, api.settings.city)
    center, intake = api.auth("center"), api.auth("intake")
    slug = f"dog_licence_{uuid.uuid4().hex[:6]}"
    article = {
        "id": slug, "title": "养犬登记办理", "question": "养犬登记证怎么办理",
        "keywords": ["养犬", "养犬登记", "犬证"],
        "answer": "携带身份证、犬只免疫证明到居住地派出所或通过“青岛公安”平台办理养犬登记，具体以公安机关公布为准。",
    }  # fmt: skip
    assert (await api.http.post("/knowledge", json=article, headers=intake)).status_code == 403
    r = await api.http.post("/knowledge", json=article, headers=center)
    assert r.status_code == 201, r.text
    assert (await api.http.post("/knowledge", json=article, headers=center)).status_code == 409
    bad = await api.http.post("/knowledge", json={**article, "id": "有中文"}, headers=center)
    assert bad.status_code == 422 and "id" in bad.text

    hits = (
        await api.http.get("/knowledge/search", params={"q": "我家养了条狗，养犬登记证去哪办"}, headers=intake)
    ).json()
    assert hits[0]["article"]["id"] == slug and "养犬" in hits[0]["matched"]

    preview = (
        await api.http.post(
            "/triage",
            json={"description": "刚养了只狗，请问养犬登记证在哪里办理", "kind": "consultation"},
            headers=intake,
        )
    ).json()
    assert preview["suggestion"]["path"] == "direct_answer" and preview["suggestion"]["article"]["id"] == slug

    body = fresh(
        kind="consultation",
        category="police.household_registration",
        description="刚养了只狗，请问养犬登记证在哪里办理",
    )
    number = (await _ticket(api, body)).json()["number"]

    async def answered():
        s = await _state(api, number)
        assert s["stage"] == "closed", s["stage"]
        return s

    s = await assert_eventually(answered)
    assert s["outcome"] == "direct_answer" and s["triage"]["article"]["id"] == slug

    # An edit on a stale copy is refused; a withdrawn article no longer answers.
    r = await api.http.put(f"/knowledge/{slug}", json={"answer": "新的答复口径", "version": 1}, headers=center)
    assert r.status_code == 200 and r.json()["version"] == 2
    r = await api.http.put(f"/knowledge/{slug}", json={"title": "养犬登记", "version": 1}, headers=center)
    assert r.status_code == 409 and "version 2" in r.json()["detail"]
    assert (await api.http.delete(f"/knowledge/{slug}", headers=center)).json()["active"] is False
    preview = (
        await api.http.post(
            "/triage",
            json={"description": "刚养了只狗，请问养犬登记证在哪里办理", "kind": "consultation"},
            headers=intake,
        )
    ).json()
    # The starter article on dog registration may answer instead; the withdrawn one never does.
    assert (preview["suggestion"].get("article") or {}).get("id") != slug
    assert (await api.http.get("/knowledge/nope", headers=intake)).status_code == 404


async def test_triage_preview_hints_emergency_words(api):
    r = await api.http.post(
        "/triage",
        json={"description": "隔壁单元好像着火了，楼道里全是浓烟", "kind": "help"},
        headers=api.auth("intake"),
    )
    assert r.status_code == 200
    assert r.json()["emergency_hints"][0]["number"] == "119"
    assert (
        await api.http.post("/triage", json={"description": "x", "kind": "help"}, headers=api.auth("intake"))
    ).status_code == 422
    assert (
        await api.http.post("/triage", json={"description": "着火了", "kind": "help"}, headers=api.auth("unit", LEAD))
    ).status_code == 403


async def test_a_repeat_joins_the_open_ticket_and_the_caller_gets_its_number(api):
    first = fresh()
    number = (await _ticket(api, first)).json()["number"]
    await _projected(api, number, "dispatch")
    # The same citizen again, through WeChat: joins the open ticket.
    again = {**first, "channel": "wechat", "description": "上次反映的烧烤摊今晚又出来了"}
    r = await _ticket(api, again)
    assert r.status_code == 200 and r.json() == r.json() | {"number": number, "merged": True}
    # A neighbour about the same place and matter: joins too.
    neighbour = {**first, "citizen": {"name": "刘先生", "phone": "13912345678"}, "description": "楼下烧烤天天到半夜"}
    assert (await _ticket(api, neighbour)).json()["number"] == number
    # The operator may insist on a ticket of its own, with a reason.
    own = {**neighbour, "triage_override": {"path": "dispatch", "reason": "群众要求单独立案"}}
    r = await _ticket(api, own)
    assert r.status_code == 201 and r.json()["number"] != number
    third = {**first, "description": "第三次反映了，还是没人管"}
    await _ticket(api, third)
    s = await _state(api, number)
    assert [e["data"]["repeat"] for e in s["timeline"] if e["event"] == "merged"] == [1, 2, 3]
    assert "supervised" in s["flags"]
    # The neighbour follows the ticket with the phone they called from, but it is not theirs to rate.
    r = await api.http.post(f"/public/tickets/{number}/lookup", json={"phone": "13912345678"})
    assert r.status_code == 200 and "您的再次反映已并入本工单" in [p["what"] for p in r.json()["progress"]]
    assert r.json()["can_rate"] is False
    rating = {"phone": "13912345678", "resolved": True, "satisfaction": "satisfied"}
    assert (await api.http.post(f"/public/tickets/{number}/rating", json=rating)).status_code == 403


async def test_the_citizen_looks_up_and_rates_online_and_a_wrong_phone_learns_nothing(api):
    body = fresh()
    phone = body["citizen"]["phone"]
    number = (await _ticket(api, body)).json()["number"]
    public = f"/public/tickets/{number}"

    r = await api.http.post(f"{public}/lookup", json={"phone": "13000000000"})
    assert r.status_code == 404
    unknown = await api.http.post("/public/tickets/20990101999999/lookup", json={"phone": phone})
    assert (
        unknown.status_code == 404 and unknown.json()["detail"].replace("20990101999999", number) == r.json()["detail"]
    )

    r = await api.http.post(f"{public}/lookup", json={"phone": f"+86 {phone[:3]}-{phone[3:7]}-{phone[7:]}"})
    assert r.status_code == 200, r.text
    view = r.json()
    assert view["phone"] == f"{phone[:3]}****{phone[-4:]}" and view["name"] == "王**"
    assert phone not in r.text and "王女士" not in r.text
    assert view["progress"][0]["what"] == "已受理" and view["can_rate"] is False

    rating = {"phone": phone, "resolved": True, "satisfaction": "satisfied", "comment": "处理得很快"}
    early = await api.http.post(f"{public}/rating", json=rating)
    assert early.status_code == 409 and "once it has been answered" in early.json()["detail"]

    unit = api.auth("unit", LEAD)
    await _projected(api, number, "dispatch")
    assert (await api.http.post(f"/tickets/{number}/acknowledge", headers=unit)).status_code == 200
    r = await api.http.post(
        f"/tickets/{number}/complete", headers=unit, json={"result": "resolved", "reply": "城管已取缔占道烧烤摊"}
    )
    assert r.status_code == 200, r.text

    async def waiting():
        v = (await api.http.post(f"{public}/lookup", json={"phone": phone})).json()
        assert v["can_rate"], v
        return v

    view = await assert_eventually(waiting)
    assert view["reply"] == "城管已取缔占道烧烤摊" and "承办单位已答复" in [p["what"] for p in view["progress"]]
    await _projected(api, number, "callback")
    queue = (await api.http.get("/callbacks", headers=api.auth("center"))).json()
    assert number in [t["number"] for t in queue]

    r = await api.http.post(f"{public}/rating", json=rating)
    assert r.status_code == 200, r.text
    assert r.json()["rating"] == "satisfied"

    async def closed():
        s = await _state(api, number)
        assert s["stage"] == "closed", s["stage"]
        return s

    assert (await assert_eventually(closed))["outcome"] == "rated_online"
    again = await api.http.post(f"{public}/rating", json=rating)
    assert again.status_code == 409
    await _projected(api, number, "closed")
    assert number not in [t["number"] for t in (await api.http.get("/callbacks", headers=api.auth("center"))).json()]

    # With Temporal away (or the workflow past its retention), the citizen still finds the
    # ticket: the read model keeps its masked state and the phone's salted hash.
    import httpx

    from api.main import create_app
    from tests.conftest import task_queue
    from tests.simulated import free_port, serve

    away = api.settings.model_copy(update={"temporal_address": f"127.0.0.1:{free_port()}", "task_queue": task_queue()})
    async with serve(create_app(away)) as url, httpx.AsyncClient(base_url=url, timeout=30) as http:
        r = await http.post(f"{public}/lookup", json={"phone": phone})
        assert r.status_code == 200, r.text
        assert (r.json()["outcome"], r.json()["reply"], r.json()["can_rate"]) == (
            "rated_online",
            "城管已取缔占道烧烤摊",
            False,
        )
        assert (await http.post(f"{public}/lookup", json={"phone": "13000000000"})).status_code == 404
        r = await http.get(f"/tickets/{number}", headers=api.auth("center"))
        assert r.status_code == 200 and r.headers["X-Ticket-Source"] == "read-model" and phone not in r.text


async def test_guessing_phones_is_stopped_without_locking_the_citizen_out(api):
    """Ten wrong phones for a ticket number within the hour, from many addresses and across two
    API processes sharing the read model: further wrong phones get 429, the right one still
    opens. A client address that guessed twenty times is turned away whatever it sends."""
    import httpx

    from api.main import create_app
    from tests.simulated import serve

    def at(address: str) -> dict[str, str]:
        return {"X-Forwarded-For": address}  # uvicorn trusts it from 127.0.0.1, as from a proxy

    body = fresh()
    number = (await _ticket(api, body)).json()["number"]
    other = fresh()
    other_number = (await _ticket(api, other)).json()["number"]
    public = f"/public/tickets/{number}/lookup"
    async with serve(create_app(api.settings, client=api.client)) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as replica:
            for i in range(10):
                http = api.http if i % 2 else replica
                r = await http.post(public, json={"phone": f"1380000{i:04d}"}, headers=at(f"10.1.0.{i}"))
                assert r.status_code == 404, r.text
            r = await replica.post(public, json={"phone": "13800009999"}, headers=at("10.1.0.99"))
            assert r.status_code == 429 and r.headers["Retry-After"] == "3600", r.text
            for http in (api.http, replica):
                r = await http.post(public, json={"phone": body["citizen"]["phone"]}, headers=at("10.2.0.1"))
                assert r.status_code == 200, r.text

    guesser, right = at("10.3.0.1"), {"phone": other["citizen"]["phone"]}
    for i in range(api.settings.lookup_failures_per_client):
        r = await api.http.post(f"/public/tickets/2099{i:010d}/lookup", json={"phone": "13800000000"}, headers=guesser)
        assert r.status_code == 404, r.text
    r = await api.http.post(f"/public/tickets/{other_number}/lookup", json=right, headers=guesser)
    assert r.status_code == 429, r.text
    r = await api.http.post(f"/public/tickets/{other_number}/lookup", json=right, headers=at("10.3.0.2"))
    assert r.status_code == 200, r.text


async def test_a_wrong_number_and_a_wrong_phone_take_the_same_time(api):
    import statistics
    import time

    from api.routes.public import FAILURE_SECONDS

    number = (await _ticket(api, fresh())).json()["number"]
    times: dict[str, list[float]] = {"number": [], "phone": []}
    paths = {"number": "/public/tickets/20990000000001/lookup", "phone": f"/public/tickets/{number}/lookup"}
    for i in range(4):
        for what, path in paths.items():
            started = time.monotonic()
            address = {"X-Forwarded-For": f"10.4.{i}.{len(what)}"}
            r = await api.http.post(path, json={"phone": "13000000000"}, headers=address)
            times[what].append(time.monotonic() - started)
            assert r.status_code == 404 and r.json()["detail"].startswith("no ticket"), r.text
    assert min(times["number"] + times["phone"]) >= FAILURE_SECONDS
    assert abs(statistics.median(times["number"]) - statistics.median(times["phone"])) < 0.05, times


async def test_center_lists_refuse_bad_input_with_reasons(api):
    center = api.auth("center")
    r = await api.http.get("/clearing-list", params={"month": "2026-13"}, headers=center)
    assert r.status_code == 422 and "YYYY-MM" in r.json()["detail"]
    assert (await api.http.get("/clearing-list", params={"month": "2026-11"}, headers=center)).status_code == 200
    assert (await api.http.get("/callbacks", headers=api.auth("unit", LEAD))).status_code == 403
    r = await api.http.get("/stats/intake", params={"since": "2026-11-01T00:00:00"}, headers=center)
    assert r.status_code == 422 and "time zone" in r.json()["detail"]


async def test_a_burst_of_repeats_all_join_the_one_ticket(api):
    """Twenty desks take the same citizen's repeat at once: every one joins, none is lost or fails."""
    import asyncio

    body = fresh()
    number = (await _ticket(api, body)).json()["number"]
    await _projected(api, number, "dispatch")
    replies = await asyncio.gather(
        *(_ticket(api, {**body, "description": f"第{i}次催问，烧烤摊还在"}) for i in range(20))
    )
    assert {(r.status_code, r.json()["number"]) for r in replies} == {(200, number)}
    s = await _state(api, number)
    assert len(s["appeals"]) == 20 and "supervised" in s["flags"]
