"""Webhooks across real processes: a worker killed mid-delivery, `tessera listen`, and seed 000's
callback sent by `serve`'s embedded worker."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import BACKENDS, database_for
from tests.e2e.hooks import ThreadReceiver
from tests.e2e.server import Server
from tests.factories import BROWSER
from tests.waiting import wait_until_sync

pytestmark = pytest.mark.e2e

CARD = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"}


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest) -> str | None:
    return database_for(request, "e2e")


@pytest.fixture
def receiver() -> Iterator[ThreadReceiver]:
    r = ThreadReceiver().start()
    try:
        yield r
    finally:
        r.stop()


def _pay(server: Server, key: str) -> dict[str, object]:
    body = {"amount": 1500, "currency": "INR", "card": CARD, "browser": BROWSER}
    r = httpx.post(f"{server.base_url}/v1/payments", json=body, headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 201, r.text
    paid: dict[str, object] = r.json()
    return paid


def _worker(server: Server) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "tessera", "worker"],
        cwd=server.workdir,
        env=server.env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def test_a_worker_killed_mid_delivery_loses_nothing(
    tmp_path: Path, database_url: str | None, receiver: ThreadReceiver
) -> None:
    env = {
        "TESSERA_WEBHOOK_TIMEOUT_SECONDS": "3",
        "TESSERA_WEBHOOK_LEASE_SECONDS": "1",
        "TESSERA_WEBHOOK_POLL_SECONDS": "0.05",
    }
    server = Server(tmp_path / "work", database_url=database_url, extra_env=env).start("--no-worker")
    first = second = None
    try:
        key = server.credentials()["secret_key"]
        h = {"Authorization": f"Bearer {key}"}
        made = httpx.post(
            f"{server.base_url}/v1/webhook_endpoints", json={"url": receiver.url, "enabled_events": ["*"]}, headers=h
        ).json()
        paid = _pay(server, key)
        receiver.hold.set()  # the first delivery hangs while the worker waits for the answer
        first = _worker(server)
        [hung] = receiver.wait_for(1)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        receiver.hold.clear()
        second = _worker(server)
        again = receiver.wait_for(2, timeout=30)[1]
        assert again.headers["webhook-id"] == hung.headers["webhook-id"]
        assert again.verified(str(made["secret"]))["data"]["payment_id"] == paid["id"]
        log_url = f"{server.base_url}/v1/webhook_endpoints/{made['id']}/deliveries"

        def recorded() -> bool:
            data = httpx.get(log_url, headers=h).json()["data"]
            return bool(data) and data[0]["status"] == "succeeded"

        wait_until_sync(recorded, what="the second worker to record the delivery as succeeded", every=0.1)
        [delivery] = httpx.get(log_url, headers=h).json()["data"]
        assert delivery["status"] == "succeeded" and delivery["attempt_count"] == 1
        time.sleep(0.5)
        assert len(receiver.received) == 2  # at least once: the killed attempt, then the one that counted
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=15)
        server.stop()


def test_listen_forwards_each_new_event_signed_and_prints_a_line_for_it(
    tmp_path: Path, receiver: ThreadReceiver
) -> None:
    server = Server(tmp_path / "work").start("--no-worker")
    listener = None
    try:
        creds = server.credentials()
        _pay(server, creds["secret_key"])  # before listening: not forwarded
        listener = subprocess.Popen(
            [sys.executable, "-m", "tessera", "listen", "--forward-to", receiver.url],
            cwd=server.workdir,
            env=server.env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert listener.stdout is not None
        assert listener.stdout.readline().startswith("Ready! Forwarding test-mode events of " + creds["merchant_id"])
        assert creds["webhook_secret"] in listener.stdout.readline()
        paid = [_pay(server, creds["secret_key"])["id"] for _ in range(2)]
        hooks = receiver.wait_for(2)
        assert [h.verified(creds["webhook_secret"])["data"]["payment_id"] for h in hooks] == paid
        lines = [listener.stdout.readline() for _ in range(2)]
        assert all("payment.completed" in line and "[200]" in line for line in lines), lines
        listener.send_signal(signal.SIGINT)
        assert listener.wait(timeout=10) == 0
    finally:
        if listener is not None:
            if listener.poll() is None:
                listener.kill()
                listener.wait(timeout=10)
            assert listener.stdout is not None
            listener.stdout.close()
        server.stop()


def test_serve_sends_seed_000_callbacks_to_a_merchant_made_on_the_command_line(
    tmp_path: Path, receiver: ThreadReceiver
) -> None:
    server = Server(tmp_path / "work", extra_env={"TESSERA_WEBHOOK_POLL_SECONDS": "0.05"}).start()
    try:
        made = server.tessera("merchant", "create", "--name", "Shop", "--callback-url", receiver.url, "--json")
        assert made.returncode == 0, made.stderr
        creds = json.loads(made.stdout.splitlines()[0])
        paid = _pay(server, creds["secret_key"])
        [hook] = receiver.wait_for(1)
        body = hook.verified(creds["webhook_secret"])
        assert body["event_type"] == "PAYMENT_SUCCESSFUL" and body["data"]["order_id"] == paid["id"]
        bad = server.tessera("merchant", "create", "--name", "Shop", "--callback-url", "ftp://x", "--json")
        assert bad.returncode != 0 and "callback URL" in bad.stderr and "Traceback" not in bad.stderr
    finally:
        server.stop()
