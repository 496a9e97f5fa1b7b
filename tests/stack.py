"""`hotline up` in a temporary folder on free ports, as `make up` runs it (the department simulator
included), for tests that drive the product the way a person at a terminal does."""

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.simulated import free_ports
from tests.test_embedded import BIN, _stop, _wait_healthy

FAST_SIMULATOR = {
    "HOTLINE_SIMULATOR_ACK_DELAY": "[0.05, 0.3]",
    "HOTLINE_SIMULATOR_COMPLETE_DELAY": "[0.2, 0.8]",
    "HOTLINE_SIMULATOR_CALLBACK_DELAY": "[0.1, 0.4]",
    "HOTLINE_SIMULATOR_UNREACHED_RATE": "0",  # the next attempt would be 8 hours later
    "HOTLINE_SIMULATOR_RETURN_RATE": "0",  # a return waits for the center
}


@dataclass
class Stack:
    url: str
    simulator_url: str
    temporal_address: str
    env: dict[str, str]
    log: Path


@contextmanager
def running_stack(tmp_path: Path, extra_env: dict[str, str] | None = None) -> Iterator[Stack]:
    ports = dict(zip(("temporal", "ui", "api", "simulator"), free_ports(4), strict=True))
    env = {
        **os.environ,
        "HOTLINE_DATA_DIR": str(tmp_path / "data"),
        "HOTLINE_DATABASE_URL": f"sqlite:///{tmp_path / 'data' / 'hotline.db'}",
        "HOTLINE_TEMPORAL_ADDRESS": f"127.0.0.1:{ports['temporal']}",
        "HOTLINE_TEMPORAL_UI_PORT": str(ports["ui"]),
        "HOTLINE_API_PORT": str(ports["api"]),
        "HOTLINE_SIMULATOR_PORT": str(ports["simulator"]),
        # `hotline up` as it ships: its worker imports workflows/ once (the in-process tests keep the
        # full sandbox's guard); the demo's timings at 3000x are tuned to that worker.
        "HOTLINE_WORKER_STRICT_SANDBOX": "false",
        **(extra_env or {}),
    }
    log = tmp_path / "up.log"
    stack = Stack(
        url=f"http://127.0.0.1:{ports['api']}",
        simulator_url=f"http://127.0.0.1:{ports['simulator']}",
        temporal_address=env["HOTLINE_TEMPORAL_ADDRESS"],
        env=env,
        log=log,
    )
    proc = subprocess.Popen([str(BIN / "hotline"), "up"], env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT)
    try:
        _wait_healthy(stack.url, proc, log)
        yield stack
    finally:
        _stop(proc, log)
