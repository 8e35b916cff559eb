"""`tessera vault rotate` against a running server, and the refusal of development keys for live use."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.e2e.server import Server

pytestmark = pytest.mark.e2e


def test_rotate_without_a_terminal_re_encrypts_while_the_server_keeps_paying(tmp_path: Path) -> None:
    server = Server(tmp_path / "work").start()
    try:
        creds = server.credentials()
        h = {"Authorization": f"Bearer {creds['secret_key']}"}
        tokens = []
        for i in range(3):
            body = {
                "card": {"number": "5555555555554444", "exp_month": 3, "exp_year": 2032},
                "identifier": f"c{i}",
                "card_type": "DEBIT",
                "consent": True,
            }
            tokens.append(httpx.post(f"{server.base_url}/v1/cards", json=body, headers=h).json()["card_token"])
        done = server.tessera("vault", "rotate", "--kek")  # stdin is not a terminal: no question asked
        assert done.returncode == 0, done.stderr
        assert "key-encryption key version 2 is current" in done.stdout
        assert "data key version 2 is current" in done.stdout
        assert "re-encrypted 4 fields" in done.stdout  # these 3 cards and the demo merchant's seed 000 card
        for i, token in enumerate(tokens):
            r = httpx.post(
                f"{server.base_url}/v1/payments",
                json={"amount": 100, "currency": "INR", "saved_card": token, "identifier": f"c{i}"},
                headers=h,
            )
            assert r.status_code == 201, r.text
        again = server.tessera("vault", "rotate", "--yes")
        assert again.returncode == 0 and "data key version 3 is current" in again.stdout
    finally:
        server.stop()


def test_live_payments_refuse_the_generated_development_keys(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    done = Server(work, extra_env={"TESSERA_LIVE_PROCESSOR": "sandbox"}).tessera("serve", "--port", "1")
    assert done.returncode == 1
    assert done.stderr.startswith("Error: the vault's development keys were generated on this machine")
    assert "Traceback" not in done.stderr
