"""Managing webhook endpoints and their deliveries: the use cases behind the native API."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from tessera.core.errors import ConflictError, NotFoundError, ValidationError
from tessera.core.ids import new_id, webhook_secret
from tessera.core.ports import UnitOfWorkFactory, WebhookRepository
from tessera.core.webhooks.deliveries import Delivery, DeliveryStatus
from tessera.core.webhooks.endpoints import (
    ALL_EVENTS,
    CALLBACK_EVENTS,
    CALLBACK_FORMAT,
    MAX_GRACE,
    EndpointChanges,
    EndpointKind,
    EndpointStatus,
    Resolver,
    WebhookEndpoint,
    check_event_types,
    check_url,
)
from tessera.core.webhooks.formats import DEFAULT_FORMAT

DEFAULT_GRACE = timedelta(hours=24)
MAX_ENDPOINTS = 16  # per merchant and mode, as a guard against a runaway integration


MAX_DESCRIPTION = 500  # the column's size: longer is the caller's mistake, not the database's


def _check_description(description: str | None) -> None:
    if description is not None and len(description) > MAX_DESCRIPTION:
        raise ValidationError(f"description must be at most {MAX_DESCRIPTION} characters", field="description")


async def create_endpoint(
    merchant_id: str,
    mode: str,
    url: str,
    enabled_events: list[str],
    *,
    description: str | None,
    uow: UnitOfWorkFactory,
    resolve: Resolver,
    now: datetime,
    private_networks: bool = False,
    format_name: str = DEFAULT_FORMAT,
    new_secret: Callable[[], str] = webhook_secret,
) -> WebhookEndpoint:
    """An endpoint sent `format_name`, with a secret of that format's shape (`new_secret`)."""
    events = check_event_types(enabled_events)  # before the URL's DNS look-up: the cheap checks first
    _check_description(description)
    checked_url = await check_url(url, mode=mode, resolve=resolve, private_networks=private_networks)
    endpoint = WebhookEndpoint(
        id=new_id("we"),
        merchant_id=merchant_id,
        mode=mode,
        kind=EndpointKind.ENDPOINT,
        url=checked_url,
        enabled_events=events,
        secret=new_secret(),
        status=EndpointStatus.ENABLED,
        created_at=now,
        updated_at=now,
        description=description,
        format=format_name,
    )
    async with uow() as tx:
        if len(await tx.webhooks.list_endpoints(merchant_id, mode)) >= MAX_ENDPOINTS:
            raise ConflictError(f"a merchant may have at most {MAX_ENDPOINTS} webhook endpoints per mode")
        await tx.webhooks.add_endpoint(endpoint)
        await tx.commit()
    return endpoint


async def channel_endpoint(
    merchant_id: str, mode: str, format_name: str, url: str, *, uow: UnitOfWorkFactory, now: datetime
) -> WebhookEndpoint:
    """Get or make the merchant's channel endpoint of `format_name`; the merchant's row lock keeps two
    racing requests from making two (which would send every callback twice)."""
    async with uow(read_only=True) as tx:
        found = await tx.webhooks.get_channel_endpoint(merchant_id, mode, format_name)
    if found is not None:
        return found
    async with uow() as tx:
        await tx.merchants.get(merchant_id, for_update=True)
        found = await tx.webhooks.get_channel_endpoint(merchant_id, mode, format_name)
        if found is None:
            found = WebhookEndpoint(
                id=new_id("we"),
                merchant_id=merchant_id,
                mode=mode,
                kind=EndpointKind.CHANNEL,
                url=url,
                enabled_events=[ALL_EVENTS],
                secret=webhook_secret(),  # unused: a channel format signs with its own key
                status=EndpointStatus.ENABLED,
                created_at=now,
                updated_at=now,
                description=f"per-payment callbacks of the {format_name} format",
                format=format_name,
            )
            await tx.webhooks.add_endpoint(found)
            await tx.commit()
    return found


def callback_endpoint(
    merchant_id: str, mode: str, url: str, secret: str, now: datetime, *, format_name: str = CALLBACK_FORMAT
) -> WebhookEndpoint:
    """The merchant's callback URL as an endpoint: the payment outcomes, signed with the merchant's secret."""
    return WebhookEndpoint(
        id=new_id("we"),
        merchant_id=merchant_id,
        mode=mode,
        kind=EndpointKind.CALLBACK,
        url=url,
        enabled_events=sorted(CALLBACK_EVENTS),
        secret=secret,
        status=EndpointStatus.ENABLED,
        created_at=now,
        updated_at=now,
        description="the merchant's callback URL",
        format=format_name,
    )


async def list_endpoints(merchant_id: str, mode: str, *, uow: UnitOfWorkFactory) -> list[WebhookEndpoint]:
    async with uow(read_only=True) as tx:
        return list(await tx.webhooks.list_endpoints(merchant_id, mode))


async def get_endpoint(merchant_id: str, mode: str, endpoint_id: str, *, uow: UnitOfWorkFactory) -> WebhookEndpoint:
    async with uow(read_only=True) as tx:
        return await _find(tx.webhooks, merchant_id, mode, endpoint_id)


async def _find(
    repo: WebhookRepository, merchant_id: str, mode: str, endpoint_id: str, *, for_update: bool = False
) -> WebhookEndpoint:
    endpoint = await repo.get_endpoint(merchant_id, mode, endpoint_id, for_update=for_update)
    if endpoint is None or endpoint.status is EndpointStatus.DELETED:
        raise NotFoundError(f"no webhook endpoint {endpoint_id!r}", field="id")
    return endpoint


async def update_endpoint(
    merchant_id: str,
    mode: str,
    endpoint_id: str,
    changes: EndpointChanges,
    *,
    uow: UnitOfWorkFactory,
    resolve: Resolver,
    now: datetime,
    private_networks: bool = False,
) -> WebhookEndpoint:
    events = check_event_types(changes.enabled_events) if changes.enabled_events is not None else None
    url = (
        await check_url(changes.url, mode=mode, resolve=resolve, private_networks=private_networks)
        if changes.url is not None
        else None
    )
    async with uow() as tx:
        endpoint = await _find(tx.webhooks, merchant_id, mode, endpoint_id, for_update=True)
        if url is not None:
            endpoint.url = url
        if events is not None:
            if endpoint.kind is EndpointKind.CALLBACK:
                raise ValidationError("the callback endpoint's event types are fixed", field="enabled_events")
            endpoint.enabled_events = events
        if changes.description is not None:
            _check_description(changes.description)
            endpoint.description = changes.description
        if changes.disabled is True and endpoint.status is EndpointStatus.ENABLED:
            endpoint.status, endpoint.disabled_reason = EndpointStatus.DISABLED, "disabled by the merchant"
            await tx.webhooks.park_deliveries(endpoint.id)
        elif changes.disabled is False and endpoint.status is EndpointStatus.DISABLED:
            endpoint.status, endpoint.disabled_reason = EndpointStatus.ENABLED, None
            await tx.webhooks.resume_deliveries(endpoint.id, now)
        endpoint.updated_at = now
        await tx.webhooks.save_endpoint(endpoint)
        await tx.commit()
    return endpoint


async def delete_endpoint(
    merchant_id: str, mode: str, endpoint_id: str, *, uow: UnitOfWorkFactory, now: datetime
) -> WebhookEndpoint:
    """The endpoint gets nothing more; its pending deliveries are canceled, its log kept."""
    async with uow() as tx:
        endpoint = await _find(tx.webhooks, merchant_id, mode, endpoint_id, for_update=True)
        endpoint.status, endpoint.updated_at = EndpointStatus.DELETED, now
        await tx.webhooks.save_endpoint(endpoint)
        await tx.webhooks.cancel_deliveries(endpoint.id, now)
        await tx.commit()
    return endpoint


async def rotate_secret(
    merchant_id: str,
    mode: str,
    endpoint_id: str,
    *,
    grace: timedelta,
    uow: UnitOfWorkFactory,
    now: datetime,
    secret_for: Callable[[str], str] = lambda _format: webhook_secret(),
) -> WebhookEndpoint:
    """A new secret signs from now on; the old one signs too until `grace` has passed. `secret_for` makes
    a new secret of the shape the endpoint's format wants, given the format's name."""
    if grace < timedelta(0) or grace > MAX_GRACE:
        raise ValidationError(
            f"the grace period must be between 0 and {MAX_GRACE.days * 24 * 3600} seconds", field="grace_period"
        )
    async with uow() as tx:
        endpoint = await _find(tx.webhooks, merchant_id, mode, endpoint_id, for_update=True)
        if endpoint.kind is EndpointKind.CALLBACK:
            raise ValidationError("the callback is signed with the merchant's webhook secret", field="id")
        endpoint.previous_secret = endpoint.secret if grace else None
        endpoint.previous_secret_expires_at = now + grace if grace else None
        endpoint.secret = secret_for(endpoint.format)
        endpoint.updated_at = now
        await tx.webhooks.save_endpoint(endpoint)
        await tx.commit()
    return endpoint


async def list_deliveries(
    merchant_id: str, mode: str, endpoint_id: str, *, limit: int, before: str | None, uow: UnitOfWorkFactory
) -> tuple[list[Delivery], bool]:
    async with uow(read_only=True) as tx:
        endpoint = await _find(tx.webhooks, merchant_id, mode, endpoint_id)
        found = list(await tx.webhooks.list_deliveries(endpoint.id, limit=limit + 1, before=before))
    return found[:limit], len(found) > limit


async def retry_delivery(
    merchant_id: str, mode: str, endpoint_id: str, delivery_id: str, *, uow: UnitOfWorkFactory, now: datetime
) -> Delivery:
    """Send a delivery again now, whatever became of it; a failed one gets one more attempt."""
    async with uow() as tx:
        endpoint = await _find(tx.webhooks, merchant_id, mode, endpoint_id, for_update=True)
        if endpoint.status is not EndpointStatus.ENABLED:
            raise ConflictError("the endpoint is disabled; enable it before retrying its deliveries")
        delivery = await tx.webhooks.retry_delivery(endpoint.id, delivery_id, now)
        if delivery is None:
            raise NotFoundError(f"no delivery {delivery_id!r} for this endpoint", field="delivery_id")
        await tx.commit()
    assert delivery.status is DeliveryStatus.PENDING
    return delivery
