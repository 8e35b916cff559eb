"""Configuration: one `Settings` object read from `TESSERA_*` environment variables.

This is the only module that reads the environment. Build it once (`Settings()`) and pass it on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TESSERA_", extra="ignore")

    environment: Literal["development", "production"] = Field(
        "development", description="production refuses generated development keys"
    )
    data_dir: Path = Field(Path(".tessera"), description="where the SQLite file and development keys live")
    database_url: str | None = Field(
        None, description="sqlite:///path or postgresql://...; default: data_dir/tessera.db"
    )
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str | None = Field(None, description="the base URL shoppers' browsers reach Tessera at")
    log_level: str = "INFO"
    log_format: Literal["json", "text"] = "json"
    vault_kek: SecretStr | None = Field(None, description="base64 of a 32-byte key; overrides the key file")
    vault_key_file: Path | None = Field(None, description="JSON key file; default: data_dir/vault-keys.json")
    live_processor: str | None = Field(
        None, description="processor for live mode; none means live payments are refused"
    )
    processor_timeout_seconds: float = Field(2.0, gt=0, description="how long to wait for the acquirer")
    recovery_grace_seconds: float = Field(30.0, gt=0, description="pending operations older than this are recovered")
    token_ttl_minutes: int = Field(30, gt=0)
    idempotency_ttl_hours: int = Field(24, gt=0)
    worker_interval_seconds: float = Field(1.0, gt=0)
    db_pool_size: int = Field(20, gt=0)
    demo_domains: list[str] = Field(default_factory=lambda: ["localhost", "127.0.0.1", "yoursite.com"])

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'tessera.db').resolve()}"

    @property
    def resolved_public_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")
