"""`hotline up` as a user runs it: one command, nothing configured; Ctrl-C stops everything;
running it again carries on with the same open tickets."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from api.auth import mint
from core.settings import Settings
from domain.vocabulary import Role
from tests.eventually import assert_eventually_sync
from tests.simulated import free_ports

BIN = Path(sys.executable).parent
REQUEST = {
    "channel": "wechat",
    "kind": "help",
    "citizen": {"name": "赵先生", "phone": "13600136000"},
    "description": "单元门口路灯不亮已经一周",
    "category": "urban.road_damage",
    "address": {"district": "市北区", "street": "台东街道"},
}


def _start(env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [str(BIN / "hotline"), "up", "--no-simulator"], env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT
    )


def _wait_healthy(url: str, proc: subprocess.Popen, log: Path, timeout: float = 90) -> None:
    """Until the API answers and the launcher has printed its banner: every part is up."""

    def up():
        if proc.poll() is not None:  # the launcher died: no point waiting
            pytest.fail(f"hotline up exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            healthy = httpx.get(f"{url}/health", timeout=1).status_code == 200
        except httpx.HTTPError:
            healthy = False
        assert healthy and "hotline is up" in log.read_text(), f"the stack did not come up:\n{log.read_text()[-3000:]}"

    assert_eventually_sync(up, timeout=timeout, interval=0.3)


def _stop(proc: subprocess.Popen, log: Path) -> None:
    proc.send_signal(signal.SIGINT)  # what Ctrl-C does
    assert proc.wait(timeout=60) == 0, log.read_text()[-3000:]


def test_up_runs_stops_cleanly_and_continues_the_same_tickets(tmp_path):
    ports = dict(zip(("temporal", "ui", "api"), free_ports(3), strict=True))
    env = {
        **os.environ,
        "HOTLINE_DATA_DIR": str(tmp_path / "data"),
        "HOTLINE_DATABASE_URL": f"sqlite:///{tmp_path / 'data' / 'hotline.db'}",
        "HOTLINE_TEMPORAL_ADDRESS": f"127.0.0.1:{ports['temporal']}",
        "HOTLINE_TEMPORAL_UI_PORT": str(ports["ui"]),
        "HOTLINE_API_PORT": str(ports["api"]),
    }
    url = f"http://127.0.0.1:{ports['api']}"
    secret = Settings().token_secret.get_secret_value()
    intake = {"Authorization": f"Bearer {mint(secret, Role.intake, 'desk-7')}"}
    unit = {"Authorization": f"Bearer {mint(secret, Role.unit, 'office', 'qd.shibei.taidong')}"}
    log = tmp_path / "up.log"

    proc = _start(env, log)
    try:
        _wait_healthy(url, proc, log)
        assert "Temporal UI" in log.read_text() and "/docs" in log.read_text()
        # The knowledge base was seeded: the desk can answer a consultation at once.
        question = {"description": "请问住房公积金怎么提取，租房能取吗", "kind": "consultation"}
        preview = httpx.post(f"{url}/triage", json=question, headers=intake, timeout=30).json()
        assert preview["suggestion"]["path"] == "direct_answer", preview
        r = httpx.post(f"{url}/tickets", json=REQUEST, headers=intake | {"Idempotency-Key": "embedded-1"}, timeout=30)
        assert r.status_code == 201, r.text
        number = r.json()["number"]

        def dispatched():
            assert httpx.get(f"{url}/tickets/{number}", headers=intake, timeout=30).json()["stage"] == "dispatch"

        assert_eventually_sync(dispatched, interval=0.2)
        assert httpx.post(f"{url}/tickets/{number}/acknowledge", headers=unit, timeout=30).status_code == 200
    finally:
        _stop(proc, log)
    assert (tmp_path / "data" / "temporal.db").exists()

    proc = _start(env, log)
    try:
        _wait_healthy(url, proc, log)
        state = httpx.get(f"{url}/tickets/{number}", headers=unit, timeout=30).json()
        assert state["stage"] == "handling" and state["acknowledged_at"]
        r = httpx.post(
            f"{url}/tickets/{number}/complete",
            headers=unit,
            json={"result": "resolved", "reply": "路灯已修复"},
            timeout=30,
        )
        assert r.status_code == 200, r.text
    finally:
        _stop(proc, log)
