"""The dashboard's storage: users, sessions, failed sign-ins and the audit log (`core.dashboard`'s
`DashboardStore`), and the read-only queries of its pages (the payment list's filters, a payment's
events and webhook deliveries). Each call is its own transaction."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from tessera.core.dashboard.model import AuditEntry, PaymentFilter, Role, Session, User
from tessera.core.ids import new_id
from tessera.core.payments.model import Payment
from tessera.storage import tables as t
from tessera.storage.engine import Database
from tessera.storage.events import number_committed_events
from tessera.storage.payments import operation_from_row, payment_from_row

_U = t.dashboard_users
_S = t.dashboard_sessions
_F = t.dashboard_signin_failures
_A = t.audit_log


def _user(row: Any) -> User:
    return User(
        id=row.id,
        merchant_id=row.merchant_id,
        email=row.email,
        role=Role(row.role),
        password_hash=row.password_hash,
        created_at=row.created_at,
        disabled_at=row.disabled_at,
    )


def _session(row: Any) -> Session:
    return Session(**{c.name: getattr(row, c.name) for c in _S.columns})


def _audit(row: Any) -> AuditEntry:
    values = {c.name: getattr(row, c.name) for c in _A.columns}
    values["detail"] = values["detail"] or {}
    return AuditEntry(**values)


class SqlDashboardStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add_user(self, user: User) -> bool:
        async with self._db.connect(write=True) as conn:
            if (await conn.execute(select(_U.c.id).where(_U.c.email == user.email))).first() is not None:
                return False
            values = {c.name: getattr(user, c.name) for c in _U.columns}
            values["role"] = user.role.value
            try:
                await conn.execute(insert(_U), [values])
            except IntegrityError:  # a racing create on PostgreSQL
                return False
            await conn.commit()
        return True

    async def user_by_email(self, email: str) -> User | None:
        async with self._db.connect() as conn:
            row = (await conn.execute(select(_U).where(_U.c.email == email))).first()
        return _user(row) if row else None

    async def user(self, user_id: str) -> User | None:
        async with self._db.connect() as conn:
            row = (await conn.execute(select(_U).where(_U.c.id == user_id))).first()
        return _user(row) if row else None

    async def list_users(self, merchant_id: str) -> Sequence[User]:
        async with self._db.connect() as conn:
            rows = await conn.execute(select(_U).where(_U.c.merchant_id == merchant_id).order_by(_U.c.email))
            return [_user(r) for r in rows]

    async def add_session(self, session: Session) -> None:
        async with self._db.begin() as conn:
            await conn.execute(insert(_S), [{c.name: getattr(session, c.name) for c in _S.columns}])

    async def session(self, token_hash: str) -> Session | None:
        async with self._db.connect() as conn:
            row = (await conn.execute(select(_S).where(_S.c.token_hash == token_hash))).first()
        return _session(row) if row else None

    async def touch_session(self, token_hash: str, last_seen_at: datetime, expires_at: datetime) -> None:
        async with self._db.begin() as conn:
            await conn.execute(
                update(_S).where(_S.c.token_hash == token_hash).values(last_seen_at=last_seen_at, expires_at=expires_at)
            )

    async def set_session_mode(self, token_hash: str, mode: str) -> None:
        async with self._db.begin() as conn:
            await conn.execute(update(_S).where(_S.c.token_hash == token_hash).values(mode=mode))

    async def delete_session(self, token_hash: str) -> None:
        async with self._db.begin() as conn:
            await conn.execute(delete(_S).where(_S.c.token_hash == token_hash))

    async def purge(self, now: datetime, failures_before: datetime) -> int:
        """Delete ended sessions and failed sign-ins older than the throttling window; a read first, so an
        idle tick writes nothing."""
        ended = select(_S.c.token_hash).where(_S.c.expires_at <= now).limit(1)
        old = select(_F.c.id).where(_F.c.at <= failures_before).limit(1)
        async with self._db.connect() as conn:
            if (await conn.execute(ended)).first() is None and (await conn.execute(old)).first() is None:
                return 0
        async with self._db.begin() as conn:
            sessions = await conn.execute(delete(_S).where(_S.c.expires_at <= now))
            failures = await conn.execute(delete(_F).where(_F.c.at <= failures_before))
            return int(sessions.rowcount or 0) + int(failures.rowcount or 0)

    async def add_failure(self, keys: Sequence[str], at: datetime) -> None:
        async with self._db.begin() as conn:
            await conn.execute(insert(_F), [{"id": new_id("sif"), "key": key[:300], "at": at} for key in keys])

    async def count_failures(self, key: str, since: datetime) -> int:
        async with self._db.connect() as conn:
            found = await conn.execute(select(func.count()).where(_F.c.key == key[:300], _F.c.at > since))
            return int(found.scalar() or 0)

    async def clear_failures(self, key: str) -> None:
        async with self._db.begin() as conn:
            await conn.execute(delete(_F).where(_F.c.key == key[:300]))

    async def add_audit(self, entry: AuditEntry) -> None:
        async with self._db.begin() as conn:
            await conn.execute(insert(_A), [{c.name: getattr(entry, c.name) for c in _A.columns}])

    async def list_audit(
        self, merchant_id: str, *, limit: int, before: str | None
    ) -> tuple[Sequence[AuditEntry], bool]:
        query = select(_A).where(_A.c.merchant_id == merchant_id)
        if before:
            query = query.where(_A.c.id < before)
        async with self._db.connect() as conn:
            rows = (await conn.execute(query.order_by(_A.c.id.desc()).limit(limit + 1))).all()
        return [_audit(r) for r in rows[:limit]], len(rows) > limit


class SqlDashboardQueries:
    """What the dashboard's pages read and no API needs (`core.dashboard.queries.DashboardQueries`)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def list_payments(
        self, merchant_id: str, mode: str, filters: PaymentFilter, *, limit: int, before: str | None
    ) -> tuple[list[Payment], bool]:
        """Newest first, keyset-paged by id (ids are time-ordered): `before` is the last id shown."""
        c = t.payments.c
        query = select(t.payments).where(c.merchant_id == merchant_id, c.mode == mode)
        if before:
            query = query.where(c.id < before)
        if filters.status:
            query = query.where(c.status == filters.status)
        if filters.reference:
            query = query.where(c.reference == filters.reference)
        if filters.last4:
            query = query.where(c.card_last4 == filters.last4)
        if filters.channel:
            query = query.where(c.channel == filters.channel)
        if filters.amount_min is not None:
            query = query.where(c.amount >= filters.amount_min)
        if filters.amount_max is not None:
            query = query.where(c.amount <= filters.amount_max)
        if filters.created_from is not None:
            query = query.where(c.created_at >= filters.created_from)
        if filters.created_to is not None:
            query = query.where(c.created_at < filters.created_to)
        if filters.email:
            query = query.where(c.customer_email == filters.email.strip().lower())
        async with self._db.connect() as conn:
            rows = (await conn.execute(query.order_by(c.id.desc()).limit(limit + 1))).all()
            more, rows = len(rows) > limit, rows[:limit]
            ops: dict[str, list[Any]] = defaultdict(list)
            if rows:
                found = await conn.execute(
                    select(t.operations)
                    .where(t.operations.c.payment_id.in_([r.id for r in rows]))
                    .order_by(t.operations.c.id)
                )
                for r in found:
                    ops[r.payment_id].append(operation_from_row(r))
        return [payment_from_row(r, ops[r.id]) for r in rows], more

    async def payment_events(self, merchant_id: str, mode: str, payment_id: str) -> list[dict[str, Any]]:
        await number_committed_events(self._db)
        c = t.events.c
        query = (
            select(c.id, c.type, c.sequence, c.created_at)
            .where(c.payment_id == payment_id, c.merchant_id == merchant_id, c.mode == mode)
            .order_by(c.seq)
        )
        async with self._db.connect() as conn:
            return [dict(r._mapping) for r in await conn.execute(query)]

    async def payment_deliveries(self, merchant_id: str, mode: str, payment_id: str) -> list[dict[str, Any]]:
        """The webhook deliveries made for a payment, each with its attempts (status and latency)."""
        d, e, a = t.webhook_deliveries.c, t.webhook_endpoints.c, t.webhook_attempts.c
        query = (
            select(d.id, d.endpoint_id, d.event_type, d.status, d.attempts, d.created_at, e.url, e.kind)
            .join_from(t.webhook_deliveries, t.webhook_endpoints, e.id == d.endpoint_id)
            .where(d.payment_id == payment_id, d.merchant_id == merchant_id, d.mode == mode)
            .order_by(d.sequence, d.id)
        )
        async with self._db.connect() as conn:
            deliveries = [dict(r._mapping) for r in await conn.execute(query)]
            if deliveries:
                found = await conn.execute(
                    select(a.delivery_id, a.attempted_at, a.status_code, a.latency_ms, a.error)
                    .where(a.delivery_id.in_([x["id"] for x in deliveries]))
                    .order_by(a.attempted_at)
                )
                tries: dict[str, list[dict[str, Any]]] = defaultdict(list)
                for r in found:
                    tries[r.delivery_id].append(dict(r._mapping))
                for x in deliveries:
                    x["tries"] = tries[x["id"]]
        return deliveries

    async def summary(self, merchant_id: str, mode: str, since: datetime) -> list[dict[str, Any]]:
        """Payments made since `since`, counted and summed by day, status, dialect, currency, error code and
        3-D Secure result: what the home page's charts are drawn from (a range read of the created index)."""
        c = t.payments.c
        day = func.date(c.created_at).label("day")
        query = (
            select(
                day,
                c.status,
                c.channel,
                c.currency,
                c.error_code,
                c.auth_status,
                func.count().label("n"),
                func.sum(c.amount).label("volume"),
            )
            .where(c.merchant_id == merchant_id, c.mode == mode, c.created_at >= since)
            .group_by(day, c.status, c.channel, c.currency, c.error_code, c.auth_status)
        )
        async with self._db.connect() as conn:
            return [dict(r._mapping) | {"day": str(r.day)} for r in await conn.execute(query)]
