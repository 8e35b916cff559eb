"""Loading the vault's keys: from `TESSERA_VAULT_KEK`, a key file, or (development only) a key file
generated on first start in the data folder. Production refuses generated keys."""

from __future__ import annotations

import base64
import json
import os
import secrets
from pathlib import Path

from tessera.core.vault.crypto import Keyring
from tessera.settings import Settings


class KeyConfigurationError(Exception):
    pass


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _write_new_key_file(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    content = {
        "generated": True,
        "current": 1,
        "keys": {"1": _b64(secrets.token_bytes(32))},
        "hmac_key": _b64(secrets.token_bytes(32)),
    }
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(content, handle)


def load_keyring(settings: Settings) -> Keyring:
    if settings.vault_kek is not None:
        raw = base64.b64decode(settings.vault_kek.get_secret_value())
        if len(raw) != 32:
            raise KeyConfigurationError("TESSERA_VAULT_KEK must be base64 of exactly 32 bytes")
        # One secret, two purposes: derive the hashing key so the two are never equal.
        import hashlib

        return Keyring({1: raw}, 1, hashlib.sha256(b"tessera-hmac" + raw).digest())
    path = settings.vault_key_file or settings.data_dir / "vault-keys.json"
    if not path.exists():
        if settings.environment == "production":
            raise KeyConfigurationError(f"no vault key file at {path}; production will not generate keys")
        try:
            _write_new_key_file(path)
        except FileExistsError:
            pass  # another process made it first
    content = json.loads(path.read_text())
    if content.get("generated") and settings.environment == "production":
        raise KeyConfigurationError("production refuses the generated development keys; configure real keys")
    keys = {int(v): base64.b64decode(k) for v, k in content["keys"].items()}
    return Keyring(keys, int(content["current"]), base64.b64decode(content["hmac_key"]))
