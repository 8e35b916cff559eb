"""The gateway's browser side: tessera.js (served at /js/v1/tessera.js) and the CORS grant that lets a
merchant's checkout page create card tokens with its publishable key, and nothing else.

Which origin may do it for which merchant is the core's rule (`core.browser_origins`); the headers are
this package's. It reaches the gateway only through the services facade.
"""

from __future__ import annotations

from tessera.browser.cors import TokenCorsMiddleware
from tessera.browser.cors import router as cors_router
from tessera.browser.sdk import router as sdk_router

__all__ = ["TokenCorsMiddleware", "cors_router", "sdk_router"]
