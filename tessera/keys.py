"""Loading the vault's key-encryption keys and fingerprint key from configuration.

In order: `TESSERA_VAULT_KEK` (base64 of 32 bytes, or `1:<b64>,2:<b64>` for several versions, the
highest current) with `TESSERA_VAULT_FINGERPRINT_KEY`; else a key file (`TESSERA_VAULT_KEY_FILE`, by
default `vault-keys.json` in the data folder). In development a key file is generated on first start;
production, and any deployment with live payments enabled, refuses generated keys.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tessera.core.vault.crypto import KeyEncryptionKeys
from tessera.settings import Settings


class KeyConfigurationError(Exception):
    pass


@dataclass(frozen=True)
class KeyMaterial:
    keks: KeyEncryptionKeys
    fingerprint_key: bytes
    generated: bool
    path: Path | None


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _decode(text: str, what: str) -> bytes:
    try:
        raw = base64.b64decode(text, validate=True)
    except ValueError as exc:
        raise KeyConfigurationError(f"{what} is not valid base64") from exc
    if len(raw) != 32:
        raise KeyConfigurationError(f"{what} must be exactly 32 bytes")
    return raw


def key_file_path(settings: Settings) -> Path:
    return settings.vault_key_file or settings.data_dir / "vault-keys.json"


def _write_key_file(path: Path, content: dict[str, Any], *, exclusive: bool) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else os.O_TRUNC)
    tmp = path if exclusive else path.with_suffix(".tmp")
    fd = os.open(tmp, flags, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(content, handle, indent=2)
        handle.flush()
        os.fsync(handle.fileno())
    if not exclusive:
        os.replace(tmp, path)


def _from_environment(settings: Settings) -> KeyMaterial:
    assert settings.vault_kek is not None
    text = settings.vault_kek.get_secret_value().strip()
    versions: dict[int, bytes] = {}
    for part in text.split(","):
        version, sep, value = part.strip().rpartition(":")
        versions[int(version) if sep else 1] = _decode(value, "TESSERA_VAULT_KEK")
    if settings.vault_fingerprint_key is not None:
        fingerprint = _decode(settings.vault_fingerprint_key.get_secret_value(), "TESSERA_VAULT_FINGERPRINT_KEY")
    else:
        # Derived from the oldest KEK so that adding a KEK version never changes fingerprints.
        fingerprint = hashlib.sha256(b"tessera-fingerprint:" + versions[min(versions)]).digest()
    return KeyMaterial(KeyEncryptionKeys(versions, max(versions)), fingerprint, generated=False, path=None)


def _from_file(path: Path) -> KeyMaterial:
    content = json.loads(path.read_text())
    if "kek" in content:
        kek = content["kek"]
        versions = {int(v): _decode(k, f"{path}: kek {v}") for v, k in kek["versions"].items()}
        current = int(kek["current"])
    else:  # the first layout: {"current", "keys"}
        versions = {int(v): _decode(k, f"{path}: key {v}") for v, k in content["keys"].items()}
        current = int(content["current"])
    fingerprint = base64.b64decode(content["hmac_key"])
    return KeyMaterial(KeyEncryptionKeys(versions, current), fingerprint, bool(content.get("generated")), path)


def load_key_material(settings: Settings) -> KeyMaterial:
    if settings.vault_kek is not None:
        return _from_environment(settings)
    path = key_file_path(settings)
    if not path.exists():
        if settings.environment == "production":
            raise KeyConfigurationError(f"no vault key file at {path}; production will not generate keys")
        content = {
            "generated": True,
            "kek": {"current": 1, "versions": {"1": _b64(secrets.token_bytes(32))}},
            "hmac_key": _b64(secrets.token_bytes(32)),
        }
        try:
            _write_key_file(path, content, exclusive=True)
        except FileExistsError:
            pass  # another process made it first
    material = _from_file(path)
    if material.generated and (settings.environment == "production" or settings.live_processor):
        raise KeyConfigurationError(
            "the vault's development keys were generated on this machine; with live payments enabled or in "
            "production, configure TESSERA_VAULT_KEK (and TESSERA_VAULT_FINGERPRINT_KEY) or a key file you made"
        )
    return material


def add_kek_version(material: KeyMaterial) -> KeyMaterial:
    """Make a new KEK version current in the key file (the old ones stay, to unwrap until re-wrapped)."""
    if material.path is None:
        raise KeyConfigurationError(
            "the KEK comes from TESSERA_VAULT_KEK: add a new version there (`1:<old>,2:<new>`) instead"
        )
    content = json.loads(material.path.read_text())
    if "kek" not in content:
        content = {
            "generated": content.get("generated", False),
            "kek": {"current": content["current"], "versions": content["keys"]},
            "hmac_key": content["hmac_key"],
        }
    version = max(int(v) for v in content["kek"]["versions"]) + 1
    content["kek"]["versions"][str(version)] = _b64(secrets.token_bytes(32))
    content["kek"]["current"] = version
    _write_key_file(material.path, content, exclusive=False)
    return _from_file(material.path)
