"""What a center's IT watches the product with: Prometheus metrics of the API and the worker,
health that checks Temporal and the read model, and one OpenTelemetry trace from an API request
into the ticket's workflow and its activities. Real dev server, real HTTP."""

import re
import types
import uuid

import httpx
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from temporalio.client import Client

from api.main import create_app
from core import tracing
from core.temporal import connect, metrics_runtime
from tests.api.conftest import serve
from tests.api.test_end_to_end import create, fresh
from tests.conftest import task_queue
from tests.eventually import assert_eventually
from tests.simulated import free_port
from tests.simulated import serve as serve_app
from worker import build_worker


def sample(text: str, name: str, **labels) -> float | None:
    """The value of one sample in Prometheus' text format (labels given must all match)."""
    for line in text.splitlines():
        m = re.match(rf"^{name}(?:\{{(.*)\}})? (\S+)$", line)
        if m:
            have = dict(re.findall(r'(\w+)="([^"]*)"', m.group(1) or ""))
            if all(have.get(k) == v for k, v in labels.items()):
                return float(m.group(2))
    return None


async def _dispatched(api, number):
    async def check():
        r = await api.http.get(f"/tickets/{number}", headers=api.auth("supervisor"))
        assert r.status_code == 200 and r.json()["stage"] == "dispatch", r.text

    await assert_eventually(check)


async def test_metrics_show_requests_intakes_and_open_tickets(api):
    r = await create(api, fresh(), key=str(uuid.uuid4()))
    assert r.status_code == 201, r.text
    await _dispatched(api, r.json()["number"])
    assert (await api.http.get("/tickets/nonexistent", headers=api.auth("supervisor"))).status_code in (404, 503)

    text = (await api.http.get("/metrics")).text
    assert sample(text, "hotline_http_requests_total", method="POST", route="/tickets", status="201") >= 1
    assert sample(text, "hotline_http_request_duration_seconds_count", method="POST", route="/tickets") >= 1
    assert sample(text, "hotline_http_requests_total", route="/tickets/{number}") >= 1
    assert sample(text, "hotline_intakes_total", channel="phone", result="created") >= 1
    assert sample(text, "hotline_open_tickets", stage="dispatch", tier="street") >= 1
    assert sample(text, "hotline_overdue_tickets") is not None and sample(text, "hotline_warned_tickets") is not None
    assert sample(text, "hotline_tickets_by_intake_path", path="dispatch") >= 1


async def test_readiness_checks_temporal_and_the_database(api, settings):
    assert (await api.http.get("/health/live")).json() == {"status": "ok"}
    r = await api.http.get("/health/ready")
    assert r.status_code == 200 and r.json()["checks"] == {"temporal": "ok", "database": "ok"}
    assert (await api.http.get("/health")).status_code == 200  # the old one still answers

    async def ready(s, client=None):
        app = create_app(s, client=client)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://api") as http:
            return await http.get("/health/ready"), await http.get("/health/live")

    r, live = await ready(settings.model_copy(update={"temporal_address": f"127.0.0.1:{free_port()}"}))
    assert (r.status_code, r.headers["Retry-After"], r.json()["failed"]) == (503, "5", "temporal")
    assert r.json()["checks"]["database"] == "ok" and live.status_code == 200

    dead_db = f"postgresql+psycopg://hotline:x@127.0.0.1:{free_port()}/hotline?connect_timeout=2"
    r, _ = await ready(api.settings.model_copy(update={"database_url": dead_db}), api.client)
    assert (r.status_code, r.json()["failed"]) == (503, "database")
    assert "OperationalError" in r.json()["checks"]["database"]


async def test_the_worker_serves_temporal_sdk_metrics(dev_env, settings, api_database):
    port = free_port()
    s = settings.model_copy(update={
        "database_url": api_database, "worker_metrics_port": port, "worker_metrics_host": "127.0.0.1",
        "temporal_address": dev_env.client.service_client.config.target_host,
    })  # fmt: skip
    client = await connect(s, runtime=metrics_runtime(s), component="worker")
    async with serve(types.SimpleNamespace(client=client), s) as api:
        r = await create(api, fresh(), key=str(uuid.uuid4()))
        await _dispatched(api, r.json()["number"])
        async with httpx.AsyncClient() as http:

            async def scraped():
                text = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
                assert "temporal_activity_execution_latency" in text, "no activity latency scraped yet"
                return text

            text = await assert_eventually(scraped)
    assert sample(text, "temporal_workflow_task_execution_latency_count", workflow_type="TicketWorkflow") >= 1
    assert sample(text, "temporal_activity_execution_latency_count") >= 1
    assert sample(text, "temporal_worker_task_slots_available", worker_type="ActivityWorker") is not None


async def test_one_trace_follows_a_request_into_the_workflow_and_its_activities(dev_env, settings, api_database):
    spans = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    client = Client(**{**dev_env.client.config(), "interceptors": tracing.interceptors(provider)})
    s = settings.model_copy(update={"database_url": api_database, "task_queue": task_queue()})
    app = create_app(s, client=client, tracer_provider=provider)
    async with build_worker(client, s), serve_app(app) as url, httpx.AsyncClient(base_url=url, timeout=30) as http:
        api = types.SimpleNamespace(http=http, auth=lambda role: _auth(s, role))
        r = await http.post("/tickets", json=fresh(), headers=_auth(s, "intake"))
        assert r.status_code == 201, r.text
        await _dispatched(api, r.json()["number"])

        def trace_of(name_start: str):
            return {sp.context.trace_id for sp in spans.get_finished_spans() if sp.name.startswith(name_start)}

        def traced():
            assert trace_of("RunActivity:"), "no activity span finished yet"

        await assert_eventually(traced)
    (request_trace,) = trace_of("POST /tickets")
    assert request_trace in trace_of("StartWorkflow:TicketWorkflow")
    assert request_trace in trace_of("RunWorkflow:TicketWorkflow")
    assert request_trace in trace_of("RunActivity:")


def _auth(s, role):
    from api.auth import mint
    from domain.vocabulary import Role

    return {"Authorization": f"Bearer {mint(s.token_secret.get_secret_value(), Role(role), 'tester')}"}
