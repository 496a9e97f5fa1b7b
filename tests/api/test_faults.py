"""Faults and races at the intake desk, over real HTTP on both databases: simultaneous repeats
become one ticket; a ticket taken in while Temporal is down is visible at once and starts within
seconds of Temporal's return; unit actions waiting on a stalled ticket leave the database to others."""

import asyncio
import time
import uuid
from datetime import timedelta

import httpx
from sqlmodel import select

from api import workflow_calls
from api.main import create_app
from api.projection_check import check
from api.routes import handling
from api.workflow_calls import query_state
from domain.contracts import Projection
from domain.vocabulary import Stage
from readmodel import db
from readmodel.projection import write_ticket
from readmodel.tables import IntakeRequestRow, TicketRow, utcnow
from tests.api.test_end_to_end import create, fresh
from tests.eventually import assert_eventually
from tests.simulated import free_port
from tests.simulated import serve as serve_app
from worker import reconciling


async def test_simultaneous_repeats_become_one_ticket(api):
    body = fresh()
    answers = await asyncio.gather(*(create(api, body, key=str(uuid.uuid4())) for _ in range(6)))
    assert all(r.status_code in (200, 201) for r in answers), [r.text for r in answers]
    created = [r for r in answers if r.status_code == 201]
    assert len(created) == 1, [r.json() for r in answers]
    number = created[0].json()["number"]
    assert {r.json()["number"] for r in answers} == {number}
    assert all(r.json()["merged"] for r in answers if r.status_code == 200)

    async def joined():
        state = (await api.http.get(f"/tickets/{number}", headers=api.auth("supervisor"))).json()
        assert len(state["appeals"]) == 5, state["appeals"]

    await assert_eventually(joined)


async def test_same_place_different_citizens_at_once_also_merge(api):
    body = fresh()
    other = {**body, "citizen": {**body["citizen"], "phone": fresh()["citizen"]["phone"]}}
    a, b = await asyncio.gather(create(api, body, str(uuid.uuid4())), create(api, other, str(uuid.uuid4())))
    assert sorted([a.status_code, b.status_code]) == [200, 201], (a.text, b.text)
    assert a.json()["number"] == b.json()["number"]


async def test_a_deferred_ticket_is_visible_at_once_and_starts_within_seconds(api):
    # The API's Temporal is down: the intake is recorded (202).
    down = api.settings.model_copy(update={"temporal_address": f"127.0.0.1:{free_port()}"})
    async with serve_app(create_app(down)) as url, httpx.AsyncClient(base_url=url, timeout=30) as http:
        r = await http.post(
            "/tickets", json=fresh(), headers=api.auth("intake") | {"Idempotency-Key": str(uuid.uuid4())}
        )
        assert r.status_code == 202, r.text
        number = r.json()["number"]
        # Visible at once, from the intake ledger, and said to be starting.
        r = await http.get(f"/tickets/{number}", headers=api.auth("supervisor"))
        assert r.status_code == 200, r.text
        assert r.json()["stage"] == "intake" and r.headers["X-Ticket-Source"] == "intake-ledger"
        assert r.json()["timeline"][-1]["event"] == "being_started"
        # Actions on it: 503 "being started" with Retry-After, not 404 "no ticket".
        r = await http.post(f"/tickets/{number}/acknowledge", headers=api.auth("unit", "qd.shinan.badaxia"))
        assert r.status_code == 503 and "being started" in r.json()["detail"] and r.headers["Retry-After"], r.text

    # Temporal answers again (the API with a working connection): still visible, still being started.
    r = await api.http.get(f"/tickets/{number}", headers=api.auth("supervisor"))
    assert r.status_code == 200 and r.json()["stage"] == "intake", r.text
    r = await api.http.post(f"/tickets/{number}/complete", headers=api.auth("unit", "qd.shinan.badaxia"),
                            json={"result": "resolved", "reply": "已处理"})  # fmt: skip
    assert r.status_code == 503 and "being started" in r.json()["detail"], r.text

    # The reconciler beside the worker, at its own cadence, starts it within seconds.
    began = time.monotonic()
    async with reconciling(api.client, api.settings):

        async def started():
            with db.session(api.settings.database_url) as session:
                row = session.exec(select(IntakeRequestRow).where(IntakeRequestRow.number == number)).one()
            assert row.started_at is not None

        await assert_eventually(started, timeout=20, interval=0.1)
    assert time.monotonic() - began < 8

    async def dispatched():
        r = await api.http.get(f"/tickets/{number}", headers=api.auth("supervisor"))
        assert r.json()["stage"] == "dispatch", r.json()

    await assert_eventually(dispatched)


async def dispatched_and_projected(api, number: str):
    """The ticket's workflow has dispatched it and its row shows the same version."""
    live = await query_state(api.client, number)
    with db.session(api.settings.database_url) as session:
        row = session.get(TicketRow, number)
    assert row is not None and live.stage == Stage.dispatch and row.version == live.version, (live, row)
    return live


async def test_a_row_written_ahead_of_its_workflow_is_rewritten_from_it(api):
    """A workflow task wrote the read model and never completed (the worker killed before it did):
    the row says "closed" while the workflow still waits for the callback. The projection check,
    beside the worker, rewrites it from the workflow, and leaves rows that agree alone."""
    number = (await create(api, fresh(), str(uuid.uuid4()))).json()["number"]

    live = await assert_eventually(lambda: dispatched_and_projected(api, number))
    began = utcnow() - timedelta(seconds=1)
    # What the lost task wrote: two changes on, closed.
    ahead = live.model_copy(update={"version": live.version + 2, "stage": Stage.closed})
    with db.get_engine(api.settings.database_url).begin() as conn:
        assert write_ticket(conn, Projection(state=ahead.masked(), citizen_key=None))
    listed = await api.http.get("/tickets", params={"status": "closed"}, headers=api.auth("supervisor"))
    assert number in [t["number"] for t in listed.json()["items"]], listed.text

    _, repaired = await check(api.client, api.settings, began, utcnow())
    assert repaired == 1
    with db.session(api.settings.database_url) as session:
        row = session.get(TicketRow, number)
        assert (row.stage, row.version) == ("dispatch", live.version)
    listed = await api.http.get("/tickets", params={"status": "closed"}, headers=api.auth("supervisor"))
    assert number not in [t["number"] for t in listed.json()["items"]], listed.text
    # Checked again (the repair wrote the row anew): it agrees now, and nothing is rewritten.
    assert (await check(api.client, api.settings, began, utcnow()))[1] == 0


async def test_a_unit_acting_while_the_read_model_shows_intake_is_told_to_retry_without_an_update(api):
    """The lead's 'acknowledge' while the row still says intake: 409 "being dispatched" with
    Retry-After, answered from the read model; no update reaches the workflow (one sent now would be
    taken, the ticket being dispatched there already). Once the row shows the dispatch, it is taken."""
    number = (await create(api, fresh(), str(uuid.uuid4()))).json()["number"]

    live = await assert_eventually(lambda: dispatched_and_projected(api, number))
    in_intake = live.model_copy(update={"stage": Stage.intake})
    with db.get_engine(api.settings.database_url).begin() as conn:
        assert write_ticket(conn, Projection(state=in_intake.masked(), citizen_key=None), replacing=live.version)
    lead = api.auth("unit", live.lead_unit)
    r = await api.http.post(f"/tickets/{number}/acknowledge", headers=lead)
    assert r.status_code == 409 and "being dispatched" in r.json()["detail"], r.text
    assert r.headers["Retry-After"] == "2"
    assert (await query_state(api.client, number)).version == live.version  # the workflow never saw it

    with db.get_engine(api.settings.database_url).begin() as conn:
        assert write_ticket(conn, Projection(state=live.masked(), citizen_key=None), replacing=live.version)
    r = await api.http.post(f"/tickets/{number}/acknowledge", headers=lead)
    assert r.status_code == 200 and r.json()["stage"] == "handling", r.text


async def test_unit_actions_waiting_on_a_stalled_ticket_leave_the_database_to_everyone_else(api, monkeypatch):
    """A worker too busy to run a ticket's task: its lead's actions wait on Temporal. More of them
    than the database pool holds, and the supervisors' lists still answer while all of them wait;
    each then answers 503 with Retry-After, not a hang."""
    number = (await create(api, fresh(), str(uuid.uuid4()))).json()["number"]
    live = await assert_eventually(lambda: dispatched_and_projected(api, number))
    # A ticket whose workflow no worker polls (its task waits, as on a starved worker), shown dispatched.
    stalled = f"2999{uuid.uuid4().int % 10**10:010d}"
    handle = await api.client.start_workflow(
        "TicketWorkflow", id=f"ticket-{stalled}", task_queue=f"nobody-polls-{uuid.uuid4().hex}"
    )
    state = live.model_copy(update={"number": stalled, "workflow_id": f"ticket-{stalled}"})
    with db.get_engine(api.settings.database_url).begin() as conn:
        assert write_ticket(conn, Projection(state=state.masked(), citizen_key=None))

    waiting = 0
    real_update = handling.update

    async def counted(*args, **kw):
        nonlocal waiting
        waiting += 1
        return await real_update(*args, **kw)

    monkeypatch.setattr(handling, "update", counted)
    monkeypatch.setattr(workflow_calls, "UPDATE_TIMEOUT_SECONDS", 8.0)
    lead = api.auth("unit", live.lead_unit)
    try:
        actions = [
            asyncio.create_task(api.http.post(f"/tickets/{stalled}/acknowledge", headers=lead)) for _ in range(25)
        ]

        async def all_waiting() -> None:
            assert waiting == len(actions)

        await assert_eventually(all_waiting)
        listed = await api.http.get("/tickets", params={"stage": "dispatch"}, headers=api.auth("supervisor"))
        assert listed.status_code == 200, listed.text
        assert not any(a.done() for a in actions), "the list had to wait for the actions to give up"
        for answer in await asyncio.gather(*actions):
            assert answer.status_code == 503 and "Retry-After" in answer.headers, answer.text
    finally:
        await handle.terminate("test over")
