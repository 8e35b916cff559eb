"""The dashboard's rules on an in-memory store: what each role may do, argon2id hashes, what an audit
entry may hold, throttling, and when a session ends."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from tessera.core.dashboard.model import (
    AuditEntry,
    Permission,
    Role,
    Session,
    User,
    hash_password,
    may,
    verify_password,
)
from tessera.core.dashboard.service import DashboardServices, Policy, SignInThrottledError, check_audit_detail
from tessera.core.errors import AuthenticationError, ConflictError, PermissionDeniedError, ValidationError

PASSWORD = "a long enough password"


class MemoryStore:
    def __init__(self) -> None:
        self.users: dict[str, User] = {}
        self.sessions: dict[str, Session] = {}
        self.failures: list[tuple[str, datetime]] = []
        self.audit: list[AuditEntry] = []

    async def add_user(self, user: User) -> bool:
        if any(u.email == user.email for u in self.users.values()):
            return False
        self.users[user.id] = user
        return True

    async def user_by_email(self, email: str) -> User | None:
        return next((u for u in self.users.values() if u.email == email), None)

    async def user(self, user_id: str) -> User | None:
        return self.users.get(user_id)

    async def list_users(self, merchant_id: str) -> Sequence[User]:
        return [u for u in self.users.values() if u.merchant_id == merchant_id]

    async def add_session(self, session: Session) -> None:
        self.sessions[session.token_hash] = session

    async def session(self, token_hash: str) -> Session | None:
        return self.sessions.get(token_hash)

    async def touch_session(self, token_hash: str, last_seen_at: datetime, expires_at: datetime) -> None:
        self.sessions[token_hash] = replace(self.sessions[token_hash], last_seen_at=last_seen_at, expires_at=expires_at)

    async def set_session_mode(self, token_hash: str, mode: str) -> None:
        self.sessions[token_hash] = replace(self.sessions[token_hash], mode=mode)

    async def delete_session(self, token_hash: str) -> None:
        self.sessions.pop(token_hash, None)

    async def purge(self, now: datetime, failures_before: datetime) -> int:
        gone = [k for k, s in self.sessions.items() if s.expires_at <= now]
        for k in gone:
            del self.sessions[k]
        kept = [(k, at) for k, at in self.failures if at > failures_before]
        removed = len(self.failures) - len(kept)
        self.failures = kept
        return len(gone) + removed

    async def add_failure(self, keys: Sequence[str], at: datetime) -> None:
        self.failures += [(k, at) for k in keys]

    async def count_failures(self, key: str, since: datetime) -> int:
        return sum(1 for k, at in self.failures if k == key and at > since)

    async def clear_failures(self, key: str) -> None:
        self.failures = [(k, at) for k, at in self.failures if k != key]

    async def add_audit(self, entry: AuditEntry) -> None:
        self.audit.append(entry)

    async def list_audit(self, merchant_id: str, *, limit: int, before: str | None) -> tuple[list[AuditEntry], bool]:
        found = sorted((e for e in self.audit if e.merchant_id == merchant_id), key=lambda e: e.id, reverse=True)
        return found[:limit], len(found) > limit


def _service(policy: Policy | None = None) -> tuple[DashboardServices, MemoryStore]:
    store = MemoryStore()
    return DashboardServices(store, queries=None, policy=policy), store  # type: ignore[arg-type]


def test_viewers_may_do_nothing_developers_move_money_and_manage_developers_admins_everything() -> None:
    assert not any(may(Role.VIEWER, p) for p in Permission)
    assert may(Role.DEVELOPER, Permission.MOVE_MONEY) and may(Role.DEVELOPER, Permission.MANAGE_DEVELOPERS)
    assert not may(Role.DEVELOPER, Permission.MANAGE_USERS)
    assert all(may(Role.ADMIN, p) for p in Permission)


def test_passwords_are_argon2id_hashes_that_verify_only_the_password() -> None:
    hashed = hash_password(PASSWORD)
    assert hashed.startswith("$argon2id$") and PASSWORD not in hashed
    assert verify_password(hashed, PASSWORD)
    assert not verify_password(hashed, PASSWORD + "x")
    assert not verify_password(None, PASSWORD)
    assert not verify_password("not a hash", PASSWORD)


@pytest.mark.parametrize(
    "detail",
    [
        {"note": "card 4242 4242 4242 4242"},
        {"value": "5555555555554444"},
        {"key": "sk_test_abcdef"},
        {"endpoint": "whsec_abc"},
        {"password": "x"},
        {"card_number": "1"},
    ],
)
def test_an_audit_entry_never_holds_a_card_number_or_a_secret(detail: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        check_audit_detail(detail)


def test_an_audit_entry_keeps_ids_amounts_and_refusal_codes() -> None:
    detail = {"amount": 1234567890123, "outcome": "refused: risk_declined", "shown_as": "424242******4242"}
    assert check_audit_detail(detail) == detail


async def test_a_user_needs_an_email_a_role_and_a_long_password_and_an_email_is_taken_once() -> None:
    dash, _ = _service()
    with pytest.raises(ValidationError, match="email"):
        await dash.create_user("mer_1", "not-an-email", "admin", PASSWORD)
    with pytest.raises(ValidationError, match="role"):
        await dash.create_user("mer_1", "a@b.test", "owner", PASSWORD)
    with pytest.raises(ValidationError, match="password"):
        await dash.create_user("mer_1", "a@b.test", "admin", "short")
    await dash.create_user("mer_1", "A@B.test", "admin", PASSWORD)
    with pytest.raises(ConflictError):
        await dash.create_user("mer_2", "a@b.test", "viewer", PASSWORD)


async def test_failures_throttle_the_account_and_a_success_clears_them() -> None:
    dash, store = _service(Policy(failures_per_account=2))
    await dash.create_user("mer_1", "a@b.test", "viewer", PASSWORD)
    with pytest.raises(AuthenticationError):
        await dash.sign_in("a@b.test", "wrong", "10.0.0.1")
    await dash.sign_in("a@b.test", PASSWORD, "10.0.0.1")  # one failure: still allowed, and it clears
    assert not [k for k, _ in store.failures if k == "email:a@b.test"]
    for _ in range(2):
        with pytest.raises(AuthenticationError):
            await dash.sign_in("a@b.test", "wrong", "10.0.0.1")
    with pytest.raises(SignInThrottledError):
        await dash.sign_in("a@b.test", PASSWORD, "10.0.0.2")


async def test_a_session_ends_after_its_idle_time_and_a_viewer_is_refused_an_action() -> None:
    dash, store = _service()
    await dash.create_user("mer_1", "v@b.test", "viewer", PASSWORD)
    signed = await dash.sign_in("v@b.test", PASSWORD, None)
    found = await dash.session(signed.token)
    assert found is not None and found[1].role is Role.VIEWER
    with pytest.raises(PermissionDeniedError):
        dash.require(found[1], Permission.MOVE_MONEY)
    stale = replace(signed.session, expires_at=signed.session.created_at - timedelta(seconds=1))
    store.sessions[stale.token_hash] = stale
    assert await dash.session(signed.token) is None and stale.token_hash not in store.sessions
    assert await dash.session("") is None and await dash.session("x" * 500) is None
    assert [e.action for e in store.audit] == ["user.sign_in"]


async def test_use_pushes_a_sessions_idle_end_back_but_never_past_its_lifetime() -> None:
    dash, store = _service(Policy(session_idle=timedelta(minutes=30), session_lifetime=timedelta(hours=1)))
    await dash.create_user("mer_1", "a@b.test", "admin", PASSWORD)
    signed = await dash.sign_in("a@b.test", PASSWORD, None)
    key = signed.session.token_hash
    # Used two minutes ago, made 20 minutes ago: use pushes the end to 30 idle minutes from now.
    now = signed.session.created_at
    store.sessions[key] = replace(
        signed.session, created_at=now - timedelta(minutes=20), last_seen_at=now - timedelta(minutes=2)
    )
    assert await dash.session(signed.token) is not None
    assert store.sessions[key].expires_at >= now + timedelta(minutes=29)
    # Made 50 minutes ago: use moves the end only to the lifetime's, ten minutes on, however busy it is.
    made = now - timedelta(minutes=50)
    store.sessions[key] = replace(store.sessions[key], created_at=made, last_seen_at=now - timedelta(minutes=2))
    assert await dash.session(signed.token) is not None
    assert store.sessions[key].expires_at == made + timedelta(hours=1)
    store.sessions[key] = replace(store.sessions[key], expires_at=now - timedelta(seconds=1))  # its end has come
    assert await dash.session(signed.token) is None


def test_the_unknown_accounts_stand_in_hash_costs_what_a_new_password_hash_costs() -> None:
    # An unknown email is verified against DUMMY_HASH so that it takes as long as a wrong password: its
    # argon2 parameters (time, memory, lanes) must be those new hashes are made with.
    from argon2 import extract_parameters

    from tessera.core.dashboard.model import DUMMY_HASH, hash_password

    assert extract_parameters(DUMMY_HASH) == extract_parameters(hash_password("a brand new password"))
