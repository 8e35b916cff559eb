"""A velocity rule holds across real processes: two `tessera serve` processes on one PostgreSQL database
take 50 concurrent attempts on one card and e-mail, and exactly what the rule allows gets through (never
more, by count or by amount)."""

from __future__ import annotations

import asyncio
import base64
import secrets
import uuid
from pathlib import Path

import httpx
import pytest

from tests import pg
from tests.conftest import pg_execute
from tests.e2e.server import Server
from tests.factories import payment

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

LIMIT = 5
ATTEMPTS = 50


@pytest.fixture
def database_url(pg_cluster: pg.Cluster) -> str:
    name = f"e2e_{uuid.uuid4().hex[:10]}"
    pg_execute(pg_cluster, f"CREATE DATABASE {name}")
    return pg_cluster.database_url(name)


async def _attempts(urls: list[str], key: str, **body: object) -> list[httpx.Response]:
    h = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(timeout=60) as http:
        calls = [
            http.post(f"{urls[n % len(urls)]}/v1/payments", json=payment(**body), headers=h) for n in range(ATTEMPTS)
        ]
        return list(await asyncio.gather(*calls))


@pytest.mark.parametrize(
    ("rule", "body", "passing"),
    [
        ({"key": "card", "metric": "count", "limit": LIMIT}, {}, LIMIT),
        # 50 attempts of 700 on one e-mail against 3,000 INR: four fit (2,800), never a fifth.
        ({"key": "email", "metric": "amount", "limit": 3000, "currency": "INR"}, {"amount": 700}, 4),
    ],
    ids=["count", "amount"],
)
def test_fifty_concurrent_attempts_on_two_processes_never_pass_a_limit(
    tmp_path: Path, database_url: str, rule: dict[str, object], body: dict[str, object], passing: int
) -> None:
    keys = {
        "TESSERA_VAULT_KEK": base64.b64encode(secrets.token_bytes(32)).decode(),
        "TESSERA_VAULT_FINGERPRINT_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
    }
    first = Server(tmp_path / "one", database_url=database_url, extra_env=keys).start("--no-worker")
    second = None
    try:
        second = Server(tmp_path / "two", database_url=database_url, extra_env=keys).start("--no-worker")
        key = first.credentials()["secret_key"]
        made = httpx.post(
            f"{first.base_url}/v1/risk_rules",
            json=rule | {"window_seconds": 3600},
            headers={"Authorization": f"Bearer {key}"},
        )
        assert made.status_code == 201, made.text
        body = body | {"customer": {"email": "same@example.com"}}
        answers = asyncio.run(_attempts([first.base_url, second.base_url], key, **body))
        statuses = [r.json().get("status") for r in answers]
        assert statuses.count("completed") == passing, statuses
        refused = [r.json() for r in answers if r.json().get("status") != "completed"]
        assert all(p["error"]["code"] == "risk_declined" for p in refused), refused[:3]
        assert all(p["risk"]["rule_id"] == made.json()["id"] for p in refused)
    finally:
        if second is not None:
            second.stop()
        first.stop()
