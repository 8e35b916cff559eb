"""`tessera merchant revoke-key` and `roll-key` as real processes, against a running server: a revoked
key stops working within the server's TESSERA_AUTH_CACHE_SECONDS (the server caches authentication for
that long; the CLI is another process), and no full secret is printed except a newly issued one."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.server import Server

pytestmark = pytest.mark.e2e

CACHE_SECONDS = 2.0  # the default TESSERA_AUTH_CACHE_SECONDS, set explicitly
# A correctness bound, not a speed target: the cache's ttl plus room for a loaded machine.
REFUSED_WITHIN = CACHE_SECONDS + 10.0


def _server(tmp_path: Path) -> Server:
    return Server(tmp_path / "work", extra_env={"TESSERA_AUTH_CACHE_SECONDS": str(CACHE_SECONDS)}).start()


def _status(server: Server, key: str) -> int:
    return httpx.get(f"{server.base_url}/v1/payments", headers={"Authorization": f"Bearer {key}"}).status_code


def _refused_after(server: Server, key: str) -> float:
    """Seconds until the server answers `key` with 401, asking every 50 ms; fails past REFUSED_WITHIN. Until
    then the key may only work (200): never an error."""
    start = time.monotonic()
    while (status := _status(server, key)) != 401:
        assert status == 200, status
        waited = time.monotonic() - start
        assert waited <= REFUSED_WITHIN, f"a revoked key still worked {waited:.1f} s after the CLI revoked it"
        time.sleep(0.05)
    return time.monotonic() - start


def test_a_key_revoked_by_the_cli_stops_working_on_the_running_server_within_the_auth_cache_ttl(
    tmp_path: Path,
) -> None:
    server = _server(tmp_path)
    try:
        creds = server.credentials()
        secret = creds["secret_key"]
        for _ in range(5):  # authenticated, and so cached, by the server
            assert _status(server, secret) == 200
        revoked = server.tessera("merchant", "revoke-key", creds["merchant_id"], secret[:12])
        assert revoked.returncode == 0, revoked.stderr
        assert _refused_after(server, secret) <= REFUSED_WITHIN
        time.sleep(CACHE_SECONDS)  # and it stays refused, however long one waits
        assert _status(server, secret) == 401
    finally:
        server.stop()


def test_revoke_and_roll_from_the_command_line_take_effect_on_the_running_server(tmp_path: Path) -> None:
    server = _server(tmp_path)
    try:
        creds = server.credentials()
        mid, secret, publishable = creds["merchant_id"], creds["secret_key"], creds["publishable_key"]

        def status(key: str) -> int:
            return _status(server, key)

        assert status(secret) == 200
        rolled = server.tessera("merchant", "roll-key", mid, "--json")
        assert rolled.returncode == 0, rolled.stderr
        done = json.loads(rolled.stdout)
        new = done["issued"]["secret_key"]
        assert new.startswith("sk_test_") and new != secret
        assert done["revoked"] == [{**done["revoked"][0], "prefix": secret[:12], "kind": "secret", "mode": "test"}]
        assert secret[12:] not in rolled.stdout + rolled.stderr  # the old secret is shown by prefix only
        _refused_after(server, secret)
        assert status(new) == 200

        revoked = server.tessera("merchant", "revoke-key", mid, new[:12])
        assert revoked.returncode == 0, revoked.stderr
        assert revoked.stdout.startswith("revoked secret key key_") and new[:12] in revoked.stdout
        assert new[12:] not in revoked.stdout + revoked.stderr
        _refused_after(server, new)
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
