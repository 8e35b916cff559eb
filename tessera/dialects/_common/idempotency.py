"""The `Idempotency-Key` header, for any dialect's POST handlers.

The request fingerprint is a keyed hash (HMAC) of method, path and the canonical JSON body: request
bodies carry card data, so an unkeyed digest of one must never be stored.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import orjson
from fastapi import Request
from fastapi.responses import Response

from tessera.core.clock import utcnow
from tessera.core.errors import TesseraError
from tessera.core.idempotency import StoredResponse
from tessera.core.merchants import MerchantContext
from tessera.core.services import Services

HEADER = "idempotency-key"


async def _fingerprint(request: Request, services: Services) -> str:
    raw = await request.body()
    try:
        canonical = orjson.dumps(orjson.loads(raw), option=orjson.OPT_SORT_KEYS) if raw else b""
    except orjson.JSONDecodeError:
        canonical = raw
    return services.fingerprint(request.method.encode() + b" " + request.url.path.encode() + b"\n" + canonical)


async def idempotent(
    request: Request, ctx: MerchantContext, services: Services, run: Callable[[], Awaitable[Response]]
) -> Response:
    key = request.headers.get(HEADER)
    if key is None:
        return await run()
    keys = services.idempotency
    fingerprint = await _fingerprint(request, services)
    stored = await keys.begin(ctx.merchant_id, ctx.mode, key, fingerprint, utcnow())
    if stored is not None:
        return Response(
            stored.body,
            status_code=stored.status,
            media_type="application/json",
            headers={"Idempotent-Replayed": "true"},
        )
    try:
        response = await run()
    except TesseraError:
        # A refusal: nothing durable happened, so the key is free for a corrected retry.
        await keys.release(ctx.merchant_id, ctx.mode, key)
        raise
    # Anything else (a crash, a cancelled request) leaves the key claimed: a payment may exist, and
    # a retry must not charge twice. The key then answers 409 until it expires.
    await keys.finish(ctx.merchant_id, ctx.mode, key, StoredResponse(response.status_code, bytes(response.body)))
    return response
