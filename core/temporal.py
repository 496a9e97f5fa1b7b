"""Connecting to Temporal the same way everywhere: API, worker, CLI and tests."""

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from core.settings import Settings

WORKFLOW_ID_PREFIX = "ticket-"


def workflow_id(number: str) -> str:
    return f"{WORKFLOW_ID_PREFIX}{number}"


async def connect(settings: Settings) -> Client:
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=pydantic_data_converter,
        api_key=settings.temporal_api_key,
        tls=settings.temporal_tls or bool(settings.temporal_api_key),
    )
