"""Paysecure's per-merchant identity: the `brand_id` (a UUID) clients send in `POST /purchases/`, and the
RSA key pair whose private half signs `paysecure-sign` and whose public half `GET /public_key/` shows.

Registered with the core (`core.identities`), which stores it per merchant and mode, the private key
sealed with the vault's keys.
"""

from __future__ import annotations

import base64
import uuid

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from tessera.core.identities import MadeIdentity

KIND = "brand_id"  # the name it is printed under by `tessera merchant create --json`
KEY_BITS = 2048


class BrandIdentity:
    name = KIND

    def make(self) -> MadeIdentity:
        key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
        private = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        public = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return MadeIdentity(public_id=str(uuid.uuid4()), public_data=public.decode(), secret=private)


def signed_string(purchase_id: str, status: str, brand_id: str) -> bytes:
    """What `paysecure-sign` signs: `purchaseId|STATUS|brandId`."""
    return f"{purchase_id}|{status}|{brand_id}".encode()


def sign(private_pem: bytes, message: bytes) -> str:
    """Base64 of an RSA PKCS#1 v1.5 signature over SHA-256 of `message` ("SHA256withRSA")."""
    key = serialization.load_pem_private_key(private_pem, password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return base64.b64encode(key.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode()


def verify(public_pem: str, message: bytes, signature: str) -> bool:
    """Whether `signature` (Base64) is the merchant's signature of `message`: what a receiver does."""
    key = serialization.load_pem_public_key(public_pem.encode())
    assert isinstance(key, rsa.RSAPublicKey)
    try:
        key.verify(base64.b64decode(signature), message, padding.PKCS1v15(), hashes.SHA256())
    except Exception:
        return False
    return True
