"""`tessera merchant update` sets the API IP allowlist and the charges, and the API obeys them at once."""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
from pathlib import Path

from click.testing import CliRunner
from httpx import ASGITransport, AsyncClient

from tessera.app import create_app
from tessera.bootstrap import build
from tessera.cli import main
from tests.conftest import Backend, auth, make_settings
from tests.factories import payment


def test_merchant_update_sets_the_ip_allowlist_and_charges(backend: Backend, tmp_path: Path) -> None:
    keys = {
        "vault_kek": base64.b64encode(secrets.token_bytes(32)).decode(),
        "vault_fingerprint_key": base64.b64encode(secrets.token_bytes(32)).decode(),
    }
    env = {
        "TESSERA_DATABASE_URL": backend.url,
        "TESSERA_DATA_DIR": str(tmp_path / "data"),
        "TESSERA_VAULT_KEK": keys["vault_kek"],
        "TESSERA_VAULT_FINGERPRINT_KEY": keys["vault_fingerprint_key"],
    }
    runner = CliRunner()
    made = runner.invoke(main, ["merchant", "create", "--name", "CLI Shop", "--live", "--json"], env=env)
    assert made.exit_code == 0, made.output
    test, live = (json.loads(line) for line in made.output.splitlines()[:2])
    args = ["merchant", "update", test["merchant_id"], "--allow-ip", "10.0.0.0/8", "--allow-ip", "2001:db8::1"]
    args += ["--ip-mode", "test", "--charge", "*:INR:150:2", "--json"]
    done = runner.invoke(main, args, env=env)
    assert done.exit_code == 0, done.output
    shown = json.loads(done.output)
    assert shown["allowed_ips"] == {"test": ["10.0.0.0/8", "2001:db8::1/128"]}
    assert shown["charges"] == [{"brand": "*", "currency": "INR", "percent_bp": 150, "fixed": 2}]
    bad = runner.invoke(main, ["merchant", "update", test["merchant_id"], "--charge", "visa:EUR:x:1"], env=env)
    assert bad.exit_code != 0 and "--charge" in bad.output

    settings = make_settings(backend, tmp_path, **keys)

    async def calls() -> tuple[int, dict[str, object]]:
        container = build(settings)
        await container.start()
        try:
            app = create_app(settings, container=container, embedded_worker=False)
            async with AsyncClient(transport=ASGITransport(app=app), base_url="http://tessera.test") as client:
                refused = await client.get("/v1/payments", headers=auth(test["secret_key"]))
                paid = await client.post("/v1/payments", json=payment(amount=1000), headers=auth(live["secret_key"]))
                return refused.status_code, paid.json()
        finally:
            await container.close()

    status, paid = asyncio.run(calls())
    assert status == 403
    assert paid["status"] == "completed" and paid["fee"] == 17  # live: no allowlist; 1.5% + 2
    cleared = runner.invoke(main, ["merchant", "update", test["merchant_id"], "--no-allow-ip"], env=env)
    assert cleared.exit_code == 0, cleared.output
    assert asyncio.run(calls())[0] == 200
