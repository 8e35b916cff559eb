"""Seed 003's flows against a fresh `tessera serve`, form-encoded as OPPWA's clients send them (httpx
`data=`), on SQLite and PostgreSQL: PA then CP then RF; DB then RF twice then CB then CR; PA then RV; DB
then RB; PA then RC; the third status call within a minute throttled while `query` still answers, also
when the calls go to two processes on one database; and every 700.* rule."""

from __future__ import annotations

import base64
import json
import re
import secrets
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests import pg
from tests.conftest import BACKENDS, database_for, pg_execute
from tests.e2e.server import Server
from tests.integration.oppwa.helpers import card_form, clear_of_a_minute_boundary

pytestmark = pytest.mark.e2e


class Client:
    """What an OPPWA client does: its base URL, Bearer token and entityId on every call."""

    def __init__(self, base_url: str, creds: dict[str, str]) -> None:
        self.base = f"{base_url}/oppwa"
        self.headers = {"Authorization": f"Bearer {creds['secret_key']}"}
        self.entity = creds["entity_id"]

    def post(self, path: str, form: dict[str, str]) -> httpx.Response:
        return httpx.post(f"{self.base}{path}", data={"entityId": self.entity} | form, headers=self.headers, timeout=30)

    def get(self, path: str, **params: str) -> httpx.Response:
        return httpx.get(
            f"{self.base}{path}", params={"entityId": self.entity} | params, headers=self.headers, timeout=30
        )

    def back_office(self, pid: str, kind: str, amount: str | None = None) -> tuple[int, str]:
        form = {"paymentType": kind} | ({"amount": amount, "currency": "EUR"} if amount else {})
        found = self.post(f"/v1/payments/{pid}", form)
        return found.status_code, found.json()["result"]["code"]

    def pay(self, payment_type: str = "PA", **changes: str) -> str:
        found = self.post("/v1/payments", card_form(payment_type=payment_type, **changes))
        assert found.status_code == 200 and found.json()["result"]["code"] == "000.100.110", found.text
        return str(found.json()["id"])


@pytest.fixture(scope="module", params=BACKENDS)
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("oppwa") / "work", database_url=database_for(request, "oppwa"))
    srv.start()
    yield srv
    srv.stop()


def _merchant(server: Server) -> dict[str, str]:
    made = server.tessera("merchant", "create", "--name", "Shop", "--allow-domain", "127.0.0.1", "--json")
    assert made.returncode == 0, made.stderr
    creds: dict[str, str] = json.loads(made.stdout.splitlines()[0])
    assert re.fullmatch(r"[0-9a-f]{32}", creds["entity_id"])  # printed as the contract says
    return creds


@pytest.fixture(scope="module")
def api(server: Server) -> Client:
    return Client(server.base_url, _merchant(server))


def test_pa_then_cp_then_rf(api: Client) -> None:
    pid = api.pay()
    assert api.back_office(pid, "CP", "92.00") == (200, "000.100.110")
    assert api.back_office(pid, "RF", "92.00") == (200, "000.100.110")


def test_db_then_rf_twice_then_cb_then_cr(api: Client) -> None:
    pid = api.pay("DB")
    assert api.back_office(pid, "RF", "10.00") == (200, "000.100.110")
    assert api.back_office(pid, "RF", "20.00") == (200, "000.100.110")
    assert api.back_office(pid, "CB", "62.00") == (200, "000.100.110")
    assert api.back_office(pid, "CR", "62.00") == (200, "000.100.110")


def test_pa_then_rv(api: Client) -> None:
    assert api.back_office(api.pay(), "RV") == (200, "000.100.110")


def test_db_then_rb(api: Client) -> None:
    pid = api.pay("DB", createRegistration="true")
    found = api.post(f"/v1/payments/{pid}", {"paymentType": "RB", "amount": "15.99", "currency": "EUR"})
    assert (found.status_code, found.json()["result"]["code"], found.json()["referencedId"]) == (
        200,
        "000.100.110",
        pid,
    )


def test_pa_then_rc(api: Client) -> None:
    assert api.back_office(api.pay(), "RC") == (200, "000.100.110")


def test_the_third_status_call_within_a_minute_is_throttled_while_query_answers(api: Client) -> None:
    clear_of_a_minute_boundary()
    pid = api.pay(merchantTransactionId=f"order-{uuid.uuid4().hex[:8]}")
    statuses = [api.get(f"/v1/payments/{pid}") for _ in range(3)]
    assert [r.status_code for r in statuses] == [200, 200, 429]
    assert statuses[2].json()["result"]["code"] == "800.120.100"
    report = api.get(f"/v1/query/{pid}")
    assert (report.status_code, report.json()["id"]) == (200, pid)


def test_every_700_rule(api: Client) -> None:
    pid = api.pay()
    assert api.back_office(pid, "CP", "50.00") == (200, "000.100.110")
    assert api.back_office(pid, "CP", "10.00") == (400, "700.300.300")  # capture twice
    assert api.back_office(pid, "RF", "60.00") == (400, "700.400.200")  # refund more than captured
    assert api.back_office(pid, "RV") == (400, "700.300.700")  # reversal after capture
    assert api.back_office("0" * 32, "RF", "1.00") == (404, "700.100.100")  # reference unknown


@pytest.mark.postgres
def test_status_calls_are_counted_across_processes(tmp_path: Path, pg_cluster: pg.Cluster) -> None:
    name = f"oppwa_{uuid.uuid4().hex[:10]}"
    pg_execute(pg_cluster, f"CREATE DATABASE {name}")
    keys = {
        "TESSERA_VAULT_KEK": base64.b64encode(secrets.token_bytes(32)).decode(),
        "TESSERA_VAULT_FINGERPRINT_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
    }
    url = pg_cluster.database_url(name)
    first = Server(tmp_path / "one", database_url=url, extra_env=keys).start("--no-worker")
    second = None
    try:
        second = Server(tmp_path / "two", database_url=url, extra_env=keys).start("--no-worker")
        creds = _merchant(first)
        one, two = Client(first.base_url, creds), Client(second.base_url, creds)
        clear_of_a_minute_boundary()
        pid = one.pay()
        answers = [one.get(f"/v1/payments/{pid}"), two.get(f"/v1/payments/{pid}"), one.get(f"/v1/payments/{pid}")]
        assert [r.status_code for r in answers] == [200, 200, 429]
        assert two.get(f"/v1/payments/{pid}").status_code == 429
        assert two.get(f"/v1/query/{pid}").status_code == 200
    finally:
        if second is not None:
            second.stop()
        first.stop()
