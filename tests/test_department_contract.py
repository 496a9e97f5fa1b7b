"""The department-system API contract: the committed OpenAPI document is what the code sends and
what the simulator serves, so the documentation never drifts from the code."""

import json
from pathlib import Path

import httpx

from core.settings import Settings
from simulator.app import create_app
from simulator.contract import contract_openapi

DOC = Path(__file__).resolve().parent.parent / "docs" / "department-api.openapi.json"


def test_the_committed_contract_is_the_generated_one():
    committed = json.loads(DOC.read_text(encoding="utf-8"))
    assert committed == contract_openapi(), "regenerate: hotline department-api > docs/department-api.openapi.json"


def test_the_contract_has_the_four_routes_the_key_and_the_credential():
    doc = contract_openapi()
    assert set(doc["paths"]) == {"/work-orders", "/cancellations", "/urges", "/notices"}
    for path in doc["paths"].values():
        post = path["post"]
        assert {"name": "Idempotency-Key", "in": "header", "required": True}.items() <= post["parameters"][0].items()
        assert post["security"] == [{"HTTPBearer": []}]
        assert {"200", "401", "422", "429", "503"} <= set(post["responses"])


async def test_the_simulator_serves_the_contract():
    transport = httpx.ASGITransport(app=create_app(Settings()))
    async with httpx.AsyncClient(transport=transport, base_url="http://simulator") as client:
        assert (await client.get("/department-api.json")).json() == contract_openapi()
        paths = (await client.get("/openapi.json")).json()["paths"]
        assert "/units/{unit_id}/work-orders" in paths and "/admin/faults" in paths
