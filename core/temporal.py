"""Connecting to Temporal the same way everywhere: API, worker, CLI and tests."""

from opentelemetry.sdk.trace import TracerProvider
from temporalio.client import Client
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

from core import tracing
from core.codec import data_converter
from core.settings import Settings

WORKFLOW_ID_PREFIX = "ticket-"

# For `temporal server start-dev`: mark a run whose workflow task failed twice in a row (the
# TemporalReportedProblems search attribute; the server's default is 5, a minute of retries), so that
# the replay repair (api/replay_repair.py) finds it within seconds. A real cluster sets the same
# dynamic-config key.
DEV_SERVER_FLAGS = ["--dynamic-config-value", "system.numConsecutiveWorkflowTaskProblemsToTriggerSearchAttribute=2"]


def workflow_id(number: str) -> str:
    return f"{WORKFLOW_ID_PREFIX}{number}"


def metrics_runtime(settings: Settings) -> Runtime | None:
    """A Temporal runtime whose SDK metrics (workflow task latency, activity failures, poll and
    schedule-to-start latencies...) Prometheus scrapes at worker_metrics_host:worker_metrics_port."""
    if settings.worker_metrics_port is None:
        return None
    bind = f"{settings.worker_metrics_host}:{settings.worker_metrics_port}"
    return Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=bind, durations_as_seconds=True)))


async def connect(
    settings: Settings,
    runtime: Runtime | None = None,
    tracer_provider: TracerProvider | None = None,
    component: str = "api",
) -> Client:
    """`tracer_provider`: default, the OTLP one of `component` when HOTLINE_OTLP_ENDPOINT is set
    (else no tracing)."""
    api_key = settings.temporal_api_key.get_secret_value() if settings.temporal_api_key else None
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=data_converter(settings),  # payloads sealed: core/codec.py
        api_key=api_key,
        tls=settings.temporal_tls or bool(api_key),
        interceptors=tracing.interceptors(tracer_provider or tracing.provider(settings, component)),
        runtime=runtime,
    )
