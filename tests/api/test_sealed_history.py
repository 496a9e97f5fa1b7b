"""Citizen data is sealed in Temporal: its raw history holds no phone or name, and only center
staff can have the API's codec endpoint open the payloads (the Temporal Web UI's codec server)."""

import base64

from google.protobuf import json_format
from temporalio.api.common.v1 import Payloads, WorkflowExecution
from temporalio.api.workflowservice.v1 import GetWorkflowExecutionHistoryRequest

from tests.api.test_end_to_end import create, fresh

NAME = "欧阳秀英"


async def test_the_raw_history_holds_no_citizen_and_the_codec_opens_it_for_the_center(api):
    body = fresh(citizen={"name": NAME, "phone": "13712345678"})
    r = await create(api, body)
    assert r.status_code == 201, r.text
    number = r.json()["number"]
    request = GetWorkflowExecutionHistoryRequest(
        namespace=api.client.namespace, execution=WorkflowExecution(workflow_id=f"ticket-{number}")
    )
    history = await api.client.workflow_service.get_workflow_execution_history(request)
    raw = history.SerializeToString()
    assert b"13712345678" not in raw and NAME.encode() not in raw
    assert "13712345678" not in json_format.MessageToJson(history)

    started = history.history.events[0].workflow_execution_started_event_attributes.input
    wire = json_format.MessageToDict(started)
    opened = await api.http.post("/codec/decode", json=wire, headers=api.auth("center"))
    assert opened.status_code == 200, opened.text
    plain = json_format.ParseDict(opened.json(), Payloads())
    assert b"13712345678" in plain.payloads[0].data and NAME.encode() in plain.payloads[0].data
    assert base64.b64decode(opened.json()["payloads"][0]["metadata"]["encoding"]) == b"json/plain"

    for who, status in ((api.auth("supervisor"), 403), (api.auth("leader"), 403), ({}, 401)):
        refused = await api.http.post("/codec/decode", json=wire, headers=who)
        assert refused.status_code == status, refused.text
