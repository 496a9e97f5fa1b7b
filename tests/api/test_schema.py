"""The API schema tells the truth: schemathesis generates requests for every operation from the
OpenAPI document, with a center, an intake and a unit token, against the real API, worker and
Temporal dev server, and finds no server error and no status code the schema does not document."""

import asyncio
import threading
from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.auth import mint
from api.main import create_app
from core.settings import Settings
from core.temporal import connect
from domain.vocabulary import Role
from tests.conftest import task_queue
from tests.simulated import serve
from worker import build_worker

EXAMPLES = 12
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


class Stack:
    """API and worker on their own thread and event loop: schemathesis calls are synchronous."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.url = ""
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)
        self._error: BaseException | None = None

    async def _main(self) -> None:
        try:
            self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
            client = await connect(self.settings)
            async with build_worker(client, self.settings), serve(create_app(self.settings, client=client)) as url:
                self.url = url
                self._ready.set()
                await self._stop.wait()
        except BaseException as e:  # surfaced to the test
            self._error = e
            self._ready.set()

    def __enter__(self) -> "Stack":
        self._thread.start()
        self._ready.wait(60)
        if self._error is not None:
            raise self._error
        return self

    def __exit__(self, *_) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)


@pytest.fixture(scope="module")
def schema_stack(dev_env, tmp_path_factory) -> Iterator[Stack]:
    from readmodel import db
    from tests.conftest import drop_database, new_database

    url = new_database(None, tmp_path_factory.mktemp("schema"))
    db.migrate(url)
    target = dev_env.client.service_client.config.target_host
    s = Settings(
        database_url=url, temporal_address=target, task_queue=task_queue(), data_dir=tmp_path_factory.mktemp("d")
    )
    with Stack(s) as stack:
        yield stack
    drop_database(None, url)


def tokens(s: Settings) -> dict[str, str]:
    secret = s.token_secret.get_secret_value()
    return {
        "center": mint(secret, Role.center, "schemathesis"),
        "intake": mint(secret, Role.intake, "schemathesis"),
        "unit": mint(secret, Role.unit, "schemathesis", "qd.shinan.badaxia"),
    }


def test_no_server_error_and_no_undocumented_status(schema_stack):
    """Each operation, a bounded number of generated requests, each sent with three tokens.
    (Schemathesis' own pytest plugin does not run on this pytest: hypothesis is driven here.)"""
    api = schemathesis.openapi.from_url(f"{schema_stack.url}/openapi.json")
    headers_of = {role: {"Authorization": f"Bearer {token}"} for role, token in tokens(schema_stack.settings).items()}
    failures: list[str] = []
    statuses: dict[int, int] = {}
    operations = [result.ok() for result in api.get_all_operations()]
    assert len(operations) > 40

    for operation in operations:
        # Valid requests and invalid ones (wrong types, out-of-range numbers, missing fields).
        @given(case=operation.as_strategy() | operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
        def run(case):
            for role, headers in headers_of.items():
                try:
                    response = case.call_and_validate(
                        base_url=schema_stack.url, headers=headers, checks=CHECKS, timeout=30
                    )
                    statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                except (Exception, BaseExceptionGroup) as e:  # a FailureGroup: recorded, the next goes on
                    failures.append(f"{case.operation.label} as {role}: {str(e)[:600]}")

        run()
    print("statuses:", sorted(statuses.items()))
    assert sum(statuses.values()) > 3 * len(operations) and 200 in statuses and 422 in statuses
    assert not failures, f"{len(failures)} failures:\n" + "\n\n".join(failures[:15])
