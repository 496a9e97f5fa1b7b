"""What an attacker or a careless client sends gets a clear 4xx or a 503, never a crash; what does
fail unexpectedly answers a short 500 with a request id and leaves a log without secrets."""

import asyncio
import json

import httpx
import pytest
from pydantic import SecretStr
from starlette.requests import Request

from api.auth import mint
from api.main import create_app
from core.logging import configure_logging
from core.settings import Settings
from domain.vocabulary import Role
from tests.simulated import serve

SALT = "salt-of-this-city-7f3a9c"
SECRET = "token-secret-of-this-city-0d41e8b2"


@pytest.fixture
def hardened(settings: Settings) -> Settings:
    # Temporal on a closed port: every call that needs it must answer 503, not hang or crash.
    return settings.model_copy(
        update={
            "phone_hash_salt": SecretStr(SALT),
            "token_secret": SecretStr(SECRET),
            "temporal_address": "127.0.0.1:1",
        }
    )


def bearer(settings: Settings, role: Role, unit: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint(settings.token_secret.get_secret_value(), role, 'tester', unit)}"}


@pytest.mark.parametrize(
    "path",
    [
        "/tickets?page=99999999999999999999",
        "/tickets?page=100001",
        "/deliveries?page=99999999999999999999",
        "/knowledge?page=99999999999999999999",
        "/stats/intake?since=0001-01-01T00:00:00",
        "/stats/intake?since=0001-01-01T00:00:00%2B08:00",
        "/stats/intake?until=9999-12-31T23:59:59%2B00:00",
        "/clearing-list?month=9999-12",
        "/clearing-list?month=2026-13",
        "/clearing-list?month=0000-01",
    ],
)
async def test_out_of_range_parameters_are_a_clear_422(hardened, path):
    transport = httpx.ASGITransport(app=create_app(hardened))
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
        r = await http.get(path, headers=bearer(hardened, Role.center))
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["detail"] and body["errors"], body


async def test_temporal_down_is_a_503_with_retry_after(hardened):
    transport = httpx.ASGITransport(app=create_app(hardened))
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
        r = await http.post(
            "/tickets/20261122000001/acknowledge", json={}, headers=bearer(hardened, Role.unit, "qd.shinan.badaxia")
        )
    assert r.status_code == 503, r.text
    assert r.headers["Retry-After"]


@pytest.mark.parametrize("json_logs", [False, True], ids=["console", "json"])
async def test_an_unexpected_error_is_a_short_500_and_a_log_without_secrets(hardened, capsys, json_logs):
    configure_logging(json=json_logs, level="INFO", secrets=hardened.secret_values())
    app = create_app(hardened)

    async def broken(request: Request) -> None:  # a bug, with secrets and a citizen in its locals
        salt = hardened.phone_hash_salt.get_secret_value()
        token = request.headers["authorization"]
        citizen = await request.json()
        raise RuntimeError(f"bug while handling {citizen['phone']} with {salt} and {token}")

    app.add_api_route("/broken", broken, methods=["POST"])
    headers = bearer(hardened, Role.center)
    try:
        async with serve(app) as url, httpx.AsyncClient(base_url=url) as http:
            citizen = {"name": "王秀英", "phone": "13800138000"}
            r = await http.post("/broken", json=citizen, headers=headers | {"X-Request-ID": "req-0123456789"})
            health = await http.get("/health")  # the server goes on answering
    finally:
        log = capsys.readouterr().err
        configure_logging(json=False)
    assert r.status_code == 500
    assert r.json()["request_id"] == "req-0123456789" and r.headers["X-Request-ID"] == "req-0123456789"
    assert "RuntimeError" not in r.text and SALT not in r.text
    assert health.status_code == 200
    assert "Traceback" in log and "RuntimeError" in log and "req-0123456789" in log
    token = headers["Authorization"].removeprefix("Bearer ")
    for leak in (SALT, SECRET, SECRET[:12], token, token[:20], "13800138000", "王秀英"):
        assert leak not in log, f"{leak!r} in the log"
    if json_logs:
        lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
        error = next(line for line in lines if line.get("event") == "unexpected error")
        assert error["request_id"] == "req-0123456789" and "Traceback" in error["exception"]


@pytest.mark.parametrize(
    "text, char",
    [
        ("占道\x00经营", "U+0000"),
        ("噪音\x1b[31m扰民", "U+001B"),
        ("回复\u202e已解决", "U+202E"),
        ("油烟\u2066扰民", "U+2066"),
    ],
)
async def test_control_and_bidi_characters_are_refused_the_same_on_triage_and_tickets(hardened, text, char):
    transport = httpx.ASGITransport(app=create_app(hardened))
    request = {
        "channel": "phone", "kind": "complaint", "citizen": {"name": "王女士", "phone": "13800138000"},
        "description": f"小区楼下烧烤摊{text}，晚上十二点还在营业", "category": "urban.street_vendor",
        "address": {"district": "市南区", "street": "八大峡街道", "text": "团岛二路12号楼下"},
    }  # fmt: skip
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
        for path in ("/triage", "/tickets"):
            r = await http.post(path, json=request, headers=bearer(hardened, Role.intake))
            assert r.status_code == 422, (path, r.text)
            assert char in r.json()["detail"] and r.json()["errors"][0]["loc"] == ["body", "description"]
        r = await http.get("/knowledge/search", params={"q": "烧烤\x07"}, headers=bearer(hardened, Role.intake))
        assert r.status_code == 422 and "U+0007" in r.json()["detail"]


async def test_a_blank_description_is_refused_the_same_on_triage_and_tickets(hardened):
    transport = httpx.ASGITransport(app=create_app(hardened))
    blank = {"kind": "complaint", "description": "   \n  "}
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
        triage = await http.post("/triage", json=blank, headers=bearer(hardened, Role.intake))
        ticket = await http.post(
            "/tickets", json={**blank, "channel": "phone", "citizen": {}, "category": "x", "address": {}},
            headers=bearer(hardened, Role.intake),
        )  # fmt: skip
    assert triage.status_code == ticket.status_code == 422
    assert "description is blank" in triage.json()["detail"] and "description is blank" in ticket.json()["detail"]


@pytest.mark.parametrize(
    "token",
    [
        "garbage", "Zm9v.YmFy.YmF6", "\u00e9t\u00e9.x.y", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4Iiwicm9sZSI6ImNlbnRlciJ9.",
        mint("another-secret-entirely-0123456789", Role.center, "x"),
    ],
    ids=["garbage", "base64-garbage", "non-ascii", "alg-none", "wrong-secret"],
)  # fmt: skip
async def test_a_bad_token_is_a_plain_401(hardened, token):
    transport = httpx.ASGITransport(app=create_app(hardened))
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
        r = await http.get("/tickets", headers={"Authorization": f"Bearer {token}".encode()})
    assert r.status_code == 401 and r.json()["detail"] == "invalid token", r.text
    assert r.headers["WWW-Authenticate"] == "Bearer"


async def test_an_update_temporal_gives_up_on_is_a_503_not_a_500():
    """Unit test with a stand-in client: Temporal took the update call but gave up waiting."""
    from temporalio.client import WorkflowUpdateRPCTimeoutOrCancelledError

    from api.errors import ApiError
    from api.workflow_calls import update
    from domain.handling import Acknowledge
    from domain.ticket import Actor
    from workflows.ticket import TicketWorkflow

    class GaveUp:
        id = "ticket-20261122000001"

        async def execute_update(self, *_):
            raise WorkflowUpdateRPCTimeoutOrCancelledError()

    class Client:
        def get_workflow_handle(self, _):
            return GaveUp()

    with pytest.raises(ApiError) as refused:
        actor = Actor(role=Role.unit, unit="qd.shinan.badaxia")
        await update(Client(), "20261122000001", TicketWorkflow.acknowledge, Acknowledge(actor=actor))  # type: ignore[arg-type]
    assert refused.value.status == 503 and refused.value.headers == {"Retry-After": "5"}


@pytest.mark.parametrize(
    "failure", ["query failed", "query not answered", "workflow task in failed state", "update not taken"]
)
async def test_a_ticket_the_worker_cannot_answer_for_is_a_503_not_a_500(failure, monkeypatch):
    """Unit test with a stand-in client: the worker could not replay the ticket to answer a query
    (seen under chaos), Temporal refuses an update while its workflow task is failing, or a worker
    completed its task without taking the update (seen under chaos: not a refusal, a 409 would
    tell the unit its action was refused)."""
    from temporalio.client import WorkflowQueryFailedError, WorkflowUpdateFailedError
    from temporalio.exceptions import ApplicationError
    from temporalio.service import RPCError, RPCStatusCode

    from api import workflow_calls
    from api.errors import ApiError
    from api.workflow_calls import query_state, update
    from domain.handling import Acknowledge
    from domain.ticket import Actor
    from workflows.ticket import TicketWorkflow

    monkeypatch.setattr(workflow_calls, "QUERY_TIMEOUT_SECONDS", 0.1)

    class Failing:
        id = "ticket-20261122000001"

        async def query(self, *_):
            if failure == "query not answered":  # a worker busy replaying: the read would hang
                await asyncio.Event().wait()
            raise WorkflowQueryFailedError("[TMPRL1100] Nondeterminism error")

        async def execute_update(self, *_):
            if failure == "update not taken":
                message = "Workflow Update is rejected because it wasn't processed by worker."
                raise WorkflowUpdateFailedError(ApplicationError(message, type="UnprocessedUpdate"))
            raise RPCError("Workflow Task in failed state.", RPCStatusCode.FAILED_PRECONDITION, b"")

    class Client:
        def get_workflow_handle(self, _):
            return Failing()

    with pytest.raises(ApiError) as refused:
        if failure.startswith("query"):
            await query_state(Client(), "20261122000001")  # type: ignore[arg-type]
        else:
            actor = Actor(role=Role.unit, unit="qd.shinan.badaxia")
            await update(Client(), "20261122000001", TicketWorkflow.acknowledge, Acknowledge(actor=actor))  # type: ignore[arg-type]
    assert refused.value.status == 503 and refused.value.headers == {"Retry-After": "5"}, refused.value.reason
