"""`hotline up` with the department simulator, as `make up` runs it: tickets taken in through the
API are handled by the simulated departments and answered by the simulated citizens, and close,
with every delivery in the read model; nobody drives them by hand."""

import os
import subprocess

import httpx

from api.auth import mint
from core.settings import Settings
from domain.vocabulary import Role
from tests.eventually import assert_eventually_sync
from tests.simulated import free_ports
from tests.test_embedded import BIN, _stop, _wait_healthy

CATEGORIES = ["transport.taxi", "water.supply", "gas.supply"]


def test_up_runs_the_simulator_and_tickets_close_by_themselves(tmp_path):
    ports = dict(zip(("temporal", "ui", "api", "simulator"), free_ports(4), strict=True))
    env = {
        **os.environ,
        "HOTLINE_DATA_DIR": str(tmp_path / "data"),
        "HOTLINE_DATABASE_URL": f"sqlite:///{tmp_path / 'data' / 'hotline.db'}",
        "HOTLINE_TEMPORAL_ADDRESS": f"127.0.0.1:{ports['temporal']}",
        "HOTLINE_TEMPORAL_UI_PORT": str(ports["ui"]),
        "HOTLINE_API_PORT": str(ports["api"]),
        "HOTLINE_SIMULATOR_PORT": str(ports["simulator"]),
        "HOTLINE_SIMULATOR_ACK_DELAY": "[0.05, 0.2]",
        "HOTLINE_SIMULATOR_COMPLETE_DELAY": "[0.1, 0.3]",
        "HOTLINE_SIMULATOR_CALLBACK_DELAY": "[0.05, 0.2]",
        "HOTLINE_SIMULATOR_UNREACHED_RATE": "0",  # the next attempt would be 8 hours later
        "HOTLINE_SIMULATOR_RETURN_RATE": "0",  # a return waits for the center
    }
    url = f"http://127.0.0.1:{ports['api']}"
    secret = Settings().token_secret.get_secret_value()
    intake = {"Authorization": f"Bearer {mint(secret, Role.intake, 'desk-7')}"}
    center = {"Authorization": f"Bearer {mint(secret, Role.center, 'monitor')}"}
    log = tmp_path / "up.log"

    proc = subprocess.Popen([str(BIN / "hotline"), "up"], env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT)
    try:
        _wait_healthy(url, proc, log)
        assert f"Simulator     http://127.0.0.1:{ports['simulator']}/docs" in log.read_text()
        assert httpx.get(f"http://127.0.0.1:{ports['simulator']}/health", timeout=5).json()["units"] > 0
        numbers = []
        for i, category in enumerate(CATEGORIES):
            body = {
                "channel": "phone", "kind": "help", "citizen": {"name": "赵先生", "phone": f"1360013{6000 + i:04d}"},
                "description": "家里没有水也没有气，请尽快处理", "category": category,
                "address": {"district": "市北区", "street": "台东街道"},
            }  # fmt: skip
            r = httpx.post(f"{url}/tickets", json=body, headers=intake | {"Idempotency-Key": f"up-sim-{i}"}, timeout=30)
            assert r.status_code == 201, r.text
            numbers.append(r.json()["number"])

        def closed():
            listed = httpx.get(f"{url}/tickets", params={"status": "closed"}, headers=center, timeout=30).json()
            missing = set(numbers) - {t["number"] for t in listed["items"]}
            assert not missing, f"tickets did not close: {sorted(missing)}\n{log.read_text()[-3000:]}"

        assert_eventually_sync(closed, timeout=60, interval=0.3)

        deliveries = httpx.get(f"{url}/deliveries", params={"page_size": 200}, headers=center, timeout=30).json()[
            "items"
        ]
        by_ticket = {n: [d for d in deliveries if d["ticket"] == n] for n in numbers}
        for items in by_ticket.values():
            assert {(d["kind"], d["channel"], d["status"]) for d in items} >= {
                ("work_order", "department_api", "delivered"),
                ("callback", "voice", "delivered"),
            }, items
        assert "13600136000" not in log.read_text()  # the citizen's phone in no log line
    finally:
        _stop(proc, log)
