"""OpenTelemetry tracing, off unless HOTLINE_OTLP_ENDPOINT is set: the API's requests (FastAPI
instrumentation) and every Temporal call, workflow and activity (temporalio's TracingInterceptor,
which carries the trace context in Temporal headers), so one trace follows a request from the API
into the workflow and its activities."""

from functools import lru_cache

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from temporalio.contrib.opentelemetry import TracingInterceptor

from core.settings import Settings


@lru_cache
def _otlp_provider(endpoint: str, service: str) -> TracerProvider:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    return provider


def provider(settings: Settings, component: str) -> TracerProvider | None:
    """The tracer provider exporting to the configured collector; None: tracing is off."""
    if not settings.otlp_endpoint:
        return None
    return _otlp_provider(settings.otlp_endpoint, f"{settings.otlp_service_name}-{component}")


def interceptors(tracer_provider: TracerProvider | None) -> list[TracingInterceptor]:
    """For Client.connect: a worker built on the client traces its workflows and activities too."""
    if tracer_provider is None:
        return []
    return [TracingInterceptor(tracer_provider.get_tracer("hotline.temporal"))]


def instrument_api(app, tracer_provider: TracerProvider | None) -> None:
    if tracer_provider is None:
        return
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(app, tracer_provider=tracer_provider, excluded_urls="health,metrics")
