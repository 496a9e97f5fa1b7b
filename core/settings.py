"""The one settings object. Environment variables (prefix HOTLINE_) override the defaults,
and the defaults are the embedded stack: a local Temporal dev server and a SQLite read model."""

import hashlib
import hmac
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from domain.privacy import DEFAULT_IN_CLEAR, Audience

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _delay(v: tuple[float, float]) -> tuple[float, float]:
    if not 0 <= v[0] <= v[1]:
        raise ValueError("a delay is [shortest, longest] seconds with 0 <= shortest <= longest")
    return v


# A random delay in seconds: (shortest, longest); JSON in the environment, e.g. "[0.1, 0.5]".
Delay = Annotated[tuple[float, float], AfterValidator(_delay)]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HOTLINE_", env_file=".env", extra="ignore")

    # Temporal
    temporal_address: str = "localhost:7233"
    temporal_namespace: str = "default"
    temporal_api_key: SecretStr | None = None
    temporal_tls: bool = False
    task_queue: str = "hotline-tickets"
    # How many open tickets a worker keeps in memory (Temporal's sticky cache). A ticket not in it is
    # replayed from its history when it next wakes: memory is bounded by this, not by open tickets.
    worker_max_cached_workflows: int = Field(default=1000, ge=0)
    # How long a ticket's next workflow task waits for the worker that has it cached before Temporal
    # gives it to any worker, with the whole history (Temporal's default). `hotline chaos` shortens
    # it to provoke the SDK fault the replay repair handles (README, "Faults and recovery").
    worker_sticky_timeout_seconds: float = Field(default=10.0, gt=0)
    # Workflow tasks one worker runs at once. They are CPU work under one GIL: more at once only
    # makes each slower, and past Temporal's 10 s task timeout a task's work is thrown away and done
    # again (seen at 2,000 intakes with the SDK's default of 100). Queued tasks wait at the server.
    worker_max_concurrent_workflow_tasks: int = Field(default=10, ge=2)
    # Run every workflow module inside Temporal's full sandbox, re-imported for each workflow instance,
    # where a non-deterministic call in workflow code is refused. The tests do (their conftest);
    # a production worker passes workflows/ through, imported once (worker.py, PASSED_THROUGH).
    worker_strict_sandbox: bool = False

    # Read model; default: SQLite in the data folder (hotline.db)
    database_url: str = ""

    # Which city's rules new tickets start under: <policy_dir>/<policy_pack>.toml.
    policy_pack: str = "qingdao"
    policy_dir: Path = PROJECT_ROOT / "catalog" / "policies"
    # Which city's directory of units and responsibility list (a folder in catalog/cities/).
    city: str = "qingdao"
    # The center's holiday calendar file (see catalog/calendar_data.toml); None: that shipped file.
    calendar_file: Path | None = None

    # API
    token_secret: SecretStr = SecretStr("dev-only-token-secret-change-me-in-production")
    token_ttl_hours: int = 12  # lifetime of a `hotline token` without --hours
    api_host: str = "127.0.0.1"
    api_port: int = 8000

    # Open311 GeoReport v2 (/open311/v2/): each client application's api_key and its name, JSON
    # {"key": "FixMyStreet Qingdao"}; a report it posts is taken in as by an intake desk, on the
    # open311 channel, as "intake:open311:<name>". None listed: posting is refused (reads are open).
    open311_keys: dict[str, str] = {}

    # Embedded stack (`hotline up`)
    data_dir: Path = PROJECT_ROOT / "data"
    temporal_ui_port: int = 8233

    # Operations. Prometheus: the API serves GET /metrics; the worker serves the Temporal SDK's
    # metrics (workflow task latency, activity failures...) on this port when set (9464 in deploy/).
    worker_metrics_port: int | None = None
    worker_metrics_host: str = "0.0.0.0"
    # OpenTelemetry traces, off unless set: the OTLP/HTTP endpoint of a collector, e.g.
    # http://otel-collector:4318/v1/traces. One trace follows a request from the API into the
    # ticket's workflow and its activities.
    otlp_endpoint: str | None = None
    otlp_service_name: str = "hotline"
    # Intake triage model: retrained by a Temporal Schedule (cron, Beijing time) the worker creates.
    triage_training_cron: str = "0 3 * * *"

    # Logging
    log_json: bool = False
    log_level: str = "INFO"

    # Encryption of Temporal payloads (core/codec.py): key id -> 32 random bytes in base64
    # (`hotline payload-key` makes one), JSON in the environment. New payloads are encrypted with
    # `payload_key_id`; the others stay listed so older history still decodes (key rotation).
    # Empty: a development key derived from a fixed string, like the other dev-only secrets.
    payload_keys: dict[str, SecretStr] = {}
    payload_key_id: str | None = None
    # Where the Temporal Web UI of `hotline up` sends payloads to be decoded (POST /codec/decode of
    # this API); the browser needs a center token there (see the README).
    codec_cors_origins: list[str] = ["http://localhost:8233", "http://127.0.0.1:8233"]

    # Who sees a citizen's name and phone in clear (domain/privacy.py AUDIENCES, the README's
    # matrix); everyone else gets them masked. JSON list in the environment.
    citizen_in_clear: set[Audience] = set(DEFAULT_IN_CLEAR)
    # Self-service (POST /public/...): wrong phones allowed per client address, and per ticket
    # number from all addresses, within an hour. The right phone is never refused for the latter.
    lookup_failures_per_client: int = Field(default=20, ge=1)
    lookup_failures_per_number: int = Field(default=10, ge=1)

    # Salt for the one-way hash under which the read model keeps citizen phone numbers.
    phone_hash_salt: SecretStr = SecretStr("dev-only-phone-salt")

    # Department systems (docs/department-api.md). A unit's `credential_ref` names its bearer
    # credential here (JSON: {"dept-urban": "..."}); a name not listed gets a development
    # credential derived from the token secret, which is what the simulator expects.
    department_credentials: dict[str, SecretStr] = {}
    # One attempt of an outside call (department system, SMS provider, callback channel): connect +
    # answer, in seconds; Temporal's retry policy does the rest.
    department_timeout: float = Field(default=10.0, gt=0, le=20)  # with connecting, below the activity's 30 s
    # `hotline seed`: replace scheme://host:port of every unit endpoint (a staging gateway, a
    # simulator on another port). `hotline up` points them at its simulator when it runs one.
    department_origin: str | None = None

    # Notification gateway: SMS provider (none: messages are recorded as queued) and the
    # automated callback survey (回访) by voice or SMS (none: the manual callback queue).
    sms_endpoint: str | None = None
    sms_api_key: SecretStr | None = None
    sms_sign: str = "青岛12345"  # the registered SMS signature (短信签名)
    callback_endpoint: str | None = None
    callback_api_key: SecretStr | None = None
    callback_channel: Literal["voice", "sms"] = "voice"
    # The linkage platform of 110 / 119 / 120 / 122 (12345与110联动): emergency transfers are posted
    # there; none: recorded for the operator, who transfers the call by phone.
    emergency_endpoint: str | None = None

    # Department simulator (`hotline simulator`, started by `hotline up`).
    simulator_host: str = "127.0.0.1"
    simulator_port: int = 8100
    simulator_api_url: str | None = None  # the product API it answers through; default: this API
    simulator_act: bool = True  # False: it only records what it receives (tests, demos of faults)
    simulator_ack_delay: Delay = (1.0, 5.0)  # seconds, drawn uniformly
    simulator_complete_delay: Delay = (5.0, 30.0)
    simulator_callback_delay: Delay = (2.0, 10.0)
    simulator_extension_rate: float = Field(default=0.1, ge=0, le=1)
    # Returns need the center's review (a person): off by default so a demo batch closes by itself.
    simulator_return_rate: float = Field(default=0.0, ge=0, le=1)
    simulator_unsatisfied_rate: float = Field(default=0.1, ge=0, le=1)
    simulator_unreached_rate: float = Field(default=0.05, ge=0, le=1)
    simulator_slow_seconds: float = Field(default=5.0, ge=0)  # the "slow" fault
    simulator_random_seed: int | None = None
    # A durable ledger (SQLite file; `hotline up` uses data/simulator.db): a restart keeps what was
    # received, and the simulator resynchronises from the product (GET /work-orders, GET /callbacks)
    # at start and every simulator_resync_seconds, finishing whatever it was doing when it died.
    simulator_ledger: Path | None = None
    simulator_resync_seconds: float = Field(default=30.0, gt=0)

    @model_validator(mode="after")
    def _read_model_in_the_data_folder(self) -> "Settings":
        if not self.database_url:
            self.database_url = f"sqlite:///{Path(self.data_dir) / 'hotline.db'}"
        return self

    @model_validator(mode="after")
    def _current_payload_key_listed(self) -> "Settings":
        if self.payload_key_id is not None and self.payload_key_id not in self.payload_keys:
            raise ValueError(f"payload_key_id {self.payload_key_id!r} is not one of payload_keys")
        if self.payload_keys and self.payload_key_id is None:
            raise ValueError("payload_keys needs payload_key_id: the key new payloads are encrypted with")
        return self

    def secret_values(self) -> list[str]:
        """Every secret's value, for the log scrubber (a secret must never reach a log line)."""
        values = [self.token_secret, self.phone_hash_salt, self.temporal_api_key, self.sms_api_key]
        values += [self.callback_api_key, *self.department_credentials.values(), *self.payload_keys.values()]
        return [v.get_secret_value() for v in values if v is not None and len(v.get_secret_value()) >= 6]

    @property
    def api_url(self) -> str:
        return f"http://{self.api_host}:{self.api_port}"

    @property
    def simulator_url(self) -> str:
        return f"http://{self.simulator_host}:{self.simulator_port}"

    def department_credential(self, ref: str) -> str:
        """The bearer credential a department system expects for this `credential_ref`."""
        if ref in self.department_credentials:
            return self.department_credentials[ref].get_secret_value()
        secret = self.token_secret.get_secret_value().encode()
        return hmac.new(secret, f"department:{ref}".encode(), hashlib.sha256).hexdigest()


@lru_cache
def get_settings() -> Settings:
    return Settings()
