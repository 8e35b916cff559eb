"""The composition root: builds the database, keys, processors and services from `Settings`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from tessera.core.idempotency import IdempotencyKeys
from tessera.core.payments.settle import PaymentDeps
from tessera.core.vault.crypto import Keyring
from tessera.keys import load_keyring
from tessera.metrics import Metrics
from tessera.processors import Registry
from tessera.settings import Settings
from tessera.storage.engine import Database, create_database
from tessera.storage.uow import SqlUnitOfWorkFactory


@dataclass
class Container:
    settings: Settings
    db: Database
    uow: SqlUnitOfWorkFactory
    keyring: Keyring
    processors: Registry
    metrics: Metrics
    payments: PaymentDeps
    idempotency: IdempotencyKeys

    async def close(self) -> None:
        await self.db.dispose()


def build(settings: Settings) -> Container:
    db = create_database(settings.resolved_database_url, pool_size=settings.db_pool_size)
    uow = SqlUnitOfWorkFactory(db)
    keyring = load_keyring(settings)
    processors = Registry(settings.live_processor)
    metrics = Metrics()
    payments = PaymentDeps(
        uow=uow,
        processors=processors,
        cipher=keyring,
        processor_timeout=settings.processor_timeout_seconds,
        metrics=metrics,
    )
    return Container(
        settings=settings,
        db=db,
        uow=uow,
        keyring=keyring,
        processors=processors,
        metrics=metrics,
        payments=payments,
        idempotency=IdempotencyKeys(uow, timedelta(hours=settings.idempotency_ttl_hours)),
    )
