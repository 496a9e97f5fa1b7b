"""Deadlines as supervisors see them: the list, the search attributes and the live state agree."""

import json
from datetime import timedelta

from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionRequest

from tests.api.test_end_to_end import fresh

LEAD = "qd.shinan.badaxia"


async def search_attributes(api, number: str) -> dict:
    raw = await api.client.workflow_service.describe_workflow_execution(
        DescribeWorkflowExecutionRequest(
            namespace="default", execution=WorkflowExecution(workflow_id=f"ticket-{number}")
        )
    )
    fields = raw.workflow_execution_info.search_attributes.indexed_fields
    # An unset attribute comes back as binary/null (the time-skipping server keeps the key).
    return {k: json.loads(fields[k].data) if fields[k].data else None for k in fields if k.startswith("Ticket")}


async def views(api, number: str):
    center = api.auth("center")
    state = (await api.http.get(f"/tickets/{number}", headers=center)).json()
    overdue = [
        t["number"]
        for t in (await api.http.get("/tickets", params={"overdue": "true"}, headers=center)).json()["items"]
    ]
    on_time = [
        t["number"]
        for t in (await api.http.get("/tickets", params={"overdue": "false"}, headers=center)).json()["items"]
    ]
    return state, number in overdue, number in on_time, await search_attributes(api, number)


async def test_overdue_then_escalation(api_in_skipped_time, time_env):
    api = api_in_skipped_time
    unit = api.auth("unit", LEAD)
    number = (await api.http.post("/tickets", json=fresh(urgency="emergency"), headers=api.auth("intake"))).json()[
        "number"
    ]
    await time_env.sleep(timedelta(seconds=1))
    assert (await api.http.post(f"/tickets/{number}/acknowledge", headers=unit)).status_code == 200
    await api.http.post(f"/tickets/{number}/progress", headers=unit, json={"note": "已联系", "contacted_citizen": True})
    await time_env.sleep(timedelta(seconds=1))
    state, listed_overdue, listed_on_time, sa = await views(api, number)
    assert (state["overdue"], listed_overdue, listed_on_time, sa["TicketOverdue"]) == (False, False, True, False)

    await time_env.sleep(timedelta(hours=2, minutes=35))  # Qingdao emergency: 2 h; supervision +30 min
    state, listed_overdue, listed_on_time, sa = await views(api, number)
    assert (state["overdue"], listed_overdue, listed_on_time, sa["TicketOverdue"]) == (True, True, False, True)
    assert sa["TicketSupervised"] is True and "supervised" in state["flags"]

    await time_env.sleep(timedelta(minutes=30))  # escalation at +1 h: the district has a fresh deadline
    state, listed_overdue, listed_on_time, sa = await views(api, number)
    assert (state["overdue"], listed_overdue, listed_on_time, sa["TicketOverdue"]) == (False, False, True, False)
    assert state["tier"] == sa["TicketTier"] == "district"
    listed = (
        await api.http.get("/tickets", params={"tier": "district", "unit": "qd.shinan"}, headers=api.auth("center"))
    ).json()
    assert number in [t["number"] for t in listed["items"]]


async def test_deadline_actions_refuse_with_reasons(api_in_skipped_time, time_env):
    api = api_in_skipped_time
    unit = api.auth("unit", LEAD)
    number = (await api.http.post("/tickets", json=fresh(), headers=api.auth("intake"))).json()["number"]
    await time_env.sleep(timedelta(seconds=1))
    await api.http.post(f"/tickets/{number}/acknowledge", headers=unit)

    r = await api.http.post(
        f"/tickets/{number}/whistle", headers=unit, json={"units": ["不存在的局"], "reason": "联合执法"}
    )
    assert r.status_code == 422 and "unknown unit" in r.json()["detail"]
    r = await api.http.post(
        f"/tickets/{number}/whistle",
        headers=unit,
        json={"units": ["市城管局", "qd.dept.environment"], "reason": "联合执法"},
    )
    assert r.status_code == 200, r.text
    r = await api.http.post(
        f"/tickets/{number}/extension-request", headers=unit, json={"by": "three days", "reason": "工期"}
    )
    assert r.status_code == 422 and "not a time limit" in r.json()["detail"]
    r = await api.http.post(
        f"/tickets/{number}/extension-request", headers=unit, json={"by": "3d", "reason": "需协调产权单位"}
    )
    assert r.status_code == 200
    r = await api.http.post(f"/tickets/{number}/extension-decision", headers=unit, json={"approve": True})
    assert r.status_code == 403 and "center" in r.json()["detail"]
    r = await api.http.post(f"/tickets/{number}/extension-decision", headers=api.auth("center"), json={"approve": True})
    assert r.status_code == 200
    r = await api.http.post(
        f"/tickets/{number}/urge", headers=api.auth("unit", "qd.dept.housing"), json={"note": "请尽快"}
    )
    assert r.status_code == 403
    r = await api.http.post(
        f"/tickets/{number}/urge", headers=api.auth("unit", "qd.dept.urban"), json={"note": "请尽快"}
    )
    assert r.status_code == 200
    r = await api.http.post(f"/tickets/{number}/escalate", headers=api.auth("intake"), json={"reason": "太慢"})
    assert r.status_code == 403
    r = await api.http.post(f"/tickets/{number}/escalate", headers=unit, json={"reason": "需区级协调"})
    assert r.status_code == 200 and r.json()["tier"] == "district"
    # The summoned department now sees the ticket.
    r = await api.http.get(f"/tickets/{number}", headers=api.auth("unit", "qd.dept.environment"))
    assert r.status_code == 200
