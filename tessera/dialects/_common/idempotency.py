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
from tessera.core.idempotency import StoredResponse, running_under
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
    claim = await keys.begin(ctx.merchant_id, ctx.mode, key, fingerprint, utcnow())
    if isinstance(claim, StoredResponse):
        return Response(
            claim.body,
            status_code=claim.status,
            media_type="application/json",
            headers={"Idempotent-Replayed": "true"},
        )
    with running_under(claim):
        try:
            response = await run()
        except Exception:
            # A refusal or a crash: with nothing durable behind it the key is free for a retry; after the
            # request's recovery point (a payment), the retry resumes it and answers that payment's outcome.
            # A cancelled request (BaseException) keeps its claim until the lease passes.
            await keys.abandon(claim, utcnow())
            raise
    await keys.finish(claim, StoredResponse(response.status_code, bytes(response.body)), utcnow())
    return response
