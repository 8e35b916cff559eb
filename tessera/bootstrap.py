"""The composition root: builds the database, keys, processors and services from `Settings`."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from tessera.core.auth_cache import AuthCache
from tessera.core.dashboard.service import DashboardServices
from tessera.core.idempotency import IdempotencyKeys, RecoveryPoints
from tessera.core.identities import IdentityKind
from tessera.core.payments.authentication import receive_rreq
from tessera.core.payments.settle import PaymentDeps
from tessera.core.risk.caller import parse_networks
from tessera.core.risk.model import Charge
from tessera.core.services import Services, build_services
from tessera.core.threeds.flow import ThreeDSDeps
from tessera.core.threeds.service import NoDirectoryServer
from tessera.core.vault.crypto import Keyring, WrappedKey
from tessera.core.vault.keys import load_data_keys
from tessera.core.webhooks.formats import EndpointFormat, WebhookFormat, channel_formats
from tessera.delivery.sender import Sender
from tessera.delivery.worker import DeliveryWorker
from tessera.keys import KeyMaterial, load_key_material
from tessera.metrics import Metrics
from tessera.processors import Registry, parse_processor
from tessera.sandbox.directory import SandboxDirectoryServer
from tessera.sandbox.ports import ChallengeStore
from tessera.settings import Settings
from tessera.storage.dashboard import SqlDashboardQueries, SqlDashboardStore
from tessera.storage.engine import Database, create_database
from tessera.storage.queries import SqlReadModel
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
    services: Services  # the facade dialects, the dashboard and the CLI call
    challenges: ChallengeStore  # the sandbox ACS's, shared by its directory server and its pages

    async def receive_rreq(self, rreq: dict[str, Any]) -> dict[str, Any]:
        """The 3DS server's results endpoint, called by the (in-process) sandbox ACS."""
        return await receive_rreq(rreq, deps=self.payments)

    async def start(self) -> None:
        """Load (or, on a new database, make) the vault's data keys and open the processors' links.
        Call before serving."""
        await load_data_keys(self.keyring, uow=self.uow)
        await self.processors.start()

    async def refresh_keys(self) -> None:
        """Pick up data keys another process made (a rotation), so new data uses the current one."""
        await load_data_keys(self.keyring, uow=self.uow)

    async def close(self) -> None:
        await self.processors.stop()
        await self.sender.close()
        await self.db.dispose()


def webhook_formats() -> dict[str, WebhookFormat]:
    """Every dialect's outgoing webhook formats, by name; two with one name is a build error."""
    from tessera.dialects import DIALECTS  # here, not at the top: the dialects' routers import this module

    found: dict[str, WebhookFormat] = {}
    for dialect in DIALECTS:
        for fmt in dialect.webhook_formats():
            if fmt.name in found:
                raise RuntimeError(f"two dialects provide a webhook format named {fmt.name!r}")
            found[fmt.name] = fmt
    return found


def identity_kinds() -> list[IdentityKind]:
    """Every dialect's per-merchant identity kinds; two with one name is a build error."""
    from tessera.dialects import DIALECTS

    found: dict[str, IdentityKind] = {}
    for dialect in DIALECTS:
        for kind in dialect.identity_kinds():
            if kind.name in found:
                raise RuntimeError(f"two dialects register an identity named {kind.name!r}")
            found[kind.name] = kind
    return list(found.values())


def _accepts(formats: Mapping[str, WebhookFormat]) -> Callable[[str, str, Any], bool]:
    channels = channel_formats(formats)  # once: dispatch asks for every event

    def accepts(format_name: str, event_type: str, data: Any) -> bool:
        # An unknown format is dispatched anyway: its attempts fail with a clear error until it is known.
        if (channel := channels.get(format_name)) is not None:
            return channel.accepts_event(event_type, data or {})
        fmt = formats.get(format_name)
        return fmt is None or fmt.accepts(event_type)

    return accepts


def build(settings: Settings) -> Container:
    db = create_database(settings.resolved_database_url, pool_size=settings.db_pool_size)
    # One per process: changes committed here clear it at once, those of other processes are seen within its ttl.
    auth_cache = AuthCache(settings.auth_cache_seconds)
    uow = SqlUnitOfWorkFactory(db, auth_cache=auth_cache)
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
    processors = Registry(
        settings.live_processor,
        sandbox_key=keyring.keyed_digest(b"sandbox-3ds-networks"),
        test=settings.test_processor,
    )
    metrics = Metrics()
    sandbox_key = keyring.keyed_digest(b"sandbox-3ds-networks")
    public = settings.resolved_public_url
    challenges = SqlChallengeStore(db)
    directory = SandboxDirectoryServer(
        acs_url=f"{public}/sandbox/acs/challenge", key=sandbox_key, challenges=challenges
    )
    threeds = ThreeDSDeps(directory=directory, notification_url=f"{public}/shopper/3ds/notify")
    live_on_sandbox = bool(settings.live_processor) and parse_processor(str(settings.live_processor)).name == "sandbox"
    payments = PaymentDeps(
        uow=uow,
        processors=processors,
        cipher=keyring,
        processor_timeout=settings.processor_timeout_seconds,
        metrics=metrics,
        # The sandbox networks authenticate test-mode payments (and live ones on a sandbox live processor);
        # a live acquirer link has no directory server yet, so live 3-D Secure is "unavailable" there.
        threeds={
            "test": threeds,
            "live": threeds if live_on_sandbox else replace(threeds, directory=NoDirectoryServer()),
        },
        default_test_charge=Charge("*", "*", settings.test_fee_basis_points, settings.test_fee_fixed),
    )
    sender = Sender(timeout=settings.webhook_timeout_seconds, private_networks=settings.webhook_allow_private_networks)
    # A lease shorter than an attempt could hand a delivery still in flight to a second worker.
    lease = max(settings.webhook_lease_seconds, settings.webhook_timeout_seconds + 1)
    formats = webhook_formats()
    deliveries = DeliveryWorker(
        DeliveryStore(db, accepts=_accepts(formats)),
        sender,
        formats=formats,
        batch_size=settings.webhook_batch_size,
        lease=timedelta(seconds=lease),
        metrics=metrics,
        retry_delays=settings.webhook_retry_delays,
    )
    # A lease shorter than a request would hand a key still in flight to a retry (never a second charge:
    # the take-over fences the first holder, whose payment insert is then refused). A keyed payment may
    # wait on the acquirer three times: the authorisation, an inquiry, a reversal.
    idempotency_lease = max(settings.idempotency_lease_seconds, 3 * settings.processor_timeout_seconds + 1)
    idempotency = IdempotencyKeys(
        uow, timedelta(hours=settings.idempotency_ttl_hours), timedelta(seconds=idempotency_lease)
    )
    services = build_services(
        # Keyed requests record their recovery point (the payment they make) with the payment itself.
        replace(payments, uow=RecoveryPoints(uow)),
        queries=SqlReadModel(db),
        idempotency=idempotency,
        resolve=resolve_host,
        token_ttl=timedelta(minutes=settings.token_ttl_minutes),
        public_url=public,
        private_networks=settings.webhook_allow_private_networks,
        identity_kinds=identity_kinds(),
        trusted_proxies=tuple(parse_networks(settings.trusted_proxies, field="trusted_proxies")),
        endpoint_formats={f.name: f.new_secret for f in formats.values() if isinstance(f, EndpointFormat)},
        dashboard=DashboardServices(SqlDashboardStore(db), SqlDashboardQueries(db)),
        auth_cache=auth_cache,
    )
    for fmt in formats.values():
        # A format that signs with a merchant's own key (core.identities) finds it through the services.
        bind = getattr(fmt, "bind_identities", None)
        if bind is not None:
            bind(services.identities)
    return Container(
        settings=settings,
        db=db,
        uow=uow,
        keyring=keyring,
        processors=processors,
        metrics=metrics,
        payments=payments,
        idempotency=idempotency,
        key_material=material,
        sandbox_key=sandbox_key,
        sender=sender,
        deliveries=deliveries,
        services=services,
        challenges=challenges,
    )


async def resolve_host(host: str) -> list[str]:
    """The DNS look-up webhook URL checks need (the core's `Resolver` port)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})
