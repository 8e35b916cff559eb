"""Who is calling under /eximpe (seed 000/004's three headers), and EximPe's success envelope."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyHeader

from tessera.core.merchants import MerchantContext, require_secret
from tessera.core.services import Services
from tessera.dialects._common.deps import ServicesDep, check_caller

# Security schemes rather than header parameters: OpenAPI shows them under Authorize, and reading them is a
# plain header look-up (FastAPI's parameter validation of four headers cost ~0.2 ms a request).
# X-API-Version is accepted and ignored.
_CLIENT_ID = APIKeyHeader(name="X-Client-ID", auto_error=False, description="Your client id")
_CLIENT_SECRET = APIKeyHeader(name="X-Client-Secret", auto_error=False, description="Your secret key")
_MERCHANT_ID = APIKeyHeader(name="X-Merchant-ID", auto_error=False, description="Your merchant id")


async def eximpe_context(
    request: Request,
    svc: ServicesDep,
    client_id: Annotated[str | None, Depends(_CLIENT_ID)],
    client_secret: Annotated[str | None, Depends(_CLIENT_SECRET)],
    merchant_id: Annotated[str | None, Depends(_MERCHANT_ID)],
) -> MerchantContext:
    return await authenticate(request, svc, client_id, client_secret, merchant_id)


async def authenticate(
    request: Request, svc: Services, client_id: str | None, client_secret: str | None, merchant_id: str | None
) -> MerchantContext:
    """The merchant context of EximPe's three credential headers (None where one is absent or empty)."""
    ctx = await svc.merchants.authenticate_client(client_id, client_secret, merchant_id)
    # A publishable key may not pay, save or read cards (403); a secret key only from the allowlist.
    return check_caller(request, svc, require_secret(ctx))


ExCtx = Annotated[MerchantContext, Depends(eximpe_context)]


def ok(message: str, data: Any, status: int = 200) -> JSONResponse:
    return JSONResponse({"success": True, "message": message, "data": data}, status_code=status)
