"""The one settings object. Environment variables (prefix HOTLINE_) override the defaults,
and the defaults are the embedded stack: a local Temporal dev server and a SQLite read model."""

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HOTLINE_", env_file=".env", extra="ignore")

    # Temporal
    temporal_address: str = "localhost:7233"
    temporal_namespace: str = "default"
    temporal_api_key: str | None = None
    temporal_tls: bool = False
    task_queue: str = "hotline-tickets"

    # Read model
    database_url: str = f"sqlite:///{PROJECT_ROOT / 'data' / 'hotline.db'}"

    # Which city's rules new tickets start under: <policy_dir>/<policy_pack>.toml.
    policy_pack: str = "qingdao"
    policy_dir: Path = PROJECT_ROOT / "domain" / "policies"
    # Which city's directory of units and responsibility list (a folder in domain/cities/).
    city: str = "qingdao"

    # API
    token_secret: str = "dev-only-token-secret-change-me-in-production"
    token_ttl_hours: int = 12
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


@lru_cache
def get_settings() -> Settings:
    return Settings()
