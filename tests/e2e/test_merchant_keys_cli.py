"""`tessera merchant revoke-key` and `roll-key` as real processes, against a running server: a revoked
key stops working at once, and no full secret is printed except a newly issued one."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from tests.e2e.server import Server

pytestmark = pytest.mark.e2e


def test_revoke_and_roll_from_the_command_line_take_effect_on_the_running_server(tmp_path: Path) -> None:
    server = Server(tmp_path / "work").start()
    try:
        creds = server.credentials()
        mid, secret, publishable = creds["merchant_id"], creds["secret_key"], creds["publishable_key"]

        def status(key: str) -> int:
            return httpx.get(f"{server.base_url}/v1/payments", headers={"Authorization": f"Bearer {key}"}).status_code

        assert status(secret) == 200
        rolled = server.tessera("merchant", "roll-key", mid, "--json")
        assert rolled.returncode == 0, rolled.stderr
        done = json.loads(rolled.stdout)
        new = done["issued"]["secret_key"]
        assert new.startswith("sk_test_") and new != secret
        assert done["revoked"] == [{**done["revoked"][0], "prefix": secret[:12], "kind": "secret", "mode": "test"}]
        assert secret[12:] not in rolled.stdout + rolled.stderr  # the old secret is shown by prefix only
        assert status(secret) == 401 and status(new) == 200

        revoked = server.tessera("merchant", "revoke-key", mid, new[:12])
        assert revoked.returncode == 0, revoked.stderr
        assert revoked.stdout.startswith("revoked secret key key_") and new[:12] in revoked.stdout
        assert new[12:] not in revoked.stdout + revoked.stderr
        assert status(new) == 401
        tokens = httpx.post(
            f"{server.base_url}/v1/tokens",
            json={"card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "737"}},
            headers={"Authorization": f"Bearer {publishable}"},
        )
        assert tokens.status_code == 201  # the publishable key was not touched

        again = server.tessera("merchant", "revoke-key", mid, new[:12])
        assert again.returncode == 1 and again.stderr.startswith("Error: the merchant has no unrevoked key")
        assert "Traceback" not in again.stderr
    finally:
        server.stop()
