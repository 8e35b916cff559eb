"""Configuration: one `Settings` object read from `TESSERA_*` environment variables.

This is the only module that reads the environment. Build it once (`Settings()`) and pass it on.
"""

from __future__ import annotations

import ipaddress
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from tessera.core.webhooks.deliveries import check_retry_delays, parse_retry_delays


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TESSERA_", extra="ignore")

    environment: Literal["development", "production"] = Field(
        "development", description="production refuses generated development keys"
    )
    data_dir: Path = Field(Path(".tessera"), description="where the SQLite file and development keys live")
    database_url: str | None = Field(
        None, description="sqlite:///path or postgresql://...; default: data_dir/tessera.db"
    )
    host: str = Field("127.0.0.1", description="interface `serve` listens on")
    port: int = Field(8000, description="port `serve` listens on")
    public_url: str | None = Field(None, description="the base URL shoppers' browsers reach Tessera at")
    log_level: str = Field("INFO", description="DEBUG, INFO, WARNING or ERROR")
    log_format: Literal["json", "text"] = Field("json", description="json lines, or text for people")
    vault_kek: SecretStr | None = Field(
        None, description="key-encryption key: base64 of 32 bytes, or `1:<b64>,2:<b64>` (highest current)"
    )
    vault_fingerprint_key: SecretStr | None = Field(
        None, description="base64 of 32 bytes for card fingerprints; default: derived from the oldest KEK"
    )
    vault_key_file: Path | None = Field(None, description="JSON key file; default: data_dir/vault-keys.json")
    vault_refresh_seconds: float = Field(5.0, gt=0, description="how often a process looks for rotated data keys")
    live_processor: str | None = Field(
        None, description="processor for live mode; none means live payments are refused"
    )
    test_processor: str | None = Field(
        None,
        description="processor for test mode instead of the in-process sandbox, e.g. iso8583://127.0.0.1:8583 "
        "to send test traffic through `tessera acquirer-sim`",
    )
    webhook_allow_private_networks: bool = Field(
        False,
        description="let test-mode webhook endpoints reach private networks (10/8, 192.168/16, ...); "
        "loopback is always allowed in test mode, link-local never",
    )
    processor_timeout_seconds: float = Field(2.0, gt=0, description="how long to wait for the acquirer")
    recovery_grace_seconds: float = Field(30.0, gt=0, description="pending operations older than this are recovered")
    authorization_window_hours: float = Field(
        168.0, gt=0, description="an authorisation not captured within this is reversed and expires"
    )
    token_ttl_minutes: int = Field(30, gt=0, description="lifetime of a single-use card token")
    idempotency_ttl_hours: int = Field(24, gt=0, description="how long an Idempotency-Key is remembered")
    idempotency_lease_seconds: float = Field(
        60.0, gt=0, description="a keyed request that crashed is resolved by a retry after this"
    )
    auth_cache_seconds: float = Field(
        2.0,
        ge=0,
        description="how long a process remembers an API key it authenticated: a key revoked or a merchant "
        "suspended or changed by another process (the CLI, the dashboard, another worker) takes effect within "
        "this; through the same process, at once; 0 reads the key on every request",
    )
    worker_interval_seconds: float = Field(1.0, gt=0, description="pause between background worker ticks")
    webhook_timeout_seconds: float = Field(
        10.0, gt=0, le=60, description="a webhook attempt succeeds only on a 2xx within this"
    )
    webhook_batch_size: int = Field(200, gt=0, le=2000, description="deliveries a worker claims and sends at once")
    webhook_lease_seconds: float = Field(
        60.0, gt=0, description="a claimed delivery is due again after this if its worker died"
    )
    webhook_retention_days: int = Field(
        30, gt=0, description="finished webhook deliveries and their attempts are kept this long"
    )
    webhook_retry_delays: Annotated[tuple[timedelta, ...], NoDecode] = Field(
        "5s,5m,30m,2h,5h,10h,14h,20h,24h",  # parsed like the environment's value
        validate_default=True,
        description="waits before each retry of a failed webhook delivery, comma-separated durations "
        "(ms, s, m or h; a bare number is seconds), 1 to 50 of them, each above zero and at most 7 days; "
        "after the last retry the delivery fails",
    )
    webhook_poll_seconds: float = Field(0.2, gt=0, description="pause of an idle delivery loop")
    db_pool_size: int = Field(
        40, gt=0, description="PostgreSQL connections per process: the most it opens, each kept open once made"
    )
    hot_handlers: bool = Field(
        True,
        description="answer the busiest routes' well-formed requests with their hand-written handlers; false "
        "runs FastAPI's handler on every request (the same answers, at more CPU: for telling the two apart)",
    )
    demo_callback_url: str | None = Field(
        None, description="seed 000's callback URL for the demo merchant (set when `serve` first makes it)"
    )
    demo_domains: list[str] = Field(
        default_factory=lambda: ["localhost", "127.0.0.1", "yoursite.com"],
        description="return-URL domains allowed for the demo merchant (JSON list)",
    )

    trusted_proxies: Annotated[tuple[str, ...], NoDecode] = Field(
        (),
        description="comma-separated CIDRs of the reverse proxies in front of Tessera: only a call arriving "
        "from one of them has its X-Forwarded-For believed (the rightmost address not itself a trusted proxy "
        "is the caller's), for the API IP allowlist and the shopper-IP rule; empty: the peer address is the caller",
    )
    test_fee_basis_points: int = Field(
        250, ge=0, le=10_000, description="test mode's fee when a merchant set none: basis points of the amount"
    )
    test_fee_fixed: int = Field(0, ge=0, description="test mode's default fee: a fixed amount, in minor units")

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _parse_trusted_proxies(cls, value: object) -> object:
        if isinstance(value, str):
            value = tuple(part.strip() for part in value.split(",") if part.strip())
        if isinstance(value, list | tuple):
            for item in value:
                ipaddress.ip_network(str(item).strip(), strict=False)  # ValueError names the bad one
        return value

    @field_validator("webhook_retry_delays", mode="before")
    @classmethod
    def _parse_retry_delays(cls, value: object) -> object:
        return parse_retry_delays(value) if isinstance(value, str) else value

    @field_validator("webhook_retry_delays")
    @classmethod
    def _check_retry_delays(cls, value: tuple[timedelta, ...]) -> tuple[timedelta, ...]:
        return check_retry_delays(value)

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'tessera.db').resolve()}"

    @property
    def resolved_public_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")
