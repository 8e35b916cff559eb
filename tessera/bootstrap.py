"""The composition root: builds the database, keys, processors and services from `Settings`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from tessera.core.idempotency import IdempotencyKeys
from tessera.core.payments.authentication import receive_rreq
from tessera.core.payments.settle import PaymentDeps
from tessera.core.threeds.flow import ThreeDSDeps
from tessera.core.vault.crypto import Keyring, WrappedKey
from tessera.core.vault.keys import load_data_keys
from tessera.delivery.sender import Sender
from tessera.delivery.worker import DeliveryWorker
from tessera.keys import KeyMaterial, load_key_material
from tessera.metrics import Metrics
from tessera.processors import Registry
from tessera.sandbox.directory import SandboxDirectoryServer
from tessera.sandbox.ports import ChallengeStore
from tessera.settings import Settings
from tessera.storage.engine import Database, create_database
from tessera.storage.sandbox import SqlChallengeStore
from tessera.storage.uow import SqlUnitOfWorkFactory
from tessera.storage.webhooks import DeliveryStore


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
    key_material: KeyMaterial
    sandbox_key: bytes  # signs the sandbox networks' authentication values; the same in every process
    sender: Sender
    deliveries: DeliveryWorker
    challenges: ChallengeStore  # the sandbox ACS's, shared by its directory server and its pages

    async def receive_rreq(self, rreq: dict[str, Any]) -> dict[str, Any]:
        """The 3DS server's results endpoint, called by the (in-process) sandbox ACS."""
        return await receive_rreq(rreq, deps=self.payments)

    async def start(self) -> None:
        """Load (or, on a new database, make) the vault's data keys. Call before serving."""
        await load_data_keys(self.keyring, uow=self.uow)

    async def refresh_keys(self) -> None:
        """Pick up data keys another process made (a rotation), so new data uses the current one."""
        await load_data_keys(self.keyring, uow=self.uow)

    async def close(self) -> None:
        await self.sender.close()
        await self.db.dispose()


def build(settings: Settings) -> Container:
    db = create_database(settings.resolved_database_url, pool_size=settings.db_pool_size)
    uow = SqlUnitOfWorkFactory(db)
    material = load_key_material(settings)

    async def stored_data_keys() -> list[WrappedKey]:
        async with uow(read_only=True) as tx:
            return await tx.vault_keys.data_keys()

    keyring = Keyring(
        material.keks,
        material.fingerprint_key,
        reload=stored_data_keys,
        reload_keks=lambda: load_key_material(settings).keks,
    )
    processors = Registry(settings.live_processor, sandbox_key=keyring.keyed_digest(b"sandbox-3ds-networks"))
    metrics = Metrics()
    sandbox_key = keyring.keyed_digest(b"sandbox-3ds-networks")
    public = settings.resolved_public_url
    challenges = SqlChallengeStore(db)
    directory = SandboxDirectoryServer(
        acs_url=f"{public}/sandbox/acs/challenge", key=sandbox_key, challenges=challenges
    )
    threeds = ThreeDSDeps(directory=directory, notification_url=f"{public}/shopper/3ds/notify")
    payments = PaymentDeps(
        uow=uow,
        processors=processors,
        cipher=keyring,
        processor_timeout=settings.processor_timeout_seconds,
        metrics=metrics,
        # The sandbox networks authenticate test-mode payments; live needs a real directory server.
        threeds={"test": threeds, **({"live": threeds} if settings.live_processor == "sandbox" else {})},
    )
    sender = Sender(timeout=settings.webhook_timeout_seconds)
    # A lease shorter than an attempt could hand a delivery still in flight to a second worker.
    lease = max(settings.webhook_lease_seconds, settings.webhook_timeout_seconds + 1)
    deliveries = DeliveryWorker(
        DeliveryStore(db),
        sender,
        batch_size=settings.webhook_batch_size,
        lease=timedelta(seconds=lease),
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
        key_material=material,
        sandbox_key=sandbox_key,
        sender=sender,
        deliveries=deliveries,
        challenges=challenges,
    )
