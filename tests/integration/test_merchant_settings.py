"""A merchant's settings after it is made: its callback URL (kept only on its callback endpoint) set,
changed and removed, and its allowed return-URL domains replaced; through the service on both
databases, and through `tessera merchant update` on a real SQLite file."""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from httpx import ASGITransport, AsyncClient
from sqlalchemy import inspect

from tessera.app import create_app
from tessera.bootstrap import Container, build
from tessera.cli import main
from tessera.core.clock import utcnow
from tessera.core.errors import NotFoundError, ValidationError
from tessera.core.merchants import UpdateMerchant, create_merchant, merchant_settings, update_merchant
from tessera.storage import tables as t
from tests.conftest import Backend, auth, make_settings
from tests.factories import payment
from tests.receiver import Receiver


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    r = await Receiver().start()
    try:
        yield r
    finally:
        await r.stop()


async def _drain(container: Container) -> None:
    for _ in range(20):
        if not await container.deliveries.run_once(utcnow()):
            return


async def _callback_endpoint_url(client: AsyncClient, key: str) -> str | None:
    r = await client.get("/v1/webhook_endpoints/callback", headers=auth(key))
    if r.status_code == 404:
        return None
    body = r.json()
    return str(body["url"]) if body["status"] == "enabled" else None


async def test_a_merchant_made_without_a_callback_url_gets_one_later_and_receives_callbacks(
    client: AsyncClient, container: Container, receiver: Receiver
) -> None:
    made, [test, _live] = await create_merchant("Late Shop", uow=container.uow, modes=("test", "live"))
    await client.post("/v1/payments", json=payment(), headers=auth(test.secret_key))
    await _drain(container)
    assert receiver.received == []  # no callback URL, no callback
    settings = await update_merchant(
        UpdateMerchant(made.id, callback_url="https://shop.example/callbacks"), uow=container.uow
    )
    assert settings.callback_urls == {
        "live": "https://shop.example/callbacks",
        "test": "https://shop.example/callbacks",
    }
    # test mode may point at a developer's machine; live keeps its HTTPS URL
    r = await client.post("/v1/webhook_endpoints/callback", json={"url": receiver.url}, headers=auth(test.secret_key))
    assert r.status_code == 200, r.text
    paid = (await client.post("/v1/payments", json=payment(), headers=auth(test.secret_key))).json()
    await _drain(container)
    [got] = receiver.received
    body = got.verified(test.webhook_secret)
    assert body["event_type"] == "PAYMENT_SUCCESSFUL" and body["data"]["order_id"] == paid["id"]
    assert (await merchant_settings(made.id, uow=container.uow)).callback_urls == {
        "live": "https://shop.example/callbacks",
        "test": receiver.url,
    }


async def test_changing_the_callback_url_sends_the_next_callbacks_to_the_new_one(
    client: AsyncClient, container: Container, receiver: Receiver
) -> None:
    made, [creds] = await create_merchant("Moving Shop", uow=container.uow, callback_url="http://127.0.0.1:9/old")
    await update_merchant(UpdateMerchant(made.id, callback_url=receiver.url), uow=container.uow)
    await client.post("/v1/payments", json=payment(), headers=auth(creds.secret_key))
    await _drain(container)
    assert len(receiver.received) == 1 and receiver.received[0].verified(creds.webhook_secret)
    assert await _callback_endpoint_url(client, creds.secret_key) == receiver.url


async def test_removing_the_callback_url_stops_callbacks_and_cancels_those_waiting(
    client: AsyncClient, container: Container, receiver: Receiver
) -> None:
    made, [creds] = await create_merchant("Quiet Shop", uow=container.uow, callback_url=receiver.url)
    key = creds.secret_key
    await client.post("/v1/payments", json=payment(), headers=auth(key))
    await container.deliveries._store.dispatch(utcnow(), 100)  # one callback waits to be sent
    settings = await update_merchant(UpdateMerchant(made.id, remove_callback_url=True), uow=container.uow)
    assert settings.callback_urls == {"test": None}
    await client.post("/v1/payments", json=payment(), headers=auth(key))
    await _drain(container)
    assert receiver.received == []
    assert await _callback_endpoint_url(client, key) is None
    log = (await client.get("/v1/webhook_endpoints/callback/deliveries", headers=auth(key))).json()["data"]
    assert [d["status"] for d in log] == ["canceled"]
    # set again, it gets what happens from then on, not what was canceled
    await update_merchant(UpdateMerchant(made.id, callback_url=receiver.url), uow=container.uow)
    paid = (await client.post("/v1/payments", json=payment(), headers=auth(key))).json()
    await _drain(
        container,
    )
    assert [r.verified(creds.webhook_secret)["data"]["order_id"] for r in receiver.received] == [paid["id"]]


async def test_the_callback_endpoint_and_the_merchants_settings_never_disagree(
    client: AsyncClient, container: Container, receiver: Receiver
) -> None:
    made, [creds] = await create_merchant("One Truth", uow=container.uow, callback_url=receiver.url)
    key = creds.secret_key

    async def agree() -> str | None:
        url = (await merchant_settings(made.id, uow=container.uow)).callback_urls["test"]
        assert url == await _callback_endpoint_url(client, key)
        return url

    assert await agree() == receiver.url
    await update_merchant(UpdateMerchant(made.id, callback_url="http://127.0.0.1:9/b"), uow=container.uow)
    assert await agree() == "http://127.0.0.1:9/b"
    # changed through the webhook API instead: the merchant's settings follow, there is no second copy
    await client.post("/v1/webhook_endpoints/callback", json={"url": "http://127.0.0.1:9/c"}, headers=auth(key))
    assert await agree() == "http://127.0.0.1:9/c"
    await update_merchant(UpdateMerchant(made.id, remove_callback_url=True), uow=container.uow)
    assert await agree() is None
    async with container.db.connect() as conn:
        columns = await conn.run_sync(lambda c: {col["name"] for col in inspect(c).get_columns("merchants")})
    assert "callback_url" not in columns and "callback_url" not in t.merchants.c


async def test_allowed_domains_are_replaced_and_the_core_checks_return_urls_against_the_new_list(
    client: AsyncClient, container: Container
) -> None:
    made, [creds] = await create_merchant("Domains", uow=container.uow, allowed_domains=["old.example"])
    settings = await update_merchant(
        UpdateMerchant(made.id, allowed_domains=["New.Example", " shop.test "]), uow=container.uow
    )
    assert settings.allowed_domains == ["new.example", "shop.test"]
    assert (await merchant_settings(made.id, uow=container.uow)).allowed_domains == ["new.example", "shop.test"]


async def test_a_bad_update_changes_nothing(container: Container) -> None:
    made, _ = await create_merchant(
        "Careful", uow=container.uow, callback_url="https://shop.example/cb", modes=("test", "live")
    )
    with pytest.raises(ValidationError):  # live callbacks need HTTPS
        await update_merchant(UpdateMerchant(made.id, callback_url="http://shop.example/cb"), uow=container.uow)
    with pytest.raises(ValidationError):
        await update_merchant(
            UpdateMerchant(made.id, callback_url="https://a.example", remove_callback_url=True), uow=container.uow
        )
    with pytest.raises(NotFoundError):
        await update_merchant(UpdateMerchant("mer_nope", remove_callback_url=True), uow=container.uow)
    assert set((await merchant_settings(made.id, uow=container.uow)).callback_urls.values()) == {
        "https://shop.example/cb"
    }


# ------------------------------------------------------------------------------- the command line


def test_tessera_merchant_update_sets_the_callback_url_and_a_payment_is_called_back_there(tmp_path: Path) -> None:
    backend = Backend("sqlite", f"sqlite:///{tmp_path / 'cli.db'}", sqlite_path=tmp_path / "cli.db")
    keys = {
        "vault_kek": base64.b64encode(secrets.token_bytes(32)).decode(),
        "vault_fingerprint_key": base64.b64encode(secrets.token_bytes(32)).decode(),
    }
    settings = make_settings(backend, tmp_path, **keys)
    env = {
        "TESSERA_DATABASE_URL": backend.url,
        "TESSERA_DATA_DIR": str(tmp_path / "data"),
        "TESSERA_VAULT_KEK": keys["vault_kek"],
        "TESSERA_VAULT_FINGERPRINT_KEY": keys["vault_fingerprint_key"],
    }
    runner = CliRunner()
    made = runner.invoke(main, ["merchant", "create", "--name", "CLI Shop", "--json"], env=env)
    assert made.exit_code == 0, made.output
    creds = json.loads(made.output.splitlines()[0])

    async def pay_and_receive(expect: bool) -> list[object]:
        receiver = await Receiver().start()
        container = build(settings)
        await container.start()
        try:
            if expect:
                done = await asyncio.to_thread(
                    runner.invoke,
                    main,
                    ["merchant", "update", creds["merchant_id"], "--callback-url", receiver.url, "--json"],
                    env=env,
                )
                assert done.exit_code == 0, done.output
                shown = json.loads(done.output)
                assert shown["callback_urls"] == {"test": receiver.url}
            app = create_app(settings, container=container, embedded_worker=False)
            async with AsyncClient(transport=ASGITransport(app=app), base_url="http://tessera.test") as client:
                paid = (await client.post("/v1/payments", json=payment(), headers=auth(creds["secret_key"]))).json()
            for _ in range(20):
                if not await container.deliveries.run_once(utcnow() + timedelta(seconds=1)):
                    break
            return [r.verified(creds["webhook_secret"])["data"]["order_id"] == paid["id"] for r in receiver.received]
        finally:
            await container.close()
            await receiver.stop()

    assert asyncio.run(pay_and_receive(expect=False)) == []
    assert asyncio.run(pay_and_receive(expect=True)) == [True]
    removed = runner.invoke(main, ["merchant", "update", creds["merchant_id"], "--no-callback-url"], env=env)
    assert removed.exit_code == 0 and "(none) (test mode)" in removed.output
    both = runner.invoke(main, ["merchant", "update", creds["merchant_id"], "--callback-url", "x", "--no-callback-url"])
    assert both.exit_code != 0 and "not both" in both.output
    unknown = runner.invoke(main, ["merchant", "update", "mer_nope", "--no-callback-url"], env=env)
    assert unknown.exit_code != 0 and "no merchant" in unknown.output and "Traceback" not in unknown.output


# ------------------------------------------------------------------------------------- migration 0008


def test_migration_0008_names_each_endpoints_format_and_moves_the_callback_url_to_its_endpoint_only(
    tmp_path: Path,
) -> None:
    import sqlite3

    from tessera.storage.migrate import downgrade, upgrade

    path = tmp_path / "old.db"
    url = f"sqlite:///{path}"
    upgrade(url, "0007")
    when = "2026-11-21 10:00:00.000000"
    with sqlite3.connect(path) as conn:
        conn.execute(
            "INSERT INTO merchants (id, name, status, allowed_domains, callback_url, webhook_secret, created_at) "
            "VALUES ('m1', 'Old', 'active', '[]', 'https://shop.example/cb', 'whsec_AAAA', ?)",
            (when,),
        )
        for id_, kind, target in (
            ("we_cb", "callback", "https://shop.example/cb"),
            ("we_api", "endpoint", "https://x.example"),
        ):
            conn.execute(
                "INSERT INTO webhook_endpoints (id, merchant_id, mode, kind, url, enabled_events, secret, status, "
                "created_at, updated_at) VALUES (?, 'm1', 'test', ?, ?, '[\"*\"]', 'whsec_AAAA', 'enabled', ?, ?)",
                (id_, kind, target, when, when),
            )
    upgrade(url)
    with sqlite3.connect(path) as conn:
        formats = dict(conn.execute("SELECT id, format FROM webhook_endpoints").fetchall())
        columns = {row[1] for row in conn.execute("PRAGMA table_info(merchants)")}
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    assert formats == {"we_cb": "eximpe", "we_api": "native"} and "callback_url" not in columns
    downgrade(url, "0007")
    with sqlite3.connect(path) as conn:
        [(restored,)] = conn.execute("SELECT callback_url FROM merchants").fetchall()
    assert restored == "https://shop.example/cb"
