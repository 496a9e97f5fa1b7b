"""Shared fixtures: a migrated read model, the time-skipping Temporal test server and the real
dev server (both from PyPI packages: nothing is downloaded), and workers on fresh task queues."""

import os
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from core.settings import Settings
from core.temporal import register_search_attributes
from readmodel import db
from workflows import search_attributes

BIN = Path(sys.executable).parent


def pytest_addoption(parser):
    parser.addoption("--postgres", action="store_true", help="also run the read-model tests on PostgreSQL")


@pytest.fixture
def settings(tmp_path) -> Settings:
    url = os.environ.get("HOTLINE_TEST_DATABASE_URL") or f"sqlite:///{tmp_path / 'readmodel.db'}"
    s = Settings(database_url=url, data_dir=tmp_path, policy_pack="qingdao", city="qingdao")
    db.migrate(s.database_url)
    return s


@pytest_asyncio.fixture(scope="session")
async def time_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter,
        test_server_existing_path=str(BIN / "temporal-test-server"),
    )
    await register_search_attributes(env.client, "default")
    async with env:
        yield env


@pytest_asyncio.fixture(scope="session")
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        data_converter=pydantic_data_converter,
        dev_server_existing_path=str(BIN / "temporal"),
        search_attributes=search_attributes.ALL,
    )
    async with env:
        yield env


def task_queue() -> str:
    return f"tq-{uuid.uuid4().hex[:8]}"


def client_of(env: WorkflowEnvironment) -> Client:
    return env.client
