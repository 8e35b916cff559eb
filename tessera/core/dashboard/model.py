"""Dashboard users, roles, sessions and audit entries, with the port their storage implements.

Passwords are hashed with argon2id (argon2-cffi's defaults, RFC 9106's second recommended profile).
Sessions and CSRF tokens are random; a session is stored by the SHA-256 of its token.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from tessera.core.payments.model import Payment


class Role(StrEnum):
    ADMIN = "admin"  # everything, and (later) users
    DEVELOPER = "developer"  # payments' actions, keys, webhooks, settings, risk
    VIEWER = "viewer"  # reads; no action, no secret


class Permission(StrEnum):
    MOVE_MONEY = "move_money"  # capture, void, refund
    MANAGE_DEVELOPERS = "manage_developers"  # keys, webhooks, settings, risk, saved cards
    MANAGE_USERS = "manage_users"


_GRANTS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.DEVELOPER: frozenset({Permission.MOVE_MONEY, Permission.MANAGE_DEVELOPERS}),
    Role.VIEWER: frozenset(),
}


def may(role: Role, permission: Permission) -> bool:
    return permission in _GRANTS[role]


EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,189}\.[^@\s.]{1,63}")
MIN_PASSWORD = 12
MAX_PASSWORD = 1024  # argon2 would hash a megabyte too, slowly: a cheap denial of service


@dataclass(frozen=True, slots=True)
class User:
    id: str
    merchant_id: str
    email: str
    role: Role
    password_hash: str = field(repr=False)
    created_at: datetime
    disabled_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Session:
    token_hash: str = field(repr=False)
    user_id: str
    merchant_id: str
    mode: str
    csrf_token: str = field(repr=False)
    ip: str | None
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: str
    merchant_id: str
    mode: str
    user_id: str | None
    user_email: str | None
    action: str
    target: str | None
    detail: dict[str, Any]
    ip: str | None
    created_at: datetime


_HASHER = PasswordHasher()  # argon2id, t=3, m=64 MiB, p=4
# Verified against when the email is unknown, so an unknown account takes as long as a wrong password.
# Written out rather than hashed at import, which cost every `tessera` process 0.2 s at start; a unit
# test checks that its parameters are still the hasher's, so it costs what a real hash costs.
DUMMY_HASH = "$argon2id$v=19$m=65536,t=3,p=4$HtNy9Ez2EgT8lgMWPYBQWg$kAiDJPd2JK8P2UMrGxeCnxoDFxkUjI6NQRNfDrbTxss"


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash or DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class PaymentFilter:
    """The payment list's filters; None is "any". Amounts in minor units; dates as aware UTC datetimes
    (`created_to` excluded)."""

    status: str | None = None
    reference: str | None = None
    last4: str | None = None
    channel: str | None = None
    email: str | None = None
    amount_min: int | None = None
    amount_max: int | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None


class DashboardQueries(Protocol):
    """What the dashboard's pages read and no API needs (`storage.dashboard`)."""

    async def list_payments(
        self, merchant_id: str, mode: str, filters: PaymentFilter, *, limit: int, before: str | None
    ) -> tuple[list[Payment], bool]: ...
    async def payment_events(self, merchant_id: str, mode: str, payment_id: str) -> list[dict[str, Any]]: ...
    async def payment_deliveries(self, merchant_id: str, mode: str, payment_id: str) -> list[dict[str, Any]]: ...
    async def summary(self, merchant_id: str, mode: str, since: datetime) -> list[dict[str, Any]]: ...


class DashboardStore(Protocol):
    """Where users, sessions, failed sign-ins and the audit log are kept (`storage.dashboard`); each call
    is its own transaction."""

    async def add_user(self, user: User) -> bool:
        """False when the email is taken."""
        ...

    async def user_by_email(self, email: str) -> User | None: ...
    async def user(self, user_id: str) -> User | None: ...
    async def list_users(self, merchant_id: str) -> Sequence[User]: ...
    async def add_session(self, session: Session) -> None: ...
    async def session(self, token_hash: str) -> Session | None: ...
    async def touch_session(self, token_hash: str, last_seen_at: datetime, expires_at: datetime) -> None: ...
    async def set_session_mode(self, token_hash: str, mode: str) -> None: ...
    async def delete_session(self, token_hash: str) -> None: ...
    async def purge(self, now: datetime, failures_before: datetime) -> int:
        """Delete ended sessions and failed sign-ins from before `failures_before`; how many rows went."""
        ...

    async def add_failure(self, keys: Sequence[str], at: datetime) -> None: ...
    async def count_failures(self, key: str, since: datetime) -> int: ...
    async def clear_failures(self, key: str) -> None: ...
    async def add_audit(self, entry: AuditEntry) -> None: ...
    async def list_audit(
        self, merchant_id: str, *, limit: int, before: str | None
    ) -> tuple[Sequence[AuditEntry], bool]: ...
