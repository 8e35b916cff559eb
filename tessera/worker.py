"""The background worker: webhook deliveries, recovery of unknown outcomes, expiries, erasing expired
tokens' CVVs, purging expired idempotency keys and ended velocity counters. `tessera worker` runs it alone;
`tessera serve` embeds it."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from tessera.bootstrap import Container
from tessera.core.clock import utcnow
from tessera.core.payments.acquirer import expire_authorizations
from tessera.core.payments.authentication import expire_challenges
from tessera.core.payments.recovery import recover_open_operations, send_queued_reversals
from tessera.core.risk import service as risk

logger = logging.getLogger(__name__)


async def run_once(container: Container) -> dict[str, int]:
    settings = container.settings
    grace = timedelta(seconds=max(settings.recovery_grace_seconds, settings.processor_timeout_seconds * 2))
    recovered = await recover_open_operations(deps=container.payments, grace=grace)
    recovered += await send_queued_reversals(deps=container.payments)
    expired = await expire_challenges(deps=container.payments)
    window = timedelta(hours=settings.authorization_window_hours)
    expired += await expire_authorizations(deps=container.payments, window=window)
    now = utcnow()
    async with container.uow() as tx:
        erased = await tx.tokens.erase_expired_secrets(now)
        await tx.commit()
    purged = await container.idempotency.purge_expired(now)
    purged += await container.deliveries.purge_now_and_then(now, timedelta(days=settings.webhook_retention_days))
    purged += await risk.purge_counters(uow=container.uow, now=now)
    if container.services.dashboard is not None:
        purged += await container.services.dashboard.purge()
    if recovered or erased or purged or expired:
        logger.info(
            "worker tick recovered=%d expired=%d erased_cvvs=%d purged_keys=%d",
            recovered,
            expired,
            erased,
            purged,
        )
    return {"recovered": recovered, "expired": expired, "erased": erased, "purged": purged}


async def run_forever(container: Container, stop: asyncio.Event) -> None:
    """The housekeeping ticks and the webhook delivery loop, side by side until `stop` is set."""
    await asyncio.gather(
        _housekeeping(container, stop),
        container.deliveries.run_forever(stop, container.settings.webhook_poll_seconds),
    )


async def _housekeeping(container: Container, stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    keys_checked = loop.time()
    while not stop.is_set():
        try:
            await run_once(container)
            if loop.time() - keys_checked >= container.settings.vault_refresh_seconds:
                keys_checked = loop.time()
                await container.refresh_keys()
        except Exception:
            logger.exception("worker tick failed")
        try:
            await asyncio.wait_for(stop.wait(), container.settings.worker_interval_seconds)
        except TimeoutError:
            pass
