"""A real `tessera serve` process driven over HTTP, as a merchant's integration would drive it."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tessera.processors.sandbox.cards import TEST_CARDS
from tests import pg
from tests.conftest import BACKENDS, pg_execute
from tests.e2e.server import Server
from tests.factories import BROWSER

pytestmark = pytest.mark.e2e


@pytest.fixture(params=BACKENDS)
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Server]:
    url = None
    if request.param == "postgres":
        cluster: pg.Cluster = request.getfixturevalue("pg_cluster")
        name = f"e2e_{uuid.uuid4().hex[:10]}"
        pg_execute(cluster, f"CREATE DATABASE {name}")
        url = cluster.database_url(name)
    srv = Server(tmp_path / "work", database_url=url).start()
    try:
        yield srv
    finally:
        srv.stop()


def test_the_readme_tour_works_against_a_real_server(server: Server) -> None:
    creds = server.credentials()
    assert creds["secret_key"].startswith("sk_test_") and creds["publishable_key"].startswith("pk_test_")
    assert creds["secret_key"] in server.output()  # printed for the developer on the first start
    with httpx.Client(base_url=server.base_url, timeout=10) as http:
        tok = http.post(
            "/v1/tokens",
            json={"card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"}},
            headers={"Authorization": f"Bearer {creds['publishable_key']}"},
        )
        assert tok.status_code == 201
        sk = {"Authorization": f"Bearer {creds['secret_key']}"}
        pay = http.post(
            "/v1/payments",
            json={
                "amount": 5000,
                "currency": "INR",
                "token": tok.json()["id"],
                "browser": BROWSER,
                "capture_method": "manual",
                "return_url": "https://yoursite.com/payment/callback/",
            },
            headers={**sk, "Idempotency-Key": "tour-1"},
        )
        assert pay.status_code == 201 and pay.json()["status"] == "authorized"
        assert pay.headers["x-request-id"].startswith("req_")
        pid = pay.json()["id"]
        assert (
            http.post(f"/v1/payments/{pid}/capture", json={"amount": 4000}, headers=sk).json()["status"] == "completed"
        )
        refund = http.post(f"/v1/payments/{pid}/refunds", json={"amount": 1500}, headers=sk)
        assert refund.status_code == 201 and refund.json()["amount_refunded"] == 1500
        got = http.get(f"/v1/payments/{pid}", headers=sk).json()
        assert [o["type"] for o in got["operations"]] == ["PA", "CP", "RF"]
        assert http.get("/healthz").json() == {"status": "ok"}
        metrics = http.get("/metrics").text
        assert 'tessera_payments_total{error_code="",status="authorized"} 1.0' in metrics
        assert 'route="/v1/payments/{payment_id}/capture"' in metrics
        spec = http.get("/openapi.json").json()
        assert {"/v1/tokens", "/v1/payments", "/v1/payments/{payment_id}/refunds"} <= set(spec["paths"])
        assert http.get("/docs").status_code == 200


def test_every_test_card_leaves_no_card_number_in_the_servers_output(server: Server) -> None:
    creds = server.credentials()
    sk = {"Authorization": f"Bearer {creds['secret_key']}"}
    with httpx.Client(base_url=server.base_url, timeout=10) as http:
        for number in TEST_CARDS:
            cvc = "9173" if number.startswith("3782") else "917"
            card = {"number": number, "exp_month": 12, "exp_year": 2031, "cvc": cvc}
            r = http.post(
                "/v1/payments", json={"amount": 100, "currency": "EUR", "card": card, "browser": BROWSER}, headers=sk
            )
            assert r.status_code in (201, 202, 400)  # 202: a challenge card waits for its shopper
            assert number not in r.text
    server.stop()
    out = server.output()
    assert "POST /v1/payments" in out
    for number in TEST_CARDS:
        assert number not in out


def test_restart_prints_the_same_demo_merchant_and_keeps_payments(server: Server) -> None:
    creds = server.credentials()
    sk = {"Authorization": f"Bearer {creds['secret_key']}"}
    card = {"number": "5555555555554444", "exp_month": 1, "exp_year": 2032, "cvc": "123"}
    pid = httpx.post(
        f"{server.base_url}/v1/payments",
        json={"amount": 100, "currency": "USD", "card": card, "capture_method": "manual", "browser": BROWSER},
        headers=sk,
    ).json()["id"]
    server.stop()
    assert "Application shutdown complete" in server.output()  # SIGTERM drains, then exits
    server.start()
    assert server.credentials() == creds
    assert creds["secret_key"] in server.output()
    captured = httpx.post(f"{server.base_url}/v1/payments/{pid}/capture", headers=sk)
    assert captured.status_code == 200 and captured.json()["status"] == "completed"


def test_merchant_create_json_prints_the_contracts_fields(server: Server) -> None:
    done = server.tessera("merchant", "create", "--name", "Acme", "--allow-domain", "acme.test", "--json")
    assert done.returncode == 0, done.stderr
    made = json.loads(done.stdout)
    fields = {"merchant_id", "mode", "client_id", "secret_key", "publishable_key", "webhook_secret", "brand_id"}
    assert set(made) - {"entity_id"} == fields  # entity_id comes with the OPPWA dialect
    assert made["mode"] == "test" and made["secret_key"].startswith("sk_test_")
    assert made["webhook_secret"].startswith("whsec_")
    r = httpx.post(
        f"{server.base_url}/v1/payments",
        json={
            "amount": 100,
            "currency": "INR",
            "return_url": "https://pay.acme.test/back",
            "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"},
            "browser": BROWSER,
        },
        headers={"Authorization": f"Bearer {made['secret_key']}"},
    )
    assert r.status_code == 201
    migrate = server.tessera("migrate")
    assert migrate.returncode == 0 and "up to date" in migrate.stdout


def test_several_http_processes_are_refused_on_sqlite(tmp_path: Path) -> None:
    (tmp_path / "w").mkdir()
    done = Server(tmp_path / "w").tessera("serve", "--workers", "2")
    assert done.returncode == 2
    assert "--workers > 1 needs PostgreSQL" in done.stderr


@pytest.mark.postgres
def test_two_http_processes_on_postgresql_share_the_work(tmp_path: Path, pg_cluster: pg.Cluster) -> None:
    name = f"e2e_{uuid.uuid4().hex[:10]}"
    pg_execute(pg_cluster, f"CREATE DATABASE {name}")
    srv = Server(tmp_path / "work", database_url=pg_cluster.database_url(name)).start("--workers", "2")
    try:
        sk = {"Authorization": f"Bearer {srv.credentials()['secret_key']}"}
        card = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"}

        async def pay_many() -> list[int]:
            async with httpx.AsyncClient(base_url=srv.base_url, timeout=20) as http:
                replies = await asyncio.gather(
                    *(
                        http.post(
                            "/v1/payments",
                            json={"amount": 100 + i, "currency": "EUR", "card": card, "browser": BROWSER},
                            headers=sk,
                        )
                        for i in range(40)
                    )
                )
            return [r.status_code for r in replies]

        assert asyncio.run(pay_many()) == [201] * 40
        listed = httpx.get(f"{srv.base_url}/v1/payments", params={"limit": 100}, headers=sk).json()
        assert len(listed["data"]) == 40
        # Every worker process sends shoppers to the port the command line gave, not the default 8000.
        challenge = {**card, "number": "4000002500003155"}
        for _ in range(6):  # enough requests that both processes answer some
            started = httpx.post(
                f"{srv.base_url}/v1/payments",
                json={"amount": 100, "currency": "EUR", "card": challenge, "browser": BROWSER},
                headers=sk,
            ).json()
            assert started["redirect_url"].startswith(f"{srv.base_url}/shopper/"), started["redirect_url"]
            page = httpx.get(started["redirect_url"]).text
            assert f"{srv.base_url}/sandbox/acs/" in page
    finally:
        srv.stop()
