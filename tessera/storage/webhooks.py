"""Webhook endpoints and deliveries in SQL: the API's repository, and the delivery worker's queue
(`DeliveryStore`, implementing `core.webhooks.ports.DeliveryQueue`: dispatch events into deliveries,
claim due deliveries, record attempts)."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, and_, bindparam, delete, exists, func, insert, select, text, update
from sqlalchemy.orm import aliased

from tessera.core.errors import ConflictError
from tessera.core.ids import new_id
from tessera.core.webhooks.deliveries import (
    Attempt,
    ClaimedDelivery,
    Delivery,
    DeliveryStatus,
    Recorded,
)
from tessera.core.webhooks.endpoints import (
    EndpointKind,
    EndpointStatus,
    WebhookEndpoint,
    signing_secrets,
)
from tessera.storage import tables as t
from tessera.storage.engine import Conn, Database
from tessera.storage.events import number_events

logger = logging.getLogger(__name__)

_E = t.webhook_endpoints
_D = t.webhook_deliveries
_A = t.webhook_attempts
_PENDING = DeliveryStatus.PENDING.value
CALLBACK_ALIAS = "callback"  # the merchant's seed 000 callback endpoint, addressable without its id


def _endpoint(r: Row[Any]) -> WebhookEndpoint:
    return WebhookEndpoint(
        id=r.id,
        merchant_id=r.merchant_id,
        mode=r.mode,
        kind=EndpointKind(r.kind),
        url=r.url,
        enabled_events=list(r.enabled_events),
        secret=r.secret,
        status=EndpointStatus(r.status),
        created_at=r.created_at,
        updated_at=r.updated_at,
        description=r.description,
        previous_secret=r.previous_secret,
        previous_secret_expires_at=r.previous_secret_expires_at,
        disabled_reason=r.disabled_reason,
        format=r.format,
    )


def _endpoint_values(e: WebhookEndpoint) -> dict[str, Any]:
    return {
        "id": e.id,
        "merchant_id": e.merchant_id,
        "mode": e.mode,
        "kind": e.kind.value,
        "url": e.url,
        "description": e.description,
        "enabled_events": e.enabled_events,
        "secret": e.secret,
        "previous_secret": e.previous_secret,
        "previous_secret_expires_at": e.previous_secret_expires_at,
        "status": e.status.value,
        "disabled_reason": e.disabled_reason,
        "format": e.format,
        "created_at": e.created_at,
        "updated_at": e.updated_at,
    }


def _delivery(r: Row[Any], attempts: Sequence[Attempt] = ()) -> Delivery:
    return Delivery(
        id=r.id,
        endpoint_id=r.endpoint_id,
        event_id=r.event_id,
        event_type=r.event_type,
        payment_id=r.payment_id,
        sequence=r.sequence,
        status=DeliveryStatus(r.status),
        attempts=r.attempts,
        next_attempt_at=r.next_attempt_at,
        last_attempt_at=r.last_attempt_at,
        last_status_code=r.last_status_code,
        created_at=r.created_at,
        completed_at=r.completed_at,
        attempt_log=tuple(attempts),
    )


class SqlWebhookRepository:
    def __init__(self, conn: Conn, *, sqlite: bool) -> None:
        self._conn = conn
        self._lock = not sqlite  # SQLite serialises writers; PostgreSQL locks the rows it changes

    async def add_endpoint(self, endpoint: WebhookEndpoint) -> None:
        await self._conn.execute(insert(_E), [_endpoint_values(endpoint)])

    async def get_endpoint(
        self, merchant_id: str, mode: str, endpoint_id: str, *, for_update: bool = False
    ) -> WebhookEndpoint | None:
        query = select(_E).where(_E.c.merchant_id == merchant_id, _E.c.mode == mode)
        if endpoint_id == CALLBACK_ALIAS:
            query = query.where(_E.c.kind == EndpointKind.CALLBACK.value, _E.c.status != EndpointStatus.DELETED.value)
        else:
            query = query.where(_E.c.id == endpoint_id)
        if for_update and self._lock:
            query = query.with_for_update()
        row = (await self._conn.execute(query.limit(1))).first()
        return _endpoint(row) if row else None

    async def list_endpoints(self, merchant_id: str, mode: str) -> Sequence[WebhookEndpoint]:
        rows = await self._conn.execute(
            select(_E)
            .where(
                _E.c.merchant_id == merchant_id,
                _E.c.mode == mode,
                _E.c.kind == EndpointKind.ENDPOINT.value,
                _E.c.status != EndpointStatus.DELETED.value,
            )
            .order_by(_E.c.id)
        )
        return [_endpoint(r) for r in rows]

    async def get_channel_endpoint(self, merchant_id: str, mode: str, format_name: str) -> WebhookEndpoint | None:
        query = select(_E).where(
            _E.c.merchant_id == merchant_id,
            _E.c.mode == mode,
            _E.c.kind == EndpointKind.CHANNEL.value,
            _E.c.format == format_name,
        )
        row = (await self._conn.execute(query.limit(1))).first()
        return _endpoint(row) if row else None

    async def save_endpoint(self, endpoint: WebhookEndpoint) -> None:
        values = _endpoint_values(endpoint)
        del values["id"], values["merchant_id"], values["mode"], values["kind"], values["created_at"]
        await self._conn.execute(update(_E).where(_E.c.id == endpoint.id).values(values))

    async def park_deliveries(self, endpoint_id: str) -> None:
        await self._conn.execute(
            update(_D).where(_D.c.endpoint_id == endpoint_id, _D.c.status == _PENDING).values(next_attempt_at=None)
        )

    async def resume_deliveries(self, endpoint_id: str, now: datetime) -> None:
        await self._conn.execute(
            update(_D)
            .where(_D.c.endpoint_id == endpoint_id, _D.c.status == _PENDING, _D.c.next_attempt_at.is_(None))
            .values(next_attempt_at=now)
        )

    async def cancel_deliveries(self, endpoint_id: str, now: datetime) -> None:
        await self._conn.execute(
            update(_D)
            .where(_D.c.endpoint_id == endpoint_id, _D.c.status == _PENDING)
            .values(status=DeliveryStatus.CANCELED.value, next_attempt_at=None, completed_at=now)
        )

    async def list_deliveries(self, endpoint_id: str, *, limit: int, before: str | None) -> Sequence[Delivery]:
        # An endpoint gets each of its merchant's events at most once, so the event's number orders its
        # deliveries exactly (ids made in the same millisecond need not).
        query = select(_D).where(_D.c.endpoint_id == endpoint_id)
        if before:
            cursor = select(_D.c.sequence).where(_D.c.id == before, _D.c.endpoint_id == endpoint_id).scalar_subquery()
            query = query.where(_D.c.sequence < cursor)
        rows = (await self._conn.execute(query.order_by(_D.c.sequence.desc()).limit(limit))).all()
        attempts: dict[str, list[Attempt]] = defaultdict(list)
        if rows:
            found = await self._conn.execute(
                select(_A).where(_A.c.delivery_id.in_([r.id for r in rows])).order_by(_A.c.attempted_at, _A.c.id)
            )
            for a in found:
                attempts[a.delivery_id].append(
                    Attempt(a.id, a.attempted_at, a.status_code, a.latency_ms, a.error, a.response_excerpt)
                )
        return [_delivery(r, attempts[r.id]) for r in rows]

    async def retry_delivery(self, endpoint_id: str, delivery_id: str, now: datetime) -> Delivery | None:
        mine = and_(_D.c.id == delivery_id, _D.c.endpoint_id == endpoint_id)
        in_flight = and_(_D.c.claim_token.is_not(None), _D.c.next_attempt_at > now)
        done = await self._conn.execute(
            update(_D).where(mine, ~in_flight).values(status=_PENDING, next_attempt_at=now, completed_at=None)
        )
        row = (await self._conn.execute(select(_D).where(mine))).first()
        if row is None:
            return None
        if not done.rowcount:
            raise ConflictError("the delivery is being attempted right now; retry it once that attempt is recorded")
        return _delivery(row)


# ------------------------------------------------------------------------------------ the worker's side

_OLDER = aliased(_D)
# Only the oldest pending delivery of a payment's events to an endpoint may go: a receiver sees one
# payment's events in sequence order, even after it was down and every delivery waited for it.
_NOTHING_OLDER_PENDING = ~exists().where(
    _OLDER.c.endpoint_id == _D.c.endpoint_id,
    _OLDER.c.payment_id == _D.c.payment_id,
    _OLDER.c.status == _PENDING,
    _OLDER.c.sequence < _D.c.sequence,
)
_DUE = (
    select(
        _D.c.id,
        _D.c.merchant_id,
        _D.c.attempts,
        _D.c.payment_id,
        _D.c.endpoint_id,
        _E.c.format,
        _E.c.url,
        _E.c.mode,
        _E.c.secret,
        _E.c.previous_secret,
        _E.c.previous_secret_expires_at,
        t.events.c.id.label("event_id"),
        t.events.c.type.label("event_type"),
        t.events.c.sequence,
        t.events.c.data,
        t.events.c.created_at.label("event_created_at"),
    )
    .join(_E, and_(_E.c.id == _D.c.endpoint_id, _E.c.status == EndpointStatus.ENABLED.value))
    .join(t.events, t.events.c.id == _D.c.event_id)
    .where(_D.c.status == _PENDING, _D.c.next_attempt_at <= bindparam("now"), _NOTHING_OLDER_PENDING)
    .order_by(_D.c.next_attempt_at)
    .limit(bindparam("limit"))
)
_UNDISPATCHED = (
    select(
        t.events.c.seq,
        t.events.c.id,
        t.events.c.merchant_id,
        t.events.c.mode,
        t.events.c.type,
        t.events.c.payment_id,
        t.events.c.sequence,
        t.events.c.data,
    )
    .where(t.events.c.dispatched_at.is_(None), t.events.c.sequence.is_not(None))
    .order_by(t.events.c.seq)
    .limit(bindparam("limit"))
)
_RECORD = (
    update(_D)
    .where(_D.c.id == bindparam("w_id"), _D.c.claim_token == bindparam("w_token"), _D.c.status == _PENDING)
    .values(
        claim_token=None,
        status=bindparam("status"),
        attempts=bindparam("attempts"),
        next_attempt_at=bindparam("next_attempt_at"),
        last_attempt_at=bindparam("last_attempt_at"),
        last_status_code=bindparam("last_status_code"),
        completed_at=bindparam("completed_at"),
    )
)
_WAIT_FOR_PREDECESSOR = (
    update(_D)
    .where(
        _D.c.endpoint_id == bindparam("w_endpoint"),
        _D.c.payment_id == bindparam("w_payment"),
        _D.c.sequence > bindparam("w_sequence"),
        _D.c.status == _PENDING,
        _D.c.claim_token.is_(None),
        _D.c.next_attempt_at < bindparam("w_next"),
    )
    .values(next_attempt_at=bindparam("w_next"))
)
_DISPATCH_LOCK = 0x7E55E7A  # one dispatcher at a time on PostgreSQL keeps a payment's deliveries in order


__all__ = ["CALLBACK_ALIAS", "DeliveryStore", "Recorded", "SqlWebhookRepository"]
# Whether the format named first has a body for the event of the type named second with this data.
Accepts = Callable[[str, str, Any], bool]


class DeliveryStore:
    """The delivery worker's transactions. Each is short: nothing is held while a request is in flight.
    `accepts` keeps an endpoint from being given events its format has no body for."""

    def __init__(self, db: Database, *, accepts: Accepts | None = None) -> None:
        self._db = db
        self._accepts = accepts

    async def dispatch(self, now: datetime, limit: int) -> int:
        """Turn committed, undispatched events into deliveries for the endpoints that want them."""
        async with self._db.connect(write=True) as conn:
            if not self._db.sqlite:
                if not (await conn.execute(text(f"SELECT pg_try_advisory_xact_lock({_DISPATCH_LOCK})"))).scalar():
                    return 0
            # The outbox relay numbers what has committed since its last pass, then dispatches it.
            await number_events(conn, sqlite=self._db.sqlite, limit=limit)
            events = (await conn.execute(_UNDISPATCHED, {"limit": limit})).all()
            if not events:
                return 0
            merchants = {e.merchant_id for e in events}
            endpoints: dict[tuple[str, str], list[WebhookEndpoint]] = defaultdict(list)
            for row in await conn.execute(
                select(_E).where(_E.c.merchant_id.in_(merchants), _E.c.status == EndpointStatus.ENABLED.value)
            ):
                endpoint = _endpoint(row)
                endpoints[(endpoint.merchant_id, endpoint.mode)].append(endpoint)
            rows = [
                {
                    "id": new_id("whd"),
                    "merchant_id": e.merchant_id,
                    "mode": e.mode,
                    "endpoint_id": endpoint.id,
                    "event_id": e.id,
                    "event_type": e.type,
                    "payment_id": e.payment_id,
                    "sequence": e.sequence,
                    "status": _PENDING,
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                }
                for e in events
                for endpoint in endpoints.get((e.merchant_id, e.mode), ())
                if endpoint.wants(e.type) and (self._accepts is None or self._accepts(endpoint.format, e.type, e.data))
            ]
            if rows:
                await conn.execute(insert(_D), rows)
            seqs = [e.seq for e in events]
            await conn.execute(update(t.events).where(t.events.c.seq.in_(seqs)).values(dispatched_at=now))
            await conn.commit()
            return len(rows)

    async def claim(self, now: datetime, lease: timedelta, limit: int) -> list[ClaimedDelivery]:
        """Due deliveries, moved past a lease so no other worker takes them meanwhile. On PostgreSQL
        rows another worker is claiming are skipped, not waited for."""
        query = _DUE if self._db.sqlite else _DUE.with_for_update(of=_D, skip_locked=True)
        async with self._db.connect(write=True) as conn:
            rows = (await conn.execute(query, {"now": now, "limit": limit})).all()
            if not rows:
                return []
            token = new_id("clm")
            await conn.execute(
                update(_D)
                .where(_D.c.id.in_([r.id for r in rows]))
                .values(next_attempt_at=now + lease, claim_token=token)
            )
            await conn.commit()
        return [
            ClaimedDelivery(
                id=r.id,
                merchant_id=r.merchant_id,
                claim_token=token,
                attempts=r.attempts,
                endpoint_id=r.endpoint_id,
                format=r.format,
                url=r.url,
                mode=r.mode,
                secrets=tuple(signing_secrets(r.secret, r.previous_secret, r.previous_secret_expires_at, now)),
                event_id=r.event_id,
                event_type=r.event_type,
                payment_id=r.payment_id,
                sequence=r.sequence,
                data=r.data,
                event_created_at=r.event_created_at,
            )
            for r in rows
        ]

    async def record(self, recorded: Sequence[Recorded], now: datetime) -> None:
        """Every attempt's row, each delivery's next step, and endpoints that answered 410 disabled."""
        if not recorded:
            return
        async with self._db.connect(write=True) as conn:
            await conn.execute(
                insert(_A),
                [
                    {
                        "id": new_id("wha"),
                        "delivery_id": r.delivery.id,
                        "merchant_id": r.delivery.merchant_id,
                        "attempted_at": r.attempted_at,
                        "status_code": r.result.status_code,
                        "latency_ms": r.result.latency_ms,
                        "error": r.result.error,
                        "response_excerpt": r.result.excerpt,
                    }
                    for r in recorded
                ],
            )
            result = await conn.execute(
                _RECORD,
                [
                    {
                        "w_id": r.delivery.id,
                        "w_token": r.delivery.claim_token,
                        "status": r.step.status.value,
                        "attempts": r.delivery.attempts + 1,
                        "next_attempt_at": r.step.next_attempt_at,
                        "last_attempt_at": r.attempted_at,
                        "last_status_code": r.result.status_code,
                        "completed_at": None if r.step.status is DeliveryStatus.PENDING else now,
                    }
                    for r in recorded
                ],
            )
            if (lost := len(recorded) - max(result.rowcount, 0)) > 0:
                # Another claim took these over (this worker outlived its lease) or the endpoint was
                # deleted meanwhile: the attempts stay in the log, the deliveries' state is not ours to set.
                logger.warning("%d webhook attempt(s) recorded after their claim had ended", lost)
            later = [
                {
                    "w_endpoint": r.delivery.endpoint_id,
                    "w_payment": r.delivery.payment_id,
                    "w_sequence": r.delivery.sequence,
                    "w_next": r.step.next_attempt_at,
                }
                for r in recorded
                if r.step.status is DeliveryStatus.PENDING and r.delivery.payment_id is not None
            ]
            if later:
                # A payment's later deliveries wait for this one anyway: make them due with it, not before,
                # so they do not crowd the front of the due index while the receiver is down.
                await conn.execute(_WAIT_FOR_PREDECESSOR, later)
            gone = sorted({r.delivery.endpoint_id for r in recorded if r.result.gone})
            if gone:
                await conn.execute(
                    update(_E)
                    .where(_E.c.id.in_(gone), _E.c.status == EndpointStatus.ENABLED.value)
                    .values(
                        status=EndpointStatus.DISABLED.value,
                        disabled_reason="the endpoint answered 410 Gone",
                        updated_at=now,
                    )
                )
                await conn.execute(
                    update(_D).where(_D.c.endpoint_id.in_(gone), _D.c.status == _PENDING).values(next_attempt_at=None)
                )
            await conn.commit()

    async def purge(self, before: datetime, limit: int = 5000) -> int:
        """Forget finished deliveries (and their attempts) completed before `before`, a batch at a time."""
        async with self._db.connect(write=True) as conn:
            ids = [
                r.id
                for r in await conn.execute(
                    select(_D.c.id)
                    .where(_D.c.status != _PENDING, _D.c.completed_at < before)
                    .order_by(_D.c.completed_at)
                    .limit(limit)
                )
            ]
            if ids:
                await conn.execute(delete(_A).where(_A.c.delivery_id.in_(ids)))
                await conn.execute(delete(_D).where(_D.c.id.in_(ids)))
            await conn.commit()
        return len(ids)

    async def pending_count(self) -> int:
        async with self._db.connect() as conn:
            return int(
                (await conn.execute(select(func.count()).select_from(_D).where(_D.c.status == _PENDING))).scalar_one()
            )
