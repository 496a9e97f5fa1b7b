"""`hotline up` supervises its children: one that crashes is restarted with backoff and the
launcher says so; Ctrl-C stops every child even when the pipe it printed to is gone
(`make up 2>&1 | tee log`, where Ctrl-C ends tee first)."""

import json
import os
import select
import signal
import subprocess
import threading
import time
from pathlib import Path

import httpx

from api.auth import mint
from core.settings import Settings
from domain.vocabulary import Role
from tests.eventually import assert_eventually_sync
from tests.simulated import free_ports
from tests.test_embedded import BIN, REQUEST


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purpose: it holds no port.
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(")")[-1].split()[0] == "Z")


def test_a_crashed_part_is_restarted_and_ctrl_c_under_a_closed_pipe_stops_every_child(tmp_path):
    ports = dict(zip(("temporal", "ui", "api"), free_ports(3), strict=True))
    data = tmp_path / "data"
    env = {
        **os.environ,
        "HOTLINE_DATA_DIR": str(data),
        "HOTLINE_DATABASE_URL": f"sqlite:///{data / 'hotline.db'}",
        "HOTLINE_TEMPORAL_ADDRESS": f"127.0.0.1:{ports['temporal']}",
        "HOTLINE_TEMPORAL_UI_PORT": str(ports["ui"]),
        "HOTLINE_API_PORT": str(ports["api"]),
    }
    url = f"http://127.0.0.1:{ports['api']}"
    intake = {"Authorization": f"Bearer {mint(Settings().token_secret.get_secret_value(), Role.intake, 'desk-7')}"}
    # Our own `tee`: the launcher's output goes into a pipe we read, then close.
    read_end, write_end = os.pipe()
    proc = subprocess.Popen([str(BIN / "hotline"), "up", "--no-simulator"], env=env, stdout=write_end,
                            stderr=write_end)  # fmt: skip
    os.close(write_end)
    out: list[str] = []
    reading = threading.Event()
    reading.set()

    def tee() -> None:
        while reading.is_set():
            ready, _, _ = select.select([read_end], [], [], 0.1)
            if ready:
                chunk = os.read(read_end, 65536)
                if not chunk:
                    return
                out.append(chunk.decode(errors="replace"))

    reader = threading.Thread(target=tee, daemon=True)
    reader.start()
    pids: dict[str, int] = {}
    try:

        def up() -> dict[str, int]:
            assert proc.poll() is None, "".join(out)[-3000:]
            assert "hotline is up" in "".join(out), "".join(out)[-3000:]
            return json.loads((data / "pids.json").read_text())

        pids = assert_eventually_sync(up, timeout=90, interval=0.3)
        assert set(pids) == {"temporal", "worker", "api"}

        os.kill(pids["worker"], signal.SIGKILL)

        def restarted() -> int:
            text = "".join(out)
            assert "worker exited with code -9" in text and "worker restarted" in text, text[-2000:]
            now = json.loads((data / "pids.json").read_text())
            assert now["worker"] != pids["worker"] and _alive(now["worker"])
            return now["worker"]

        pids["worker"] = assert_eventually_sync(restarted, timeout=30, interval=0.2)
        assert proc.poll() is None, "the launcher must not stop because a child crashed"

        # The restarted worker runs the tickets.
        r = httpx.post(f"{url}/tickets", json=REQUEST, headers=intake | {"Idempotency-Key": "sup-1"}, timeout=30)
        assert r.status_code == 201, r.text
        number = r.json()["number"]

        def dispatched():
            got = httpx.get(f"{url}/tickets/{number}", headers=intake, timeout=30)
            assert got.status_code == 200 and got.json()["stage"] == "dispatch", got.text

        assert_eventually_sync(dispatched, timeout=30, interval=0.2)
        pids = json.loads((data / "pids.json").read_text())
    finally:
        # Ctrl-C under a pipe: tee is gone first, then the launcher gets its SIGINT.
        reading.clear()
        reader.join()
        os.close(read_end)
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=60)
    assert code == 0
    deadline = time.monotonic() + 10
    while any(_alive(p) for p in pids.values()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [name for name, p in pids.items() if _alive(p)], "children left running after Ctrl-C"
