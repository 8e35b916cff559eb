"""The dashboard's services: users, sign-in with throttling, sessions with expiry, the audit log.

The dashboard's pages call these (through `core.services.Services.dashboard`) and the payment, webhook,
merchant and risk services for everything else, exactly as the API does. Sign-in is refused, with one
message whatever the reason, after too many failures for the account or from the address within the
window; a session ends after its idle time or its lifetime, whichever comes first.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tessera.core.clock import utcnow
from tessera.core.dashboard.model import (
    EMAIL,
    MAX_PASSWORD,
    MIN_PASSWORD,
    AuditEntry,
    DashboardQueries,
    DashboardStore,
    PaymentFilter,
    Permission,
    Role,
    Session,
    User,
    hash_password,
    may,
    token_hash,
    verify_password,
)
from tessera.core.errors import AuthenticationError, ConflictError, ErrorCode, PermissionDeniedError, ValidationError
from tessera.core.ids import looks_like_id, new_id
from tessera.core.payments.model import Payment
from tessera.core.vault.pan import luhn_valid

MODES = ("test", "live")
_DIGITS = re.compile(r"\d(?:[ -]?\d){12,18}")
_SECRET_KEYS = ("secret", "password", "cvv", "cvc", "pan", "number")
_SECRET_VALUES = re.compile(r"\b(sk|pk)_(test|live)_|\bwhsec_")


class SignInThrottledError(AuthenticationError):
    """Too many failed sign-ins for the account or from the address: wait for the window to pass."""

    def __init__(self) -> None:
        super().__init__("too many failed sign-ins; try again later", code=ErrorCode.AUTHENTICATION_REQUIRED)


class RoleRefusedError(PermissionDeniedError):
    def __init__(self, role: Role, permission: Permission) -> None:
        super().__init__(f"the {role.value} role may not {permission.value.replace('_', ' ')}")


@dataclass(frozen=True, slots=True)
class Policy:
    session_idle: timedelta = timedelta(minutes=30)
    session_lifetime: timedelta = timedelta(hours=12)
    failure_window: timedelta = timedelta(minutes=15)
    failures_per_account: int = 5
    failures_per_address: int = 20


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A new session: `token` goes in the cookie, once; only its hash is kept."""

    token: str
    session: Session
    user: User


def check_audit_detail(detail: Mapping[str, Any]) -> dict[str, Any]:
    """What an audit entry may hold: names, ids and amounts. A value that looks like a card number or a
    key named like a secret is refused (a programming error, never data to keep)."""
    for key, value in detail.items():
        text = str(value)
        if any(word in key.lower() for word in _SECRET_KEYS) or _SECRET_VALUES.search(text):
            raise ValueError(f"audit detail {key!r} looks like a secret")
        for run in _DIGITS.findall(text):
            if luhn_valid(re.sub(r"\D", "", run)):
                raise ValueError(f"audit detail {key!r} holds a card number")
    return dict(detail)


class DashboardServices:
    def __init__(self, store: DashboardStore, queries: DashboardQueries, policy: Policy | None = None) -> None:
        self._store = store
        self._queries = queries
        self.policy = policy or Policy()

    # --- reads of the pages (no rules: the payment and webhook services own those) -----------------------

    async def list_payments(
        self, merchant_id: str, mode: str, filters: PaymentFilter, *, limit: int, before: str | None
    ) -> tuple[list[Payment], bool]:
        if before is not None and not looks_like_id(before, "pay"):
            raise ValidationError("before must be a payment id from the previous page", field="before")
        return await self._queries.list_payments(merchant_id, mode, filters, limit=limit, before=before)

    async def payment_events(self, merchant_id: str, mode: str, payment_id: str) -> list[dict[str, Any]]:
        return await self._queries.payment_events(merchant_id, mode, payment_id)

    async def payment_deliveries(self, merchant_id: str, mode: str, payment_id: str) -> list[dict[str, Any]]:
        return await self._queries.payment_deliveries(merchant_id, mode, payment_id)

    async def summary(self, merchant_id: str, mode: str, since: datetime) -> list[dict[str, Any]]:
        return await self._queries.summary(merchant_id, mode, since)

    # --- users -------------------------------------------------------------------------------------------

    async def create_user(self, merchant_id: str, email: str, role: str, password: str) -> User:
        email = email.strip().lower()
        if not EMAIL.fullmatch(email):
            raise ValidationError("email must be an email address", field="email")
        try:
            chosen = Role(role)
        except ValueError:
            raise ValidationError("role must be admin, developer or viewer", field="role") from None
        if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
            raise ValidationError(
                f"password must be {MIN_PASSWORD} to {MAX_PASSWORD} characters long", field="password"
            )
        user = User(
            id=new_id("usr"),
            merchant_id=merchant_id,
            email=email,
            role=chosen,
            password_hash=await asyncio.to_thread(hash_password, password),
            created_at=utcnow(),
        )
        if not await self._store.add_user(user):
            raise ConflictError("a user with this email exists", field="email")
        return user

    async def list_users(self, merchant_id: str) -> Sequence[User]:
        return await self._store.list_users(merchant_id)

    # --- sign-in and sessions ----------------------------------------------------------------------------

    async def sign_in(self, email: str, password: str, ip: str | None) -> SignedIn:
        now = utcnow()
        email = email.strip().lower()[:254]
        keys = [f"email:{email}"] + ([f"ip:{ip}"] if ip else [])
        since = now - self.policy.failure_window
        if await self._store.count_failures(keys[0], since) >= self.policy.failures_per_account or (
            ip and await self._store.count_failures(keys[1], since) >= self.policy.failures_per_address
        ):
            raise SignInThrottledError
        user = await self._store.user_by_email(email)
        password = password[:MAX_PASSWORD]
        ok = await asyncio.to_thread(verify_password, user.password_hash if user else None, password)
        if user is None or not ok or user.disabled_at is not None:
            await self._store.add_failure(keys, now)
            raise AuthenticationError("the email or password is wrong")
        await self._store.clear_failures(keys[0])
        token = secrets.token_urlsafe(32)
        session = Session(
            token_hash=token_hash(token),
            user_id=user.id,
            merchant_id=user.merchant_id,
            mode="test",
            csrf_token=secrets.token_urlsafe(32),
            ip=ip,
            created_at=now,
            last_seen_at=now,
            expires_at=min(now + self.policy.session_idle, now + self.policy.session_lifetime),
        )
        await self._store.add_session(session)
        await self.record(session, user, "user.sign_in", None, {}, ip)
        return SignedIn(token, session, user)

    async def session(self, token: str) -> tuple[Session, User] | None:
        """The live session the cookie's token names, its idle expiry pushed back; None once expired."""
        if not token or len(token) > 100:
            return None
        now = utcnow()
        session = await self._store.session(token_hash(token))
        if session is None:
            return None
        if session.expires_at <= now:
            await self._store.delete_session(session.token_hash)
            return None
        user = await self._store.user(session.user_id)
        if user is None or user.disabled_at is not None:
            return None
        if now - session.last_seen_at > timedelta(minutes=1):  # a write per minute, not per page
            expires = min(now + self.policy.session_idle, session.created_at + self.policy.session_lifetime)
            await self._store.touch_session(session.token_hash, now, expires)
        return session, user

    async def sign_out(self, session: Session, user: User, ip: str | None) -> None:
        await self._store.delete_session(session.token_hash)
        await self.record(session, user, "user.sign_out", None, {}, ip)

    async def switch_mode(self, session: Session, user: User, mode: str, ip: str | None) -> None:
        if mode not in MODES:
            raise ValidationError("mode must be test or live", field="mode")
        await self._store.set_session_mode(session.token_hash, mode)
        await self.record(session, user, "mode.switch", None, {"to": mode}, ip)

    async def purge(self) -> int:
        """The worker's clean-up: ended sessions, and failed sign-ins too old to throttle anyone."""
        now = utcnow()
        return await self._store.purge(now, now - self.policy.failure_window)

    @staticmethod
    def require(user: User, permission: Permission) -> None:
        """Refuse (on the server) what the user's role does not grant."""
        if not may(user.role, permission):
            raise RoleRefusedError(user.role, permission)

    # --- audit -------------------------------------------------------------------------------------------

    async def record(
        self,
        session: Session,
        user: User,
        action: str,
        target: str | None,
        detail: Mapping[str, Any],
        ip: str | None,
        mode: str | None = None,
    ) -> AuditEntry:
        entry = AuditEntry(
            id=new_id("aud"),
            merchant_id=user.merchant_id,
            mode=mode or session.mode,
            user_id=user.id,
            user_email=user.email,
            action=action,
            target=target,
            detail=check_audit_detail(detail),
            ip=ip,
            created_at=utcnow(),
        )
        await self._store.add_audit(entry)
        return entry

    async def audit_log(
        self, merchant_id: str, *, limit: int = 50, before: str | None = None
    ) -> tuple[Sequence[AuditEntry], bool]:
        return await self._store.list_audit(merchant_id, limit=limit, before=before)


def session_fresh(session: Session, now: datetime | None = None) -> bool:
    return session.expires_at > (now or utcnow())
