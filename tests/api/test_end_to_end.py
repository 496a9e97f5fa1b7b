"""Over real HTTP, against the real Temporal dev server: what a call-center desk, a street office
and a callback operator do with a ticket."""

import random
import uuid
from datetime import timedelta

from sqlmodel import select

from api import intake
from domain.ticket import TicketInput
from readmodel import db
from readmodel.tables import IntakeRequestRow
from tests.eventually import assert_eventually
from tests.finish import quiet
from worker import reconciling

LEAD = "qd.shinan.badaxia"

REQUEST = {
    "channel": "phone",
    "kind": "complaint",
    "citizen": {"name": "王女士", "phone": "13800138000"},
    "description": "小区楼下烧烤摊占道经营，晚上十二点还在营业，油烟噪音扰民",
    "category": "urban.street_vendor",
    "address": {"district": "市南区", "street": "八大峡街道", "text": "团岛二路12号楼下"},
    "urgency": "normal",
}


def fresh(**overrides) -> dict:
    """A request from a citizen of its own at a place of its own: the same phone, or the same
    address, with the same category again would be a repeat and join the open ticket (并单)."""
    phone = f"139{random.randrange(10**8):08d}"
    place = f"团岛二路{random.randrange(1, 10**6)}号楼下"
    return {
        **REQUEST, "citizen": {**REQUEST["citizen"], "phone": phone},
        "address": {**REQUEST["address"], "text": place}, **overrides,
    }  # fmt: skip


async def eventually(condition, timeout: float = 30.0) -> None:
    """Until `condition()` (async, returning a bool) holds."""

    async def check():
        assert await condition(), f"{condition.__name__} did not hold"

    await assert_eventually(check, timeout=timeout)


async def create(api, body=None, key=None):
    headers = api.auth("intake") | ({"Idempotency-Key": key} if key else {})
    return await api.http.post("/tickets", json=body or fresh(), headers=headers)


async def test_a_ticket_from_call_to_close_over_http(api):
    r = await create(api, key=str(uuid.uuid4()))
    assert r.status_code == 201, r.text
    number = r.json()["number"]
    unit = api.auth("unit", LEAD)

    async def dispatched():
        r = await api.http.get(f"/tickets/{number}", headers=api.auth("supervisor"))
        assert r.json()["stage"] == "dispatch", r.json()
        return r.json()

    state = await assert_eventually(dispatched)
    assert state["lead_unit"] == LEAD and state["supervisor_unit"] == "qd.dept.urban"

    assert (await api.http.post(f"/tickets/{number}/acknowledge", headers=unit)).status_code == 200
    r = await api.http.post(
        f"/tickets/{number}/progress", headers=unit, json={"note": "已电话联系诉求人", "contacted_citizen": True}
    )
    assert r.status_code == 200
    r = await api.http.post(
        f"/tickets/{number}/complete", headers=unit, json={"result": "resolved", "reply": "已联合城管取缔占道烧烤"}
    )
    assert r.status_code == 200

    async def waiting_for_callback():
        r = await api.http.get(f"/tickets/{number}", headers=api.auth("center"))
        assert r.json()["stage"] == "callback", r.json()

    await assert_eventually(waiting_for_callback)
    r = await api.http.post(
        f"/tickets/{number}/callback", headers=api.auth("center"),
        json={"reached": True, "resolved": True, "satisfaction": "satisfied", "comment": "处理及时"},
    )  # fmt: skip
    assert r.status_code == 200, r.text

    async def closed_in_list():
        r = await api.http.get("/tickets", params={"status": "closed", "unit": LEAD}, headers=api.auth("supervisor"))
        listed = [t for t in r.json()["items"] if t["number"] == number]
        assert len(listed) == 1, "not in the list of closed tickets yet"
        return listed[0]

    listed = await assert_eventually(closed_in_list)
    assert listed["outcome"] == "confirmed"
    state = (await api.http.get(f"/tickets/{number}", headers=api.auth("supervisor"))).json()
    events = [e["event"] for e in state["timeline"]]
    for stage in (
        "received",
        "triaged",
        "routed",
        "dispatched",
        "copied",
        "acknowledged",
        "progress",
        "completed",
        "callback_answered",
        "closed",
    ):
        assert stage in events
    assert (
        events.index("dispatched") < events.index("acknowledged") < events.index("completed") < events.index("closed")
    )

    # Closed: nothing more is accepted.
    r = await api.http.post(f"/tickets/{number}/acknowledge", headers=unit)
    assert r.status_code == 409 and "closed" in r.json()["detail"]


async def test_the_same_idempotency_key_returns_the_same_ticket(api):
    key = str(uuid.uuid4())
    body = fresh()
    first = await create(api, body=body, key=key)
    again = await create(api, body=body, key=key)
    assert first.status_code == again.status_code == 201
    assert first.json()["number"] == again.json()["number"]
    assert again.headers["Idempotent-Replayed"] == "true"

    number = first.json()["number"]
    runs = [w async for w in api.client.list_workflows(f"WorkflowId = 'ticket-{number}'")]
    assert len(runs) == 1

    changed = dict(body, description="另一件事：路灯坏了")
    r = await create(api, body=changed, key=key)
    assert r.status_code == 422 and "different request" in r.json()["detail"]


async def test_search_attributes_find_the_ticket(api):
    number = (await create(api)).json()["number"]

    async def found():
        query = f"TicketLeadUnit = '{LEAD}' AND TicketStatus = 'dispatch' AND TicketDistrict = 'qd.shinan' AND WorkflowId = 'ticket-{number}'"
        runs = [w async for w in api.client.list_workflows(query)]
        assert runs, query
        return runs

    [listed] = await assert_eventually(found)
    assert listed.typed_search_attributes  # decoded by the typed keys


async def test_refusals_say_why_with_the_right_status(api):
    number = (await create(api)).json()["number"]
    unit = api.auth("unit", LEAD)
    other = api.auth("unit", "qd.shinan.yunnanlu")

    async def ready():
        r = await api.http.get(f"/tickets/{number}", headers=unit)
        assert r.status_code == 200 and r.json()["stage"] == "dispatch", r.text

    await assert_eventually(ready)
    r = await api.http.post(f"/tickets/{number}/complete", headers=unit, json={"result": "resolved", "reply": "已处理"})
    assert r.status_code == 409 and "acknowledged" in r.json()["detail"]
    r = await api.http.post(f"/tickets/{number}/acknowledge", headers=other)
    assert r.status_code == 403 and "八大峡街道" in r.json()["detail"]
    r = await api.http.get(f"/tickets/{number}", headers=other)
    assert r.status_code == 403
    r = await api.http.post("/tickets/20990101999999/acknowledge", headers=unit)
    assert r.status_code == 404
    r = await api.http.get("/tickets/20990101999999", headers=unit)
    assert r.status_code == 404
    r = await api.http.post(f"/tickets/{number}/acknowledge")
    assert r.status_code == 401
    r = await api.http.post(f"/tickets/{number}/acknowledge", headers=api.auth("intake"))
    assert r.status_code == 403 and "role intake" in r.json()["detail"]
    r = await api.http.post(f"/tickets/{number}/complete", headers=unit, json={"result": "done", "reply": "x"})
    assert r.status_code == 422 and "result" in r.json()["detail"]

    for body, reason in (
        (dict(REQUEST, category="no.such"), "unknown category"),
        (dict(REQUEST, address={"district": "市北区", "street": "八大峡街道"}), "not in 市北区"),
        (dict(REQUEST, address={"district": "朝阳区", "street": "八大峡街道"}), "unknown district"),
        (dict(REQUEST, description=" "), "description"),
        (dict(REQUEST, citizen={"phone": "call me"}), "phone"),
        ({k: v for k, v in REQUEST.items() if k != "kind"}, "kind"),
    ):
        r = await create(api, body=body)
        assert r.status_code == 422, (body, r.text)
        assert reason in r.json()["detail"], r.json()


async def test_a_refused_update_leaves_no_trace_in_history(api):
    number = (await create(api)).json()["number"]
    handle = api.client.get_workflow_handle(f"ticket-{number}")
    unit = api.auth("unit", LEAD)

    async def acknowledged():
        r = await api.http.post(f"/tickets/{number}/acknowledge", headers=unit)
        assert r.status_code == 200, r.text

    await assert_eventually(acknowledged)

    async def settled():  # what the acknowledgement set going (projection, deliveries) has finished
        assert await quiet(api.client, handle.id), "a workflow task or an activity is still in flight"

    await assert_eventually(settled)
    before = [e.event_type for e in (await handle.fetch_history()).events]
    r = await api.http.post(
        f"/tickets/{number}/complete",
        headers=api.auth("unit", "qd.shinan.yunnanlu"),
        json={"result": "resolved", "reply": "已处理"},
    )
    assert r.status_code == 403
    assert [e.event_type for e in (await handle.fetch_history()).events] == before


async def test_a_ticket_recorded_before_a_crash_is_started_by_the_reconciler(api):
    # The API wrote the intake row and died before starting the workflow.
    body = fresh()
    body = intake.IntakeBody.model_validate(
        {**body, "address": {**body["address"], "district": "qd.shinan", "street": "qd.shinan.badaxia"}}
    )
    finder = intake.repeat_finder(api.settings, body)
    with db.session(api.settings.database_url) as session:
        row, inp, created = intake._reserve(session, str(uuid.uuid4()), body, "intake", finder)
    assert created and isinstance(inp, TicketInput)
    started = await intake.reconcile(api.client, api.settings, older_than=__import__("datetime").timedelta(0))
    assert started == 1
    handle = api.client.get_workflow_handle(f"ticket-{row.number}")
    assert (await handle.describe()).status.name == "RUNNING"
    with db.session(api.settings.database_url) as session:
        saved = session.exec(select(IntakeRequestRow).where(IntakeRequestRow.number == row.number)).one()
        assert saved.started_at is not None and saved.payload_json is None


async def test_the_reconciler_beside_the_worker_starts_what_a_dead_api_recorded(api):
    # The API wrote the intake row and died; the worker process's reconciler loop finishes it.
    body = fresh()
    body = intake.IntakeBody.model_validate(
        {**body, "address": {**body["address"], "district": "qd.shinan", "street": "qd.shinan.badaxia"}}
    )
    with db.session(api.settings.database_url) as session:
        row, _, _ = intake._reserve(
            session, str(uuid.uuid4()), body, "intake", intake.repeat_finder(api.settings, body)
        )

    async def recovered():
        with db.session(api.settings.database_url) as session:
            saved = session.exec(select(IntakeRequestRow).where(IntakeRequestRow.number == row.number)).one()
        assert saved.started_at is not None, "the recorded intake is not started yet"

    async with reconciling(api.client, api.settings, every=timedelta(milliseconds=200), older_than=timedelta(0)):
        await assert_eventually(recovered)
    handle = api.client.get_workflow_handle(f"ticket-{row.number}")
    assert (await handle.describe()).status.name == "RUNNING"
