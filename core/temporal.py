"""Connecting to Temporal the same way everywhere: API, worker, CLI and tests."""

from temporalio.client import Client

from core.codec import data_converter
from core.settings import Settings

WORKFLOW_ID_PREFIX = "ticket-"


def workflow_id(number: str) -> str:
    return f"{WORKFLOW_ID_PREFIX}{number}"


async def connect(settings: Settings) -> Client:
    api_key = settings.temporal_api_key.get_secret_value() if settings.temporal_api_key else None
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=data_converter(settings),  # payloads sealed: core/codec.py
        api_key=api_key,
        tls=settings.temporal_tls or bool(api_key),
    )
