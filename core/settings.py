"""The one settings object. Environment variables (prefix HOTLINE_) override the defaults,
and the defaults are the embedded stack: a local Temporal dev server and a SQLite read model."""

import hashlib
import hmac
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

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
    temporal_api_key: str | None = None
    temporal_tls: bool = False
    task_queue: str = "hotline-tickets"

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
    token_secret: str = "dev-only-token-secret-change-me-in-production"
    token_ttl_hours: int = 12  # lifetime of a `hotline token` without --hours
    api_host: str = "127.0.0.1"
    api_port: int = 8000

    # Embedded stack (`hotline up`)
    data_dir: Path = PROJECT_ROOT / "data"
    temporal_ui_port: int = 8233

    # Logging
    log_json: bool = False
    log_level: str = "INFO"

    # Salt for the one-way hash under which the read model keeps citizen phone numbers.
    phone_hash_salt: str = Field(default="dev-only-phone-salt")

    # Department systems (docs/department-api.md). A unit's `credential_ref` names its bearer
    # credential here (JSON: {"dept-urban": "..."}); a name not listed gets a development
    # credential derived from the token secret, which is what the simulator expects.
    department_credentials: dict[str, str] = {}
    # One attempt of an outside call (department system, SMS provider, callback channel): connect +
    # answer, in seconds; Temporal's retry policy does the rest.
    department_timeout: float = Field(default=10.0, gt=0, le=20)  # with connecting, below the activity's 30 s
    # `hotline seed`: replace scheme://host:port of every unit endpoint (a staging gateway, a
    # simulator on another port). `hotline up` points them at its simulator when it runs one.
    department_origin: str | None = None

    # Notification gateway: SMS provider (none: messages are recorded as queued) and the
    # automated callback survey (回访) by voice or SMS (none: the manual callback queue).
    sms_endpoint: str | None = None
    sms_api_key: str | None = None
    sms_sign: str = "青岛12345"  # the registered SMS signature (短信签名)
    callback_endpoint: str | None = None
    callback_api_key: str | None = None
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

    @property
    def api_url(self) -> str:
        return f"http://{self.api_host}:{self.api_port}"

    @property
    def simulator_url(self) -> str:
        return f"http://{self.simulator_host}:{self.simulator_port}"

    def department_credential(self, ref: str) -> str:
        """The bearer credential a department system expects for this `credential_ref`."""
        if ref in self.department_credentials:
            return self.department_credentials[ref]
        return hmac.new(self.token_secret.encode(), f"department:{ref}".encode(), hashlib.sha256).hexdigest()


@lru_cache
def get_settings() -> Settings:
    return Settings()
